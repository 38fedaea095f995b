//! HTTPS for the REST listener: a certificate chain and private key in PEM, from the
//! `--tls-cert`/`--tls-key` flags or from a Kafka Connect worker's `listeners.https.ssl.*`
//! (or `ssl.*`) keystore settings, served by rustls.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// Kafka Connect's rule: when any `listeners.https.` key is set, only those are read and
/// the plain `ssl.*` keys (which may be the Kafka clients') are ignored.
const LISTENER_PREFIX: &str = "listeners.https.";

/// How to turn a JKS or PKCS12 keystore into the PEM file this worker reads.
const CONVERT: &str = "convert it to PEM: `keytool -importkeystore -srckeystore keystore.jks -destkeystore keystore.p12 \
    -deststoretype PKCS12` (for a JKS store), then `openssl pkcs12 -in keystore.p12 -nodes -out keystore.pem`, and set \
    ssl.keystore.type=PEM with ssl.keystore.location=keystore.pem (or pass --tls-cert and --tls-key)";

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read the {what} {path}: {source}")]
    Read { what: &'static str, path: PathBuf, source: std::io::Error },
    #[error("{0} holds no PEM certificate (a \"-----BEGIN CERTIFICATE-----\" block)")]
    NoCertificate(String),
    #[error("{0} holds no PEM private key (a \"-----BEGIN PRIVATE KEY-----\", RSA PRIVATE KEY or EC PRIVATE KEY block)")]
    NoKey(String),
    #[error("{0} is not valid PEM: {1}")]
    Pem(String, String),
    #[error("{0}: the private key is encrypted, which is not supported; decrypt it (`openssl pkey -in key.pem -out plain-key.pem`) and let only the worker's user read the file")]
    EncryptedKey(String),
    #[error("{key}={value}: only PEM keystores are read; {convert}", convert = CONVERT)]
    UnsupportedKeystore { key: String, value: String },
    #[error("{what} is not a PEM file (a JKS or PKCS12 keystore?): {convert}", convert = CONVERT)]
    NotPem { what: String },
    #[error("{key}={value}: client certificates are not checked by this worker; remove the key (REST callers authenticate with bearer tokens, rest.auth=tenants)")]
    ClientAuth { key: String, value: String },
    #[error(
        "listeners asks for https but no certificate is given: set {prefix}ssl.keystore.type=PEM with \
         {prefix}ssl.keystore.location (a PEM file with the private key and certificate chain), or \
         {prefix}ssl.keystore.key and {prefix}ssl.keystore.certificate.chain, or pass --tls-cert and --tls-key"
    )]
    Missing { prefix: &'static str },
    #[error("the certificate chain and private key cannot be used: {0}")]
    Rejected(#[from] rustls::Error),
}

/// A server config from PEM files: `cert` holds the chain (server certificate first), `key`
/// the private key; one file may hold both.
pub fn from_files(cert: &Path, key: &Path) -> Result<Arc<ServerConfig>, TlsError> {
    let cert_pem = read(cert, "certificate file")?;
    let key_pem = read(key, "private key file")?;
    server_config(certificates(&cert_pem, &cert.display().to_string())?, private_key(&key_pem, &key.display().to_string())?)
}

/// A server config from a worker's properties, for `listeners=https://...`: the PEM
/// keystore of `listeners.https.ssl.*`, or else of `ssl.*`.
pub fn from_worker_config(worker: &BTreeMap<String, String>) -> Result<Arc<ServerConfig>, TlsError> {
    let prefix = if worker.keys().any(|k| k.starts_with(LISTENER_PREFIX)) { LISTENER_PREFIX } else { "" };
    let setting = |name: &str| {
        let key = format!("{prefix}ssl.{name}");
        worker.get(&key).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()).map(|v| (key, v))
    };
    if let Some((key, value)) = setting("client.auth").filter(|(_, v)| !v.eq_ignore_ascii_case("none")) {
        return Err(TlsError::ClientAuth { key, value });
    }
    if let Some((key, _)) = setting("key.password") {
        return Err(TlsError::EncryptedKey(key));
    }
    // Without a type (Kafka's default is JKS) a file that is PEM is taken as PEM.
    if let Some((key, value)) = setting("keystore.type").filter(|(_, v)| !v.eq_ignore_ascii_case("PEM")) {
        return Err(TlsError::UnsupportedKeystore { key, value });
    }
    if let (Some((key_key, key)), Some((chain_key, chain))) = (setting("keystore.key"), setting("keystore.certificate.chain")) {
        return server_config(certificates(chain.as_bytes(), &chain_key)?, private_key(key.as_bytes(), &key_key)?);
    }
    let Some((location_key, location)) = setting("keystore.location") else {
        return Err(TlsError::Missing { prefix });
    };
    let path = PathBuf::from(&location);
    let pem = read(&path, "keystore")?;
    let what = format!("{location_key}={location}");
    if !String::from_utf8_lossy(&pem).contains("-----BEGIN") {
        return Err(TlsError::NotPem { what });
    }
    server_config(certificates(&pem, &what)?, private_key(&pem, &what)?)
}

fn read(path: &Path, what: &'static str) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read { what, path: path.to_owned(), source })
}

fn certificates(pem: &[u8], what: &str) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let chain = CertificateDer::pem_slice_iter(pem).collect::<Result<Vec<_>, _>>().map_err(|e| TlsError::Pem(what.to_owned(), e.to_string()))?;
    if chain.is_empty() {
        return Err(TlsError::NoCertificate(what.to_owned()));
    }
    Ok(chain)
}

fn private_key(pem: &[u8], what: &str) -> Result<PrivateKeyDer<'static>, TlsError> {
    match PrivateKeyDer::from_pem_slice(pem) {
        Ok(key) => Ok(key),
        Err(_) if String::from_utf8_lossy(pem).contains("ENCRYPTED PRIVATE KEY") => Err(TlsError::EncryptedKey(what.to_owned())),
        Err(rustls::pki_types::pem::Error::NoItemsFound) => Err(TlsError::NoKey(what.to_owned())),
        Err(e) => Err(TlsError::Pem(what.to_owned(), e.to_string())),
    }
}

/// TLS 1.2 and 1.3 with ring's algorithms; HTTP/1.1 only, as the REST API serves it.
fn server_config(chain: Vec<CertificateDer<'static>>, key: PrivateKeyDer<'static>) -> Result<Arc<ServerConfig>, TlsError> {
    let mut config = ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// A client that does not finish its handshake in this time is dropped, so it holds no
/// more than a socket meanwhile.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The REST listener over TLS, for `axum::serve`: connections are accepted and their
/// handshakes run in tasks of their own, so a slow or broken client (plain HTTP sent to the
/// https port) delays nobody else; it is dropped with a debug line.
pub struct TlsListener {
    handshaken: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local_addr: SocketAddr,
    accepting: tokio::task::JoinHandle<()>,
}

impl TlsListener {
    pub fn new(listener: TcpListener, config: Arc<ServerConfig>) -> std::io::Result<TlsListener> {
        let local_addr = listener.local_addr()?;
        let acceptor = TlsAcceptor::from(config);
        let (ready, handshaken) = mpsc::channel(64);
        let accepting = tokio::spawn(async move {
            loop {
                let (stream, peer) = match listener.accept().await {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        // Out of file descriptors and the like: wait rather than spin.
                        tracing::warn!("cannot accept a REST connection: {e}");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                let (acceptor, ready) = (acceptor.clone(), ready.clone());
                tokio::spawn(async move {
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                        Ok(Ok(tls)) => {
                            let _ = ready.send((tls, peer)).await;
                        }
                        Ok(Err(e)) => tracing::debug!(%peer, "TLS handshake failed (plain HTTP to the https port?): {e}"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                });
            }
        });
        Ok(TlsListener { handshaken, local_addr, accepting })
    }
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        self.accepting.abort();
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.handshaken.recv().await {
            Some(connection) => connection,
            // The accepting task ended, which only dropping the listener does.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        Ok(self.local_addr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn self_signed() -> (String, String) {
        let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        (cert.cert.pem(), cert.signing_key.serialize_pem())
    }

    #[test]
    fn a_pem_keystore_is_read_from_a_file_or_inline() {
        let (cert, key) = self_signed();
        let dir = tempfile::tempdir().unwrap();
        let keystore = dir.path().join("keystore.pem");
        std::fs::write(&keystore, format!("{key}{cert}")).unwrap();
        let location = keystore.display().to_string();
        assert!(from_worker_config(&settings(&[("ssl.keystore.type", "PEM"), ("ssl.keystore.location", &location)])).is_ok());
        // A PEM file is taken as one without the type.
        assert!(from_worker_config(&settings(&[("ssl.keystore.location", &location)])).is_ok());
        let inline = settings(&[("listeners.https.ssl.keystore.type", "PEM"), ("listeners.https.ssl.keystore.key", &key),
            ("listeners.https.ssl.keystore.certificate.chain", &cert)]);
        assert!(from_worker_config(&inline).is_ok());
        assert!(from_files(&keystore, &keystore).is_ok(), "one file may hold both");
    }

    #[test]
    fn listener_keys_hide_the_plain_ssl_keys() {
        let (cert, key) = self_signed();
        let mut worker = settings(&[("ssl.keystore.type", "PEM"), ("ssl.keystore.key", &key), ("ssl.keystore.certificate.chain", &cert)]);
        assert!(from_worker_config(&worker).is_ok());
        // With a listeners.https. key set, the ssl.* keys (the Kafka clients') are not read.
        worker.insert("listeners.https.ssl.keystore.type".into(), "PEM".into());
        let e = from_worker_config(&worker).unwrap_err();
        assert!(matches!(e, TlsError::Missing { prefix: LISTENER_PREFIX }), "{e}");
        assert!(e.to_string().contains("listeners.https.ssl.keystore.location"), "{e}");
    }

    #[test]
    fn keystores_that_are_not_pem_are_refused_with_the_way_to_convert_them() {
        let dir = tempfile::tempdir().unwrap();
        let jks = dir.path().join("keystore.jks");
        std::fs::write(&jks, [0xfe, 0xed, 0xfe, 0xed, 0, 0, 0, 2]).unwrap();
        let location = jks.display().to_string();
        for worker in [
            settings(&[("ssl.keystore.type", "JKS"), ("ssl.keystore.location", &location)]),
            settings(&[("listeners.https.ssl.keystore.type", "PKCS12"), ("listeners.https.ssl.keystore.location", &location)]),
            settings(&[("ssl.keystore.location", &location)]),
        ] {
            let e = from_worker_config(&worker).unwrap_err().to_string();
            assert!(e.contains("keytool -importkeystore") && e.contains("openssl pkcs12"), "{e}");
        }
    }

    #[test]
    fn broken_or_missing_files_say_what_is_wrong() {
        let (cert, key) = self_signed();
        let (other_cert, _) = self_signed();
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            path
        };
        let (cert_file, key_file) = (write("cert.pem", &cert), write("key.pem", &key));
        assert!(from_files(&cert_file, &key_file).is_ok());
        let missing = dir.path().join("absent.pem");
        assert!(matches!(from_files(&cert_file, &missing), Err(TlsError::Read { what: "private key file", .. })));
        assert!(matches!(from_files(&cert_file, &cert_file), Err(TlsError::NoKey(_))));
        assert!(matches!(from_files(&key_file, &key_file), Err(TlsError::NoCertificate(_))));
        let other = write("other.pem", &other_cert);
        let e = from_files(&other, &key_file).unwrap_err();
        assert!(matches!(e, TlsError::Rejected(_)), "a key that is not the certificate's: {e}");
        let encrypted = write("encrypted.pem", "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n");
        assert!(matches!(from_files(&cert_file, &encrypted), Err(TlsError::EncryptedKey(_))));
        let e = from_worker_config(&settings(&[("ssl.client.auth", "required")])).unwrap_err();
        assert!(matches!(e, TlsError::ClientAuth { .. }), "{e}");
    }
}
