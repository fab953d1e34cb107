//! [`Capture`]: how a setup step takes a value from its answer into a
//! session variable: `json:/pointer` (RFC 6901, serde_json's `pointer`),
//! `header:Name` (case-insensitive), `regex:PATTERN` (the first group, or the
//! whole match without one).

use regex::Regex;

/// An answer as captures see it. Plugins fill it from their protocol's
/// response: HTTP headers, gRPC metadata; the body as bytes (JSON for gRPC).
#[derive(Clone, Debug, Default)]
pub struct Reply {
    /// The status as the user writes it (`200`, `UNAUTHENTICATED`), for messages.
    pub status: String,
    /// Whether the status is what the step expects.
    pub ok: bool,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

#[derive(Clone, Debug)]
pub enum CaptureFrom {
    Json(String),
    Header(String),
    Regex(Regex),
}

/// `var = "json:/token"`.
#[derive(Clone, Debug)]
pub struct Capture {
    pub var: String,
    pub from: CaptureFrom,
    /// As written, for messages.
    pub spec: String,
}

impl Capture {
    /// Parses `spec` (`json:/a/b`, `header:Name`, `regex:PAT`) for `var`.
    pub fn parse(var: &str, spec: &str) -> Result<Capture, String> {
        let bad = |why: String| format!("capture '{var}' = '{spec}': {why}");
        let from = match spec.split_once(':') {
            Some(("json", pointer)) => {
                if !(pointer.is_empty() || pointer.starts_with('/')) {
                    return Err(bad("a JSON pointer starts with '/' (json:/token)".into()));
                }
                CaptureFrom::Json(pointer.to_string())
            }
            Some(("header", name)) if !name.trim().is_empty() => {
                CaptureFrom::Header(name.trim().to_string())
            }
            Some(("regex", pattern)) => CaptureFrom::Regex(Regex::new(pattern).map_err(|e| {
                bad(format!(
                    "not a regex ({})",
                    e.to_string().replace('\n', " ")
                ))
            })?),
            _ => {
                return Err(bad(
                    "expected json:/pointer, header:Name or regex:PATTERN".into()
                ))
            }
        };
        if var.is_empty() || !var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!(
                "capture '{var}': a variable name is letters, digits and '_'"
            ));
        }
        Ok(Capture {
            var: var.to_string(),
            from,
            spec: spec.to_string(),
        })
    }

    /// The captured value, or `None` when the answer does not have it.
    pub fn take(&self, reply: &Reply) -> Option<String> {
        match &self.from {
            CaptureFrom::Json(pointer) => {
                let value: serde_json::Value = serde_json::from_slice(&reply.body).ok()?;
                match value.pointer(pointer)? {
                    serde_json::Value::String(s) => Some(s.clone()),
                    serde_json::Value::Null => None,
                    other => Some(other.to_string()),
                }
            }
            CaptureFrom::Header(name) => reply
                .headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone()),
            CaptureFrom::Regex(regex) => {
                let body = String::from_utf8_lossy(&reply.body);
                let found = regex.captures(&body)?;
                let m = found.get(1).or_else(|| found.get(0))?;
                Some(m.as_str().to_string())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_takes_its_value() {
        let reply = Reply {
            status: "200".into(),
            ok: true,
            headers: vec![("X-Session".into(), "s-1".into())],
            body: br#"{"token": "abc", "user": {"id": 42}, "csrf": "<i n=zz9>"}"#.to_vec(),
        };
        let table: &[(&str, Option<&str>)] = &[
            ("json:/token", Some("abc")),
            ("json:/user/id", Some("42")),
            ("json:/missing", None),
            ("header:x-session", Some("s-1")),
            ("header:X-Other", None),
            ("regex:n=(\\w+)>", Some("zz9")),
            ("regex:tok", Some("tok")),
            ("regex:nomatch(\\d)", None),
        ];
        for (spec, want) in table {
            let capture = Capture::parse("v", spec).unwrap();
            assert_eq!(capture.take(&reply).as_deref(), *want, "{spec}");
        }
    }

    #[test]
    fn bad_specs_are_one_line() {
        for (var, spec, want) in [
            (
                "t",
                "jsn:/x",
                "capture 't' = 'jsn:/x': expected json:/pointer",
            ),
            (
                "t",
                "json:token",
                "capture 't' = 'json:token': a JSON pointer starts with '/'",
            ),
            ("t", "regex:(", "capture 't' = 'regex:(': not a regex"),
            ("t", "header:", "capture 't' = 'header:': expected"),
            ("a-b", "json:/x", "capture 'a-b': a variable name"),
        ] {
            let err = Capture::parse(var, spec).unwrap_err();
            assert!(err.starts_with(want), "{err}");
            assert!(!err.contains('\n'));
        }
    }
}
