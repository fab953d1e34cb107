//! The `http` plugin's options, checked once at start: every mistake is one
//! line naming the option, before any load.

use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, AUTHORIZATION};
use http::{HeaderMap, Method, Uri};
use loadgen_plugin_api::sdk::tls::Trust;
use loadgen_plugin_api::sdk::{redact_text, redact_url, Parsed, Positive, Secret};

use crate::status::ExpectStatus;

loadgen_plugin_api::options! {
    /// The `-o` options, as declared (`loadgen plugins info http`).
    pub struct HttpOptions {
        /// the URL to load (http:// or https://); or scenario= or targets=
        url: String = "",
        /// a scenario file (TOML): sessions, setup, data files, a weighted mix of templated requests (docs/scenarios.md)
        scenario: String = "",
        /// a Vegeta targets file: each target a series per 'METHOD path', equal weights
        targets: String = "",
        /// the targets file's format: http or json
        targets_format: String = "http",
        /// the request method
        method: String = "GET",
        /// a request header 'Name: value'; repeatable (one per line)
        header: String = "",
        /// sent as 'Authorization: Bearer TOKEN' (unless header= sets Authorization); shown as ***
        bearer_token: Secret<String> = "",
        /// the request body
        body: String = "",
        /// read the request body from this file
        body_file: String = "",
        /// statuses that count as success: codes and classes, e.g. 200,204 or 2xx
        expect_status: Parsed<ExpectStatus> = "2xx",
        /// give up on a request this long after its send (a Timeout, failed); 0s: wait to the drain (Lost)
        timeout: Duration = "0s",
        /// ops in flight at most; more are refused (saturation)
        max_in_flight: Positive<usize> = "4096",
        /// connections at most (HTTP/1.1: one request each at a time; HTTP/2: multiplexed)
        connections: Positive<usize> = "64",
        /// speak HTTP/2 (h2 by ALPN over https, prior knowledge over http)
        http2: bool = "false",
        /// HTTP/1.1 over plain http://: native (loadgen's own client, made for load) or hyper; https and http2 always use hyper
        client: String = "native",
        /// accept any server certificate (self-signed test servers)
        insecure: bool = "false",
        /// trust the CAs in this PEM file for https (instead of the public web roots)
        ca_file: String = "",
    }
}

/// Which HTTP/1.1 client plain `http://` requests use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Client {
    /// `h1`: loadgen's own (the default).
    Native,
    /// hyper's `client::conn::http1`, kept to compare.
    Hyper,
}

/// Where the requests come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// `-o url=`: one request, the same every op.
    Url,
    /// `-o scenario=FILE`.
    Scenario(String),
    /// `-o targets=FILE`, JSON lines when `json`.
    Targets { file: String, json: bool },
}

#[derive(Clone, Debug)]
pub struct HttpConfig {
    pub source: Source,
    /// The URL (`url=`), or the origin every scenario request goes to (set
    /// once the scenario is read).
    pub uri: Uri,
    pub method: Method,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub expect: ExpectStatus,
    pub timeout: Option<Duration>,
    pub max_in_flight: usize,
    pub connections: usize,
    pub http2: bool,
    /// `client=`: which HTTP/1.1 client carries plain http:// requests.
    pub client: Client,
    /// How https servers' certificates are checked (whatever the URLs say:
    /// a scenario may name both schemes).
    pub trust: Trust,
}

impl HttpConfig {
    pub fn https(&self) -> bool {
        self.uri.scheme_str() == Some("https")
    }

    /// Requests go over loadgen's own HTTP/1.1 client: plain http://,
    /// HTTP/1.1, `client=native`.
    pub fn native(&self) -> bool {
        !self.http2 && !self.https() && self.client == Client::Native
    }

    /// The URL for messages: credentials never shown.
    pub fn shown_url(&self) -> String {
        redact_url(&self.uri.to_string())
    }

    /// `host:port` the client connects to.
    pub fn address(&self) -> String {
        let host = self.uri.host().unwrap_or_default();
        let port = self
            .uri
            .port_u16()
            .unwrap_or(if self.https() { 443 } else { 80 });
        format!("{host}:{port}")
    }
}

pub fn parse(o: &HttpOptions) -> Result<HttpConfig, String> {
    let source = source(o)?;
    let uri = match source {
        Source::Url => url(&o.url)?,
        _ => Uri::default(),
    };
    let mut headers = headers(&o.header)?;
    authorization(&mut headers, o.bearer_token.expose(), &uri)?;
    Ok(HttpConfig {
        uri,
        source,
        method: method(&o.method)?,
        headers,
        body: body(&o.body, &o.body_file)?,
        expect: (*o.expect_status).clone(),
        timeout: Some(o.timeout).filter(|d| !d.is_zero()),
        max_in_flight: o.max_in_flight.get(),
        connections: o.connections.get(),
        http2: o.http2,
        client: match o.client.trim().to_ascii_lowercase().as_str() {
            "native" => Client::Native,
            "hyper" => Client::Hyper,
            other => {
                return Err(format!(
                    "option 'client': '{other}' is not one of native|hyper"
                ))
            }
        },
        trust: Trust::from_options(true, &o.ca_file, o.insecure)?
            .expect("https always has a trust"),
    })
}

fn source(o: &HttpOptions) -> Result<Source, String> {
    let given = [
        ("url", &o.url),
        ("scenario", &o.scenario),
        ("targets", &o.targets),
    ]
    .into_iter()
    .filter(|(_, v)| !v.trim().is_empty())
    .map(|(k, _)| k)
    .collect::<Vec<_>>();
    if given.len() > 1 {
        return Err(format!(
            "options {} exclude each other (one source of requests)",
            given
                .iter()
                .map(|k| format!("'{k}'"))
                .collect::<Vec<_>>()
                .join(" and ")
        ));
    }
    let json = match o.targets_format.trim().to_ascii_lowercase().as_str() {
        "http" => false,
        "json" => true,
        other => {
            return Err(format!(
                "option 'targets_format': '{other}' is not one of http|json"
            ))
        }
    };
    if !o.scenario.trim().is_empty() || !o.targets.trim().is_empty() {
        let scenario_only = [
            ("method", o.method != "GET"),
            ("header", !o.header.trim().is_empty()),
            ("body", !o.body.is_empty()),
            ("body_file", !o.body_file.trim().is_empty()),
        ];
        if let Some((key, _)) = scenario_only.iter().find(|(_, set)| *set) {
            let what = if o.scenario.trim().is_empty() {
                "targets"
            } else {
                "scenario"
            };
            return Err(format!(
                "option '{key}' is for url=; with {what}= each request says its own"
            ));
        }
    }
    Ok(match (o.scenario.trim(), o.targets.trim()) {
        ("", "") => Source::Url,
        (scenario, "") => Source::Scenario(scenario.to_string()),
        (_, targets) => Source::Targets {
            file: targets.to_string(),
            json,
        },
    })
}

/// A URL as `-o url=` or a scenario's `base_url` gives it: http(s), a host.
pub fn url(raw: &str) -> Result<Uri, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(
            "option 'url' is required, e.g. -o url=http://127.0.0.1:8080/ (or scenario=FILE, targets=FILE)"
                .into(),
        );
    }
    let shown = redact_url(raw);
    let uri: Uri = raw
        .parse()
        .map_err(|e| format!("option 'url': '{shown}' is not a URL ({e})"))?;
    match uri.scheme_str() {
        Some("http" | "https") => {}
        Some(other) => {
            return Err(format!(
                "option 'url': unknown scheme '{other}' in '{shown}' (http or https)"
            ))
        }
        None => {
            return Err(format!(
                "option 'url': '{shown}' has no scheme (http:// or https://)"
            ))
        }
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(format!("option 'url': '{shown}' has no host"));
    }
    Ok(uri)
}

fn method(raw: &str) -> Result<Method, String> {
    let raw = raw.trim();
    Method::from_bytes(raw.to_ascii_uppercase().as_bytes())
        .map_err(|_| format!("option 'method': '{raw}' is not an HTTP method"))
}

/// `Name: value` lines (a repeated `-o header=` arrives one per line).
pub fn headers(raw: &str) -> Result<HeaderMap, String> {
    let mut map = HeaderMap::new();
    for line in raw.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let bad = |why: &str| {
            format!(
                "option 'header': '{}' {why} (expected 'Name: value')",
                redact_text(line)
            )
        };
        let (name, value) = line.split_once(':').ok_or_else(|| bad("has no ':'"))?;
        let name = HeaderName::from_bytes(name.trim().as_bytes())
            .map_err(|_| bad("has an invalid name"))?;
        let value = HeaderValue::from_str(value.trim()).map_err(|_| bad("has an invalid value"))?;
        map.append(name, value);
    }
    Ok(map)
}

/// `Authorization`, as curl chooses it: an `Authorization` header given
/// outright, else `Bearer` `bearer_token`, else `Basic` from the URL's
/// `user:password@`.
fn authorization(headers: &mut HeaderMap, bearer: &str, uri: &Uri) -> Result<(), String> {
    use base64::Engine as _;
    if headers.contains_key(AUTHORIZATION) {
        return Ok(());
    }
    let bearer = bearer.trim();
    let value = if !bearer.is_empty() {
        format!("Bearer {bearer}")
    } else {
        match uri.authority().and_then(|a| a.as_str().rsplit_once('@')) {
            Some((userinfo, _)) => format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(userinfo)
            ),
            None => return Ok(()),
        }
    };
    let value = HeaderValue::from_str(&value)
        .map_err(|_| "option 'bearer_token' holds characters a header cannot carry".to_string())?;
    headers.insert(AUTHORIZATION, value);
    Ok(())
}

fn body(inline: &str, file: &str) -> Result<Bytes, String> {
    match (inline.is_empty(), file.trim().is_empty()) {
        (_, true) => Ok(Bytes::copy_from_slice(inline.as_bytes())),
        (true, false) => std::fs::read(file.trim())
            .map(Bytes::from)
            .map_err(|e| format!("option 'body_file': cannot read '{}': {e}", file.trim())),
        (false, false) => Err("options 'body' and 'body_file' exclude each other".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use loadgen_plugin_api::sdk::PluginOptions;

    fn options(pairs: &[(&str, &str)]) -> Result<HttpConfig, String> {
        parse(&HttpOptions::from_pairs(pairs)?)
    }

    #[test]
    fn authorization_from_a_bearer_token_or_the_url() {
        let auth = |pairs: &[(&str, &str)]| {
            options(pairs).map(|c| {
                c.headers
                    .get(AUTHORIZATION)
                    .map(|v| v.to_str().unwrap().to_string())
            })
        };
        let table: [(&[(&str, &str)], Option<&str>); 6] = [
            (&[("url", "http://h/")], None),
            (
                &[("url", "http://h/"), ("bearer_token", "T0KEN")],
                Some("Bearer T0KEN"),
            ),
            (&[("url", "http://u:pw@h/")], Some("Basic dTpwdw==")),
            (
                &[("url", "http://u:pw@h/"), ("bearer_token", "T0KEN")],
                Some("Bearer T0KEN"),
            ),
            (
                &[
                    ("url", "http://u:pw@h/"),
                    ("header", "Authorization: Bearer X"),
                ],
                Some("Bearer X"),
            ),
            (
                &[
                    ("url", "http://h/"),
                    ("bearer_token", "T"),
                    ("header", "authorization: x"),
                ],
                Some("x"),
            ),
        ];
        for (pairs, want) in table {
            assert_eq!(auth(pairs).unwrap().as_deref(), want, "{pairs:?}");
        }
        let err = options(&[("url", "http://h/"), ("bearer_token", "a\nb")]).unwrap_err();
        assert_eq!(
            err,
            "option 'bearer_token' holds characters a header cannot carry"
        );
    }

    #[test]
    fn a_bad_credential_header_is_not_quoted() {
        let err = options(&[
            ("url", "http://h/"),
            ("header", "Authorization: bad\u{7f}T0KEN"),
        ])
        .unwrap_err();
        assert!(!err.contains("T0KEN"), "{err}");
        assert!(
            err.starts_with("option 'header': 'Authorization: ***'"),
            "{err}"
        );
    }

    #[test]
    fn defaults_and_given_values() {
        let c = options(&[("url", "http://127.0.0.1:8080/x")]).unwrap();
        assert_eq!(c.method, Method::GET);
        assert_eq!(c.address(), "127.0.0.1:8080");
        assert_eq!((c.connections, c.max_in_flight), (64, 4096));
        assert!(!c.http2 && c.timeout.is_none() && c.body.is_empty());
        assert_eq!(c.trust, Trust::WebRoots);
        let c = options(&[
            ("url", "https://example.test/"),
            ("method", "post"),
            ("header", "X-A: 1\nContent-Type: text/plain; charset=utf-8"),
            ("body", "{}"),
            ("timeout", "250ms"),
        ])
        .unwrap();
        assert_eq!(c.method, Method::POST);
        assert_eq!(c.address(), "example.test:443");
        assert_eq!(c.headers.len(), 2);
        assert_eq!(c.headers["content-type"], "text/plain; charset=utf-8");
        assert_eq!(c.body, Bytes::from_static(b"{}"));
        assert_eq!(c.timeout, Some(Duration::from_millis(250)));
    }

    #[test]
    fn bad_input_is_one_line_naming_the_option() {
        let table: &[(&[(&str, &str)], &str)] = &[
            (&[], "option 'url' is required"),
            (
                &[("url", "http://a b/")],
                "option 'url': 'http://a b/' is not a URL",
            ),
            (
                &[("url", "ftp://host/")],
                "option 'url': unknown scheme 'ftp'",
            ),
            (
                &[("url", "/just/a/path")],
                "option 'url': '/just/a/path' has no scheme",
            ),
            (
                &[("url", "ftp://u:secret@host/")],
                "option 'url': unknown scheme 'ftp' in 'ftp://u:***@host/'",
            ),
            (
                &[("url", "http://h/"), ("method", "GE T")],
                "option 'method'",
            ),
            (
                &[("url", "http://h/"), ("header", "NoColon")],
                "option 'header': 'NoColon' has no ':'",
            ),
            (
                &[("url", "http://h/"), ("header", "Bad Name: v")],
                "option 'header'",
            ),
            (
                &[("url", "http://h/"), ("body_file", "/nonexistent/body")],
                "option 'body_file': cannot read '/nonexistent/body'",
            ),
            (
                &[
                    ("url", "http://h/"),
                    ("body", "x"),
                    ("body_file", "/etc/hostname"),
                ],
                "options 'body' and 'body_file'",
            ),
            (
                &[("url", "http://h/"), ("expect_status", "ok")],
                "option 'expect_status'",
            ),
            (
                &[("url", "http://h/"), ("connections", "0")],
                "option 'connections' must be > 0",
            ),
            (&[("url", "http://h/"), ("http2", "yes")], "option 'http2'"),
            (
                &[("url", "http://h/"), ("client", "fast")],
                "option 'client'",
            ),
            (
                &[("url", "http://h/"), ("scenario", "s.toml")],
                "options 'url' and 'scenario' exclude each other",
            ),
            (
                &[("scenario", "s.toml"), ("body", "x")],
                "option 'body' is for url=; with scenario= each request says its own",
            ),
            (
                &[("targets", "t.txt"), ("targets_format", "xml")],
                "option 'targets_format': 'xml' is not one of http|json",
            ),
            (
                &[("url", "http://h/"), ("timeout", "soon")],
                "option 'timeout'",
            ),
        ];
        for (pairs, want) in table {
            let err = options(pairs).unwrap_err();
            assert!(
                err.starts_with(want),
                "{pairs:?}: {err:?} should start with {want:?}"
            );
            assert!(!err.contains('\n'), "{err:?} is one line");
            assert!(!err.contains("secret"), "{err:?} shows a password");
        }
    }
}
