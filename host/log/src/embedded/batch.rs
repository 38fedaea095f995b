//! The on-disk record batch: a fixed header with a CRC over everything after it, then the
//! records. A batch is the unit of atomicity and of torn-write detection.
//!
//! Header (little-endian): magic u8 (doubles as the format version), txn u64, base offset i64, record count u32,
//! payload length u32, CRC32 u32 (over txn, base offset, count, length and payload).
//! Record: timestamp i64, key, value, header count u32, headers (name, value); byte strings
//! are a length (i32, -1 for null) and the bytes.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};

use crate::{ConsumerRecord, Header};

/// Format version 1; a change of the encoding gets a new value.
pub const MAGIC: u8 = 1;
pub const HEADER_LEN: usize = 1 + 8 + 8 + 4 + 4 + 4;

/// What the header of a batch says.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BatchHeader {
    pub txn: u64,
    pub base_offset: i64,
    pub count: u32,
    pub payload_len: u32,
    pub crc: u32,
}

impl BatchHeader {
    pub fn total_len(&self) -> u64 {
        HEADER_LEN as u64 + u64::from(self.payload_len)
    }

    pub fn parse(bytes: &[u8; HEADER_LEN]) -> Option<BatchHeader> {
        if bytes[0] != MAGIC {
            return None;
        }
        let u64_at = |i: usize| u64::from_le_bytes(bytes[i..i + 8].try_into().unwrap());
        let u32_at = |i: usize| u32::from_le_bytes(bytes[i..i + 4].try_into().unwrap());
        Some(BatchHeader {
            txn: u64_at(1),
            base_offset: u64_at(9) as i64,
            count: u32_at(17),
            payload_len: u32_at(21),
            crc: u32_at(25),
        })
    }

    pub fn checksum_ok(&self, payload: &[u8]) -> bool {
        checksum(self.txn, self.base_offset, self.count, payload) == self.crc
    }
}

/// A record as stored: everything but topic, partition and offset, which the position says.
pub struct StoredRecord<'a> {
    pub timestamp: i64,
    pub key: Option<&'a [u8]>,
    pub value: Option<&'a [u8]>,
    pub headers: &'a [Header],
}

pub fn encode(txn: u64, base_offset: i64, records: &[StoredRecord<'_>]) -> Vec<u8> {
    let mut payload = Vec::new();
    for r in records {
        payload.extend_from_slice(&r.timestamp.to_le_bytes());
        put_bytes(&mut payload, r.key);
        put_bytes(&mut payload, r.value);
        payload.extend_from_slice(&(r.headers.len() as u32).to_le_bytes());
        for (name, value) in r.headers {
            put_bytes(&mut payload, Some(name.as_bytes()));
            put_bytes(&mut payload, value.as_deref());
        }
    }
    let count = records.len() as u32;
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
    out.push(MAGIC);
    out.extend_from_slice(&txn.to_le_bytes());
    out.extend_from_slice(&base_offset.to_le_bytes());
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&checksum(txn, base_offset, count, &payload).to_le_bytes());
    out.extend_from_slice(&payload);
    out
}

/// Decodes the records of a batch whose CRC was checked.
pub fn decode(
    topic: &str,
    partition: i32,
    header: &BatchHeader,
    payload: &[u8],
) -> Result<Vec<ConsumerRecord>, String> {
    let mut reader = Reader { bytes: payload, at: 0 };
    let mut records = Vec::with_capacity(header.count as usize);
    for i in 0..header.count {
        let timestamp = reader.i64()?;
        let key = reader.bytes()?;
        let value = reader.bytes()?;
        let header_count = reader.u32()?;
        let mut headers = Vec::with_capacity(header_count.min(1024) as usize);
        for _ in 0..header_count {
            let name = reader.bytes()?.ok_or("null header name")?;
            let name = String::from_utf8(name).map_err(|_| "header name is not UTF-8")?;
            headers.push((name, reader.bytes()?));
        }
        records.push(ConsumerRecord {
            topic: topic.to_owned(),
            partition,
            offset: header.base_offset + i64::from(i),
            timestamp,
            key,
            value,
            headers,
        });
    }
    Ok(records)
}

/// Reads and checks the batch at `position` of a segment whose valid bytes end at `limit`;
/// an error says why there is no whole, intact batch there.
pub fn read_at(file: &mut File, position: u64, limit: u64) -> Result<(BatchHeader, Vec<u8>), String> {
    if limit.saturating_sub(position) < HEADER_LEN as u64 {
        return Err("a torn batch header".into());
    }
    file.seek(SeekFrom::Start(position)).map_err(|e| e.to_string())?;
    let mut header = [0u8; HEADER_LEN];
    file.read_exact(&mut header).map_err(|e| e.to_string())?;
    let header = BatchHeader::parse(&header).ok_or("a batch with an unknown magic byte")?;
    if position + header.total_len() > limit {
        return Err("a torn batch".into());
    }
    let mut payload = vec![0u8; header.payload_len as usize];
    file.read_exact(&mut payload).map_err(|e| e.to_string())?;
    if !header.checksum_ok(&payload) {
        return Err("a batch whose checksum does not match".into());
    }
    Ok((header, payload))
}

fn checksum(txn: u64, base_offset: i64, count: u32, payload: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&txn.to_le_bytes());
    hasher.update(&base_offset.to_le_bytes());
    hasher.update(&count.to_le_bytes());
    hasher.update(&(payload.len() as u32).to_le_bytes());
    hasher.update(payload);
    hasher.finalize()
}

fn put_bytes(out: &mut Vec<u8>, bytes: Option<&[u8]>) {
    match bytes {
        Some(b) => {
            out.extend_from_slice(&(b.len() as i32).to_le_bytes());
            out.extend_from_slice(b);
        }
        None => out.extend_from_slice(&(-1i32).to_le_bytes()),
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], String> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len()).ok_or("record runs past its batch")?;
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }

    fn i64(&mut self) -> Result<i64, String> {
        Ok(i64::from_le_bytes(self.take(8)?.try_into().unwrap()))
    }

    fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().unwrap()))
    }

    fn bytes(&mut self) -> Result<Option<Vec<u8>>, String> {
        let len = i32::from_le_bytes(self.take(4)?.try_into().unwrap());
        if len < 0 {
            return Ok(None);
        }
        Ok(Some(self.take(len as usize)?.to_vec()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_decode_round_trip_with_nulls_and_headers() {
        let headers = vec![("h".to_owned(), Some(b"v".to_vec())), ("n".to_owned(), None)];
        let records = [
            StoredRecord { timestamp: 5, key: Some(b"k"), value: None, headers: &headers },
            StoredRecord { timestamp: 6, key: None, value: Some(b""), headers: &[] },
        ];
        let bytes = encode(9, 100, &records);
        let header = BatchHeader::parse(bytes[..HEADER_LEN].try_into().unwrap()).unwrap();
        assert_eq!((header.txn, header.base_offset, header.count), (9, 100, 2));
        assert!(header.checksum_ok(&bytes[HEADER_LEN..]));
        let decoded = decode("t", 0, &header, &bytes[HEADER_LEN..]).unwrap();
        assert_eq!(decoded[0].offset, 100);
        assert_eq!(decoded[0].key.as_deref(), Some(&b"k"[..]));
        assert_eq!(decoded[0].value, None);
        assert_eq!(decoded[0].headers, headers);
        assert_eq!(decoded[1].offset, 101);
        assert_eq!(decoded[1].value.as_deref(), Some(&b""[..]));
    }

    #[test]
    fn a_flipped_byte_fails_the_checksum() {
        let mut bytes = encode(1, 0, &[StoredRecord { timestamp: 1, key: None, value: Some(b"abc"), headers: &[] }]);
        let last = bytes.len() - 1;
        bytes[last] ^= 0x40;
        let header = BatchHeader::parse(bytes[..HEADER_LEN].try_into().unwrap()).unwrap();
        assert!(!header.checksum_ok(&bytes[HEADER_LEN..]));
    }
}
