//! The two ways the host hands a transforms component its batches: packed into one byte list
//! (`packed-transform`, which components built with the SDK export) and the typed
//! `transform.apply` every component has, which the host falls back to for components built
//! before `packed-transform` existed.

use std::collections::BTreeMap;
use std::sync::Arc;

use wasmconnect::runtime::{NoOffsets, PluginRegistry, Runtime, Step, TaskContext, TaskLimits, TransformInstance, TransformRecord, WorkerLimits};
use wasmconnect_data::{Data, Field, Schema, SchemaType, Value};
use wasmconnect_e2e::plugin_path;


/// An instance of the component offering `class`, with a runtime that lives as long as it.
fn instance(class: &str, tokio: &tokio::runtime::Runtime) -> (Runtime, TransformInstance, tempfile::TempDir) {
    let cache = tempfile::tempdir().unwrap();
    let runtime = Runtime::new(cache.path().to_owned(), WorkerLimits::with_defaults(TaskLimits::default())).unwrap();
    let registry = PluginRegistry::scan(&[plugin_path()], &runtime).unwrap();
    let plugin = registry.transform(class).unwrap_or_else(|| panic!("no plugin offers {class}")).plugin;
    let ctx = TaskContext {
        connector: "calls".into(),
        task: Some(0),
        config: BTreeMap::new(),
        offsets: Arc::new(NoOffsets),
        pools: Arc::new(wasmconnect_db::Pools::new()),
        tokio: tokio.handle().clone(),
        limits: TaskLimits::default(),
    };
    let instance = runtime.transforms(&plugin, ctx).unwrap();
    (runtime, instance, cache)
}

fn config(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// Records with every kind of value and schema, headers, null keys and values, a null with a
/// schema, and a schemaless value MaskField cannot handle.
fn records() -> Vec<TransformRecord> {
    let string = Arc::new(Schema::new(SchemaType::String));
    let schema = Arc::new(
        Schema::structure(vec![
            Field::new("id", Schema::new(SchemaType::Int32)),
            Field::new("pwd", Schema::new(SchemaType::String)),
            Field::new("small", Schema::new(SchemaType::Int8)),
            Field::new("medium", Schema { default: Some(Value::Int16(7)), ..Schema::new(SchemaType::Int16).optional() }),
            Field::new("at", Schema::timestamp().optional()),
            Field::new("ratio", Schema::new(SchemaType::Float32)),
            Field::new("score", Schema::new(SchemaType::Float64)),
            Field::new("active", Schema::new(SchemaType::Boolean)),
            Field::new("price", Schema::decimal(2)),
            Field::new("tags", Schema::array(string.clone())),
            Field::new("attrs", Schema::map(string.clone(), Arc::new(Schema::new(SchemaType::Int64))).optional()),
            Field::new("home", Schema::structure(vec![Field::new("city", Schema::new(SchemaType::String))]).named("address").optional()),
        ])
        .named("users")
        .parameter("origin", "test"),
    );
    let user = |id: i32| Value::Struct(vec![
        Value::Int32(id),
        Value::String(format!("secret{id}")),
        Value::Int8(-1),
        Value::Null,
        Value::Int64(1_700_000_000_000 + id as i64),
        Value::Float32(0.5),
        Value::Float64(-1e100),
        Value::Boolean(id % 2 == 0),
        Value::Bytes(vec![0x04, 0xd2]),
        Value::Array(vec![Value::String("a".into()), Value::String("ü".into())]),
        Value::Map(vec![(Value::String("k".into()), Value::Int64(id as i64))]),
        Value::Struct(vec![Value::String("Oslo".into())]),
    ]);
    let header = ("trace".to_string(), Data { schema: Some(string), value: Value::String("t-1".into()) });
    let record = |topic: &str, key: Option<Data>, value: Option<Data>| TransformRecord {
        topic: topic.into(),
        kafka_partition: Some(1),
        kafka_offset: Some(10),
        key,
        value,
        timestamp: Some(1_700_000_000_123),
        headers: vec![header.clone()],
    };
    vec![
        record("users", None, Some(Data { schema: Some(schema.clone()), value: user(1) })),
        // A tombstone: Filter drops it.
        record("users", Some(Data::schemaless(Value::String("k2".into()))), None),
        TransformRecord {
            topic: "users".into(),
            kafka_partition: None,
            kafka_offset: None,
            key: Some(Data { schema: Some(Arc::new(Schema::new(SchemaType::Int32).optional())), value: Value::Null }),
            value: Some(Data::schemaless(Value::Map(vec![
                (Value::String("pwd".into()), Value::String("hunter2".into())),
                (Value::String("nested".into()), Value::Array(vec![Value::Map(vec![(Value::Int32(1), Value::Null)])])),
            ]))),
            timestamp: None,
            headers: vec![],
        },
        // MaskField needs a map or struct: this one fails.
        record("users", None, Some(Data::schemaless(Value::Int32(5)))),
        record("other", Some(Data::schemaless(Value::Int64(4))), Some(Data { schema: Some(schema), value: user(4) })),
    ]
}

fn chain(instance: &mut TransformInstance) -> Vec<Step> {
    let step = |instance: &mut TransformInstance, class: &str, keys: &[(&str, &str)]| Step {
        transform: instance.configure_transform(class, &config(keys)).unwrap(),
        predicate: None,
    };
    let tombstone = instance.configure_predicate("org.apache.kafka.connect.transforms.predicates.RecordIsTombstone", &config(&[])).unwrap();
    vec![
        Step { predicate: Some((tombstone, false)), ..step(instance, "org.apache.kafka.connect.transforms.Filter", &[]) },
        step(instance, "org.apache.kafka.connect.transforms.MaskField$Value", &[("fields", "pwd")]),
        step(instance, "org.apache.kafka.connect.transforms.InsertHeader", &[("header", "masked"), ("value.literal", "yes")]),
    ]
}

#[test]
fn packed_and_typed_calls_give_the_same_records_origins_and_failures() {
    let tokio = tokio::runtime::Runtime::new().unwrap();
    let (_runtime, mut instance, _cache) = instance("org.apache.kafka.connect.transforms.Filter", &tokio);
    assert!(instance.is_packed(), "connect-transforms exports packed-transform");
    let steps = chain(&mut instance);
    let input = records();

    let packed = instance.apply(&steps, &input).unwrap();
    let typed = instance.apply_typed(&steps, &input).unwrap();
    assert_eq!(packed.records, typed.records);
    assert_eq!(packed.failures, typed.failures);
    // A second packed batch reuses the schemas of the first; the answer is the same.
    let again = instance.apply(&steps, &input).unwrap();
    assert_eq!(again.records, packed.records);

    let origins: Vec<usize> = packed.records.iter().map(|(i, _)| *i).collect();
    assert_eq!(origins, [0, 2, 4], "the tombstone is filtered out and record 3 failed");
    assert_eq!(packed.failures.len(), 1);
    assert_eq!(packed.failures[0].0, 3);
    assert!(packed.failures[0].1.contains("MaskField"), "{}", packed.failures[0].1);

    let (_, first) = &packed.records[0];
    let value = first.value.as_ref().unwrap();
    let Value::Struct(fields) = &value.value else { panic!("{value:?}") };
    assert_eq!(fields[1], Value::String(String::new()), "the password is masked");
    assert_eq!(fields[3], Value::Int16(7), "a null field with a default takes it");
    assert_eq!(value.schema, input[0].value.as_ref().unwrap().schema, "the schema comes back whole");
    assert_eq!(first.headers.len(), 2);
    assert_eq!(first.headers[1].0, "masked");
    assert_eq!((first.kafka_partition, first.kafka_offset, first.timestamp), (Some(1), Some(10), Some(1_700_000_000_123)));

    let (_, schemaless) = &packed.records[1];
    assert_eq!(schemaless.key, input[2].key, "a null key with a schema keeps its schema");
    let Value::Map(entries) = &schemaless.value.as_ref().unwrap().value else { panic!() };
    assert_eq!(entries[0].1, Value::String(String::new()));
    assert_eq!(entries[1], (Value::String("nested".into()), Value::Array(vec![Value::Map(vec![(Value::Int32(1), Value::Null)])])));
}

#[test]
fn a_component_without_packed_transform_is_called_through_apply() {
    let tokio = tokio::runtime::Runtime::new().unwrap();
    let (_runtime, mut instance, _cache) = instance("wasmconnect.testing.SetTopic", &tokio);
    assert!(!instance.is_packed(), "legacy-transforms exports only transform");
    let transform = instance.configure_transform("wasmconnect.testing.SetTopic", &config(&[("topic", "moved")])).unwrap();
    let input = records();
    let out = instance.apply(&[Step { transform, predicate: None }], &input).unwrap();
    assert!(out.failures.is_empty());
    assert_eq!(out.records.len(), input.len());
    for ((origin, record), (i, original)) in out.records.iter().zip(input.iter().enumerate()) {
        assert_eq!(*origin, i);
        assert_eq!(record, &TransformRecord { topic: "moved".into(), ..original.clone() });
    }
}
