//! `-o scenario=FILE`: the SDK reads the file (sessions, data, weights,
//! captures, SLOs); this module owns the HTTP fields of a step
//! ([`HttpStep`]) and what they compile to ([`HttpCall`]): a request whose
//! URL, header values and body are templates, all to one origin (the pool's).

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, CONTENT_LENGTH, HOST};
use http::{HeaderMap, Method, Request, Uri};
use http_body_util::Full;
use loadgen_plugin_api::sdk::traffic::{
    Caller, Compiled, OpContext, Reply, Step, StepCompiler, StepFields, Template,
};
use serde::Deserialize;

use crate::exchange::Exchange;
use crate::h1;
use crate::status::ExpectStatus;
use crate::targets::Target;

/// A step's HTTP fields as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpStep {
    #[serde(default)]
    pub method: Option<String>,
    pub url: String,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub body_file: Option<String>,
}

impl StepFields for HttpStep {
    fn default_name(&self) -> String {
        let method = self.method.as_deref().unwrap_or("GET").to_ascii_uppercase();
        format!("{method} {}", self.url)
    }
}

/// Where every request goes: `scheme://authority`, and the base URL's path
/// that relative URLs follow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Base {
    pub origin: String,
    pub path: String,
}

impl Base {
    /// Splits `http://h:8080/api` into `http://h:8080` and `/api`; `None`
    /// when it is not an absolute http(s) URL with a literal host.
    pub fn split(url: &str) -> Option<Base> {
        let scheme_end = ["http://", "https://"]
            .iter()
            .find(|s| url.len() >= s.len() && url[..s.len()].eq_ignore_ascii_case(s))?
            .len();
        let authority_end = url[scheme_end..]
            .find(['/', '?', '#'])
            .map_or(url.len(), |i| scheme_end + i);
        let origin = &url[..authority_end];
        if authority_end == scheme_end || origin.contains("{{") {
            return None;
        }
        Some(Base {
            origin: origin.to_string(),
            path: url[authority_end..].to_string(),
        })
    }
}

/// A request body: fixed bytes, shared by reference count, or a template.
#[derive(Debug)]
pub enum Body {
    Fixed(Bytes),
    Templated(Template),
}

/// A header value: built once, or rendered per op.
#[derive(Debug)]
pub enum Value {
    Fixed(HeaderValue),
    Templated(Template),
}

/// A step compiled: everything a request needs but the op's values.
#[derive(Debug)]
pub struct HttpCall {
    pub method: Method,
    /// HTTP/1.1: the origin form (`/path?query`); HTTP/2: the whole URL.
    target: Template,
    /// `target` parsed once when it has no placeholders.
    fixed_target: Option<Uri>,
    headers: Vec<(HeaderName, Value)>,
    /// A Content-Length header is among `headers` (none is added).
    has_length: bool,
    body: Body,
    pub expect: ExpectStatus,
}

/// A series' requests: one for a scenario step; a Vegeta series' targets,
/// taken in turn.
#[derive(Debug)]
pub struct Calls(pub Vec<HttpCall>);

impl Calls {
    pub fn pick(&self, seq: u64) -> &HttpCall {
        &self.0[(seq % self.0.len() as u64) as usize]
    }
}

/// What a compiled call needs from the run's settings.
pub struct Wire<'a> {
    /// The origin every request shares (the pool connects there).
    pub origin: &'a str,
    pub http2: bool,
}

impl HttpCall {
    /// From the parts of a step; `url` is the whole URL's template (origin
    /// included), `origin` its literal beginning.
    pub fn new(
        method: Method,
        url: Template,
        headers: Vec<(HeaderName, Value)>,
        body: Body,
        expect: ExpectStatus,
        wire: &Wire<'_>,
    ) -> Result<HttpCall, String> {
        let mut headers = headers;
        let target = if wire.http2 {
            url
        } else {
            if !headers.iter().any(|(name, _)| name == HOST) {
                let host = wire.origin.split_once("://").map_or("", |(_, h)| h);
                let host = strip_default_port(wire.origin, host);
                let value = HeaderValue::from_str(host)
                    .map_err(|_| format!("'{host}' is not a valid Host"))?;
                headers.insert(0, (HOST, Value::Fixed(value)));
            }
            let path = url
                .strip_prefix(wire.origin)
                .ok_or_else(|| format!("does not go to {}", wire.origin))?;
            // The origin form always starts with '/'.
            match path.as_literal() {
                Some("") => Template::literal("/"),
                _ if path.strip_prefix("?").is_some() => path.with_prefix("/"),
                _ => path,
            }
        };
        let fixed_target = match target.as_literal() {
            Some(text) => Some(
                Uri::try_from(text).map_err(|e| format!("'{text}' is not a valid URL ({e})"))?,
            ),
            None => None,
        };
        let has_length = headers.iter().any(|(name, _)| name == CONTENT_LENGTH);
        Ok(HttpCall {
            method,
            target,
            fixed_target,
            headers,
            has_length,
            body,
            expect,
        })
    }

    /// The request of op `op`. `Err`: a rendered URL or header that HTTP
    /// does not allow (a data value with a space…), in one line.
    pub fn request(&self, op: &OpContext<'_>) -> Result<Request<Full<Bytes>>, String> {
        let uri = match &self.fixed_target {
            Some(uri) => uri.clone(),
            None => {
                let text = self.target.render(op);
                Uri::try_from(text.as_str())
                    .map_err(|_| format!("the rendered URL '{text}' is not valid"))?
            }
        };
        let mut headers = HeaderMap::with_capacity(self.headers.len());
        for (name, value) in &self.headers {
            let value = match value {
                Value::Fixed(v) => v.clone(),
                Value::Templated(t) => {
                    let text = t.render(op);
                    HeaderValue::from_str(&text)
                        .map_err(|_| format!("the rendered header {name} is not valid"))?
                }
            };
            headers.append(name.clone(), value);
        }
        let body = match &self.body {
            Body::Fixed(bytes) => bytes.clone(),
            Body::Templated(t) => Bytes::from(t.render(op)),
        };
        let mut request = Request::new(Full::new(body));
        *request.method_mut() = self.method.clone();
        *request.uri_mut() = uri;
        *request.headers_mut() = headers;
        Ok(request)
    }
}

impl HttpCall {
    /// The request of op `op` rendered straight into a connection's buffers
    /// (the native HTTP/1.1 client): no URI, header map or body allocated.
    /// `Ok(true)` for HEAD; `Err` for a rendered URL or header value that
    /// HTTP does not allow (counted as `request`, as [`HttpCall::request`]'s).
    pub fn render_h1(&self, op: &OpContext<'_>, bufs: h1::Buffers<'_>) -> Result<bool, ()> {
        let h1::Buffers { out, text } = bufs;
        let target = match self.target.as_literal() {
            Some(literal) => literal,
            None => {
                text.clear();
                self.target.render_into(op, text);
                if !h1::valid_target(text.as_bytes()) {
                    return Err(());
                }
                text.as_str()
            }
        };
        h1::start_line(out, &self.method, target.as_bytes());
        for (name, value) in &self.headers {
            match value {
                Value::Fixed(v) => h1::header(out, name.as_str().as_bytes(), v.as_bytes()),
                Value::Templated(t) => {
                    text.clear();
                    t.render_into(op, text);
                    let value = text.as_bytes();
                    if !h1::valid_value(value) {
                        return Err(());
                    }
                    h1::header(out, name.as_str().as_bytes(), value);
                }
            }
        }
        let body = match &self.body {
            Body::Fixed(bytes) => &bytes[..],
            Body::Templated(t) => {
                text.clear();
                t.render_into(op, text);
                text.as_bytes()
            }
        };
        h1::end_head(out, &self.method, self.has_length, body.len());
        out.extend_from_slice(body);
        Ok(self.method == Method::HEAD)
    }
}

fn strip_default_port<'a>(origin: &str, host: &'a str) -> &'a str {
    let default = if origin.to_ascii_lowercase().starts_with("https") {
        ":443"
    } else {
        ":80"
    };
    host.strip_suffix(default).unwrap_or(host)
}

/// Compiles one scenario step: the URL joined to `base_url`, which every
/// step must share (one connection pool).
pub fn compile(
    step: &Step<HttpStep>,
    c: &mut StepCompiler<'_>,
    base: Option<&Base>,
    http2: bool,
) -> Result<(HttpCall, String), String> {
    let f = &step.fields;
    let method_text = f.method.as_deref().unwrap_or("GET").trim();
    let method = Method::from_bytes(method_text.to_ascii_uppercase().as_bytes())
        .map_err(|_| c.error(&format!("method '{method_text}' is not an HTTP method")))?;
    let written = c.template("url", &f.url)?;
    let (url, origin) = match (Base::split(&f.url), base) {
        (Some(own), _) => (written, own.origin),
        (None, Some(base)) => {
            let joint = match (base.path.ends_with('/'), f.url.starts_with(['/', '?'])) {
                (true, true) => base.path.trim_end_matches('/').to_string(),
                (false, false) if !f.url.is_empty() => format!("{}/", base.path),
                _ => base.path.clone(),
            };
            (
                written.with_prefix(&format!("{}{joint}", base.origin)),
                base.origin.clone(),
            )
        }
        (None, None) if f.url.starts_with("http") && f.url.contains("{{") => {
            return Err(c.error("url: the scheme and host cannot be templated"))
        }
        (None, None) => {
            return Err(c.error(&format!(
                "url '{}' is relative and there is no base_url",
                f.url
            )))
        }
    };
    crate::config::url(&origin)
        .map_err(|e| c.error(&format!("url: {}", e.trim_start_matches("option 'url': "))))?;
    let mut headers = Vec::with_capacity(f.headers.len());
    for (name, value) in &f.headers {
        let name = HeaderName::from_bytes(name.trim().as_bytes())
            .map_err(|_| c.error(&format!("header '{name}' is not a valid header name")))?;
        let template = c.template(&format!("header {name}"), value)?;
        let value =
            match template.as_literal() {
                Some(text) => Value::Fixed(HeaderValue::from_str(text).map_err(|_| {
                    c.error(&format!("header {name}: '{text}' is not a valid value"))
                })?),
                None => Value::Templated(template),
            };
        headers.push((name, value));
    }
    let body = match (&f.body, &f.body_file) {
        (Some(_), Some(_)) => return Err(c.error("body and body_file exclude each other")),
        (Some(text), None) => text_body(c.template("body", text)?),
        (None, Some(file)) => {
            let path = c.resolve(file);
            let bytes = std::fs::read(&path)
                .map_err(|e| c.error(&format!("body_file: cannot read {file}: {e}")))?;
            match String::from_utf8(bytes) {
                Ok(text) => text_body(c.template(&format!("body_file {file}"), &text)?),
                Err(binary) => Body::Fixed(Bytes::from(binary.into_bytes())),
            }
        }
        (None, None) => Body::Fixed(Bytes::new()),
    };
    let expect = match &step.expect_status {
        None => ExpectStatus::parse("2xx").map_err(|e| c.error(&e))?,
        Some(raw) => ExpectStatus::parse(raw).map_err(|e| {
            c.error(&format!(
                "expect_status: {}",
                e.trim_start_matches("option 'expect_status': ")
            ))
        })?,
    };
    let wire = Wire {
        origin: &origin,
        http2,
    };
    let call = HttpCall::new(method, url, headers, body, expect, &wire)
        .map_err(|e| c.error(&format!("url: {e}")))?;
    Ok((call, origin))
}

/// A Vegeta target as a call: nothing in it is a template (files run as
/// they are); the origin it goes to.
pub fn target_call(target: &Target, http2: bool) -> Result<(HttpCall, String), String> {
    let base = Base::split(&target.url).ok_or("not an http(s) URL with a host")?;
    let headers = target
        .headers
        .iter()
        .map(|(n, v)| (n.clone(), Value::Fixed(v.clone())))
        .collect();
    let wire = Wire {
        origin: &base.origin,
        http2,
    };
    let call = HttpCall::new(
        target.method.clone(),
        Template::literal(&target.url),
        headers,
        Body::Fixed(target.body.clone()),
        ExpectStatus::parse("2xx")?,
        &wire,
    )?;
    Ok((call, base.origin))
}

fn text_body(template: Template) -> Body {
    match template.as_literal() {
        Some(text) => Body::Fixed(Bytes::copy_from_slice(text.as_bytes())),
        None => Body::Templated(template),
    }
}

/// `reauth_status = [401, 403]` as status codes.
pub fn reauth_codes(shown: &str, raw: &[String]) -> Result<Vec<u16>, String> {
    raw.iter()
        .map(|s| {
            s.parse::<u16>()
                .ok()
                .filter(|c| (100..=599).contains(c))
                .ok_or_else(|| {
                    format!("scenario {shown}: reauth_status: '{s}' is not an HTTP status code")
                })
        })
        .collect()
}

/// Runs setup steps (at start, and again on `reauth_status`): the whole
/// answer, for captures.
pub struct SetupCaller {
    pub exchange: Arc<Exchange>,
}

impl Caller<Calls> for SetupCaller {
    type Prepared = Result<(Request<Full<Bytes>>, ExpectStatus), String>;

    fn prepare(&self, step: &Compiled<Calls>, op: &OpContext<'_>) -> Self::Prepared {
        let call = step.call.pick(op.seq);
        Ok((call.request(op)?, call.expect.clone()))
    }

    async fn call(&self, prepared: Self::Prepared) -> Result<Reply, String> {
        let (request, expect) = prepared?;
        let whole = self
            .exchange
            .whole(request)
            .await
            .map_err(|f| format!("no answer ({})", f.reason().name()))?;
        Ok(Reply {
            status: whole.status.as_u16().to_string(),
            ok: expect.check(whole.status).is_none(),
            headers: whole
                .headers
                .iter()
                .filter_map(|(n, v)| Some((n.to_string(), v.to_str().ok()?.to_string())))
                .collect(),
            body: whole.body.to_vec(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_split_into_origin_and_path() {
        let table: &[(&str, Option<(&str, &str)>)] = &[
            ("http://h:8080", Some(("http://h:8080", ""))),
            ("http://h:8080/api/", Some(("http://h:8080", "/api/"))),
            ("HTTPS://h?x", Some(("HTTPS://h", "?x"))),
            ("http://{{x}}/a", None),
            ("/items", None),
            ("http:///a", None),
        ];
        for (url, want) in table {
            let got = Base::split(url);
            let got = got.as_ref().map(|b| (b.origin.as_str(), b.path.as_str()));
            assert_eq!(got, *want, "{url}");
        }
    }
}
