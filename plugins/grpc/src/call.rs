//! [`GrpcCall`]: one call as compiled at start (the `-o call`/`data`/
//! `metadata` options, or one step of a scenario): the method, its request
//! (encoded once when it has no placeholders, else a template of its JSON
//! rendered per op with the SDK) and its metadata; [`GrpcCall::render`]
//! gives one op's [`Prepared`] call.

use bytes::Bytes;
use loadgen_plugin_api::sdk::traffic::{OpContext, Template};
use prost_reflect::{DescriptorPool, MessageDescriptor};
use tonic::codegen::http::uri::PathAndQuery;
use tonic::metadata::{AsciiMetadataValue, BinaryMetadataValue, MetadataKey, MetadataMap};
use tonic::Code;

use crate::config::CallName;
use crate::request;
use crate::schema;
use crate::shape::Shape;

/// The request message: bytes encoded at start, or JSON rendered per op.
#[derive(Debug)]
pub enum Payload {
    Encoded(Bytes),
    Json(Template),
}

/// One metadata entry; its value may be templated (`Bearer {{token}}`).
#[derive(Debug)]
pub struct MetaEntry {
    key: String,
    value: Template,
}

#[derive(Debug)]
pub struct GrpcCall {
    pub path: PathAndQuery,
    pub shape: Shape,
    pub input: MessageDescriptor,
    pub output: MessageDescriptor,
    pub payload: Payload,
    /// The whole metadata when no value is templated (cloned per op).
    fixed_metadata: Option<MetadataMap>,
    metadata: Vec<MetaEntry>,
    /// Statuses that count as success (scenario `expect_status`; OK by default).
    pub expect: Vec<Code>,
}

/// One op's call, rendered.
pub struct Prepared {
    pub path: PathAndQuery,
    pub shape: Shape,
    pub message: Bytes,
    pub metadata: MetadataMap,
}

/// Everything a call is built from, as written.
pub struct CallSpec<'a> {
    pub call: &'a CallName,
    pub data: Template,
    /// `(key, value template)`, keys already checked.
    pub metadata: Vec<(String, Template)>,
    pub expect: Vec<Code>,
}

impl GrpcCall {
    /// The call, its method looked up in `pool` and its request checked
    /// against the input message (rendered once when templated, unless it
    /// reads session variables, which are empty before the setup runs).
    pub fn compile(pool: &DescriptorPool, spec: CallSpec<'_>) -> Result<GrpcCall, String> {
        let method = schema::find_method(pool, spec.call)?;
        let input = method.input();
        let payload = match spec.data.as_literal() {
            Some(json) => Payload::Encoded(
                request::encode(&input, json).map_err(|e| format!("option 'data': {e}"))?,
            ),
            None => Payload::Json(spec.data),
        };
        let metadata: Vec<MetaEntry> = spec
            .metadata
            .into_iter()
            .map(|(key, value)| MetaEntry { key, value })
            .collect();
        let fixed_metadata = if metadata.iter().all(|m| m.value.as_literal().is_some()) {
            let pairs: Vec<(&str, &str)> = metadata
                .iter()
                .map(|m| (m.key.as_str(), m.value.as_literal().unwrap_or_default()))
                .collect();
            Some(metadata_map(&pairs)?)
        } else {
            None
        };
        let path =
            PathAndQuery::try_from(spec.call.path()).map_err(|e| format!("option 'call': {e}"))?;
        Ok(GrpcCall {
            path,
            shape: Shape::of(&method),
            output: method.output(),
            input,
            payload,
            fixed_metadata,
            metadata,
            expect: spec.expect,
        })
    }

    /// Checks a templated request once with `sample` (an op before the run),
    /// so a misspelt field is refused at start, not failed per op.
    pub fn check_sample(&self, sample: &OpContext<'_>) -> Result<(), String> {
        if let Payload::Json(template) = &self.payload {
            if !template.uses_vars() {
                request::encode(&self.input, &template.render(sample))
                    .map_err(|e| format!("option 'data': {e}"))?;
            }
        }
        Ok(())
    }

    /// Op `op`'s call; `Err` when its rendered JSON or metadata does not fit.
    pub fn render(&self, op: &OpContext<'_>) -> Result<Prepared, String> {
        let message = match &self.payload {
            Payload::Encoded(bytes) => bytes.clone(),
            Payload::Json(template) => request::encode_op(&self.input, &template.render(op))?,
        };
        let metadata = match &self.fixed_metadata {
            Some(map) => map.clone(),
            None => {
                let rendered: Vec<(&str, String)> = self
                    .metadata
                    .iter()
                    .map(|m| (m.key.as_str(), m.value.render(op)))
                    .collect();
                let pairs: Vec<(&str, &str)> =
                    rendered.iter().map(|(k, v)| (*k, v.as_str())).collect();
                metadata_map(&pairs)?
            }
        };
        Ok(Prepared {
            path: self.path.clone(),
            shape: self.shape,
            message,
            metadata,
        })
    }
}

/// The request metadata; `-bin` keys carry their value as bytes. Values
/// are never shown (they are often credentials).
pub fn metadata_map(pairs: &[(&str, &str)]) -> Result<MetadataMap, String> {
    let mut map = MetadataMap::new();
    for (key, value) in pairs {
        let bad = || {
            format!("option 'metadata': the value of '{key}' is not valid metadata (visible ASCII)")
        };
        if key.ends_with("-bin") {
            let key = MetadataKey::from_bytes(key.as_bytes()).map_err(|_| bad())?;
            map.append_bin(key, BinaryMetadataValue::from_bytes(value.as_bytes()));
        } else {
            let key = MetadataKey::from_bytes(key.as_bytes()).map_err(|_| bad())?;
            let value = AsciiMetadataValue::try_from(*value).map_err(|_| bad())?;
            map.append(key, value);
        }
    }
    Ok(map)
}

/// A status as users write it: `UNAUTHENTICATED`, `unauthenticated`,
/// `NOT_FOUND`, `OK` or its number (`16`).
pub fn parse_code(raw: &str) -> Option<Code> {
    let raw = raw.trim();
    if let Ok(n) = raw.parse::<i32>() {
        return (0..=16).contains(&n).then(|| Code::from_i32(n));
    }
    let wanted = raw.to_ascii_lowercase().replace(['_', ' '], "");
    (0..=16)
        .map(Code::from_i32)
        .find(|code| code_name(*code).replace('_', "") == wanted)
}

/// `ok`, `unauthenticated` … (the failure reasons' names).
pub fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "ok",
        Code::Cancelled => "cancelled",
        Code::Unknown => "unknown",
        Code::InvalidArgument => "invalid_argument",
        Code::DeadlineExceeded => "deadline_exceeded",
        Code::NotFound => "not_found",
        Code::AlreadyExists => "already_exists",
        Code::PermissionDenied => "permission_denied",
        Code::ResourceExhausted => "resource_exhausted",
        Code::FailedPrecondition => "failed_precondition",
        Code::Aborted => "aborted",
        Code::OutOfRange => "out_of_range",
        Code::Unimplemented => "unimplemented",
        Code::Internal => "internal",
        Code::Unavailable => "unavailable",
        Code::DataLoss => "data_loss",
        Code::Unauthenticated => "unauthenticated",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_parse_by_name_or_number() {
        let table = [
            ("UNAUTHENTICATED", Some(Code::Unauthenticated)),
            ("unauthenticated", Some(Code::Unauthenticated)),
            ("NOT_FOUND", Some(Code::NotFound)),
            ("ok", Some(Code::Ok)),
            ("16", Some(Code::Unauthenticated)),
            ("14", Some(Code::Unavailable)),
            ("17", None),
            ("401", None),
            ("nope", None),
        ];
        for (raw, want) in table {
            assert_eq!(parse_code(raw), want, "{raw}");
        }
    }

    #[test]
    fn metadata_values_are_checked_and_never_shown() {
        let map = metadata_map(&[("authorization", "Bearer t"), ("trace-bin", "\u{1}")]).unwrap();
        assert_eq!(map.get("authorization").unwrap(), "Bearer t");
        assert!(map.get_bin("trace-bin").is_some());
        let err = metadata_map(&[("authorization", "Bearer s3cret\u{7f}")]).unwrap_err();
        assert!(
            err.contains("'authorization'") && !err.contains("s3cret"),
            "{err}"
        );
    }
}
