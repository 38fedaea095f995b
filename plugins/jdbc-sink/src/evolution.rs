//! Table evolution planning: what DDL, if any, makes a table fit a row shape, given the
//! columns the database reports and the `auto.create` / `auto.evolve` switches. Pure, so the
//! rules can be tested without a database.

use thiserror::Error;
use wasmconnect_sdk::data::Field;

use crate::catalog::Column;
use crate::ddl;
use crate::dialect::{Sql, UnsupportedType};
use crate::rows::RowShape;
use crate::settings::Settings;

#[derive(Debug, PartialEq)]
pub enum TablePlan {
    UpToDate,
    Create(String),
    /// The names of the new columns and one `ALTER TABLE ... ADD` for each.
    AddColumns { columns: Vec<String>, statements: Vec<String> },
}

#[derive(Debug, Error, PartialEq)]
pub enum TableError {
    #[error("table {table:?} does not exist: create it, or set auto.create=true to let the sink create it from the records' schema")]
    Missing { table: String },
    #[error("table {table:?} has no column for the field(s) {}: add them, or set auto.evolve=true to let the sink add them", .columns.join(", "))]
    MissingColumns { table: String, columns: Vec<String> },
    #[error(
        "cannot add column {column:?} to table {table:?}: its field is required and has no default, so the rows already \
         in the table would have no value for it; make the field optional or give it a default, or add the column yourself"
    )]
    RequiredColumn { table: String, column: String },
    #[error("table {table:?} has no column {column:?}, which a tombstone's key needs to delete its row")]
    MissingKeyColumn { table: String, column: String },
    #[error("table {table:?}: {source}")]
    Unsupported { table: String, source: UnsupportedType },
}

/// The DDL that makes `table` (with `existing` columns, `None` when it does not exist) take
/// rows of `shape`.
pub fn plan(sql: Sql, settings: &Settings, table: &str, existing: Option<&[Column]>, shape: &RowShape) -> Result<TablePlan, TableError> {
    let unsupported = |source| TableError::Unsupported { table: table.to_owned(), source };
    let Some(existing) = existing else {
        if !settings.auto_create {
            return Err(TableError::Missing { table: table.to_owned() });
        }
        return ddl::create_table(sql, table, shape).map(TablePlan::Create).map_err(unsupported);
    };
    let missing = missing_fields(sql, existing, &shape.fields);
    if missing.is_empty() {
        return Ok(TablePlan::UpToDate);
    }
    let columns: Vec<String> = missing.iter().map(|f| f.name.clone()).collect();
    if !settings.auto_evolve {
        return Err(TableError::MissingColumns { table: table.to_owned(), columns });
    }
    if let Some(required) = missing.iter().find(|f| !f.schema.optional && f.schema.default.is_none()) {
        return Err(TableError::RequiredColumn { table: table.to_owned(), column: required.name.clone() });
    }
    let statements = missing.iter().map(|f| ddl::add_column(sql, table, f)).collect::<Result<_, _>>().map_err(unsupported)?;
    Ok(TablePlan::AddColumns { columns, statements })
}

/// Whether deletes by the key columns of `shape` can run: `false` when the table does not
/// exist (there is nothing to delete), an error when it lacks a key column.
pub fn can_delete(sql: Sql, table: &str, existing: Option<&[Column]>, shape: &RowShape) -> Result<bool, TableError> {
    let Some(existing) = existing else { return Ok(false) };
    match missing_fields(sql, existing, &shape.fields).first() {
        Some(field) => Err(TableError::MissingKeyColumn { table: table.to_owned(), column: field.name.clone() }),
        None => Ok(true),
    }
}

/// The fields without a column.
fn missing_fields<'s>(sql: Sql, existing: &[Column], fields: &'s [Field]) -> Vec<&'s Field> {
    fields.iter().filter(|f| !existing.iter().any(|c| sql.same_column(&f.name, &c.name))).collect()
}

#[cfg(test)]
mod tests {
    use wasmconnect_sdk::data::{Schema, SchemaType, Value};

    use super::*;
    use crate::rows::tests::settings;
    use wasmconnect_sdk::sql::Dialect;

    const MYSQL: Sql = Sql { dialect: Dialect::Mysql, quote_identifiers: true };
    const POSTGRES: Sql = Sql { dialect: Dialect::Postgres, quote_identifiers: true };

    fn shape(fields: Vec<Field>) -> RowShape {
        RowShape { fields, key: vec![] }
    }

    fn v2() -> RowShape {
        shape(vec![
            Field::new("id", Schema::new(SchemaType::Int64)),
            Field::new("name", Schema::new(SchemaType::String)),
            Field::new("email", Schema::new(SchemaType::String).optional()),
        ])
    }

    fn columns(names: &[&str]) -> Vec<Column> {
        names.iter().map(|n| Column { name: n.to_string(), data_type: "int".into() }).collect()
    }

    fn names(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn a_missing_table_is_created_only_with_auto_create() {
        let err = plan(MYSQL, &settings(&[]), "people", None, &v2()).unwrap_err();
        assert_eq!(err, TableError::Missing { table: "people".into() });
        assert!(err.to_string().contains("auto.create=true"), "{err}");
        let TablePlan::Create(sql) = plan(MYSQL, &settings(&[("auto.create", "true")]), "people", None, &v2()).unwrap() else {
            panic!("no CREATE TABLE")
        };
        assert!(sql.starts_with("CREATE TABLE `people` ("), "{sql}");
    }

    #[test]
    fn a_matching_table_needs_nothing() {
        let existing = columns(&["ID", "Name", "email", "extra"]);
        assert_eq!(plan(MYSQL, &settings(&[]), "t", Some(&existing), &v2()).unwrap(), TablePlan::UpToDate);
        // PostgreSQL compares quoted names exactly.
        let err = plan(POSTGRES, &settings(&[]), "t", Some(&existing), &v2()).unwrap_err();
        assert_eq!(err, TableError::MissingColumns { table: "t".into(), columns: names(&["id", "name"]) });
    }

    #[test]
    fn missing_columns_are_named_without_auto_evolve() {
        let err = plan(MYSQL, &settings(&[]), "t", Some(&columns(&["id", "name"])), &v2()).unwrap_err();
        assert_eq!(err.to_string(), "table \"t\" has no column for the field(s) email: add them, or set auto.evolve=true to let the sink add them");
    }

    #[test]
    fn auto_evolve_adds_optional_and_defaulted_columns() {
        let mut with_default = Schema::new(SchemaType::Int32);
        with_default.default = Some(Value::Int32(0));
        let mut fields = v2().fields;
        fields.push(Field::new("visits", with_default));
        let evolve = settings(&[("auto.evolve", "true")]);
        let plan = plan(POSTGRES, &evolve, "t", Some(&columns(&["id", "name"])), &shape(fields)).unwrap();
        assert_eq!(
            plan,
            TablePlan::AddColumns {
                columns: names(&["email", "visits"]),
                statements: vec![
                    "ALTER TABLE \"t\" ADD \"email\" TEXT".into(),
                    "ALTER TABLE \"t\" ADD \"visits\" INT NOT NULL DEFAULT 0".into()
                ],
            }
        );
    }

    #[test]
    fn auto_evolve_refuses_required_columns_and_says_why() {
        let evolve = settings(&[("auto.evolve", "true")]);
        let err = plan(MYSQL, &evolve, "t", Some(&columns(&["id", "email"])), &v2()).unwrap_err();
        assert_eq!(err, TableError::RequiredColumn { table: "t".into(), column: "name".into() });
        assert!(err.to_string().contains("required and has no default"), "{err}");
    }

    #[test]
    fn deletes_need_the_key_columns() {
        let key = RowShape { fields: vec![Field::new("id", Schema::new(SchemaType::Int64))], key: names(&["id"]) };
        assert_eq!(can_delete(MYSQL, "t", None, &key), Ok(false));
        assert_eq!(can_delete(MYSQL, "t", Some(&columns(&["ID"])), &key), Ok(true));
        assert_eq!(
            can_delete(POSTGRES, "t", Some(&columns(&["uuid"])), &key),
            Err(TableError::MissingKeyColumn { table: "t".into(), column: "id".into() })
        );
    }
}
