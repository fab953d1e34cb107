//! `-o targets=FILE`: Vegeta's targets files as they are.
//!
//! - `http` format: `METHOD URL`, then `Name: value` header lines, then
//!   optionally `@path` (the body from a file) or `@<<TAG` … `TAG` (inline);
//!   targets are separated by a blank line or start at the next `METHOD URL`.
//!   Lines starting with `#` are comments; `# name=NAME weight=N` names the
//!   next target's series and sets its weight (our extension).
//! - `json` format: one object a line: `{"method", "url", "header": {"Name":
//!   ["v"]}, "body": base64}`.
//!
//! Every target has weight 1 unless given; targets with the same `METHOD path`
//! (no query) share a series, and ops of a series take its targets in turn.

use std::path::Path;

use base64::Engine as _;
use bytes::Bytes;
use http::header::{HeaderName, HeaderValue};
use http::{Method, Uri};
use serde::Deserialize;

/// One target as read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub method: Method,
    pub url: String,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub body: Bytes,
    /// From `# name=…`: the series, else `METHOD path`.
    pub name: Option<String>,
    pub weight: u32,
}

impl Target {
    /// Its series: the given name, or `METHOD path`.
    pub fn series_name(&self) -> String {
        if let Some(name) = &self.name {
            return name.clone();
        }
        let path = self
            .url
            .parse::<Uri>()
            .ok()
            .map(|u| u.path().to_string())
            .unwrap_or_else(|| self.url.clone());
        format!("{} {path}", self.method)
    }
}

/// Reads `file` (`shown` in messages) in the `http` or `json` format.
pub fn load(file: &str, json: bool) -> Result<Vec<Target>, String> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| format!("targets {file}: cannot read it: {e}"))?;
    let dir = Path::new(file).parent().unwrap_or(Path::new(""));
    let targets = if json {
        parse_json(&text)
    } else {
        parse_http(&text, dir)
    }
    .map_err(|e| format!("targets {file}: {e}"))?;
    if targets.is_empty() {
        return Err(format!("targets {file}: no targets in it"));
    }
    Ok(targets)
}

const METHODS: [&str; 9] = [
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT",
];

fn starts_with_method(line: &str) -> bool {
    line.split_once(' ')
        .is_some_and(|(m, _)| METHODS.contains(&m))
}

/// The `http` format; `dir` resolves a relative `@body` not found from the
/// working directory (where Vegeta looks).
pub fn parse_http(text: &str, dir: &Path) -> Result<Vec<Target>, String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut targets = Vec::new();
    let mut i = 0;
    let (mut name, mut weight) = (None, 1);
    while i < lines.len() {
        let line = lines[i].trim();
        let n = i + 1;
        i += 1;
        if line.is_empty() {
            continue;
        }
        if let Some(comment) = line.strip_prefix('#') {
            (name, weight) = annotation(comment, n, name, weight)?;
            continue;
        }
        let Some((method, url)) = line.split_once(' ') else {
            return Err(format!("line {n}: '{line}' is not 'METHOD URL'"));
        };
        let method = Method::from_bytes(method.as_bytes())
            .ok()
            .filter(|_| METHODS.contains(&method))
            .ok_or_else(|| format!("line {n}: '{method}' is not an HTTP method"))?;
        let url = url.trim().to_string();
        check_url(&url).map_err(|e| format!("line {n}: {e}"))?;
        let mut target = Target {
            method,
            url,
            headers: Vec::new(),
            body: Bytes::new(),
            name: name.take(),
            weight: std::mem::replace(&mut weight, 1),
        };
        while i < lines.len() {
            let line = lines[i].trim();
            if line.is_empty() || starts_with_method(line) {
                break;
            }
            let n = i + 1;
            i += 1;
            if line.starts_with('#') {
                continue;
            }
            if let Some(tag) = line.strip_prefix("@<<") {
                let mut body = String::new();
                loop {
                    let Some(raw) = lines.get(i) else {
                        return Err(format!("line {n}: no closing '{tag}' for the body"));
                    };
                    i += 1;
                    if *raw == tag {
                        break;
                    }
                    body.push_str(raw);
                    body.push('\n');
                }
                target.body = Bytes::from(body);
                break;
            }
            if let Some(path) = line.strip_prefix('@') {
                target.body = read_body(path, dir).map_err(|e| format!("line {n}: {e}"))?;
                break;
            }
            let header = line
                .split_once(':')
                .map(|(k, v)| (k.trim(), v.trim()))
                .filter(|(k, v)| !k.is_empty() && !v.is_empty())
                .ok_or_else(|| format!("line {n}: '{line}' is not a header 'Name: value'"))?;
            target
                .headers
                .push(header_pair(header.0, header.1).map_err(|e| format!("line {n}: {e}"))?);
        }
        targets.push(target);
    }
    Ok(targets)
}

/// `# name=item weight=9` (either or both); other comments change nothing.
fn annotation(
    comment: &str,
    n: usize,
    mut name: Option<String>,
    mut weight: u32,
) -> Result<(Option<String>, u32), String> {
    for word in comment.split_whitespace() {
        if let Some(value) = word.strip_prefix("name=") {
            name = Some(value.to_string()).filter(|v| !v.is_empty());
        } else if let Some(value) = word.strip_prefix("weight=") {
            weight = value
                .parse()
                .ok()
                .filter(|w| (1..=1_000_000).contains(w))
                .ok_or_else(|| {
                    format!("line {n}: weight '{value}' is not a whole number from 1 to 1000000")
                })?;
        }
    }
    Ok((name, weight))
}

fn read_body(path: &str, dir: &Path) -> Result<Bytes, String> {
    let path = path.trim();
    let from_cwd = std::fs::read(path);
    let bytes = match from_cwd {
        Ok(bytes) => bytes,
        Err(_) if Path::new(path).is_relative() => std::fs::read(dir.join(path))
            .map_err(|e| format!("cannot read body file {path}: {e}"))?,
        Err(e) => return Err(format!("cannot read body file {path}: {e}")),
    };
    Ok(Bytes::from(bytes))
}

fn check_url(url: &str) -> Result<(), String> {
    let uri: Uri = url.parse().map_err(|_| format!("'{url}' is not a URL"))?;
    match uri.scheme_str() {
        Some("http" | "https") if uri.host().is_some() => Ok(()),
        _ => Err(format!("'{url}' is not an http(s) URL with a host")),
    }
}

fn header_pair(name: &str, value: &str) -> Result<(HeaderName, HeaderValue), String> {
    let header = HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| format!("'{name}' is not a header name"))?;
    let value =
        HeaderValue::from_str(value).map_err(|_| format!("header {name}: invalid value"))?;
    Ok((header, value))
}

#[derive(Deserialize)]
struct JsonTarget {
    method: String,
    url: String,
    #[serde(default)]
    header: std::collections::BTreeMap<String, Vec<String>>,
    #[serde(default)]
    body: Option<String>,
}

/// The `json` format: one target object a line.
pub fn parse_json(text: &str) -> Result<Vec<Target>, String> {
    let mut targets = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let t: JsonTarget = serde_json::from_str(line)
            .map_err(|e| format!("line {n}: not a target object ({e})"))?;
        let method = Method::from_bytes(t.method.to_ascii_uppercase().as_bytes())
            .map_err(|_| format!("line {n}: '{}' is not an HTTP method", t.method))?;
        check_url(&t.url).map_err(|e| format!("line {n}: {e}"))?;
        let mut headers = Vec::new();
        for (name, values) in &t.header {
            for value in values {
                headers.push(header_pair(name, value).map_err(|e| format!("line {n}: {e}"))?);
            }
        }
        let body = match t.body {
            None => Bytes::new(),
            Some(b64) => Bytes::from(
                base64::engine::general_purpose::STANDARD
                    .decode(b64.trim())
                    .map_err(|e| format!("line {n}: body is not base64 ({e})"))?,
            ),
        };
        targets.push(Target {
            method,
            url: t.url,
            headers,
            body,
            name: None,
            weight: 1,
        });
    }
    Ok(targets)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_http_format_as_vegeta_reads_it_plus_names_and_weights() {
        let text = "GET http://127.0.0.1:8080/items?id=1\nX-A: 1\n\n# name=create weight=3\nPOST http://127.0.0.1:8080/orders\nContent-Type: application/json\n@<<EOF\n{\"q\": 1}\nEOF\nGET http://127.0.0.1:8080/items?id=2\nDELETE http://127.0.0.1:8080/items/9\n";
        let t = parse_http(text, Path::new(".")).unwrap();
        assert_eq!(t.len(), 4);
        assert_eq!(
            (t[0].method.as_str(), t[0].headers.len(), t[0].series_name()),
            ("GET", 1, "GET /items".to_string())
        );
        assert_eq!(
            (t[1].series_name(), t[1].weight, &t[1].body[..]),
            ("create".to_string(), 3, &b"{\"q\": 1}\n"[..])
        );
        assert_eq!(
            (t[2].series_name(), t[2].weight),
            ("GET /items".to_string(), 1)
        );
        assert_eq!(t[3].series_name(), "DELETE /items/9");
    }

    #[test]
    fn the_json_format_decodes_base64_bodies() {
        let text = "{\"method\":\"POST\",\"url\":\"http://h/o\",\"body\":\"aGk=\",\"header\":{\"X-A\":[\"1\",\"2\"]}}\n";
        let t = parse_json(text).unwrap();
        assert_eq!((&t[0].body[..], t[0].headers.len()), (&b"hi"[..], 2));
    }

    #[test]
    fn mistakes_name_the_line() {
        let table: &[(&str, &str)] = &[
            ("GET\n", "line 1: 'GET' is not 'METHOD URL'"),
            ("FETCH http://h/\n", "line 1: 'FETCH' is not an HTTP method"),
            (
                "GET /relative\n",
                "line 1: '/relative' is not an http(s) URL",
            ),
            (
                "GET http://h/\nNoColon\n",
                "line 2: 'NoColon' is not a header",
            ),
            (
                "GET http://h/\n@/nonexistent/body\n",
                "line 2: cannot read body file /nonexistent/body",
            ),
            ("# weight=0\nGET http://h/\n", "line 1: weight '0'"),
        ];
        for (text, want) in table {
            let err = parse_http(text, Path::new(".")).unwrap_err();
            assert!(err.starts_with(want), "{err:?} should start with {want:?}");
        }
        let err =
            parse_json("{\"method\":\"GET\",\"url\":\"http://h/\",\"body\":\"!!\"}\n").unwrap_err();
        assert!(err.starts_with("line 1: body is not base64"), "{err}");
    }
}
