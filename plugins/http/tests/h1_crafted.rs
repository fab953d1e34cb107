//! loadgen's HTTP/1.1 client against crafted answers from a raw TCP server
//! on loopback: each case of docs/http-client.md, the bytes exactly as a
//! server might send them.

mod common;

use std::time::Duration;

use common::{crafted, Answer};
use loadgen_plugin_http::h1::{H1Error, Pool, ResponseError};

const LIMIT: Duration = Duration::from_secs(10);

/// One request on `pool`: (status, body bytes kept).
async fn send(pool: &Pool, request: &[u8]) -> Result<(u16, Vec<u8>), H1Error> {
    let head = request.starts_with(b"HEAD ");
    let exchange = async {
        let mut lease = pool.lease(pool.permit().await).await?;
        let response = lease.send(request, head, true).await?;
        Ok((response.status, response.kept.unwrap().1.to_vec()))
    };
    tokio::time::timeout(LIMIT, exchange)
        .await
        .expect("bounded")
}

const GET: &[u8] = b"GET / HTTP/1.1\r\nhost: t\r\n\r\n";

#[tokio::test]
async fn content_length_and_chunked_bodies_on_one_connection() {
    let server = crafted(vec![
        Answer::keep(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"),
        Answer::keep(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
              3;ext=1;q=\"a b\"\r\nabc\r\n2\r\nde\r\n0;end\r\nX-Checksum: 9\r\nX-More: 1\r\n\r\n",
        ),
        Answer::keep(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n"),
    ])
    .await;
    let pool = Pool::new(server.address.clone(), 1);
    assert_eq!(send(&pool, GET).await.unwrap(), (200, b"hello".to_vec()));
    assert_eq!(send(&pool, GET).await.unwrap(), (200, b"abcde".to_vec()));
    assert_eq!(send(&pool, GET).await.unwrap(), (404, Vec::new()));
    assert_eq!(
        server.accepted(),
        1,
        "one keep-alive connection carried all three"
    );
}

#[tokio::test]
async fn head_204_and_304_have_no_body_whatever_they_say() {
    let server = crafted(vec![
        Answer::keep(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"),
        Answer::keep(b"HTTP/1.1 204 No Content\r\n\r\n"),
        Answer::keep(b"HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\nETag: \"x\"\r\n\r\n"),
        Answer::keep(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
    ])
    .await;
    let pool = Pool::new(server.address.clone(), 1);
    let head = b"HEAD / HTTP/1.1\r\nhost: t\r\n\r\n";
    assert_eq!(send(&pool, head).await.unwrap(), (200, Vec::new()));
    assert_eq!(send(&pool, GET).await.unwrap(), (204, Vec::new()));
    assert_eq!(send(&pool, GET).await.unwrap(), (304, Vec::new()));
    assert_eq!(send(&pool, GET).await.unwrap(), (200, b"ok".to_vec()));
    assert_eq!(server.accepted(), 1);
}

#[tokio::test]
async fn interim_answers_then_the_final_one() {
    let server = crafted(vec![Answer::keep(
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n\
          HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ndone",
    )])
    .await;
    let pool = Pool::new(server.address.clone(), 1);
    assert_eq!(send(&pool, GET).await.unwrap(), (200, b"done".to_vec()));
}

#[tokio::test]
async fn connection_close_and_http10_to_eof_open_a_new_connection_next() {
    let server = crafted(vec![
        Answer::keep(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\na"),
        Answer::close(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nread to the end"),
        Answer::keep(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nc"),
    ])
    .await;
    let pool = Pool::new(server.address.clone(), 1);
    assert_eq!(send(&pool, GET).await.unwrap(), (200, b"a".to_vec()));
    assert_eq!(
        send(&pool, GET).await.unwrap(),
        (200, b"read to the end".to_vec())
    );
    assert_eq!(send(&pool, GET).await.unwrap(), (200, b"c".to_vec()));
    assert_eq!(server.accepted(), 3, "neither closing answer was reused");
}

#[tokio::test]
async fn an_idle_connection_closed_by_the_server_is_retried_on_a_fresh_one() {
    // The server answers as if keeping the connection, then closes it: the
    // next request on it meets EOF before any answer.
    let server = crafted(vec![
        Answer::close(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na"),
        Answer::keep(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb"),
        Answer::close(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nc"),
    ])
    .await;
    let pool = Pool::new(server.address.clone(), 1);
    assert_eq!(send(&pool, GET).await.unwrap(), (200, b"a".to_vec()));
    // Let the server's close arrive: the race is the same either way.
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(send(&pool, GET).await.unwrap(), (200, b"b".to_vec()));
    assert_eq!(server.accepted(), 2, "retried once, on a fresh connection");
    assert_eq!(server.requests(), 2, "the failed attempt reached no server");
    // A POST is not sent twice once its bytes went out: the op fails.
    assert_eq!(send(&pool, GET).await.unwrap(), (200, b"c".to_vec()));
    tokio::time::sleep(Duration::from_millis(50)).await;
    let post = b"POST / HTTP/1.1\r\nhost: t\r\ncontent-length: 0\r\n\r\n";
    let err = send(&pool, post).await.unwrap_err();
    assert!(
        matches!(
            err,
            H1Error::Io { .. } | H1Error::Response(ResponseError::Eof { .. })
        ),
        "{err:?}"
    );
    assert_eq!(server.accepted(), 2, "no fresh connection for the POST");
}

#[tokio::test]
async fn a_fresh_connection_that_fails_is_not_retried() {
    let server = crafted(vec![Answer::close(b"")]).await;
    let pool = Pool::new(server.address.clone(), 1);
    let err = send(&pool, GET).await.unwrap_err();
    assert!(
        matches!(
            err,
            H1Error::Response(ResponseError::Eof { in_body: false })
        ),
        "{err:?}"
    );
    assert_eq!(server.accepted(), 1);
}

#[tokio::test]
async fn bodies_split_across_reads_byte_by_byte() {
    let server = crafted(vec![
        Answer::keep(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789").dribbled(),
        Answer::keep(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;x=y\r\nabcd\r\n0\r\nT: 1\r\n\r\n",
        )
        .dribbled(),
    ])
    .await;
    let pool = Pool::new(server.address.clone(), 1);
    assert_eq!(
        send(&pool, GET).await.unwrap(),
        (200, b"0123456789".to_vec())
    );
    assert_eq!(send(&pool, GET).await.unwrap(), (200, b"abcd".to_vec()));
    assert_eq!(server.accepted(), 1);
}

#[tokio::test]
async fn an_oversized_head_is_refused_with_a_clear_error() {
    let mut head = b"HTTP/1.1 200 OK\r\n".to_vec();
    while head.len() < 80 * 1024 {
        head.extend_from_slice(b"X-Padding: 0123456789012345678901234567890123456789\r\n");
    }
    head.extend_from_slice(b"Content-Length: 0\r\n\r\n");
    let server = crafted(vec![Answer::keep(&head)]).await;
    let pool = Pool::new(server.address.clone(), 1);
    let err = send(&pool, GET).await.unwrap_err();
    assert!(
        matches!(err, H1Error::Response(ResponseError::HeadTooLarge)),
        "{err:?}"
    );
    assert!(err.to_string().contains("refused"), "{err}");
}

#[tokio::test]
async fn a_connection_that_never_opens_is_a_connect_error() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let pool = Pool::new(closed.to_string(), 1);
    let err = send(&pool, GET).await.unwrap_err();
    assert!(matches!(err, H1Error::Connect(_)), "{err:?}");
}
