//! [`RequestTemplate`]: the request parsed and built once at start; each op
//! gets a copy that shares the URL and body bytes.

use bytes::Bytes;
use http::header::{HeaderValue, HOST};
use http::{HeaderMap, Method, Request, Uri};
use http_body_util::Full;

use crate::config::HttpConfig;

#[derive(Clone, Debug)]
pub struct RequestTemplate {
    method: Method,
    /// Parsed once; a clone shares its bytes. HTTP/1.1: the origin form
    /// (`/path?query`, what a client sends its server), with the authority in
    /// `Host`; HTTP/2: the whole URL (hyper-util's client takes it apart).
    uri: Uri,
    headers: HeaderMap,
    /// Shared by reference count, never copied.
    body: Bytes,
    /// HTTP/1.1: the whole request serialized once, for the native client.
    wire: Option<crate::h1::Wire>,
}

impl RequestTemplate {
    pub fn new(config: &HttpConfig) -> RequestTemplate {
        let mut template = RequestTemplate {
            method: config.method.clone(),
            uri: config.uri.clone(),
            headers: config.headers.clone(),
            body: config.body.clone(),
            wire: None,
        };
        if !config.http2 {
            template.use_origin_form(config);
            template.wire = Some(crate::h1::Wire::encode(template.request()));
        }
        template
    }

    /// What hyper-util's client did per request, done once: `Host` (unless
    /// given) and the path alone on the request line.
    fn use_origin_form(&mut self, config: &HttpConfig) {
        if !self.headers.contains_key(HOST) {
            let host = self.uri.host().unwrap_or_default();
            let default_port = if config.https() { 443 } else { 80 };
            let value = match self.uri.port_u16() {
                Some(port) if port != default_port => format!("{host}:{port}"),
                _ => host.to_string(),
            };
            if let Ok(value) = HeaderValue::from_str(&value) {
                self.headers.insert(HOST, value);
            }
        }
        if let Some(path) = self.uri.path_and_query() {
            let mut parts = http::uri::Parts::default();
            parts.path_and_query = Some(path.clone());
            self.uri = Uri::from_parts(parts).unwrap_or_default();
        } else {
            self.uri = Uri::default();
        }
    }

    /// The request as bytes (HTTP/1.1 templates).
    pub fn wire(&self) -> Option<&crate::h1::Wire> {
        self.wire.as_ref()
    }

    pub fn request(&self) -> Request<Full<Bytes>> {
        let mut request = Request::new(Full::new(self.body.clone()));
        *request.method_mut() = self.method.clone();
        *request.uri_mut() = self.uri.clone();
        *request.headers_mut() = self.headers.clone();
        request
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use loadgen_plugin_api::sdk::PluginOptions;

    fn template(pairs: &[(&str, &str)]) -> RequestTemplate {
        let options = crate::config::HttpOptions::from_pairs(pairs).unwrap();
        RequestTemplate::new(&crate::config::parse(&options).unwrap())
    }

    #[test]
    fn every_request_is_the_template() {
        let template = template(&[
            ("url", "http://127.0.0.1:9/p?q=1"),
            ("method", "PUT"),
            ("header", "X-Id: 7"),
            ("body", "hello"),
        ]);
        for _ in 0..2 {
            let r = template.request();
            assert_eq!(r.method(), Method::PUT);
            assert_eq!(r.uri(), "/p?q=1");
            assert_eq!(r.headers()["host"], "127.0.0.1:9");
            assert_eq!(r.headers()["x-id"], "7");
        }
    }

    #[test]
    fn http1_requests_name_their_host_http2_ones_keep_the_url() {
        let table: &[(&[(&str, &str)], &str, Option<&str>)] = &[
            (&[("url", "http://h:80")], "/", Some("h")),
            (&[("url", "https://h:443/a")], "/a", Some("h")),
            (&[("url", "https://h:80/a")], "/a", Some("h:80")),
            (
                &[("url", "http://h:8080/"), ("header", "Host: other")],
                "/",
                Some("other"),
            ),
            (
                &[("url", "https://h:8443/x?y"), ("http2", "true")],
                "https://h:8443/x?y",
                None,
            ),
        ];
        for (pairs, uri, host) in table {
            let r = template(pairs).request();
            assert_eq!(r.uri(), *uri, "{pairs:?}");
            let got = r.headers().get("host").map(|h| h.to_str().unwrap());
            assert_eq!(got, *host, "{pairs:?}");
        }
    }
}
