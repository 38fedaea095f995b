//! The JDBC sink: Confluent's `JdbcSinkConnector` as a wasmconnect plugin. It writes each
//! batch of records into tables named after their topics, creating and evolving the tables
//! when asked to, in one transaction per batch through the host's `sql` import.

mod ddl;
mod values;

use std::collections::HashMap;
use std::sync::Arc;

use wasmconnect_sdk::data::{Field, Schema, SchemaType, Value};
use wasmconnect_sdk::sql::{self, Dialect, SqlValue, Statement};
use wasmconnect_sdk::{Config, ConnectorError, RecordError, Sink, SinkRecord, log};

#[derive(Clone, Copy, Debug, PartialEq)]
enum PkMode {
    None,
    RecordValue,
    RecordKey,
}

struct Settings {
    table_format: String,
    pk_mode: PkMode,
    pk_fields: Vec<String>,
    auto_create: bool,
    auto_evolve: bool,
    delete_enabled: bool,
    batch_size: usize,
}

impl Settings {
    fn parse(config: &Config) -> Result<Settings, ConnectorError> {
        let insert_mode = config.string_or("insert.mode", "insert");
        if !insert_mode.eq_ignore_ascii_case("insert") {
            return Err(ConnectorError::Config(format!("insert.mode {insert_mode:?} is not supported yet; use insert")));
        }
        let pk_mode = match config.string_or("pk.mode", "none").to_ascii_lowercase().as_str() {
            "none" => PkMode::None,
            "record_value" => PkMode::RecordValue,
            "record_key" => PkMode::RecordKey,
            other => return Err(ConnectorError::Config(format!("pk.mode {other:?} is not one of none, record_key, record_value"))),
        };
        let delete_enabled = config.bool_or("delete.enabled", false)?;
        if delete_enabled && pk_mode != PkMode::RecordKey {
            return Err(ConnectorError::Config("delete.enabled=true needs pk.mode=record_key, to know which row a tombstone deletes".into()));
        }
        let batch_size = config.int_or("batch.size", 3000)?;
        Ok(Settings {
            table_format: config.string_or("table.name.format", "${topic}").to_owned(),
            pk_mode,
            pk_fields: config.list("pk.fields"),
            auto_create: config.bool_or("auto.create", false)?,
            auto_evolve: config.bool_or("auto.evolve", false)?,
            delete_enabled,
            batch_size: usize::try_from(batch_size).ok().filter(|b| *b > 0).ok_or_else(|| {
                ConnectorError::Config(format!("batch.size must be a positive number, not {batch_size}"))
            })?,
        })
    }
}

/// What one record asks for, once checked.
enum Action<'a> {
    Insert { table: String, columns: Arc<Schema>, values: Vec<&'a Value> },
    Delete { table: String, key: Vec<SqlValue> },
    Skip,
}

pub struct JdbcSink {
    settings: Settings,
    dialect: Dialect,
    /// Columns of the tables written so far, as the database has them.
    tables: HashMap<String, Vec<String>>,
}

impl Sink for JdbcSink {
    fn start(config: Config) -> Result<Self, ConnectorError> {
        let settings = Settings::parse(&config)?;
        let dialect = sql::get_dialect()?;
        Ok(JdbcSink { settings, dialect, tables: HashMap::new() })
    }

    fn put(&mut self, records: Vec<SinkRecord>) -> Result<(), ConnectorError> {
        let actions = records
            .iter()
            .enumerate()
            .map(|(i, record)| self.action(record).map_err(|message| ConnectorError::Record(RecordError { index: i as u32, message })))
            .collect::<Result<Vec<_>, _>>()?;
        for action in &actions {
            if let Action::Insert { table, columns, .. } = action {
                self.ensure_table(table, columns)?;
            }
        }
        let statements = self.statements(&actions)?;
        if !statements.is_empty() {
            sql::execute(&statements)?;
        }
        Ok(())
    }
}

impl JdbcSink {
    fn table_name(&self, topic: &str) -> String {
        self.settings.table_format.replace("${topic}", topic)
    }

    /// Checks a record and says what to do with it; an error explains what is wrong with it.
    fn action<'a>(&self, record: &'a SinkRecord) -> Result<Action<'a>, String> {
        let table = self.table_name(&record.topic);
        let Some(value) = record.value.as_ref().filter(|v| v.value != Value::Null) else {
            if !self.settings.delete_enabled {
                log::warn(&format!(
                    "skipping the tombstone at {}/{}/{}: delete.enabled is false",
                    record.topic, record.kafka_partition, record.kafka_offset
                ));
                return Ok(Action::Skip);
            }
            return Ok(Action::Delete { table, key: self.key_values(record)? });
        };
        let at = format!("topic {} partition {} offset {}", record.topic, record.kafka_partition, record.kafka_offset);
        let Some(schema) = &value.schema else {
            return Err(format!(
                "the record at {at} has no schema, and the JDBC sink needs one to know the columns. \
                 Produce records as {{\"schema\":{{\"type\":\"struct\",\"fields\":[...]}},\"payload\":{{...}}}} \
                 with value.converter.schemas.enable=true (the default of the JsonConverter)"
            ));
        };
        let Value::Struct(fields) = &value.value else {
            return Err(format!("the record at {at} has a {:?} value, but the JDBC sink writes structs (one field per column)", schema.schema_type));
        };
        if schema.schema_type != SchemaType::Struct {
            return Err(format!("the record at {at} has a {:?} schema, but the JDBC sink needs a struct", schema.schema_type));
        }
        Ok(Action::Insert { table, columns: self.row_schema(record, schema)?, values: self.row_values(record, fields)? })
    }

    /// The columns of a row: with pk.mode=record_key the key's fields come first.
    fn row_schema(&self, record: &SinkRecord, value_schema: &Arc<Schema>) -> Result<Arc<Schema>, String> {
        if self.settings.pk_mode != PkMode::RecordKey {
            return Ok(value_schema.clone());
        }
        let key_schema = self.key_schema(record)?;
        let mut fields: Vec<Field> = key_schema.fields.clone();
        fields.extend(value_schema.fields.iter().filter(|f| !key_schema.fields.iter().any(|k| k.name == f.name)).cloned());
        Ok(Arc::new(Schema { fields, ..(**value_schema).clone() }))
    }

    fn row_values<'a>(&self, record: &'a SinkRecord, fields: &'a [Value]) -> Result<Vec<&'a Value>, String> {
        let mut values: Vec<&Value> = Vec::new();
        if self.settings.pk_mode == PkMode::RecordKey {
            let key_schema = self.key_schema(record)?;
            let Some(Value::Struct(key)) = record.key.as_ref().map(|k| &k.value) else { unreachable!("checked by key_schema") };
            values.extend(key.iter());
            let value_schema = record.value.as_ref().and_then(|v| v.schema.as_ref()).expect("checked by action");
            for (field, v) in value_schema.fields.iter().zip(fields) {
                if !key_schema.fields.iter().any(|k| k.name == field.name) {
                    values.push(v);
                }
            }
            return Ok(values);
        }
        Ok(fields.iter().collect())
    }

    fn key_schema<'a>(&self, record: &'a SinkRecord) -> Result<&'a Arc<Schema>, String> {
        match &record.key {
            Some(key) if matches!(key.value, Value::Struct(_)) => {
                key.schema.as_ref().filter(|s| s.schema_type == SchemaType::Struct).ok_or_else(|| "pk.mode=record_key needs record keys with a struct schema".to_owned())
            }
            _ => Err(format!("pk.mode=record_key needs a struct key, and the record at offset {} has none", record.kafka_offset)),
        }
    }

    fn key_values(&self, record: &SinkRecord) -> Result<Vec<SqlValue>, String> {
        let schema = self.key_schema(record)?;
        let Some(Value::Struct(values)) = record.key.as_ref().map(|k| &k.value) else { unreachable!("checked by key_schema") };
        schema.fields.iter().zip(values).map(|(f, v)| values::sql_value(&f.schema, v)).collect()
    }

    fn primary_key(&self, schema: &Schema) -> Vec<String> {
        match self.settings.pk_mode {
            PkMode::None => Vec::new(),
            PkMode::RecordValue if self.settings.pk_fields.is_empty() => schema.fields.iter().map(|f| f.name.clone()).collect(),
            PkMode::RecordValue => self.settings.pk_fields.clone(),
            // The key's fields are the leading columns (see row_schema).
            PkMode::RecordKey => Vec::new(),
        }
    }

    /// Makes sure `table` exists with a column for every field, creating or evolving it as
    /// allowed.
    fn ensure_table(&mut self, table: &str, schema: &Schema) -> Result<(), ConnectorError> {
        if !self.tables.contains_key(table) {
            let columns = self.existing_columns(table)?;
            if columns.is_empty() {
                self.create_table(table, schema)?;
            } else {
                self.tables.insert(table.to_owned(), columns);
            }
        }
        let known = &self.tables[table];
        let mysql = self.dialect == Dialect::Mysql;
        let missing: Vec<&Field> = schema
            .fields
            .iter()
            .filter(|f| !known.iter().any(|c| if mysql { c.eq_ignore_ascii_case(&f.name) } else { *c == f.name }))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        let names: Vec<&str> = missing.iter().map(|f| f.name.as_str()).collect();
        if !self.settings.auto_evolve {
            return Err(ConnectorError::Fatal(format!(
                "table {table} has no column for the fields {names:?}; add them, or set auto.evolve=true"
            )));
        }
        if let Some(required) = missing.iter().find(|f| !f.schema.optional && f.schema.default.is_none()) {
            return Err(ConnectorError::Fatal(format!(
                "cannot add field {:?} to table {table}: it is required and has no default, so existing rows would have no value for it",
                required.name
            )));
        }
        let statements = ddl::add_columns(self.dialect, table, &missing).map_err(|e| ConnectorError::Fatal(format!("table {table}: {e}")))?;
        log::info(&format!("adding columns {names:?} to table {table}"));
        run_ddl(table, statements)?;
        self.tables.get_mut(table).unwrap().extend(names.iter().map(|n| n.to_string()));
        Ok(())
    }

    fn create_table(&mut self, table: &str, schema: &Schema) -> Result<(), ConnectorError> {
        if !self.settings.auto_create {
            return Err(ConnectorError::Fatal(format!("table {table} does not exist; create it, or set auto.create=true")));
        }
        let key = match self.settings.pk_mode {
            PkMode::RecordKey => Vec::new(),
            _ => self.primary_key(schema),
        };
        let statement = ddl::create_table(self.dialect, table, &schema.fields, &key).map_err(|e| ConnectorError::Fatal(format!("table {table}: {e}")))?;
        log::info(&format!("creating table {table}"));
        run_ddl(table, vec![statement])?;
        self.tables.insert(table.to_owned(), schema.fields.iter().map(|f| f.name.clone()).collect());
        Ok(())
    }

    fn existing_columns(&self, table: &str) -> Result<Vec<String>, ConnectorError> {
        let statement = match self.dialect {
            Dialect::Mysql => "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?",
            Dialect::Postgres => "SELECT column_name::text FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1",
        };
        let rows = sql::query(statement, &[SqlValue::Text(table.to_owned())])?;
        Ok(rows
            .rows
            .into_iter()
            .filter_map(|r| match r.into_iter().next() {
                Some(SqlValue::Text(name)) => Some(name),
                Some(SqlValue::Bytes(b)) => String::from_utf8(b).ok(),
                _ => None,
            })
            .collect())
    }

    /// Consecutive inserts into one table with one schema become multi-row INSERTs of at
    /// most `batch.size` rows; deletes are one statement each.
    fn statements(&self, actions: &[Action<'_>]) -> Result<Vec<Statement>, ConnectorError> {
        let mut statements = Vec::new();
        let mut i = 0;
        while i < actions.len() {
            match &actions[i] {
                Action::Skip => i += 1,
                Action::Delete { table, key } => {
                    let Some(columns) = self.key_columns(table) else {
                        i += 1;
                        continue;
                    };
                    statements.push(Statement { sql: ddl::delete(self.dialect, table, &columns), params: vec![key.clone()] });
                    i += 1;
                }
                Action::Insert { table, columns, .. } => {
                    let run = actions[i..]
                        .iter()
                        .take_while(|a| matches!(a, Action::Insert { table: t, columns: c, .. } if t == table && (Arc::ptr_eq(c, columns) || c == columns)))
                        .count();
                    let names: Vec<String> = columns.fields.iter().map(|f| f.name.clone()).collect();
                    // Both databases cap a statement at 65,535 parameters.
                    let per_statement = self.settings.batch_size.min(65_535 / names.len().max(1)).max(1);
                    for chunk in actions[i..i + run].chunks(per_statement) {
                        let mut params = Vec::with_capacity(chunk.len() * names.len());
                        for action in chunk {
                            let Action::Insert { values, .. } = action else { unreachable!("a run of inserts") };
                            for (field, value) in columns.fields.iter().zip(values) {
                                params.push(values::sql_value(&field.schema, value).map_err(|e| {
                                    ConnectorError::Fatal(format!("table {table}, column {}: {e}", field.name))
                                })?);
                            }
                        }
                        statements.push(Statement { sql: ddl::insert(self.dialect, table, &names, chunk.len()), params: vec![params] });
                    }
                    i += run;
                }
            }
        }
        Ok(statements)
    }

    /// The key columns a delete matches on: the leading key fields of the table.
    fn key_columns(&self, table: &str) -> Option<Vec<String>> {
        let _ = self.tables.get(table)?;
        Some(self.settings.pk_fields.clone()).filter(|k| !k.is_empty())
    }
}

fn run_ddl(table: &str, statements: Vec<String>) -> Result<(), ConnectorError> {
    let statements: Vec<Statement> = statements.into_iter().map(|sql| Statement { sql, params: Vec::new() }).collect();
    sql::execute(&statements).map(|_| ()).map_err(|e| match ConnectorError::from(e) {
        ConnectorError::Fatal(m) => ConnectorError::Fatal(format!("changing table {table} failed: {m}")),
        other => other,
    })
}

wasmconnect_sdk::sink_plugin!(JdbcSink);

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> Config {
        Config::from_pairs(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    }

    #[test]
    fn settings_defaults_and_errors() {
        let s = Settings::parse(&config(&[])).unwrap();
        assert_eq!((s.table_format.as_str(), s.pk_mode, s.auto_create, s.batch_size), ("${topic}", PkMode::None, false, 3000));
        assert!(matches!(Settings::parse(&config(&[("insert.mode", "upsert")])), Err(ConnectorError::Config(m)) if m.contains("insert")));
        assert!(matches!(Settings::parse(&config(&[("delete.enabled", "true")])), Err(ConnectorError::Config(m)) if m.contains("record_key")));
        assert!(matches!(Settings::parse(&config(&[("pk.mode", "kafka")])), Err(ConnectorError::Config(m)) if m.contains("pk.mode")));
        assert!(matches!(Settings::parse(&config(&[("auto.create", "yes")])), Err(ConnectorError::Config(m)) if m.contains("auto.create")));
    }
}
