//! The request message from JSON (proto3's JSON mapping, via prost-reflect),
//! checked field by field first so a misspelt field is named with the ones
//! that exist: `unknown field "idd" in GetItemRequest; fields: id`.

use bytes::Bytes;
use prost::Message as _;
use prost_reflect::{DynamicMessage, Kind, MessageDescriptor};
use serde_json::Value;

/// `json` as the wire bytes of a `message`, or why it does not fit.
pub fn encode(message: &MessageDescriptor, json: &str) -> Result<Bytes, String> {
    let value: Value = serde_json::from_str(json).map_err(|e| format!("not JSON ({e})"))?;
    check(message, &value)?;
    let dynamic = DynamicMessage::deserialize(message.clone(), value)
        .map_err(|e| format!("{e} (in {})", message.name()))?;
    Ok(Bytes::from(dynamic.encode_to_vec()))
}

/// One op's rendered JSON as wire bytes: parsed straight into the message
/// (no field-by-field check: the request was checked at start, and a field
/// that does not fit still fails here).
pub fn encode_op(message: &MessageDescriptor, json: &str) -> Result<Bytes, String> {
    let mut deserializer = serde_json::Deserializer::from_str(json);
    let dynamic = DynamicMessage::deserialize(message.clone(), &mut deserializer)
        .and_then(|m| deserializer.end().map(|()| m))
        .map_err(|e| format!("{e} (in {})", message.name()))?;
    Ok(Bytes::from(dynamic.encode_to_vec()))
}

/// Every key of every object names a field of its message (by its proto or
/// JSON name). Well-known types have JSON forms of their own and are left to
/// the deserializer.
fn check(message: &MessageDescriptor, value: &Value) -> Result<(), String> {
    if message.full_name().starts_with("google.protobuf.") {
        return Ok(());
    }
    let Value::Object(object) = value else {
        return match value {
            Value::Null => Ok(()),
            other => Err(format!(
                "{} is a message: expected a JSON object, not {}",
                message.name(),
                kind_of(other)
            )),
        };
    };
    for (key, field_value) in object {
        let field = message
            .get_field_by_json_name(key)
            .or_else(|| message.get_field_by_name(key))
            .ok_or_else(|| {
                let fields: Vec<String> = message.fields().map(|f| f.name().to_string()).collect();
                let fields = if fields.is_empty() {
                    "none".to_string()
                } else {
                    fields.join(", ")
                };
                format!(
                    "unknown field \"{key}\" in {}; fields: {fields}",
                    message.name()
                )
            })?;
        let Kind::Message(inner) = field.kind() else {
            continue;
        };
        match field_value {
            Value::Array(items) if field.is_list() => {
                for item in items {
                    check(&inner, item)?;
                }
            }
            Value::Object(entries) if field.is_map() => {
                if let Kind::Message(map_value) = inner.map_entry_value_field().kind() {
                    for entry in entries.values() {
                        check(&map_value, entry)?;
                    }
                }
            }
            other if !field.is_list() && !field.is_map() => check(&inner, other)?,
            // A wrong shape for a list or map: the deserializer says what it wanted.
            _ => {}
        }
    }
    Ok(())
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost_reflect::DescriptorPool;

    fn pool() -> DescriptorPool {
        // One directory per call: tests run side by side.
        static CALLS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("grpc-request-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("shop.proto");
        std::fs::write(
            &path,
            r#"syntax = "proto3";
package shop;
import "google/protobuf/timestamp.proto";
message GetItemRequest { int64 id = 1; }
message Filter { string field_name = 1; repeated Tag tags = 2; map<string, Tag> by_name = 3; }
message Tag { string key = 1; }
message Search { Filter filter = 1; google.protobuf.Timestamp since = 2; repeated int32 ids = 3; }
message Empty {}
"#,
        )
        .unwrap();
        crate::schema::compile(&[path], &[]).unwrap()
    }

    fn message(name: &str) -> MessageDescriptor {
        pool()
            .get_message_by_name(name)
            .expect("declared in shop.proto")
    }

    #[test]
    fn json_that_fits_is_encoded() {
        let get = message("shop.GetItemRequest");
        let bytes = encode(&get, r#"{"id": 42}"#).unwrap();
        let decoded = DynamicMessage::decode(get.clone(), bytes).unwrap();
        assert_eq!(decoded.get_field_by_name("id").unwrap().as_i64(), Some(42));
        // int64 as a string, proto3 JSON's form.
        encode(&get, r#"{"id": "42"}"#).unwrap();
        let search = message("shop.Search");
        let json = r#"{"filter": {"fieldName": "a", "tags": [{"key": "k"}], "by_name": {"x": {"key": "v"}}},
                       "since": "2024-01-01T00:00:00Z", "ids": [1, 2]}"#;
        assert!(!encode(&search, json).unwrap().is_empty());
        assert!(encode(&message("shop.Empty"), "{}").unwrap().is_empty());
        // Per op: the same bytes, and a misfit still refused.
        assert_eq!(
            encode_op(&get, r#"{"id": 42}"#).unwrap(),
            encode(&get, r#"{"id": 42}"#).unwrap()
        );
        assert!(encode_op(&get, r#"{"idd": 42}"#).is_err());
        assert!(encode_op(&get, r#"{"id": 42} x"#).is_err());
    }

    #[test]
    fn json_that_does_not_fit_names_the_field() {
        let table = [
            (
                "shop.GetItemRequest",
                r#"{"idd": 1}"#,
                "unknown field \"idd\" in GetItemRequest; fields: id",
            ),
            (
                "shop.Search",
                r#"{"filter": {"tags": [{"kee": "k"}]}}"#,
                "unknown field \"kee\" in Tag; fields: key",
            ),
            (
                "shop.Search",
                r#"{"filter": {"by_name": {"x": {"k": 1}}}}"#,
                "unknown field \"k\" in Tag",
            ),
            (
                "shop.Search",
                r#"{"filter": 3}"#,
                "Filter is a message: expected a JSON object, not a number",
            ),
            (
                "shop.Empty",
                r#"{"a": 1}"#,
                "unknown field \"a\" in Empty; fields: none",
            ),
            (
                "shop.GetItemRequest",
                r#"{"id": "x"}"#,
                "(in GetItemRequest)",
            ),
            ("shop.Search", r#"{"since": "yesterday"}"#, "(in Search)"),
            ("shop.GetItemRequest", r#"{"id": 1"#, "not JSON ("),
        ];
        for (name, json, want) in table {
            let err = encode(&message(name), json).unwrap_err();
            assert!(
                err.contains(want),
                "{json}: {err:?} should contain {want:?}"
            );
            assert!(!err.contains('\n'), "{err:?}");
        }
    }
}
