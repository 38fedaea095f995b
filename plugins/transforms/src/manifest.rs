//! Every transform and predicate class the plugin provides and the configuration keys of
//! each, with Kafka's names and defaults. The host reads it from the component.

use wasmconnect_sdk::{ClassDef, ConfigKey, Importance, Manifest};

pub fn manifest() -> Manifest {
    let manifest = Manifest::transforms("connect-transforms", env!("CARGO_PKG_VERSION"));
    let manifest = key_and_value(
        manifest,
        "Cast",
        "Casts top-level fields of the record {part}, or the whole {part}, to int8, int16, int32, int64, float32, float64, boolean or string; bytes cast to base64 text and Decimal to numbers.",
        &[
            ConfigKey::list("spec").required().importance(Importance::High)
                .doc("Comma-separated field:type pairs (e.g. id:int64,score:float64) for fields of a struct or map, or a single type to cast the whole key or value. Types: int8, int16, int32, int64, float32, float64, boolean, string."),
            ConfigKey::boolean("replace.null.with.default").default(true)
                .doc("Whether a null struct field that has a default in its schema takes that default (true) or stays null (false)."),
        ],
    );
    let manifest = manifest.transform(
        ClassDef::new("org.apache.kafka.connect.transforms.DropHeaders")
            .doc("Removes every header with one of the given names.")
            .define(ConfigKey::list("headers").required().importance(Importance::High)
                .doc("Names of the headers to remove.")),
    );
    let manifest = key_and_value(
        manifest,
        "ExtractField",
        "Replaces the record {part} with one of its fields (a struct field with its schema, or a map entry); nulls pass through.",
        &[
            ConfigKey::string("field").required()
                .doc("Name of the field to extract; with field.syntax.version=V2, a dotted path to a nested field (backticks quote names containing dots)."),
            ConfigKey::string("field.syntax.version").default("V1").importance(Importance::High)
                .doc("V1: field names a top-level field. V2: field is a dotted path to nested fields, with `backticks` around names that contain dots."),
            ConfigKey::boolean("replace.null.with.default").default(true)
                .doc("Whether a null struct field that has a default in its schema takes that default (true) or stays null (false)."),
        ],
    );
    let manifest = manifest.transform(
        ClassDef::new("org.apache.kafka.connect.transforms.Filter")
            .doc("Drops every record; use it with a predicate to drop only matching (or, with negate, non-matching) records."),
    );
    let manifest = key_and_value(
        manifest,
        "Flatten",
        "Flattens nested structs (or maps) of the record {part} into top-level fields named by joining the names with a delimiter; arrays are left as they are.",
        &[
            ConfigKey::string("delimiter").default(".")
                .doc("Text put between the field names of each level."),
        ],
    );
    let manifest = key_and_value(
        manifest,
        "HeaderFrom",
        "Copies or moves top-level fields of the record {part} into headers, with their schemas.",
        &[
            ConfigKey::list("fields").required().importance(Importance::High)
                .doc("Names of the fields whose values go into headers."),
            ConfigKey::list("headers").required().importance(Importance::High)
                .doc("Header names, in the same order as fields."),
            ConfigKey::string("operation").required().importance(Importance::High)
                .doc("move to remove the fields from the record, copy to keep them."),
            ConfigKey::boolean("replace.null.with.default").default(true)
                .doc("Whether a null struct field that has a default in its schema takes that default (true) or stays null (false)."),
        ],
    );
    let manifest = key_and_value(
        manifest,
        "HoistField",
        "Wraps the record {part} in a struct (with a schema) or map (without) of one field.",
        &[
            ConfigKey::string("field").required()
                .doc("Name of the field that holds the original data."),
        ],
    );
    let manifest = key_and_value(
        manifest,
        "InsertField",
        "Adds fields to the record {part} from the record's topic, partition and timestamp, or a static string.",
        &[
            ConfigKey::string("topic.field")
                .doc("Field for the topic name. Suffix with ! to make the field required, or ? to keep it optional (the default)."),
            ConfigKey::string("partition.field")
                .doc("Field for the Kafka partition. Suffix with ! to make the field required, or ? to keep it optional (the default)."),
            ConfigKey::string("offset.field")
                .doc("Field for the record's Kafka offset (sink connectors only: a source record has no offset yet)."),
            ConfigKey::string("timestamp.field")
                .doc("Field for the record timestamp (a Connect Timestamp with a schema, epoch milliseconds without). Suffix with ! to make the field required, or ? to keep it optional (the default)."),
            ConfigKey::string("static.field")
                .doc("Field for static.value. Suffix with ! to make the field required, or ? to keep it optional (the default)."),
            ConfigKey::string("static.value")
                .doc("The static string to insert; required with static.field."),
            ConfigKey::boolean("replace.null.with.default").default(true)
                .doc("Whether a null struct field that has a default in its schema takes that default (true) or stays null (false)."),
        ],
    );
    let manifest = manifest.transform(
        ClassDef::new("org.apache.kafka.connect.transforms.InsertHeader")
            .doc("Adds a header with a literal string value to every record.")
            .define(ConfigKey::string("header").required().importance(Importance::High)
                .doc("Name of the header."))
            .define(ConfigKey::string("value.literal").required().importance(Importance::High)
                .doc("Text of the header's value (a string header).")),
    );
    let manifest = key_and_value(
        manifest,
        "MaskField",
        "Replaces fields of the record {part} with an empty value of their type (0, false, empty string, epoch, empty array or map), or with a replacement for numeric and string fields.",
        &[
            ConfigKey::list("fields").required().importance(Importance::High)
                .doc("Names of the fields to mask."),
            ConfigKey::string("replacement").importance(Importance::Low)
                .doc("Replacement for the masked numeric and string fields, converted to each field's type; unset masks with empty values."),
            ConfigKey::boolean("replace.null.with.default").default(true)
                .doc("Whether a null struct field that has a default in its schema takes that default (true) or stays null (false)."),
        ],
    );
    let manifest = manifest.transform(
        ClassDef::new("org.apache.kafka.connect.transforms.RegexRouter")
            .doc("Renames the topic when the whole topic name matches a regular expression, replacing it with Java replacement syntax ($1, ${name}).")
            .define(ConfigKey::string("regex").required().importance(Importance::High)
                .doc("Java regular expression the whole topic name must match (look-around and back-references are not supported)."))
            .define(ConfigKey::string("replacement").required().importance(Importance::High)
                .doc("The new topic name; $1, $2 or ${name} insert the regex's groups, \\$ a dollar sign.")),
    );
    let manifest = key_and_value(
        manifest,
        "ReplaceField",
        "Keeps or drops top-level fields of the record {part} and renames them.",
        &[
            ConfigKey::list("exclude").default("")
                .doc("Fields to drop; exclusion wins over include."),
            ConfigKey::list("include").default("")
                .doc("Fields to keep; when set, all others are dropped."),
            ConfigKey::list("blacklist").default("").importance(Importance::Low)
                .doc("Deprecated name of exclude, used when exclude is unset."),
            ConfigKey::list("whitelist").default("").importance(Importance::Low)
                .doc("Deprecated name of include, used when include is unset."),
            ConfigKey::list("renames").default("")
                .doc("Renames as old:new pairs, e.g. foo:bar,abc:xyz."),
            ConfigKey::boolean("replace.null.with.default").default(true)
                .doc("Whether a null struct field that has a default in its schema takes that default (true) or stays null (false)."),
        ],
    );
    let manifest = key_and_value(
        manifest,
        "SetSchemaMetadata",
        "Sets the name and/or version of the record {part}'s schema.",
        &[
            ConfigKey::string("schema.name").importance(Importance::High)
                .doc("Schema name to set."),
            ConfigKey::int("schema.version").importance(Importance::High)
                .doc("Schema version to set."),
            ConfigKey::boolean("replace.null.with.default").default(true)
                .doc("Whether a null struct field that has a default in its schema takes that default (true) or stays null (false)."),
        ],
    );
    let manifest = key_and_value(
        manifest,
        "TimestampConverter",
        "Converts a timestamp field of the record {part}, or the whole {part}, between text, Unix time and Connect's Date, Time and Timestamp.",
        &[
            ConfigKey::string("field").default("").importance(Importance::High)
                .doc("Field holding the timestamp; empty converts the whole key or value."),
            ConfigKey::string("target.type").required().importance(Importance::High)
                .doc("What to convert to: string, unix, Date, Time or Timestamp."),
            ConfigKey::string("format").default("")
                .doc("SimpleDateFormat pattern (in UTC) for writing target.type=string and for reading string timestamps, e.g. yyyy-MM-dd'T'HH:mm:ss.SSSZ."),
            ConfigKey::string("unix.precision").default("milliseconds").importance(Importance::Low)
                .doc("Unit of Unix times read and written: seconds, milliseconds, microseconds or nanoseconds. Finer units lose their sub-millisecond part."),
            ConfigKey::boolean("replace.null.with.default").default(true)
                .doc("Whether a null struct field that has a default in its schema takes that default (true) or stays null (false)."),
        ],
    );
    let manifest = manifest.transform(
        ClassDef::new("org.apache.kafka.connect.transforms.TimestampRouter")
            .doc("Renames the topic after the original topic and the record's timestamp, e.g. one table or index per day.")
            .define(ConfigKey::string("topic.format").default("${topic}-${timestamp}").importance(Importance::High)
                .doc("Topic name with ${topic} and ${timestamp} as placeholders."))
            .define(ConfigKey::string("timestamp.format").default("yyyyMMdd").importance(Importance::High)
                .doc("SimpleDateFormat pattern, in UTC, for ${timestamp}.")),
    );
    let manifest = manifest.transform(
        ClassDef::new("org.apache.kafka.connect.transforms.ValueToKey")
            .doc("Replaces the record key with a struct (or map) of fields taken from the value.")
            .define(ConfigKey::list("fields").required().importance(Importance::High)
                .doc("Names of the value fields that make up the key."))
            .define(ConfigKey::boolean("replace.null.with.default").default(true)
                .doc("Whether a null struct field that has a default in its schema takes that default (true) or stays null (false).")),
    );
    let manifest = manifest.predicate(
        ClassDef::new("org.apache.kafka.connect.transforms.predicates.HasHeaderKey")
            .doc("True for records with at least one header of the given name.")
            .define(ConfigKey::string("name").required()
                .doc("The header name.")),
    );
    let manifest = manifest.predicate(
        ClassDef::new("org.apache.kafka.connect.transforms.predicates.RecordIsTombstone")
            .doc("True for records whose value is null (tombstones)."),
    );
    manifest.predicate(
        ClassDef::new("org.apache.kafka.connect.transforms.predicates.TopicNameMatches")
            .doc("True for records whose whole topic name matches a Java regular expression.")
            .define(ConfigKey::string("pattern").required()
                .doc("Java regular expression for topic names (look-around and back-references are not supported).")),
    )
}

/// The `$Key` and `$Value` classes of one transform: the same keys, documented for the part
/// of the record each changes (`{part}` in `doc`).
fn key_and_value(manifest: Manifest, transform: &str, doc: &str, keys: &[ConfigKey]) -> Manifest {
    ["Key", "Value"].into_iter().fold(manifest, |manifest, part| {
        let class = ClassDef::new(format!("org.apache.kafka.connect.transforms.{transform}${part}")).doc(doc.replace("{part}", &part.to_lowercase()));
        manifest.transform(keys.iter().cloned().fold(class, ClassDef::define))
    })
}
