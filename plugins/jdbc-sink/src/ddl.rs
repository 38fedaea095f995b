//! DDL per dialect: CREATE TABLE for a row shape, and ALTER TABLE ... ADD for one new column.
//! Identifiers are quoted unless `quote.sql.identifiers=never`, so topic and field names keep
//! their case and may be keywords.

use wasmconnect_sdk::data::Field;

use crate::dialect::{Sql, UnsupportedType};
use crate::rows::RowShape;
use crate::values::default_literal;

/// `CREATE TABLE t (...)` with a column per field, `NOT NULL` for required fields and key
/// columns, `DEFAULT` for fields with a default, and the shape's primary key.
pub fn create_table(sql: Sql, table: &str, shape: &RowShape) -> Result<String, UnsupportedType> {
    let mut lines =
        shape.fields.iter().map(|f| column_definition(sql, f, shape.key.contains(&f.name))).collect::<Result<Vec<_>, _>>()?;
    if !shape.key.is_empty() {
        let key: Vec<String> = shape.key.iter().map(|k| sql.ident(k)).collect();
        lines.push(format!("PRIMARY KEY ({})", key.join(", ")));
    }
    Ok(format!("CREATE TABLE {} (\n  {}\n)", sql.ident(table), lines.join(",\n  ")))
}

/// `ALTER TABLE t ADD c TYPE ...` for a field the table lacks.
pub fn add_column(sql: Sql, table: &str, field: &Field) -> Result<String, UnsupportedType> {
    Ok(format!("ALTER TABLE {} ADD {}", sql.ident(table), column_definition(sql, field, false)?))
}

/// `name TYPE [NOT NULL] [DEFAULT x]`.
fn column_definition(sql: Sql, field: &Field, in_key: bool) -> Result<String, UnsupportedType> {
    let schema = &field.schema;
    let mut definition = format!("{} {}", sql.ident(&field.name), sql.column_type(schema, in_key)?);
    if !schema.optional || in_key {
        definition.push_str(" NOT NULL");
    }
    if let Some(literal) = schema.default.as_ref().and_then(|d| default_literal(sql, schema, d)) {
        definition.push_str(&sql.default_clause(schema, in_key, &literal));
    }
    Ok(definition)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use wasmconnect_sdk::data::{Schema, SchemaType, Value};

    use super::*;
    use wasmconnect_sdk::sql::Dialect;

    const MYSQL: Sql = Sql { dialect: Dialect::Mysql, quote_identifiers: true };
    const POSTGRES: Sql = Sql { dialect: Dialect::Postgres, quote_identifiers: true };

    fn shape(key: &[&str]) -> RowShape {
        RowShape {
            fields: vec![
                Field::new("id", Schema::new(SchemaType::Int32)),
                Field::new("user_id", Schema::new(SchemaType::String)),
                Field::new("created_at", Schema::timestamp().optional()),
                Field::new("amount", Schema::decimal(2).optional()),
            ],
            key: key.iter().map(|k| k.to_string()).collect(),
        }
    }

    #[test]
    fn create_table_for_mysql() {
        assert_eq!(
            create_table(MYSQL, "my_topic_users", &shape(&[])).unwrap(),
            "CREATE TABLE `my_topic_users` (\n  `id` INT NOT NULL,\n  `user_id` TEXT NOT NULL,\n  `created_at` DATETIME(3),\n  `amount` DECIMAL(65,2)\n)"
        );
        let keyed = create_table(MYSQL, "t", &shape(&["user_id", "id"])).unwrap();
        assert!(keyed.contains("`user_id` VARCHAR(256) NOT NULL,"), "{keyed}");
        assert!(keyed.ends_with(",\n  PRIMARY KEY (`user_id`, `id`)\n)"), "{keyed}");
    }

    #[test]
    fn create_table_for_postgres() {
        assert_eq!(
            create_table(POSTGRES, "Users", &shape(&["id"])).unwrap(),
            "CREATE TABLE \"Users\" (\n  \"id\" INT NOT NULL,\n  \"user_id\" TEXT NOT NULL,\n  \"created_at\" TIMESTAMP,\n  \"amount\" NUMERIC,\n  PRIMARY KEY (\"id\")\n)"
        );
    }

    #[test]
    fn key_columns_are_not_null_even_when_optional() {
        let shape = RowShape { fields: vec![Field::new("k", Schema::new(SchemaType::Int64).optional())], key: vec!["k".into()] };
        assert!(create_table(POSTGRES, "t", &shape).unwrap().contains("\"k\" BIGINT NOT NULL,"));
    }

    #[test]
    fn identifiers_are_quoted_and_escaped() {
        let shape = RowShape { fields: vec![Field::new("odd`name\"", Schema::new(SchemaType::Boolean))], key: vec![] };
        assert_eq!(create_table(MYSQL, "my`t", &shape).unwrap(), "CREATE TABLE `my``t` (\n  `odd``name\"` BOOLEAN NOT NULL\n)");
        assert_eq!(create_table(POSTGRES, "my\"t", &shape).unwrap(), "CREATE TABLE \"my\"\"t\" (\n  \"odd`name\"\"\" BOOLEAN NOT NULL\n)");
    }

    #[test]
    fn added_columns_carry_their_defaults() {
        let mut text = Schema::new(SchemaType::String);
        text.default = Some(Value::String("none".into()));
        let field = Field::new("email", text);
        assert_eq!(add_column(POSTGRES, "t", &field).unwrap(), "ALTER TABLE \"t\" ADD \"email\" TEXT NOT NULL DEFAULT 'none'");
        assert_eq!(add_column(MYSQL, "t", &field).unwrap(), "ALTER TABLE `t` ADD `email` TEXT NOT NULL DEFAULT ('none')");
        let mut count = Schema::new(SchemaType::Int16);
        count.default = Some(Value::Int16(0));
        assert_eq!(add_column(MYSQL, "t", &Field::new("n", count)).unwrap(), "ALTER TABLE `t` ADD `n` SMALLINT NOT NULL DEFAULT 0");
        let optional = Field::new("note", Schema::new(SchemaType::String).optional());
        assert_eq!(add_column(MYSQL, "t", &optional).unwrap(), "ALTER TABLE `t` ADD `note` TEXT");
    }

    #[test]
    fn nested_fields_have_no_column() {
        let nested = Field::new("tags", Schema::array(Arc::new(Schema::new(SchemaType::String))));
        assert_eq!(add_column(MYSQL, "t", &nested).unwrap_err(), UnsupportedType::Collection(SchemaType::Array));
        let bare = Sql::new(Dialect::Postgres, false);
        let plain = RowShape { fields: vec![Field::new("Id", Schema::new(SchemaType::Int32))], key: vec!["Id".into()] };
        assert_eq!(create_table(bare, "Users", &plain).unwrap(), "CREATE TABLE Users (\n  Id INT NOT NULL,\n  PRIMARY KEY (Id)\n)");
    }
}
