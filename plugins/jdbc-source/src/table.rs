//! One table being read in incrementing mode: its schema, its source partition and the last
//! incrementing value seen.

use std::sync::Arc;

use serde_json::json;
use wasmconnect_sdk::data::{Data, Schema, SourceRecord, Value};
use wasmconnect_sdk::sql::{self, Dialect, SqlValue, quote};
use wasmconnect_sdk::{ConnectorError, log};

use crate::columns::{self, ColumnInfo, Mapping};

/// Where a table lives: `(catalog, schema)` as information_schema names them.
#[derive(Clone, Debug)]
pub struct Location {
    pub dialect: Dialect,
    pub database: String,
    /// PostgreSQL's schema (`public`); MySQL has none beyond the database.
    pub schema: Option<String>,
}

impl Location {
    pub fn current() -> Result<Location, ConnectorError> {
        let dialect = sql::get_dialect()?;
        let (statement, schema) = match dialect {
            Dialect::Mysql => ("SELECT DATABASE()", false),
            Dialect::Postgres => ("SELECT current_database()::text, current_schema()::text", true),
        };
        let rows = sql::query(statement, &[])?;
        let row = rows.rows.first().ok_or_else(|| ConnectorError::Fatal("the database did not say which database is in use".into()))?;
        let text = |v: Option<&SqlValue>| match v {
            Some(SqlValue::Text(s)) => Some(s.clone()),
            _ => None,
        };
        let database = text(row.first()).ok_or_else(|| {
            ConnectorError::Config("connection.url names no database: add it, as in jdbc:mysql://localhost:3306/mydb".into())
        })?;
        Ok(Location { dialect, database, schema: if schema { text(row.get(1)) } else { None } })
    }

    /// Every base table, sorted.
    pub fn tables(&self) -> Result<Vec<String>, ConnectorError> {
        let (statement, params) = match self.dialect {
            Dialect::Mysql => (
                "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME",
                vec![SqlValue::Text(self.database.clone())],
            ),
            Dialect::Postgres => (
                "SELECT table_name::text FROM information_schema.tables WHERE table_schema = $1 AND table_type = 'BASE TABLE' ORDER BY table_name",
                vec![SqlValue::Text(self.schema.clone().unwrap_or_else(|| "public".into()))],
            ),
        };
        Ok(sql::query(statement, &params)?.rows.into_iter().filter_map(|r| text(&r[0])).collect())
    }

    fn columns(&self, table: &str) -> Result<Vec<ColumnInfo>, ConnectorError> {
        let (statement, owner) = match self.dialect {
            Dialect::Mysql => (
                "SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, IS_NULLABLE, NUMERIC_SCALE FROM information_schema.COLUMNS \
                 WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION",
                self.database.clone(),
            ),
            Dialect::Postgres => (
                "SELECT column_name::text, data_type::text, data_type::text, is_nullable::text, numeric_scale::int8 \
                 FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position",
                self.schema.clone().unwrap_or_else(|| "public".into()),
            ),
        };
        let rows = sql::query(statement, &[SqlValue::Text(owner), SqlValue::Text(table.to_owned())])?;
        Ok(rows
            .rows
            .into_iter()
            .map(|r| ColumnInfo {
                name: text(&r[0]).unwrap_or_default(),
                data_type: text(&r[1]).unwrap_or_default(),
                column_type: text(&r[2]).unwrap_or_default(),
                nullable: text(&r[3]).is_some_and(|n| n.eq_ignore_ascii_case("YES")),
                scale: match r[4] {
                    SqlValue::Int(s) => u32::try_from(s).ok(),
                    SqlValue::Uint(s) => u32::try_from(s).ok(),
                    _ => None,
                },
            })
            .collect())
    }

    /// The table's id in source partitions, as the Confluent source writes it.
    fn qualified(&self, table: &str) -> String {
        match &self.schema {
            Some(schema) => format!("{}.{schema}.{table}", self.database),
            None => format!("{}.{table}", self.database),
        }
    }
}

fn text(v: &SqlValue) -> Option<String> {
    match v {
        SqlValue::Text(s) => Some(s.clone()),
        SqlValue::Bytes(b) => String::from_utf8(b.clone()).ok(),
        _ => None,
    }
}

pub struct Table {
    name: String,
    topic: String,
    schema: Arc<Schema>,
    mappings: Vec<Mapping>,
    /// Index of the incrementing column among the selected columns.
    incrementing: usize,
    partition: serde_json::Value,
    last: i64,
    query: String,
}

impl Table {
    /// Reads the table's columns and where the last run stopped.
    pub fn open(location: &Location, name: &str, incrementing_column: &str, topic_prefix: &str, batch_rows: u32) -> Result<Table, ConnectorError> {
        let columns = location.columns(name)?;
        if columns.is_empty() {
            return Err(ConnectorError::Config(format!("table {name:?} was not found in database {:?}", location.database)));
        }
        let mut fields = Vec::new();
        let mut selected = Vec::new();
        let mut mappings = Vec::new();
        for column in &columns {
            match columns::mapping(column) {
                Some(mapping) => {
                    fields.push(columns::field(column, mapping));
                    selected.push(quote(location.dialect, &column.name));
                    mappings.push(mapping);
                }
                None => log::warn(&format!(
                    "column {}.{} has type {}, which the JDBC source does not read; it is left out",
                    name, column.name, column.data_type
                )),
            }
        }
        let incrementing = columns
            .iter()
            .filter(|c| columns::mapping(c).is_some())
            .position(|c| c.name == incrementing_column)
            .ok_or_else(|| ConnectorError::Config(format!("table {name:?} has no column {incrementing_column:?} (incrementing.column.name)")))?;
        if !matches!(mappings[incrementing], Mapping::Int8 | Mapping::Int16 | Mapping::Int32 | Mapping::Int64) {
            return Err(ConnectorError::Config(format!(
                "incrementing.column.name {incrementing_column:?} of table {name:?} must be an integer column"
            )));
        }
        let partition = json!({ "protocol": "1", "table": location.qualified(name) });
        let last = wasmconnect_sdk::offsets::committed(std::slice::from_ref(&partition))
            .pop()
            .flatten()
            .and_then(|offset| offset.get("incrementing")?.as_i64())
            .unwrap_or(-1);
        let dialect = location.dialect;
        let query = format!(
            "SELECT {} FROM {} WHERE {inc} > {} ORDER BY {inc} ASC LIMIT {batch_rows}",
            selected.join(", "),
            quote(dialect, name),
            sql::placeholder(dialect, 1),
            inc = quote(dialect, incrementing_column),
        );
        log::info(&format!("reading table {name} from incrementing value {last}"));
        Ok(Table {
            name: name.to_owned(),
            topic: format!("{topic_prefix}{name}"),
            schema: Arc::new(Schema::structure(fields).named(name)),
            mappings,
            incrementing,
            partition,
            last,
            query,
        })
    }

    /// Reads the next rows; returns how many.
    pub fn poll(&mut self, out: &mut Vec<SourceRecord>) -> Result<usize, ConnectorError> {
        let rows = sql::query(&self.query, &[SqlValue::Int(self.last)])?;
        let count = rows.rows.len();
        for row in rows.rows {
            let incrementing = match row.get(self.incrementing) {
                Some(SqlValue::Int(i)) => *i,
                Some(SqlValue::Uint(u)) => *u as i64,
                other => return Err(ConnectorError::Fatal(format!("table {}: incrementing column holds {other:?}", self.name))),
            };
            let values = self
                .mappings
                .iter()
                .zip(row)
                .map(|(mapping, v)| columns::value(*mapping, v))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| ConnectorError::Fatal(format!("table {}: {e}", self.name)))?;
            self.last = incrementing;
            out.push(SourceRecord {
                source_partition: self.partition.clone(),
                source_offset: json!({ "incrementing": incrementing }),
                topic: self.topic.clone(),
                kafka_partition: None,
                key: None,
                value: Some(Data { schema: Some(self.schema.clone()), value: Value::Struct(values) }),
                timestamp: None,
            });
        }
        Ok(count)
    }
}
