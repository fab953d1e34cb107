//! Requests as bytes: serialized once (a template, a setup step) or rendered
//! into a connection's buffer per op, and what the bytes say about retries.

use bytes::Bytes;
use http::{Method, Request};
use http_body_util::{BodyExt, Full};

/// A request on the wire, and what reading its answer needs to know.
#[derive(Clone, Debug)]
pub struct Wire {
    pub bytes: Bytes,
    /// A HEAD request: its answer has no body.
    pub head: bool,
}

impl Wire {
    /// `request` (origin-form target, `Host` among its headers) serialized.
    pub fn encode(request: Request<Full<Bytes>>) -> Wire {
        let (parts, body) = request.into_parts();
        // A `Full` body is ready at once.
        let body = futures::FutureExt::now_or_never(body.collect())
            .and_then(Result::ok)
            .map(|collected| collected.to_bytes())
            .unwrap_or_default();
        let target = parts
            .uri
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .as_bytes();
        let mut out = Vec::with_capacity(64 + target.len() + body.len());
        start_line(&mut out, &parts.method, target);
        for (name, value) in &parts.headers {
            header(&mut out, name.as_str().as_bytes(), value.as_bytes());
        }
        let has_length = parts.headers.contains_key(http::header::CONTENT_LENGTH);
        end_head(&mut out, &parts.method, has_length, body.len());
        out.extend_from_slice(&body);
        Wire {
            bytes: Bytes::from(out),
            head: parts.method == Method::HEAD,
        }
    }
}

/// `METHOD target HTTP/1.1\r\n`.
pub fn start_line(out: &mut Vec<u8>, method: &Method, target: &[u8]) {
    out.extend_from_slice(method.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(target);
    out.extend_from_slice(b" HTTP/1.1\r\n");
}

/// `name: value\r\n`.
pub fn header(out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    out.extend_from_slice(name);
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

/// `Content-Length` (as hyper sends it: for a body, or for methods that
/// expect one) unless given, then the blank line.
pub fn end_head(out: &mut Vec<u8>, method: &Method, has_length: bool, body_len: usize) {
    let wants_length =
        body_len > 0 || matches!(*method, Method::POST | Method::PUT | Method::PATCH);
    if wants_length && !has_length {
        out.extend_from_slice(b"content-length: ");
        let digits = itoa_buf(body_len);
        out.extend_from_slice(digits.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
}

/// Digits of `n` without allocating.
fn itoa_buf(n: usize) -> Digits {
    let mut d = Digits([0; 20], 20);
    let mut n = n;
    loop {
        d.1 -= 1;
        d.0[d.1] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return d;
        }
    }
}

struct Digits([u8; 20], usize);

impl Digits {
    fn as_bytes(&self) -> &[u8] {
        &self.0[self.1..]
    }
}

/// A rendered request target HTTP allows: visible ASCII, no spaces.
pub fn valid_target(target: &[u8]) -> bool {
    !target.is_empty() && target.iter().all(|b| b.is_ascii_graphic())
}

/// A rendered header value HTTP allows: no control characters but tab.
pub fn valid_value(value: &[u8]) -> bool {
    value
        .iter()
        .all(|&b| (b >= 0x20 && b != 0x7f) || b == b'\t')
}

/// Whether a request may be sent again after its connection failed before
/// any answer: the methods Go's client replays (RFC 9110 §9.2.2's safe
/// ones; PUT and DELETE are idempotent but not replayed, as Go does not).
pub fn replayable(bytes: &[u8]) -> bool {
    [&b"GET "[..], b"HEAD ", b"OPTIONS ", b"TRACE "]
        .iter()
        .any(|m| bytes.starts_with(m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_is_its_bytes() {
        let mut request = Request::new(Full::new(Bytes::from_static(b"hi")));
        *request.method_mut() = Method::POST;
        *request.uri_mut() = "/p?q=1".parse().unwrap();
        request
            .headers_mut()
            .insert("host", "h:8080".parse().unwrap());
        let wire = Wire::encode(request);
        assert_eq!(
            &wire.bytes[..],
            b"POST /p?q=1 HTTP/1.1\r\nhost: h:8080\r\ncontent-length: 2\r\n\r\nhi"
        );
        assert!(!wire.head);
        let mut head = Request::new(Full::new(Bytes::new()));
        *head.method_mut() = Method::HEAD;
        let wire = Wire::encode(head);
        assert_eq!(&wire.bytes[..], b"HEAD / HTTP/1.1\r\n\r\n");
        assert!(wire.head && replayable(&wire.bytes));
        assert!(!replayable(b"POST / HTTP/1.1\r\n"));
    }

    #[test]
    fn lengths_and_rendered_parts() {
        for n in [0, 7, 10, 123456789] {
            assert_eq!(itoa_buf(n).as_bytes(), n.to_string().as_bytes());
        }
        assert!(valid_target(b"/a?b=c%20"));
        assert!(!valid_target(b"/a b"));
        assert!(!valid_target(b""));
        assert!(valid_value(b"a\tb c"));
        assert!(!valid_value(b"a\r\nX-Evil: 1"));
    }
}
