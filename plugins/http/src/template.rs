//! [`RequestTemplate`]: the request parsed and built once at start; each op
//! gets a copy that shares the URL and body bytes.

use bytes::Bytes;
use http::{HeaderMap, Method, Request, Uri};
use http_body_util::Full;

use crate::config::HttpConfig;

#[derive(Clone, Debug)]
pub struct RequestTemplate {
    method: Method,
    /// Parsed once; a clone shares its bytes.
    uri: Uri,
    headers: HeaderMap,
    /// Shared by reference count, never copied.
    body: Bytes,
}

impl RequestTemplate {
    pub fn new(config: &HttpConfig) -> RequestTemplate {
        RequestTemplate {
            method: config.method.clone(),
            uri: config.uri.clone(),
            headers: config.headers.clone(),
            body: config.body.clone(),
        }
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

    #[test]
    fn every_request_is_the_template() {
        let options = crate::config::HttpOptions::from_pairs(&[
            ("url", "http://127.0.0.1:9/p?q=1"),
            ("method", "PUT"),
            ("header", "X-Id: 7"),
            ("body", "hello"),
        ])
        .unwrap();
        let template = RequestTemplate::new(&crate::config::parse(&options).unwrap());
        for _ in 0..2 {
            let r = template.request();
            assert_eq!(r.method(), Method::PUT);
            assert_eq!(r.uri(), "http://127.0.0.1:9/p?q=1");
            assert_eq!(r.headers()["x-id"], "7");
        }
    }
}
