//! loadgen's own HTTP/1.1 client (`plugins/http/src/h1`) against real
//! servers: nginx (Debian's, in the foreground on loopback) and an
//! in-process hyper server. Crafted byte-level cases live beside the plugin
//! (`plugins/http/tests/h1_crafted.rs`).

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::{Request, Response, StatusCode};
use loadgen_e2e::{bounded, Nginx};
use loadgen_plugin_http::h1::{self, Pool};

const LIMIT: Duration = Duration::from_secs(20);

/// One request on `pool` (`extra`: header lines), its answer kept.
async fn call(pool: &Pool, method: &str, path: &str, extra: &str) -> anyhow::Result<h1::Response> {
    post(pool, method, path, extra, "").await
}

/// One request with a body.
async fn post(
    pool: &Pool,
    method: &str,
    path: &str,
    extra: &str,
    body: &str,
) -> anyhow::Result<h1::Response> {
    let length = if body.is_empty() {
        String::new()
    } else {
        format!("Content-Length: {}\r\n", body.len())
    };
    let request =
        format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}{length}\r\n{body}");
    let mut lease = pool.lease(pool.permit().await).await?;
    Ok(lease
        .send(request.as_bytes(), method == "HEAD", true)
        .await?)
}

fn header<'a>(response: &'a h1::Response, name: &str) -> Option<&'a str> {
    response.kept.as_ref()?.0.get(name)?.to_str().ok()
}

fn body(response: &h1::Response) -> &[u8] {
    &response.kept.as_ref().unwrap().1
}

#[tokio::test]
async fn nginx_static_files_and_returns() {
    let big: Vec<u8> = (0..1_048_576u32).map(|i| (i % 251) as u8).collect();
    let page = "a line of text that gzip will shrink\n".repeat(3000);
    let nginx = Nginx::start(
        "    keepalive_requests 3;\n    keepalive_timeout 300ms;\n\
         add_header X-Conn $connection always;\n\
         location = /nothing { return 204; }\n\
         location = /returned { return 200 \"returned\"; }\n\
         location = /posted { return 200 \"posted\"; }\n\
         location / { gzip on; gzip_min_length 0; gzip_types text/plain; }",
        &[
            ("big.bin", &big),
            ("page.txt", page.as_bytes()),
            ("small.txt", b"small"),
        ],
    )
    .await
    .unwrap();
    let pool = Pool::new(nginx.address(), 1);
    bounded(LIMIT, async {
        // Content-Length, large, over many reads.
        let r = call(&pool, "GET", "/big.bin", "").await?;
        assert_eq!((r.status, body(&r)), (200, &big[..]));
        // HEAD: a length and no body; the connection carries on.
        let r = call(&pool, "HEAD", "/big.bin", "").await?;
        assert_eq!((r.status, r.body_len), (200, 0));
        assert_eq!(header(&r, "content-length"), Some("1048576"));
        // 304 from the ETag, bodiless.
        let r = call(&pool, "GET", "/small.txt", "").await?;
        let etag = header(&r, "etag").unwrap().to_string();
        let r = call(
            &pool,
            "GET",
            "/small.txt",
            &format!("If-None-Match: {etag}\r\n"),
        )
        .await?;
        assert_eq!((r.status, r.body_len), (304, 0));
        // 204, a returned text, a POST with a body, a 404.
        let r = call(&pool, "GET", "/nothing", "").await?;
        assert_eq!((r.status, r.body_len), (204, 0));
        let r = call(&pool, "GET", "/returned", "").await?;
        assert_eq!((r.status, body(&r)), (200, &b"returned"[..]));
        let r = post(&pool, "POST", "/posted", "", "hello").await?;
        assert_eq!((r.status, body(&r)), (200, &b"posted"[..]));
        let r = call(&pool, "GET", "/absent", "").await?;
        assert_eq!(r.status, 404);
        Ok(())
    })
    .await
    .unwrap_or_else(|e| panic!("{e}\n{}", nginx.error_log()));
}

#[tokio::test]
async fn nginx_chunked_keep_alive_limits_and_idle_close() {
    let page = "a line of text that gzip will shrink\n".repeat(3000);
    let nginx = Nginx::start(
        "    keepalive_requests 3;\n    keepalive_timeout 300ms;\n\
         add_header X-Conn $connection always;\n\
         location / { gzip on; gzip_min_length 0; gzip_types text/plain; }",
        &[("page.txt", page.as_bytes())],
    )
    .await
    .unwrap();
    let pool = Pool::new(nginx.address(), 1);
    bounded(LIMIT, async {
        // gzip makes nginx answer chunked; three requests per connection,
        // the third with Connection: close.
        let mut conns = Vec::new();
        for _ in 0..7 {
            let r = call(&pool, "GET", "/page.txt", "Accept-Encoding: gzip\r\n").await?;
            assert_eq!(r.status, 200);
            assert_eq!(header(&r, "transfer-encoding"), Some("chunked"));
            let gz = body(&r);
            assert!(gz.starts_with(&[0x1f, 0x8b]) && gz.len() < page.len() / 10);
            conns.push(header(&r, "x-conn").unwrap().to_string());
        }
        assert_eq!(conns[0], conns[2]);
        assert_ne!(conns[2], conns[3], "{conns:?}");
        assert_eq!(conns[3], conns[5]);
        assert_ne!(conns[5], conns[6], "{conns:?}");
        // nginx closes the idle connection after 300 ms: the next GET meets
        // EOF on it and is retried on a fresh one.
        tokio::time::sleep(Duration::from_millis(700)).await;
        let r = call(&pool, "GET", "/page.txt", "").await?;
        assert_eq!((r.status, r.body_len), (200, page.len() as u64));
        assert_ne!(header(&r, "x-conn").unwrap(), conns[6]);
        // The client's own Connection: close.
        let r = call(&pool, "GET", "/page.txt", "Connection: close\r\n").await?;
        assert!(!r.reusable);
        Ok(())
    })
    .await
    .unwrap_or_else(|e| panic!("{e}\n{}", nginx.error_log()));
}

/// An in-process hyper HTTP/1.1 server; counts the connections it accepts.
async fn hyper_server() -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&accepted);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let service = hyper::service::service_fn(answer);
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (address, accepted)
}

type Body = http_body_util::combinators::BoxBody<Bytes, Infallible>;

async fn answer(request: Request<Incoming>) -> Result<Response<Body>, Infallible> {
    let full = |text: &'static str| Full::new(Bytes::from_static(text.as_bytes())).boxed();
    let mut response = match request.uri().path() {
        "/len" => Response::new(full("hello")),
        "/chunked" => {
            let frames = vec![
                Ok::<_, Infallible>(Frame::data(Bytes::from_static(b"abc"))),
                Ok(Frame::data(Bytes::from_static(b"def"))),
                Ok(Frame::trailers({
                    let mut t = hyper::HeaderMap::new();
                    t.insert("x-sum", "6".parse().unwrap());
                    t
                })),
            ];
            Response::new(StreamBody::new(futures::stream::iter(frames)).boxed())
        }
        "/204" => {
            let mut r = Response::new(full(""));
            *r.status_mut() = StatusCode::NO_CONTENT;
            r
        }
        "/304" => {
            let mut r = Response::new(full(""));
            *r.status_mut() = StatusCode::NOT_MODIFIED;
            r
        }
        "/close" => {
            let mut r = Response::new(full("bye"));
            r.headers_mut()
                .insert("connection", "close".parse().unwrap());
            r
        }
        "/echo" => {
            let body = request.into_body().collect().await.unwrap().to_bytes();
            Response::new(Full::new(body).boxed())
        }
        _ => {
            let mut r = Response::new(full("no"));
            *r.status_mut() = StatusCode::NOT_FOUND;
            r
        }
    };
    response
        .headers_mut()
        .insert("x-test", "1".parse().unwrap());
    Ok(response)
}

#[tokio::test]
async fn hyper_server_answers() {
    let (address, accepted) = hyper_server().await;
    let pool = Pool::new(address, 1);
    bounded(LIMIT, async {
        let r = call(&pool, "GET", "/len", "").await?;
        assert_eq!((r.status, body(&r), r.reusable), (200, &b"hello"[..], true));
        let r = call(&pool, "GET", "/chunked", "TE: trailers\r\n").await?;
        assert_eq!((r.status, body(&r)), (200, &b"abcdef"[..]));
        assert_eq!(header(&r, "transfer-encoding"), Some("chunked"));
        let r = call(&pool, "HEAD", "/len", "").await?;
        assert_eq!((r.status, r.body_len), (200, 0));
        for (path, status) in [("/204", 204), ("/304", 304), ("/missing", 404)] {
            let r = call(&pool, "GET", path, "").await?;
            assert_eq!(r.status, status, "{path}");
        }
        // Expect: 100-continue: hyper sends 100 before reading the body.
        let r = post(&pool, "POST", "/echo", "Expect: 100-continue\r\n", "ping").await?;
        assert_eq!((r.status, body(&r)), (200, &b"ping"[..]));
        assert_eq!(accepted.load(Ordering::SeqCst), 1, "one connection so far");
        let r = call(&pool, "GET", "/close", "").await?;
        assert_eq!((r.status, body(&r), r.reusable), (200, &b"bye"[..], false));
        let r = call(&pool, "GET", "/len", "").await?;
        assert_eq!(r.status, 200);
        assert_eq!(accepted.load(Ordering::SeqCst), 2, "closed, then a new one");
        Ok(())
    })
    .await
    .unwrap();
}
