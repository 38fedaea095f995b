//! SQL text per dialect: column types for Connect schemas, CREATE TABLE, ALTER TABLE and
//! multi-row INSERT statements. Every identifier is quoted.

use wasmconnect_sdk::data::json::value_to_json;
use wasmconnect_sdk::data::{DATE, DECIMAL, Field, Schema, SchemaType, TIME, TIMESTAMP, Value};
use wasmconnect_sdk::sql::{Dialect, placeholder, quote};

/// The column type for a field, or why it cannot be a column.
pub fn column_type(dialect: Dialect, schema: &Schema, in_key: bool) -> Result<String, String> {
    let mysql = dialect == Dialect::Mysql;
    if let Some(name) = schema.name.as_deref() {
        match name {
            DECIMAL => {
                let scale = schema.decimal_scale().unwrap_or(0);
                return Ok(if mysql { format!("DECIMAL(65,{scale})") } else { "NUMERIC".into() });
            }
            TIMESTAMP => return Ok(if mysql { "DATETIME(3)" } else { "TIMESTAMP" }.into()),
            DATE => return Ok("DATE".into()),
            TIME => return Ok(if mysql { "TIME(3)" } else { "TIME" }.into()),
            _ => {}
        }
    }
    Ok(match schema.schema_type {
        SchemaType::Int8 => if mysql { "TINYINT" } else { "SMALLINT" },
        SchemaType::Int16 => "SMALLINT",
        SchemaType::Int32 => "INT",
        SchemaType::Int64 => "BIGINT",
        SchemaType::Float32 => if mysql { "FLOAT" } else { "REAL" },
        SchemaType::Float64 => if mysql { "DOUBLE" } else { "DOUBLE PRECISION" },
        SchemaType::Boolean => "BOOLEAN",
        // MySQL cannot index TEXT without a prefix length, so key columns get a VARCHAR.
        SchemaType::String if mysql && in_key => "VARCHAR(256)",
        SchemaType::String => "TEXT",
        SchemaType::Bytes if mysql && in_key => "VARBINARY(1024)",
        SchemaType::Bytes => if mysql { "BLOB" } else { "BYTEA" },
        other => return Err(format!("a {other:?} cannot be stored in a column")),
    }
    .to_owned())
}

/// `name TYPE [NOT NULL] [DEFAULT x]` for a field.
pub fn column_definition(dialect: Dialect, field: &Field, in_key: bool) -> Result<String, String> {
    let schema = &field.schema;
    let sql_type = column_type(dialect, schema, in_key).map_err(|e| format!("field {:?}: {e}", field.name))?;
    let mut definition = format!("{} {sql_type}", quote(dialect, &field.name));
    if !schema.optional || in_key {
        definition.push_str(" NOT NULL");
    }
    if let Some(default) = schema.default.as_ref().and_then(|d| default_literal(schema, d)) {
        definition.push_str(&format!(" DEFAULT {default}"));
    }
    Ok(definition)
}

/// A SQL literal for the default of a primitive field.
fn default_literal(schema: &Schema, default: &Value) -> Option<String> {
    match value_to_json(Some(schema), default).ok()? {
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(if b { "TRUE" } else { "FALSE" }.into()),
        serde_json::Value::String(s) => Some(format!("'{}'", s.replace('\'', "''"))),
        _ => None,
    }
}

pub fn create_table(dialect: Dialect, table: &str, fields: &[Field], key: &[String]) -> Result<String, String> {
    let mut columns = fields
        .iter()
        .map(|f| column_definition(dialect, f, key.contains(&f.name)))
        .collect::<Result<Vec<_>, _>>()?;
    if !key.is_empty() {
        let key: Vec<String> = key.iter().map(|k| quote(dialect, k)).collect();
        columns.push(format!("PRIMARY KEY({})", key.join(", ")));
    }
    let body: Vec<String> = columns.iter().map(|c| format!("  {c}")).collect();
    Ok(format!("CREATE TABLE {} (\n{}\n)", quote(dialect, table), body.join(",\n")))
}

pub fn add_columns(dialect: Dialect, table: &str, fields: &[&Field]) -> Result<Vec<String>, String> {
    fields
        .iter()
        .map(|f| Ok(format!("ALTER TABLE {} ADD {}", quote(dialect, table), column_definition(dialect, f, false)?)))
        .collect()
}

/// `INSERT INTO t (a, b) VALUES (?, ?), (?, ?)` for `rows` rows.
pub fn insert(dialect: Dialect, table: &str, columns: &[String], rows: usize) -> String {
    let names: Vec<String> = columns.iter().map(|c| quote(dialect, c)).collect();
    let mut n = 0;
    let tuples: Vec<String> = (0..rows)
        .map(|_| {
            let marks: Vec<String> = columns
                .iter()
                .map(|_| {
                    n += 1;
                    placeholder(dialect, n)
                })
                .collect();
            format!("({})", marks.join(", "))
        })
        .collect();
    format!("INSERT INTO {} ({}) VALUES {}", quote(dialect, table), names.join(", "), tuples.join(", "))
}

pub fn delete(dialect: Dialect, table: &str, key: &[String]) -> String {
    let conditions: Vec<String> = key
        .iter()
        .enumerate()
        .map(|(i, k)| format!("{} = {}", quote(dialect, k), placeholder(dialect, i + 1)))
        .collect();
    format!("DELETE FROM {} WHERE {}", quote(dialect, table), conditions.join(" AND "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn users() -> Vec<Field> {
        vec![
            Field::new("id", Schema::new(SchemaType::Int32)),
            Field::new("user_id", Schema::new(SchemaType::String)),
            Field::new("created_at", Schema::timestamp().optional()),
            Field::new("amount", Schema::decimal(2).optional()),
        ]
    }

    #[test]
    fn create_table_for_both_dialects() {
        assert_eq!(
            create_table(Dialect::Mysql, "my_topic_users", &users(), &[]).unwrap(),
            "CREATE TABLE `my_topic_users` (\n  `id` INT NOT NULL,\n  `user_id` TEXT NOT NULL,\n  `created_at` DATETIME(3),\n  `amount` DECIMAL(65,2)\n)"
        );
        assert_eq!(
            create_table(Dialect::Postgres, "t", &users(), &["id".into()]).unwrap(),
            "CREATE TABLE \"t\" (\n  \"id\" INT NOT NULL,\n  \"user_id\" TEXT NOT NULL,\n  \"created_at\" TIMESTAMP,\n  \"amount\" NUMERIC,\n  PRIMARY KEY(\"id\")\n)"
        );
        let keyed = create_table(Dialect::Mysql, "t", &users(), &["user_id".into()]).unwrap();
        assert!(keyed.contains("`user_id` VARCHAR(256) NOT NULL"), "{keyed}");
    }

    #[test]
    fn defaults_and_unstorable_types() {
        let mut with_default = Schema::new(SchemaType::String);
        with_default.default = Some(Value::String("it's".into()));
        let field = Field::new("s", with_default);
        assert_eq!(column_definition(Dialect::Postgres, &field, false).unwrap(), "\"s\" TEXT NOT NULL DEFAULT 'it''s'");
        let nested = Field::new("tags", Schema::array(std::sync::Arc::new(Schema::new(SchemaType::String))));
        assert!(create_table(Dialect::Mysql, "t", &[nested], &[]).unwrap_err().contains("tags"));
    }

    #[test]
    fn inserts_and_deletes_number_placeholders_per_dialect() {
        let columns = vec!["a".to_owned(), "b".to_owned()];
        assert_eq!(insert(Dialect::Mysql, "t", &columns, 2), "INSERT INTO `t` (`a`, `b`) VALUES (?, ?), (?, ?)");
        assert_eq!(insert(Dialect::Postgres, "t", &columns, 2), "INSERT INTO \"t\" (\"a\", \"b\") VALUES ($1, $2), ($3, $4)");
        assert_eq!(delete(Dialect::Postgres, "t", &columns), "DELETE FROM \"t\" WHERE \"a\" = $1 AND \"b\" = $2");
        assert_eq!(add_columns(Dialect::Mysql, "t", &[&users()[2]]).unwrap(), vec!["ALTER TABLE `t` ADD `created_at` DATETIME(3)"]);
    }
}
