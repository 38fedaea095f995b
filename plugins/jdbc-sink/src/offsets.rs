//! Exactly once into the database (`exactly.once.enabled`): the sink keeps, per topic
//! partition, the offset of the next record to read in a table of the target database
//! (`exactly.once.offsets.table`), written in the same transaction as the batch's rows. At
//! start it hands those offsets to the worker (`sink-context.offset`), which reads from them
//! instead of the consumer group's position. A crash after the database committed a batch but
//! before the worker committed the group's position then repeats nothing.

use std::collections::BTreeMap;

use wasmconnect_sdk::sql::{self, SqlError, SqlValue, Statement};
use wasmconnect_sdk::{ConnectorError, SinkRecord};

use crate::catalog::sql_error;
use crate::dialect::Sql;

const COLUMNS: [&str; 4] = ["connector", "topic", "kafka_partition", "next_offset"];
const KEY: [&str; 3] = ["connector", "topic", "kafka_partition"];

pub struct OffsetsTable {
    sql: Sql,
    table: String,
    connector: String,
}

impl OffsetsTable {
    /// Creates the table if it is missing. One table may serve many connectors: rows are
    /// keyed by connector name.
    pub fn open(sql: Sql, table: &str, connector: &str) -> Result<OffsetsTable, ConnectorError> {
        let offsets = OffsetsTable { sql, table: sql.ident(table), connector: connector.to_owned() };
        // VARCHAR(255) keeps the key within what MySQL can index (Confluent issue #996).
        let create = format!(
            "CREATE TABLE IF NOT EXISTS {} ({} VARCHAR(255) NOT NULL, {} VARCHAR(255) NOT NULL, {} INTEGER NOT NULL, {} BIGINT NOT NULL, PRIMARY KEY ({}, {}, {}))",
            offsets.table,
            sql.ident(COLUMNS[0]),
            sql.ident(COLUMNS[1]),
            sql.ident(COLUMNS[2]),
            sql.ident(COLUMNS[3]),
            sql.ident(KEY[0]),
            sql.ident(KEY[1]),
            sql.ident(KEY[2]),
        );
        let create = [Statement { sql: create, params: vec![Vec::new()] }];
        let created = match sql::execute(&create) {
            // PostgreSQL's IF NOT EXISTS takes no lock: of two tasks creating the table at once
            // one fails on the catalog's unique index (or finds the name taken), and by then
            // the table is there.
            Err(SqlError::Database(d)) if matches!(d.code.as_deref(), Some("23505" | "42P07")) => sql::execute(&create),
            other => other,
        };
        created.map_err(|e| sql_error(&format!("creating the offsets table {table}"), e))?;
        Ok(offsets)
    }

    /// The offsets this connector committed with its rows: `(topic, partition, next offset)`.
    pub fn committed(&self) -> Result<Vec<(String, i32, i64)>, ConnectorError> {
        let query = format!(
            "SELECT {}, {}, {} FROM {} WHERE {} = {}",
            self.sql.ident(COLUMNS[1]),
            self.sql.ident(COLUMNS[2]),
            self.sql.ident(COLUMNS[3]),
            self.table,
            self.sql.ident(COLUMNS[0]),
            self.sql.placeholder(1)
        );
        let rows = sql::query(&query, &[SqlValue::Text(self.connector.clone())]).map_err(|e| sql_error("reading the committed offsets", e))?;
        rows.rows
            .into_iter()
            .map(|row| match row.as_slice() {
                [SqlValue::Text(topic), partition, offset] => Ok((topic.clone(), int(partition)? as i32, int(offset)?)),
                other => Err(ConnectorError::Fatal(format!("unexpected row in the offsets table: {other:?}"))),
            })
            .collect()
    }

    /// The statement that records how far `records` go, for the batch's transaction.
    pub fn advance(&self, records: &[SinkRecord]) -> Option<Statement> {
        let mut next: BTreeMap<(&str, i32), i64> = BTreeMap::new();
        for r in records {
            let offset = next.entry((r.topic.as_str(), r.kafka_partition)).or_insert(0);
            *offset = (*offset).max(r.kafka_offset + 1);
        }
        if next.is_empty() {
            return None;
        }
        let columns: Vec<String> = COLUMNS.iter().map(|c| self.sql.ident(c)).collect();
        let placeholders: Vec<String> = (1..=COLUMNS.len()).map(|n| self.sql.placeholder(n)).collect();
        let sql = format!(
            "INSERT INTO {} ({}) VALUES ({}){}",
            self.table,
            columns.join(", "),
            placeholders.join(", "),
            self.sql.upsert_clause(&KEY, &COLUMNS)
        );
        let params = next
            .into_iter()
            .map(|((topic, partition), offset)| {
                vec![SqlValue::Text(self.connector.clone()), SqlValue::Text(topic.to_owned()), SqlValue::Int(partition.into()), SqlValue::Int(offset)]
            })
            .collect();
        Some(Statement { sql, params })
    }
}

fn int(value: &SqlValue) -> Result<i64, ConnectorError> {
    match value {
        SqlValue::Int(n) => Ok(*n),
        SqlValue::Uint(n) => i64::try_from(*n).map_err(|_| ConnectorError::Fatal(format!("offset {n} out of range"))),
        other => Err(ConnectorError::Fatal(format!("unexpected value in the offsets table: {other:?}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasmconnect_sdk::sql::Dialect;

    fn record(topic: &str, partition: i32, offset: i64) -> SinkRecord {
        SinkRecord { topic: topic.into(), kafka_partition: partition, kafka_offset: offset, key: None, value: None, timestamp: None, headers: Vec::new() }
    }

    #[test]
    fn a_batch_advances_each_partition_past_its_last_record() {
        let table = OffsetsTable { sql: Sql::new(Dialect::Postgres, true), table: "\"offsets\"".into(), connector: "c".into() };
        let batch = [record("a", 0, 5), record("a", 1, 2), record("a", 0, 7), record("b", 0, 0)];
        let statement = table.advance(&batch).unwrap();
        assert!(statement.sql.starts_with("INSERT INTO \"offsets\" (\"connector\", \"topic\", \"kafka_partition\", \"next_offset\") VALUES ($1, $2, $3, $4) ON CONFLICT"), "{}", statement.sql);
        assert!(statement.sql.ends_with("DO UPDATE SET \"next_offset\" = EXCLUDED.\"next_offset\""), "{}", statement.sql);
        let text = |s: &str| SqlValue::Text(s.into());
        assert_eq!(statement.params, vec![
            vec![text("c"), text("a"), SqlValue::Int(0), SqlValue::Int(8)],
            vec![text("c"), text("a"), SqlValue::Int(1), SqlValue::Int(3)],
            vec![text("c"), text("b"), SqlValue::Int(0), SqlValue::Int(1)],
        ]);
        assert!(table.advance(&[]).is_none());
    }
}
