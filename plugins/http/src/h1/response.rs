//! [`ResponseReader`]: one HTTP/1.1 response read out of a connection's
//! buffer with `httparse`, whatever the byte boundaries of the reads.
//!
//! The reader is pure: it takes the bytes read so far ([`ReadBuf`]) and says
//! how far it got; the connection reads more and calls it again. It skips
//! 1xx interim answers, frames the body by the rules of RFC 9112 §6.3 (HEAD,
//! 1xx, 204 and 304 have none; chunked, then Content-Length, then to EOF) and
//! tells whether the connection may carry another request.

use bytes::{Bytes, BytesMut};
use http::{HeaderMap, HeaderName, HeaderValue};

/// The longest response head accepted (status line and headers), and the
/// longest chunk-size line or trailer section.
pub const MAX_HEAD: usize = 64 * 1024;
/// The most headers a response head may have.
pub const MAX_HEADERS: usize = 128;

/// Bytes read from a connection and not yet consumed: `data[start..end]`.
/// Reused across the connection's responses.
pub struct ReadBuf {
    data: Vec<u8>,
    start: usize,
    end: usize,
}

impl ReadBuf {
    pub fn new(capacity: usize) -> ReadBuf {
        ReadBuf {
            data: vec![0; capacity],
            start: 0,
            end: 0,
        }
    }

    /// The bytes not consumed yet.
    pub fn unread(&self) -> &[u8] {
        &self.data[self.start..self.end]
    }

    pub fn consume(&mut self, n: usize) {
        self.start += n;
        debug_assert!(self.start <= self.end);
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
    }

    /// Room to read into: the unread bytes moved to the front when less
    /// than half the buffer is free behind them, the buffer doubled when it
    /// is full (a head grows it to `MAX_HEAD` at most, then is refused).
    pub fn spare(&mut self) -> &mut [u8] {
        if self.start > 0 && self.data.len() - self.end < self.data.len() / 2 {
            self.data.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.data.len() {
            let grown = (self.data.len() * 2).max(4096);
            self.data.resize(grown, 0);
        }
        &mut self.data[self.end..]
    }

    /// `n` bytes were read into [`ReadBuf::spare`].
    pub fn filled(&mut self, n: usize) {
        self.end += n;
        debug_assert!(self.end <= self.data.len());
    }

    /// Appends `bytes` as if read (tests and the fuzz loop).
    pub fn push(&mut self, bytes: &[u8]) {
        let mut rest = bytes;
        while !rest.is_empty() {
            let spare = self.spare();
            let n = spare.len().min(rest.len());
            spare[..n].copy_from_slice(&rest[..n]);
            self.filled(n);
            rest = &rest[n..];
        }
    }
}

/// Why a response could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResponseError {
    /// The head passed [`MAX_HEAD`] bytes (or [`MAX_HEADERS`] headers).
    HeadTooLarge,
    /// The head is not HTTP/1.x.
    Head(String),
    /// Content-Length missing a number, or two that disagree.
    Length,
    /// A chunk size line or its CRLF is malformed, or the trailers too long.
    Chunk,
    /// The connection ended before the response did.
    Eof { in_body: bool },
}

impl ResponseError {
    /// Whether the status line had arrived (the error is the body's).
    pub fn in_body(&self) -> bool {
        matches!(
            self,
            ResponseError::Chunk | ResponseError::Eof { in_body: true }
        )
    }
}

impl std::fmt::Display for ResponseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ResponseError::HeadTooLarge => write!(
                f,
                "response head larger than {MAX_HEAD} bytes or {MAX_HEADERS} headers: refused"
            ),
            ResponseError::Head(e) => write!(f, "malformed response head: {e}"),
            ResponseError::Length => write!(f, "invalid Content-Length"),
            ResponseError::Chunk => write!(f, "malformed chunked body"),
            ResponseError::Eof { in_body: false } => {
                write!(f, "connection closed before the response")
            }
            ResponseError::Eof { in_body: true } => {
                write!(f, "connection closed in the middle of the response body")
            }
        }
    }
}

impl std::error::Error for ResponseError {}

/// A response read whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    /// 429 or 503 with `Retry-After`.
    pub retry_after: bool,
    /// The connection may carry the next request (keep-alive, framed body).
    pub reusable: bool,
    /// Body bytes received (decoded: no chunk framing).
    pub body_len: u64,
    /// With `keep`: the headers (trailers not included) and the body.
    pub kept: Option<(HeaderMap, Bytes)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chunked {
    /// Before a chunk-size line.
    Size,
    /// Inside a chunk, this many bytes left.
    Data(u64),
    /// After a chunk's data: its CRLF.
    DataEnd,
    /// After the last chunk: trailer lines up to an empty line.
    Trailers,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Head,
    Length(u64),
    Chunked(Chunked),
    ToEof,
    Done,
}

/// What [`ResponseReader::advance`] got to.
#[derive(Debug, PartialEq, Eq)]
pub enum Progress {
    /// More bytes are needed.
    More,
    Done(Response),
}

/// Reads one response; a new reader per request.
pub struct ResponseReader {
    /// The request was HEAD: the answer has no body whatever it says.
    head_request: bool,
    keep: bool,
    state: State,
    /// Whether any byte of the answer arrived (a retry is safe only before).
    started: bool,
    status: u16,
    retry_after: bool,
    reusable: bool,
    body_len: u64,
    headers: HeaderMap,
    body: BytesMut,
}

impl ResponseReader {
    pub fn new(head_request: bool, keep: bool) -> ResponseReader {
        ResponseReader {
            head_request,
            keep,
            state: State::Head,
            started: false,
            status: 0,
            retry_after: false,
            reusable: false,
            body_len: 0,
            headers: HeaderMap::new(),
            body: BytesMut::new(),
        }
    }

    /// Whether any byte of the answer has been seen.
    pub fn started(&self) -> bool {
        self.started
    }

    /// Whether the answer's final head has arrived (a failure now is the body's).
    pub fn in_body(&self) -> bool {
        !matches!(self.state, State::Head)
    }

    /// Consumes what it can of `buf`.
    pub fn advance(&mut self, buf: &mut ReadBuf) -> Result<Progress, ResponseError> {
        if !buf.unread().is_empty() {
            self.started = true;
        }
        loop {
            match self.state {
                State::Head => {
                    if !self.head(buf)? {
                        return Ok(Progress::More);
                    }
                }
                State::Length(0) => self.state = State::Done,
                State::Length(left) => {
                    let n = self.body_bytes(buf, left);
                    if n == 0 {
                        return Ok(Progress::More);
                    }
                    self.state = State::Length(left - n);
                }
                State::ToEof => {
                    let n = self.body_bytes(buf, u64::MAX);
                    if n == 0 {
                        return Ok(Progress::More);
                    }
                }
                State::Chunked(chunked) => {
                    if !self.chunked(buf, chunked)? {
                        return Ok(Progress::More);
                    }
                }
                State::Done => return Ok(Progress::Done(self.finish())),
            }
        }
    }

    /// The connection ended: the answer is whole only if its body runs to EOF.
    pub fn eof(&mut self) -> Result<Response, ResponseError> {
        match self.state {
            State::ToEof => Ok(self.finish()),
            State::Head => Err(ResponseError::Eof { in_body: false }),
            _ => Err(ResponseError::Eof { in_body: true }),
        }
    }

    fn finish(&mut self) -> Response {
        self.state = State::Done;
        Response {
            status: self.status,
            retry_after: self.retry_after,
            reusable: self.reusable,
            body_len: self.body_len,
            kept: self.keep.then(|| {
                (
                    std::mem::take(&mut self.headers),
                    std::mem::take(&mut self.body).freeze(),
                )
            }),
        }
    }

    /// Takes up to `max` body bytes; how many.
    fn body_bytes(&mut self, buf: &mut ReadBuf, max: u64) -> u64 {
        let unread = buf.unread();
        let n = (unread.len() as u64).min(max) as usize;
        if self.keep {
            self.body.extend_from_slice(&unread[..n]);
        }
        buf.consume(n);
        self.body_len += n as u64;
        n as u64
    }

    /// Parses a head if whole; `false` if more bytes are needed. A 1xx head
    /// is consumed and the next one awaited.
    fn head(&mut self, buf: &mut ReadBuf) -> Result<bool, ResponseError> {
        let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut response = httparse::Response::new(&mut slots);
        let unread = buf.unread();
        let len = match response.parse(unread) {
            Ok(httparse::Status::Complete(len)) => len,
            Ok(httparse::Status::Partial) if unread.len() >= MAX_HEAD => {
                return Err(ResponseError::HeadTooLarge)
            }
            Ok(httparse::Status::Partial) => return Ok(false),
            Err(httparse::Error::TooManyHeaders) => return Err(ResponseError::HeadTooLarge),
            Err(e) => return Err(ResponseError::Head(e.to_string())),
        };
        if len > MAX_HEAD {
            return Err(ResponseError::HeadTooLarge);
        }
        let status = response.code.unwrap_or(0);
        let http10 = response.version == Some(0);
        if (100..200).contains(&status) && status != 101 {
            // Interim (100 Continue, 103 Early Hints): the final one follows.
            buf.consume(len);
            return Ok(true);
        }
        let mut chunked = false;
        let mut length: Option<u64> = None;
        let mut close = http10;
        for header in response.headers.iter() {
            let name = header.name.as_bytes();
            if name.eq_ignore_ascii_case(b"content-length") {
                let value = std::str::from_utf8(header.value)
                    .ok()
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .ok_or(ResponseError::Length)?;
                if length.is_some_and(|l| l != value) {
                    return Err(ResponseError::Length);
                }
                length = Some(value);
            } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
                // Chunked only when it is the last coding (RFC 9112 §6.3).
                chunked = header
                    .value
                    .rsplit(|b| *b == b',')
                    .next()
                    .is_some_and(|last| last.trim_ascii().eq_ignore_ascii_case(b"chunked"));
            } else if name.eq_ignore_ascii_case(b"connection") {
                for token in header.value.split(|b| *b == b',') {
                    let token = token.trim_ascii();
                    if token.eq_ignore_ascii_case(b"close") {
                        close = true;
                    } else if http10 && token.eq_ignore_ascii_case(b"keep-alive") {
                        close = false;
                    }
                }
            } else if name.eq_ignore_ascii_case(b"retry-after") && matches!(status, 429 | 503) {
                self.retry_after = true;
            }
            if self.keep {
                if let (Ok(name), Ok(value)) = (
                    HeaderName::from_bytes(name),
                    HeaderValue::from_bytes(header.value),
                ) {
                    self.headers.append(name, value);
                }
            }
        }
        self.status = status;
        buf.consume(len);
        let bodiless = self.head_request || matches!(status, 101 | 204 | 304);
        self.state = if bodiless {
            State::Length(0)
        } else if chunked {
            State::Chunked(Chunked::Size)
        } else if let Some(length) = length {
            State::Length(length)
        } else {
            close = true;
            State::ToEof
        };
        self.reusable = !close && status != 101;
        Ok(true)
    }

    /// One step of a chunked body; `false` if more bytes are needed.
    fn chunked(&mut self, buf: &mut ReadBuf, at: Chunked) -> Result<bool, ResponseError> {
        match at {
            Chunked::Size => {
                let unread = buf.unread();
                match httparse::parse_chunk_size(unread) {
                    Ok(httparse::Status::Complete((len, 0))) => {
                        buf.consume(len);
                        self.state = State::Chunked(Chunked::Trailers);
                    }
                    Ok(httparse::Status::Complete((len, size))) => {
                        buf.consume(len);
                        self.state = State::Chunked(Chunked::Data(size));
                    }
                    Ok(httparse::Status::Partial) if unread.len() >= MAX_HEAD => {
                        return Err(ResponseError::Chunk)
                    }
                    Ok(httparse::Status::Partial) => return Ok(false),
                    Err(_) => return Err(ResponseError::Chunk),
                }
            }
            Chunked::Data(0) => self.state = State::Chunked(Chunked::DataEnd),
            Chunked::Data(left) => {
                let n = self.body_bytes(buf, left);
                if n == 0 {
                    return Ok(false);
                }
                self.state = State::Chunked(Chunked::Data(left - n));
            }
            Chunked::DataEnd => match buf.unread() {
                [b'\r', b'\n', ..] => {
                    buf.consume(2);
                    self.state = State::Chunked(Chunked::Size);
                }
                [b'\n', ..] => {
                    buf.consume(1);
                    self.state = State::Chunked(Chunked::Size);
                }
                [] | [b'\r'] => return Ok(false),
                _ => return Err(ResponseError::Chunk),
            },
            Chunked::Trailers => {
                // Trailer lines are read and dropped, one line at a time.
                let unread = buf.unread();
                let Some(eol) = unread.iter().position(|b| *b == b'\n') else {
                    if unread.len() >= MAX_HEAD {
                        return Err(ResponseError::Chunk);
                    }
                    return Ok(false);
                };
                let line = &unread[..eol];
                let empty = line.is_empty() || line == b"\r";
                buf.consume(eol + 1);
                if empty {
                    self.state = State::Done;
                }
            }
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests;
