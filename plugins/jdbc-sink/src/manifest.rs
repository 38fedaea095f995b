//! The plugin's manifest: its identity and the definition of every configuration key it
//! understands, with Confluent's names and defaults. The host reads it from the component.

use wasmconnect_sdk::{ConfigKey, Importance, Manifest};

pub fn manifest() -> Manifest {
    Manifest::sink("jdbc-sink", env!("CARGO_PKG_VERSION"), "io.confluent.connect.jdbc.JdbcSinkConnector")
        .alias("JdbcSinkConnector")
        .alias("JdbcSink")
        .define(ConfigKey::string("connection.url").required().importance(Importance::High).group("Database")
            .doc("JDBC connection URL of the database to write, e.g. jdbc:mysql://localhost:3306/mydb, jdbc:mariadb://... or jdbc:postgresql://localhost:5432/mydb"))
        .define(ConfigKey::string("connection.user").importance(Importance::High).group("Database")
            .doc("Database user; overrides a user given in the URL."))
        .define(ConfigKey::password("connection.password").importance(Importance::High).group("Database")
            .doc("Password of connection.user. It stays in the host: the plugin never sees it."))
        .define(ConfigKey::list("topics").required().importance(Importance::High).group("Connector")
            .doc("Topics to read, comma separated; the host subscribes to them and hands their records to the sink."))
        .define(ConfigKey::string("table.name.format").default("${topic}").group("Data Mapping")
            .doc("The destination table of a record; ${topic} stands for the record's topic, e.g. kafka_${topic}. The name is one identifier: a dot in it does not name a schema or database."))
        .define(ConfigKey::list("fields.whitelist").default("").group("Data Mapping")
            .doc("The older name of fields.include.list, still understood; fields.include.list wins when both are set."))
        .define(ConfigKey::list("fields.include.list").default("").group("Data Mapping")
            .doc("The value fields written, comma separated; empty writes them all. Primary key fields are written whether listed or not."))
        .define(ConfigKey::string("insert.mode").default("insert").importance(Importance::High).group("Writes").one_of(["insert", "upsert", "update"])
            .doc("How rows are written: insert (plain INSERT; a row whose key exists is an error), upsert (INSERT ... ON DUPLICATE KEY UPDATE on MySQL and MariaDB, INSERT ... ON CONFLICT (pk) DO UPDATE on PostgreSQL) or update (UPDATE ... WHERE pk; a record without a row changes nothing). upsert and update need a pk.mode other than none."))
        .define(ConfigKey::int("batch.size").default(3000).group("Writes").at_least(1)
            .doc("Most rows in one multi-row statement. Statements also stay within 65,535 parameters and, on MySQL and MariaDB, within three quarters of max_allowed_packet. All statements of a batch of records run in one transaction."))
        .define(ConfigKey::boolean("delete.enabled").default(false).group("Writes")
            .doc("Whether a tombstone (a record with a null value) deletes the row of its key; needs pk.mode=record_key. When false, tombstones are skipped with a warning."))
        .define(ConfigKey::string("pk.mode").default("none").importance(Importance::High).group("Data Mapping").one_of(["none", "kafka", "record_key", "record_value"])
            .doc("Where the primary key comes from: none; kafka (the record's topic, partition and offset, in columns __connect_topic, __connect_partition and __connect_offset); record_key (the fields of the record key, or a primitive key under the one name pk.fields gives); record_value (fields of the record value)."))
        .define(ConfigKey::list("pk.fields").default("").group("Data Mapping")
            .doc("The primary key fields, comma separated. kafka: three names for the topic, partition and offset columns, or empty for the defaults. record_key: the key fields to use, empty for all; a primitive key needs exactly one name, its column's. record_value: the value fields to use, empty for all."))
        .define(ConfigKey::boolean("auto.create").default(false).group("DDL Support")
            .doc("Whether to create a missing destination table (CREATE TABLE) from the schema of its records, with the primary key pk.mode gives."))
        .define(ConfigKey::boolean("auto.evolve").default(false).group("DDL Support")
            .doc("Whether to add columns (ALTER TABLE ... ADD) for new fields of the record schema. Only optional fields and fields with a default can be added: a new required field without a default fails the task with a message saying so."))
        .define(ConfigKey::string("quote.sql.identifiers").default("always").group("Data Mapping").one_of(["always", "never"])
            .doc("Whether table and column names are quoted in the SQL: always (names keep their case and may be keywords) or never (the database folds them, PostgreSQL to lower case)."))
        .define(ConfigKey::int("max.retries").default(10).group("Retries").at_least(0)
            .doc("How many times in a row a batch that failed for a passing reason (a lost connection, a deadlock, a lock timeout) is tried again before the task fails. Nothing of a failed batch is written."))
        .define(ConfigKey::int("retry.backoff.ms").default(3000).group("Retries").between(0, 30000)
            .doc("Least time in milliseconds between two tries of a failed batch (the host may wait longer; it backs off from 0.2 s to 10 s). At most 30000, because the wait happens inside a call the host bounds by --task-call-timeout-secs."))
        .define(ConfigKey::string("db.timezone").default("UTC").group("Data Mapping")
            .doc("The time zone whose wall-clock time is written to timestamp columns without a time zone (DATETIME on MySQL and MariaDB, TIMESTAMP WITHOUT TIME ZONE on PostgreSQL), e.g. Europe/Paris."))
        .define(ConfigKey::boolean("exactly.once.enabled").default(false).group("Exactly once").doc(
            "Beyond Confluent's sink: keep the offset of the next record to read per topic partition in a table of the target \
             database, written in the same transaction as each batch's rows, and resume from it. A crash between the database's \
             commit and the worker's commit of the consumer group then repeats no record, whatever the insert.mode.",
        ))
        .define(ConfigKey::boolean("pg.copy.enabled").default(true).group("Writes").doc(
            "Beyond Confluent's sink: on PostgreSQL, write insert.mode=insert rows with COPY ... FROM STDIN, and upsert rows with COPY into a temporary staging table merged by INSERT ... SELECT ... ON CONFLICT, in the batch's one transaction. false writes multi-row INSERT statements, as on other databases.",
        ))
        .define(ConfigKey::string("exactly.once.offsets.table").default("__wasmconnect_offsets").group("Exactly once").doc(
            "The table exactly.once.enabled keeps the offsets in (created if missing; rows keyed by connector name, topic and partition).",
        ))
}
