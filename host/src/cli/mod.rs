//! The client commands (`topics list`, `consume`, `produce`, `connectors ...`,
//! `plugins ...`): they talk to a running worker's REST API, like Kafka's console tools talk
//! to a broker.

mod admin;
mod live;
pub mod plugin;
mod scaffold;

pub use admin::{ConnectorsCommand, PluginsCommand};

use std::io::{BufRead, Write};
use std::time::Duration;

use anyhow::{Context, bail};
use serde::Deserialize;

use crate::rest::topics::TextRecord;

pub struct Client {
    base: String,
    http: reqwest::Client,
    /// `WASMCONNECT_TOKEN`, for a worker with `rest.auth=tenants`. Not a flag, so that it
    /// stays out of shell history and process listings.
    token: Option<String>,
}

#[derive(Deserialize)]
struct TopicDescription {
    end_offsets: Vec<i64>,
}

pub struct ConsumeOptions {
    pub from_beginning: bool,
    /// Stop after this many records; without it, follow the topic until interrupted.
    pub max_messages: Option<usize>,
    pub print_key: bool,
    pub key_separator: String,
}

impl Client {
    pub fn new(base: &str) -> Client {
        let token = std::env::var("WASMCONNECT_TOKEN").ok().filter(|t| !t.is_empty());
        Client { base: base.trim_end_matches('/').to_owned(), http: reqwest::Client::new(), token }
    }

    /// This client, also trusting the certificates of a PEM file for an https:// worker
    /// (a self-signed worker certificate, or a private CA's).
    pub fn trusting(self, pem_file: &std::path::Path) -> anyhow::Result<Client> {
        let pem = std::fs::read(pem_file).with_context(|| format!("cannot read the certificates file {}", pem_file.display()))?;
        let certificates = reqwest::Certificate::from_pem_bundle(&pem)
            .with_context(|| format!("{} holds no PEM certificates", pem_file.display()))?;
        anyhow::ensure!(!certificates.is_empty(), "{} holds no PEM certificates (-----BEGIN CERTIFICATE-----)", pem_file.display());
        let http = certificates.into_iter().fold(reqwest::Client::builder(), |builder, c| builder.add_root_certificate(c)).build()?;
        Ok(Client { http, ..self })
    }

    fn request(&self, method: reqwest::Method, url: String) -> reqwest::RequestBuilder {
        let request = self.http.request(method, url);
        match &self.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    async fn get<T: serde::de::DeserializeOwned>(&self, path: &str) -> anyhow::Result<T> {
        self.call(reqwest::Method::GET, path, None).await
    }

    /// One REST call; an error answer becomes an error with the worker's message.
    pub async fn call<T: serde::de::DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> anyhow::Result<T> {
        let mut request = self.request(method, format!("{}{path}", self.base));
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.with_context(|| format!("cannot reach the worker at {}", self.base))?;
        decode(response).await
    }

    pub async fn topics(&self) -> anyhow::Result<Vec<String>> {
        self.get("/topics").await
    }

    pub async fn consume(&self, topic: &str, options: &ConsumeOptions, out: &mut impl Write) -> anyhow::Result<usize> {
        let described: TopicDescription = self.get(&format!("/topics/{}", encode(topic))).await?;
        let mut next: Vec<i64> = if options.from_beginning { vec![0; described.end_offsets.len()] } else { described.end_offsets };
        let mut printed = 0;
        loop {
            let mut idle = true;
            for (partition, offset) in next.iter_mut().enumerate() {
                let path = format!("/topics/{}/records?partition={partition}&offset={offset}&max=500", encode(topic));
                let records: Vec<TextRecord> = self.get(&path).await?;
                for record in records {
                    idle = false;
                    *offset = record.offset.unwrap_or(*offset) + 1;
                    if options.print_key {
                        write!(out, "{}{}", record.key.as_deref().unwrap_or("null"), options.key_separator)?;
                    }
                    writeln!(out, "{}", record.value.as_deref().unwrap_or("null"))?;
                    printed += 1;
                    if options.max_messages.is_some_and(|max| printed >= max) {
                        out.flush()?;
                        return Ok(printed);
                    }
                }
            }
            out.flush()?;
            if idle {
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
        }
    }

    /// Sends one record per input line; with a key separator, the text before it is the key.
    pub async fn produce(&self, topic: &str, key_separator: Option<&str>, input: impl BufRead) -> anyhow::Result<usize> {
        let mut sent = 0;
        let mut batch = Vec::new();
        for line in input.lines() {
            let line = line?;
            let (key, value) = match key_separator {
                Some(sep) => match line.split_once(sep) {
                    Some((k, v)) => (Some(k.to_owned()), v.to_owned()),
                    None => bail!("line {} has no key separator {sep:?}: {line}", sent + batch.len() + 1),
                },
                None => (None, line),
            };
            batch.push(TextRecord { partition: None, offset: None, timestamp: None, key, value: Some(value), headers: Vec::new() });
            if batch.len() == 500 {
                sent += self.send(topic, std::mem::take(&mut batch)).await?;
            }
        }
        if !batch.is_empty() {
            sent += self.send(topic, batch).await?;
        }
        Ok(sent)
    }

    async fn send(&self, topic: &str, records: Vec<TextRecord>) -> anyhow::Result<usize> {
        let url = format!("{}/topics/{}/records", self.base, encode(topic));
        let response = self.request(reqwest::Method::POST, url).json(&records).send().await.with_context(|| format!("cannot reach the worker at {}", self.base))?;
        let written: Vec<TextRecord> = decode(response).await?;
        Ok(written.len())
    }
}

async fn decode<T: serde::de::DeserializeOwned>(response: reqwest::Response) -> anyhow::Result<T> {
    let status = response.status();
    let mut body = response.bytes().await?;
    if body.is_empty() {
        // 204 No Content and friends: decode as JSON null.
        body = axum::body::Bytes::from_static(b"null");
    }
    if !status.is_success() {
        let message = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v.get("message")?.as_str().map(String::from))
            .unwrap_or_else(|| String::from_utf8_lossy(&body).into_owned());
        bail!("{message} (HTTP {status})");
    }
    Ok(serde_json::from_slice(&body)?)
}

pub(crate) fn encode(segment: &str) -> String {
    url::form_urlencoded::byte_serialize(segment.as_bytes()).collect()
}
