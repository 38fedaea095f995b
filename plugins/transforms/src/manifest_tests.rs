//! The manifest is what the host validates configurations against and users see: it must
//! list exactly the classes the factories accept, and exactly the keys each class reads.

use std::collections::BTreeSet;

use crate::config::read_keys;
use crate::testing::config;

fn manifest() -> serde_json::Value {
    serde_json::from_str(&crate::manifest::manifest().to_json()).expect("the manifest is valid JSON")
}

fn entries(section: &str) -> Vec<serde_json::Value> {
    manifest()[section].as_array().unwrap_or_else(|| panic!("no [[{section}]]")).clone()
}

fn declared_classes(section: &str) -> BTreeSet<String> {
    entries(section).iter().map(|e| e["class"].as_str().expect("a class").to_owned()).collect()
}

fn declared_keys(section: &str, class: &str) -> Vec<serde_json::Value> {
    let entry =
        entries(section).into_iter().find(|e| e["class"].as_str() == Some(class)).unwrap_or_else(|| panic!("{class} undeclared"));
    entry.get("config").and_then(|c| c.as_array()).cloned().unwrap_or_default()
}

/// A valid configuration of each class, so that building it reads every key it has.
fn minimal(class: &str) -> Vec<(&'static str, &'static str)> {
    let base = class.rsplit('.').next().unwrap().split('$').next().unwrap();
    match base {
        "Cast" => vec![("spec", "a:int8")],
        "DropHeaders" => vec![("headers", "h")],
        "ExtractField" | "HoistField" => vec![("field", "a")],
        "HeaderFrom" => vec![("fields", "a"), ("headers", "h"), ("operation", "copy")],
        "InsertField" => vec![("static.field", "s"), ("static.value", "v")],
        "InsertHeader" => vec![("header", "h"), ("value.literal", "v")],
        "MaskField" | "ValueToKey" => vec![("fields", "a")],
        "RegexRouter" => vec![("regex", ".*"), ("replacement", "x")],
        "SetSchemaMetadata" => vec![("schema.name", "n")],
        "TimestampConverter" => vec![("target.type", "string"), ("format", "yyyy")],
        "TopicNameMatches" => vec![("pattern", ".*")],
        "HasHeaderKey" => vec![("name", "h")],
        _ => vec![],
    }
}

/// Builds `class` with its minimal configuration and returns the keys it read.
fn keys_read(section: &str, class: &str) -> BTreeSet<String> {
    let c = config(&minimal(class));
    let built = match section {
        "transform" => crate::transform(class, &c).map(drop),
        _ => crate::predicate(class, &c).map(drop),
    };
    built.unwrap_or_else(|e| panic!("{class}: {e:?}"));
    read_keys::of(class.rsplit('.').next().unwrap())
}

#[test]
fn the_manifest_lists_exactly_the_classes_the_factories_accept() {
    let transforms: BTreeSet<String> = crate::transforms::CLASSES.iter().map(|(c, _)| c.to_string()).collect();
    assert_eq!(declared_classes("transform"), transforms);
    let predicates: BTreeSet<String> = crate::predicates::CLASSES.iter().map(|(c, _)| c.to_string()).collect();
    assert_eq!(declared_classes("predicate"), predicates);
    assert_eq!(manifest()["kind"].as_str(), Some("transforms"));
    assert_eq!(manifest()["name"].as_str(), Some("connect-transforms"));
}

#[test]
fn unknown_classes_are_config_errors_naming_the_class() {
    use wasmconnect_sdk::ConnectorError;
    let c = config(&[]);
    let unknown = "org.apache.kafka.connect.transforms.Nope";
    assert!(
        matches!(crate::transform(unknown, &c), Err(ConnectorError::Config(m)) if m == format!("unknown transform class {unknown}"))
    );
    assert!(matches!(crate::predicate("Filter", &c), Err(ConnectorError::Config(m)) if m.contains("Filter")));
    assert!(crate::transform("org.apache.kafka.connect.transforms.Filter$Value", &c).is_err());
}

#[test]
fn each_class_declares_exactly_the_keys_it_reads() {
    for section in ["transform", "predicate"] {
        for class in declared_classes(section) {
            let declared: BTreeSet<String> =
                declared_keys(section, &class).iter().map(|k| k["name"].as_str().expect("a key name").to_owned()).collect();
            assert_eq!(keys_read(section, &class), declared, "{class}");
        }
    }
}

#[test]
fn declared_keys_are_well_formed_and_their_defaults_accepted() {
    let types = ["string", "int", "long", "double", "boolean", "list", "password", "class"];
    for section in ["transform", "predicate"] {
        for entry in entries(section) {
            let class = entry["class"].as_str().unwrap();
            assert!(!entry["documentation"].as_str().unwrap_or_default().is_empty(), "{class}");
            let mut pairs: Vec<(String, String)> = minimal(class).iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            for key in declared_keys(section, class) {
                let name = key["name"].as_str().unwrap();
                assert!(types.contains(&key["type"].as_str().unwrap_or_default()), "{class} {name}");
                assert!(["high", "medium", "low"].contains(&key["importance"].as_str().unwrap_or_default()), "{class} {name}");
                assert!(!key["documentation"].as_str().unwrap_or_default().is_empty(), "{class} {name}");
                if let Some(default) = key.get("default") {
                    assert_eq!(key["required"], false, "{class} {name} is required but has a default");
                    if !pairs.iter().any(|(k, _)| k == name) {
                        pairs.push((name.to_owned(), default.as_str().map_or_else(|| default.to_string(), str::to_owned)));
                    }
                }
            }
            let c = wasmconnect_sdk::Config::from_pairs(pairs);
            let built = match section {
                "transform" => crate::transform(class, &c).map(drop),
                _ => crate::predicate(class, &c).map(drop),
            };
            assert!(built.is_ok(), "{class} rejects its declared defaults: {built:?}");
        }
    }
}
