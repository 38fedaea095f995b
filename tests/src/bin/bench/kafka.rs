//! Source → Kafka: the JDBC source on a Kafka-backed worker against a raw rdkafka producer
//! doing the same work (the same SELECTs, the same envelopes, acks=all and idempotence),
//! both writing to one tansu broker. The raw producer keeps librdkafka's 5 ms linger, which
//! suits sending everything and waiting once.

use std::time::{Duration, Instant};

use rdkafka::ClientConfig;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};
use wasmconnect::standalone::InternalTopics;
use wasmconnect_e2e::{Api, TestDb, start_kafka_worker};
use wasmconnect_log::test_broker::Tansu;

use super::{Measurement, create_source, raw_source_pages, wait_for_source_written};

pub async fn source_scenario(db: &TestDb, rows: usize) -> anyhow::Result<Measurement> {
    let broker = Tansu::start();
    let producer: ThreadedProducer<DefaultProducerContext> = ClientConfig::new()
        .set("bootstrap.servers", broker.bootstrap_servers())
        .set("acks", "all")
        .set("enable.idempotence", "true")
        .set("linger.ms", "5")
        .create()?;
    let started = Instant::now();
    raw_source_pages(&db.pool, rows, |batch| {
        for record in &batch {
            let mut message = BaseRecord::<[u8], [u8]>::to(&record.topic);
            if let Some(key) = &record.key {
                message = message.key(key.as_slice());
            }
            if let Some(value) = &record.value {
                message = message.payload(value.as_slice());
            }
            loop {
                match producer.send(message) {
                    Ok(()) => break,
                    Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), returned)) => {
                        std::thread::sleep(Duration::from_millis(1));
                        message = returned;
                    }
                    Err((e, _)) => return Err(e.into()),
                }
            }
        }
        Ok(())
    })
    .await?;
    producer.flush(Duration::from_secs(120))?;
    let baseline = started.elapsed();

    let dir = tempfile::tempdir()?;
    let worker = start_kafka_worker(dir.path(), broker.bootstrap_servers(), InternalTopics::default(), Duration::from_secs(30)).await;
    let api = Api::new(&worker);
    let started = Instant::now();
    create_source(&api, db).await?;
    // The task's own count of records the brokers acknowledged.
    wait_for_source_written(&api, rows).await?;
    let wasmconnect = started.elapsed();
    worker.shutdown().await?;
    Ok(Measurement { scenario: "source: MariaDB users → Kafka (tansu; baseline: raw rdkafka producer)", rows, baseline, wasmconnect })
}
