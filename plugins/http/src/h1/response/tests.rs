//! The reader against crafted answers, and the split property: any split of
//! a valid answer into reads gives the same result as reading it whole.

use super::*;

/// Reads `wire` whole (then EOF if the reader still waits).
fn read(wire: &[u8], head_request: bool, keep: bool) -> Result<(Response, usize), ResponseError> {
    read_split(wire, &[], head_request, keep)
}

/// Reads `wire` arriving in pieces cut at `cuts` (ascending offsets); the
/// result and how many bytes were left unread.
fn read_split(
    wire: &[u8],
    cuts: &[usize],
    head_request: bool,
    keep: bool,
) -> Result<(Response, usize), ResponseError> {
    let mut buf = ReadBuf::new(8);
    let mut reader = ResponseReader::new(head_request, keep);
    let mut from = 0;
    for &cut in cuts.iter().chain(std::iter::once(&wire.len())) {
        buf.push(&wire[from..cut]);
        from = cut;
        if let Progress::Done(response) = reader.advance(&mut buf)? {
            return Ok((response, buf.unread().len() + wire.len() - from));
        }
    }
    reader.eof().map(|r| (r, 0))
}

fn body_of(response: &Response) -> &[u8] {
    &response.kept.as_ref().unwrap().1
}

#[test]
fn content_length_frames_the_body_and_keeps_the_connection() {
    let (r, left) = read(
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloHTTP/1.1",
        false,
        true,
    )
    .unwrap();
    assert_eq!((r.status, r.reusable, r.body_len), (200, true, 5));
    assert_eq!(body_of(&r), b"hello");
    assert_eq!(left, 8, "the next answer's bytes stay unread");
}

#[test]
fn chunked_with_extensions_and_trailers() {
    let wire = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n\
        5;name=value;x\r\nhello\r\n6 ; ext=\"q\"\r\n world\r\n0;last\r\nX-Sum: 1\r\nX-Other: 2\r\n\r\n";
    let (r, left) = read(wire, false, true).unwrap();
    assert_eq!((r.status, r.reusable, left), (200, true, 0));
    assert_eq!(body_of(&r), b"hello world");
}

#[test]
fn bodiless_answers() {
    let table: &[(&[u8], bool)] = &[
        (b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n", true),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
            true,
        ),
        (b"HTTP/1.1 204 No Content\r\n\r\n", false),
        (
            b"HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n",
            false,
        ),
    ];
    for (wire, head) in table {
        let (r, left) = read(wire, *head, false).unwrap();
        assert_eq!((r.body_len, r.reusable, left), (0, true, 0), "{wire:?}");
    }
}

#[test]
fn interim_answers_come_before_the_final_one() {
    let wire = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n\
        HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok";
    let (r, _) = read(wire, false, true).unwrap();
    assert_eq!((r.status, body_of(&r)), (201, &b"ok"[..]));
    assert!(
        !r.kept.unwrap().0.contains_key("link"),
        "interim headers are not kept"
    );
}

#[test]
fn close_and_http10_answers_end_the_connection() {
    let table: &[(&[u8], bool, &[u8])] = &[
        (
            b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx",
            false,
            b"x",
        ),
        (b"HTTP/1.1 200 OK\r\n\r\nto the end", false, b"to the end"),
        (b"HTTP/1.0 200 OK\r\n\r\nold", false, b"old"),
        (
            b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nold",
            false,
            b"old",
        ),
        (
            b"HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 3\r\n\r\nold",
            true,
            b"old",
        ),
    ];
    for (wire, reusable, body) in table {
        let (r, _) = read(wire, false, true).unwrap();
        assert_eq!(r.reusable, *reusable, "{wire:?}");
        assert_eq!(body_of(&r), *body, "{wire:?}");
    }
}

#[test]
fn retry_after_is_seen_on_429_and_503_only() {
    for (wire, want) in [
        (
            &b"HTTP/1.1 429 Slow\r\nRetry-After: 1\r\nContent-Length: 0\r\n\r\n"[..],
            true,
        ),
        (
            b"HTTP/1.1 503 Busy\r\nretry-after: 1\r\nContent-Length: 0\r\n\r\n",
            true,
        ),
        (
            b"HTTP/1.1 200 OK\r\nRetry-After: 1\r\nContent-Length: 0\r\n\r\n",
            false,
        ),
    ] {
        assert_eq!(read(wire, false, false).unwrap().0.retry_after, want);
    }
}

#[test]
fn bad_answers_are_errors_not_panics() {
    let mut huge = b"HTTP/1.1 200 OK\r\n".to_vec();
    while huge.len() <= MAX_HEAD {
        huge.extend_from_slice(b"X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
    }
    let mut many = b"HTTP/1.1 200 OK\r\n".to_vec();
    for i in 0..=MAX_HEADERS {
        many.extend_from_slice(format!("X-{i}: 1\r\n").as_bytes());
    }
    many.extend_from_slice(b"\r\n");
    let table: Vec<(Vec<u8>, ResponseError)> = vec![
        (huge, ResponseError::HeadTooLarge),
        (many, ResponseError::HeadTooLarge),
        (
            b"SMTP ready\r\n\r\n".to_vec(),
            ResponseError::Head("invalid HTTP version".into()),
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n".to_vec(),
            ResponseError::Length,
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n".to_vec(),
            ResponseError::Length,
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n".to_vec(),
            ResponseError::Chunk,
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n".to_vec(),
            ResponseError::Chunk,
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nshort".to_vec(),
            ResponseError::Eof { in_body: true },
        ),
        (
            b"HTTP/1.1 200 O".to_vec(),
            ResponseError::Eof { in_body: false },
        ),
        (Vec::new(), ResponseError::Eof { in_body: false }),
    ];
    for (wire, want) in table {
        let got = read(&wire, false, false).map(|_| ()).unwrap_err();
        assert_eq!(
            got,
            want,
            "{:?}",
            String::from_utf8_lossy(&wire[..wire.len().min(60)])
        );
    }
}

/// xorshift64*: a seeded, dependency-free source for the split loop.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// A valid answer of a random shape: interim heads, length / chunked (with
/// extensions and trailers) / to-EOF bodies, random body bytes.
fn valid_answer(rng: &mut Rng) -> Vec<u8> {
    let mut wire = Vec::new();
    for _ in 0..rng.below(3) {
        wire.extend_from_slice(b"HTTP/1.1 100 Continue\r\n\r\n");
    }
    let body: Vec<u8> = (0..rng.below(300)).map(|_| rng.next() as u8).collect();
    let status = [200, 201, 404, 500][rng.below(4)];
    wire.extend_from_slice(format!("HTTP/1.1 {status} Whatever\r\nServer: t\r\n").as_bytes());
    match rng.below(3) {
        0 => {
            wire.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
            wire.extend_from_slice(&body);
        }
        1 => {
            wire.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
            let mut rest = &body[..];
            while !rest.is_empty() {
                let n = 1 + rng.below(rest.len());
                let ext = if rng.below(2) == 0 { ";a=b" } else { "" };
                wire.extend_from_slice(format!("{n:x}{ext}\r\n").as_bytes());
                wire.extend_from_slice(&rest[..n]);
                wire.extend_from_slice(b"\r\n");
                rest = &rest[n..];
            }
            wire.extend_from_slice(b"0\r\n");
            if rng.below(2) == 0 {
                wire.extend_from_slice(b"X-Trailer: yes\r\n");
            }
            wire.extend_from_slice(b"\r\n");
        }
        _ => {
            wire.extend_from_slice(b"Connection: close\r\n\r\n");
            wire.extend_from_slice(&body);
        }
    }
    wire
}

#[test]
fn random_splits_read_as_the_whole() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for case in 0..2000 {
        let wire = valid_answer(&mut rng);
        let keep = rng.below(2) == 0;
        let whole = read(&wire, false, keep).unwrap();
        let mut cuts: Vec<usize> = (0..rng.below(12))
            .map(|_| rng.below(wire.len() + 1))
            .collect();
        cuts.sort_unstable();
        let split = read_split(&wire, &cuts, false, keep);
        assert_eq!(split.as_ref(), Ok(&whole), "case {case}, cuts {cuts:?}");
    }
}

#[test]
fn one_byte_at_a_time_reads_as_the_whole() {
    let mut rng = Rng(7);
    for _ in 0..200 {
        let wire = valid_answer(&mut rng);
        let cuts: Vec<usize> = (1..wire.len()).collect();
        assert_eq!(
            read_split(&wire, &cuts, false, true),
            read(&wire, false, true)
        );
    }
}
