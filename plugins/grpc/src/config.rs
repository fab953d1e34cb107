//! The `grpc` plugin's options, checked once at start: every mistake is one
//! line naming the option, before any load.

use std::path::PathBuf;
use std::time::Duration;

use http::Uri;
use loadgen_plugin_api::sdk::tls::Trust;
use loadgen_plugin_api::sdk::{redact_url, Positive};

loadgen_plugin_api::options! {
    /// The `-o` options, as declared (`loadgen plugins info grpc`).
    pub struct GrpcOptions {
        /// the server: http://HOST:PORT or https://HOST:PORT; required (or a scenario's base_url)
        url: String = "",
        /// the method to call: package.Service/Method; required without -o scenario
        call: String = "",
        /// a .proto file declaring the service, compiled at start; repeatable
        proto: String = "",
        /// a directory imports are looked up in (with -o proto); repeatable
        import_path: String = "",
        /// a FileDescriptorSet file (protoc --descriptor_set_out / protox -o); instead of -o proto
        protoset: String = "",
        /// the request message as JSON (proto3 JSON mapping); {{…}} placeholders are rendered per op
        data: String = "{}",
        /// read the request JSON from this file
        data_file: String = "",
        /// request metadata 'key: value' (value may be templated); repeatable (one per line)
        metadata: String = "",
        /// messages a client- or bidi-streaming call sends
        stream_count: Positive<usize> = "1",
        /// pause between the messages of a client- or bidi-streaming call
        stream_interval: Duration = "0s",
        /// HTTP/2 connections (channels); calls are spread over them round-robin
        connections: Positive<usize> = "2",
        /// a call's deadline from its send (sent as grpc-timeout; a Timeout, failed); 0s: wait to the drain (Lost)
        timeout: Duration = "0s",
        /// calls in flight at most; more are refused (saturation)
        max_in_flight: Positive<usize> = "4096",
        /// PEM file of the CA that signed the server's certificate (https)
        ca_file: String = "",
        /// accept any server certificate (self-signed test servers)
        insecure: bool = "false",
        /// a scenario TOML (sessions, setup with captures, weighted requests with call/data/metadata)
        scenario: String = "",
    }
}

/// Where the service's descriptors come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SchemaSource {
    /// `.proto` files compiled at start, imports looked up in `includes`.
    Protos {
        files: Vec<PathBuf>,
        includes: Vec<PathBuf>,
    },
    /// A serialized `FileDescriptorSet`.
    Protoset(PathBuf),
    /// The server's reflection service (v1, else v1alpha).
    Reflection,
}

/// `package.Service/Method`, split.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallName {
    pub service: String,
    pub method: String,
}

impl CallName {
    /// The HTTP/2 path of the call: `/package.Service/Method`.
    pub fn path(&self) -> String {
        format!("/{}/{}", self.service, self.method)
    }
}

#[derive(Clone, Debug)]
pub struct GrpcConfig {
    pub uri: Uri,
    /// The call of every op; `None` with a scenario (its steps name theirs).
    pub call: Option<CallName>,
    pub schema: SchemaSource,
    /// The request JSON, as given (checked against the request message once
    /// the schema is known).
    pub data: String,
    /// `(key, value)` pairs, keys valid metadata names, values as given.
    pub metadata: Vec<(String, String)>,
    pub stream_count: usize,
    pub stream_interval: Duration,
    pub connections: usize,
    pub timeout: Option<Duration>,
    pub max_in_flight: usize,
    /// `None` over plain http.
    pub tls: Option<Trust>,
}

impl GrpcConfig {
    /// The URL for messages: credentials never shown.
    pub fn shown_url(&self) -> String {
        // `Uri` prints the empty path as `/`; the user gave none.
        redact_url(self.uri.to_string().trim_end_matches('/'))
    }

    pub fn host(&self) -> &str {
        self.uri.host().unwrap_or_default()
    }

    /// `host:port` the client connects to.
    pub fn address(&self) -> String {
        let port = self
            .uri
            .port_u16()
            .unwrap_or(if self.tls.is_some() { 443 } else { 80 });
        format!("{}:{port}", self.host())
    }
}

#[cfg(test)]
pub fn parse(o: &GrpcOptions) -> Result<GrpcConfig, String> {
    parse_with(o, None)
}

/// The options; with a scenario, `base_url` is its URL when `-o url` is not
/// given, and the calls are its steps'.
pub fn parse_with(o: &GrpcOptions, base_url: Option<&str>) -> Result<GrpcConfig, String> {
    let scenario = !o.scenario.trim().is_empty();
    let given_url = o.url.trim();
    let uri = match (given_url.is_empty(), base_url) {
        (true, Some(base)) if scenario => url(base)?,
        _ => url(given_url)?,
    };
    let https = uri.scheme_str() == Some("https");
    if scenario {
        let single = !o.call.trim().is_empty()
            || o.data != "{}"
            || !o.data_file.trim().is_empty()
            || !o.metadata.trim().is_empty();
        if single {
            return Err("options 'call', 'data', 'data_file' and 'metadata' go in the scenario's steps with -o scenario".into());
        }
    }
    Ok(GrpcConfig {
        call: if scenario { None } else { Some(call(&o.call)?) },
        schema: schema(&o.proto, &o.import_path, &o.protoset)?,
        data: data(&o.data, &o.data_file)?,
        metadata: metadata(&o.metadata)?,
        stream_count: o.stream_count.get(),
        stream_interval: o.stream_interval,
        connections: o.connections.get(),
        timeout: Some(o.timeout).filter(|d| !d.is_zero()),
        max_in_flight: o.max_in_flight.get(),
        tls: Trust::from_options(https, &o.ca_file, o.insecure)?,
        uri,
    })
}

fn url(raw: &str) -> Result<Uri, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err("option 'url' is required, e.g. -o url=http://127.0.0.1:50051".into());
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
    if !matches!(uri.path(), "" | "/") {
        return Err(format!(
            "option 'url': '{shown}' has a path; give the server only and the method in -o call"
        ));
    }
    Ok(uri)
}

/// `pkg.Service/Method`; `pkg.Service.Method` (grpcurl's form) too.
pub fn call(raw: &str) -> Result<CallName, String> {
    let raw = raw.trim().trim_start_matches('/');
    if raw.is_empty() {
        return Err("option 'call' is required, e.g. -o call=package.Service/Method".into());
    }
    let split = raw.split_once('/').or_else(|| raw.rsplit_once('.'));
    match split {
        Some((service, method))
            if !service.is_empty() && !method.is_empty() && !method.contains(['/', '.']) =>
        {
            Ok(CallName {
                service: service.to_string(),
                method: method.to_string(),
            })
        }
        _ => Err(format!(
            "option 'call': '{raw}' is not package.Service/Method"
        )),
    }
}

pub fn lines(raw: &str) -> impl Iterator<Item = &str> {
    raw.lines().map(str::trim).filter(|l| !l.is_empty())
}

fn schema(proto: &str, import_path: &str, protoset: &str) -> Result<SchemaSource, String> {
    let files: Vec<PathBuf> = lines(proto).map(PathBuf::from).collect();
    let includes: Vec<PathBuf> = lines(import_path).map(PathBuf::from).collect();
    let protoset = protoset.trim();
    match (files.is_empty(), protoset.is_empty()) {
        (false, false) => Err("options 'proto' and 'protoset' exclude each other".into()),
        (false, true) => Ok(SchemaSource::Protos { files, includes }),
        (true, false) if !includes.is_empty() => {
            Err("option 'import_path' goes with -o proto, not -o protoset".into())
        }
        (true, false) => Ok(SchemaSource::Protoset(PathBuf::from(protoset))),
        (true, true) if !includes.is_empty() => {
            Err("option 'import_path' needs -o proto=FILE".into())
        }
        (true, true) => Ok(SchemaSource::Reflection),
    }
}

fn data(inline: &str, file: &str) -> Result<String, String> {
    let file = file.trim();
    if file.is_empty() {
        return Ok(inline.to_string());
    }
    if inline != "{}" && !inline.trim().is_empty() {
        return Err("options 'data' and 'data_file' exclude each other".into());
    }
    std::fs::read_to_string(file)
        .map_err(|e| format!("option 'data_file': cannot read '{file}': {e}"))
}

/// `key: value` lines (a repeated `-o metadata=` arrives one per line). The
/// value is never shown: it is often a credential.
fn metadata(raw: &str) -> Result<Vec<(String, String)>, String> {
    lines(raw)
        .map(|line| {
            let Some((key, value)) = line.split_once(':') else {
                let shown: String = line.chars().take(40).collect();
                return Err(format!(
                    "option 'metadata': '{shown}' has no ':' (expected 'key: value')"
                ));
            };
            Ok((metadata_key(key)?, value.trim().to_string()))
        })
        .collect()
}

/// A metadata key, lowercased; one gRPC itself sets (`grpc-*`) is refused.
pub fn metadata_key(raw: &str) -> Result<String, String> {
    let key = raw.trim().to_ascii_lowercase();
    let valid = !key.is_empty()
        && !key.starts_with("grpc-")
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.".contains(&b));
    if !valid {
        return Err(format!(
            "option 'metadata': '{key}' is not a metadata key (lowercase letters, digits, '-', '_', '.'; not grpc-*)"
        ));
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    use loadgen_plugin_api::sdk::PluginOptions;

    fn options(pairs: &[(&str, &str)]) -> Result<GrpcConfig, String> {
        parse(&GrpcOptions::from_pairs(pairs)?)
    }

    const BASE: [(&str, &str); 2] = [("url", "http://127.0.0.1:50051"), ("call", "a.B/C")];

    fn with(extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
        BASE.iter().chain(extra).copied().collect()
    }

    #[test]
    fn defaults_and_given_values() {
        let c = options(&BASE).unwrap();
        assert_eq!(c.call.as_ref().unwrap().path(), "/a.B/C");
        assert_eq!(c.address(), "127.0.0.1:50051");
        assert_eq!(c.schema, SchemaSource::Reflection);
        assert_eq!(
            (c.connections, c.max_in_flight, c.stream_count),
            (2, 4096, 1)
        );
        assert!(c.tls.is_none() && c.timeout.is_none() && c.metadata.is_empty());
        assert_eq!(c.data, "{}");

        let c = options(&[
            ("url", "https://svc.test"),
            ("call", "pkg.v1.Items.GetItem"),
            ("proto", "a.proto\nb.proto"),
            ("import_path", "inc"),
            ("metadata", "Authorization: Bearer x:y\nx-id: 7"),
            ("timeout", "250ms"),
            ("ca_file", "ca.pem"),
        ])
        .unwrap();
        assert_eq!(c.call.as_ref().unwrap().path(), "/pkg.v1.Items/GetItem");
        assert_eq!(c.address(), "svc.test:443");
        assert_eq!(
            c.schema,
            SchemaSource::Protos {
                files: vec!["a.proto".into(), "b.proto".into()],
                includes: vec!["inc".into()],
            }
        );
        assert_eq!(
            c.metadata,
            vec![
                ("authorization".to_string(), "Bearer x:y".to_string()),
                ("x-id".to_string(), "7".to_string())
            ]
        );
        assert_eq!(c.timeout, Some(Duration::from_millis(250)));
        assert_eq!(c.tls, Some(Trust::CaFile("ca.pem".into())));
        let c = options(&[
            ("url", "https://h:8443/"),
            ("call", "a.B/C"),
            ("insecure", "true"),
        ])
        .unwrap();
        assert_eq!(c.tls, Some(Trust::Anything));
        let c = options(&with(&[("protoset", "x.pb")])).unwrap();
        assert_eq!(c.schema, SchemaSource::Protoset("x.pb".into()));
    }

    #[test]
    fn bad_input_is_one_line_naming_the_option() {
        let table: &[(&[(&str, &str)], &str)] = &[
            (&[("call", "a.B/C")], "option 'url' is required"),
            (&[("url", "http://h:1")], "option 'call' is required"),
            (
                &[("url", "grpc://h:1"), ("call", "a.B/C")],
                "option 'url': unknown scheme 'grpc'",
            ),
            (
                &[("url", "h:1"), ("call", "a.B/C")],
                "option 'url': 'h:1' has no scheme",
            ),
            (
                &[("url", "http://u:secret@h:1/x"), ("call", "a.B/C")],
                "option 'url': 'http://u:***@h:1/x' has a path",
            ),
            (
                &[("url", "http://h:1"), ("call", "GetItem")],
                "option 'call': 'GetItem' is not package.Service/Method",
            ),
            (
                &[("url", "http://h:1"), ("call", "a.B/C/D")],
                "option 'call'",
            ),
            (
                &[
                    ("url", "http://h:1"),
                    ("call", "a.B/C"),
                    ("proto", "a.proto"),
                    ("protoset", "s.pb"),
                ],
                "options 'proto' and 'protoset' exclude each other",
            ),
            (
                &[
                    ("url", "http://h:1"),
                    ("call", "a.B/C"),
                    ("import_path", "inc"),
                ],
                "option 'import_path' needs -o proto",
            ),
            (
                &[
                    ("url", "http://h:1"),
                    ("call", "a.B/C"),
                    ("data_file", "/nonexistent/req.json"),
                ],
                "option 'data_file': cannot read '/nonexistent/req.json'",
            ),
            (
                &[
                    ("url", "http://h:1"),
                    ("call", "a.B/C"),
                    ("data", "{\"a\":1}"),
                    ("data_file", "/etc/hostname"),
                ],
                "options 'data' and 'data_file'",
            ),
            (
                &[
                    ("url", "http://h:1"),
                    ("call", "a.B/C"),
                    ("metadata", "token secret"),
                ],
                "option 'metadata': 'token secret' has no ':'",
            ),
            (
                &[
                    ("url", "http://h:1"),
                    ("call", "a.B/C"),
                    ("metadata", "bad key: secret"),
                ],
                "option 'metadata': 'bad key' is not a metadata key",
            ),
            (
                &[
                    ("url", "http://h:1"),
                    ("call", "a.B/C"),
                    ("metadata", "grpc-timeout: 1S"),
                ],
                "option 'metadata': 'grpc-timeout' is not a metadata key",
            ),
            (
                &[
                    ("url", "http://h:1"),
                    ("call", "a.B/C"),
                    ("insecure", "true"),
                ],
                "options 'ca_file' and 'insecure' need an https:// url",
            ),
            (
                &[
                    ("url", "https://h:1"),
                    ("call", "a.B/C"),
                    ("insecure", "true"),
                    ("ca_file", "ca.pem"),
                ],
                "options 'ca_file' and 'insecure' exclude each other",
            ),
            (
                &[
                    ("url", "http://h:1"),
                    ("call", "a.B/C"),
                    ("connections", "0"),
                ],
                "option 'connections' must be > 0",
            ),
            (
                &[
                    ("url", "http://h:1"),
                    ("call", "a.B/C"),
                    ("timeout", "soon"),
                ],
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
            assert!(
                !err.contains("secret:") && !err.contains("u:secret"),
                "{err:?} shows a password"
            );
        }
    }
}
