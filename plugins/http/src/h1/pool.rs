//! [`Pool`]: at most `connections` keep-alive TCP connections, one request
//! each at a time; a [`Lease`] carries one op's request and answer.
//!
//! An op checks a connection out of [`Slots`] (a permit, then the most
//! recently used idle connection, or a new one). The op's own future writes the request and reads the
//! answer; a connection returns to the pool only when its answer was read
//! whole, framed, with nothing after it, and the server did not ask to close.
//!
//! **The retry rule.** A server may close an idle keep-alive connection just
//! as we reuse it; the request then meets EOF or a reset. The request is sent
//! again, once, on a fresh connection when all of these hold: the connection
//! had carried a request before (it was reused), no byte of an answer arrived,
//! the failure is the connection ending (EOF, reset, broken pipe), and either
//! no byte of the request was written or its method is one the server must
//! treat as safe to repeat (GET, HEAD, OPTIONS, TRACE). This is Go's
//! `net/http` rule; hyper's pool avoids the same race by watching idle
//! connections from a task. Any other failure is the op's.
//!
//! **Quiet reads.** While most of the pool is free, a connection is a quiet
//! socket (the SDK's [`quiet`]): its answer does not wake the worker, the op
//! parks until the worker's next wake-up for a send and reads it then, dated
//! by the kernel's receive timestamp. That halves the wake-ups per request at
//! a few thousand requests/s. Under load (half the connections or more busy)
//! connections are loud: an answer read late would hold its connection
//! longer, and the worker is awake anyway.

use std::io;
use std::os::fd::AsFd;

use loadgen_plugin_api::sdk::{clock, quiet, MonoNanos};
use tokio::io::{AsyncWriteExt, Interest};
use tokio::net::TcpStream;
use tokio::sync::SemaphorePermit;

use super::request::replayable;
use super::response::{Progress, ReadBuf, Response, ResponseError, ResponseReader};
use crate::slots::Slots;
use crate::status::Failure;

/// A connection's read buffer starts this large (it grows for a long head).
const READ_BUF: usize = 8 * 1024;

/// Why an exchange failed.
#[derive(Debug)]
pub enum H1Error {
    /// The connection could not be opened.
    Connect(io::Error),
    /// The connection failed while writing or reading; `in_body` once the
    /// answer's head had arrived.
    Io { error: io::Error, in_body: bool },
    /// The answer broke the protocol (or its head was too large).
    Response(ResponseError),
}

impl H1Error {
    /// How the op fails: as hyper's path counted it (no answer head:
    /// `request`; a body that broke off: `body`).
    pub fn failure(&self) -> Failure {
        match self {
            H1Error::Connect(_) => Failure::Connect,
            H1Error::Io { in_body: true, .. } => Failure::Body,
            H1Error::Io { .. } => Failure::Request,
            H1Error::Response(e) if e.in_body() => Failure::Body,
            H1Error::Response(_) => Failure::Request,
        }
    }
}

impl std::fmt::Display for H1Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            H1Error::Connect(e) => write!(f, "connect: {e}"),
            H1Error::Io { error, .. } => write!(f, "connection: {error}"),
            H1Error::Response(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for H1Error {}

/// A connection and its buffers, reused from request to request.
struct Conn {
    stream: TcpStream,
    read: ReadBuf,
    /// A rendered request (scenario ops); cleared per request.
    write: Vec<u8>,
    /// Scratch for rendering a template's text.
    text: String,
    /// It has carried a request: a failure before any answer may be the
    /// server's idle close (see the retry rule).
    reused: bool,
    /// A read on it came back with a receive timestamp: the condition for
    /// parking (the kernel turns stamping on a moment after it is asked,
    /// and an answer read late without one would be dated late).
    stamped: bool,
    /// Its answers do not wake the worker (see Quiet reads).
    quiet: bool,
}

pub struct Pool {
    /// `host:port`, resolved at each connect.
    address: String,
    slots: Slots<Conn>,
}

/// A connection lent to one op; back to the pool on drop only if its answer
/// was read whole and it may be reused. One dropped mid-answer (a timeout)
/// is closed.
pub struct Lease<'a> {
    pool: &'a Pool,
    /// Always `Some` until dropped.
    conn: Option<Conn>,
    reusable: bool,
    /// The pool was mostly free when leased and the SDK says parking pays:
    /// the answer may wait for the worker's next wake-up.
    park: bool,
    _permit: SemaphorePermit<'a>,
}

/// A lease's buffers for rendering a request: the bytes, and scratch text.
pub struct Buffers<'a> {
    pub out: &'a mut Vec<u8>,
    pub text: &'a mut String,
}

/// How one attempt failed, and whether the retry rule allows another.
struct Attempt {
    error: H1Error,
    written: usize,
    answered: bool,
}

impl Pool {
    pub fn new(address: String, connections: usize) -> Pool {
        Pool {
            address,
            slots: Slots::new(connections),
        }
    }

    /// Waits for a connection's worth of room.
    pub async fn permit(&self) -> SemaphorePermit<'_> {
        self.slots.permit().await
    }

    /// An idle connection, else a new one.
    pub async fn lease<'a>(&'a self, permit: SemaphorePermit<'a>) -> Result<Lease<'a>, H1Error> {
        let conn = match self.slots.pop_idle() {
            Some(conn) => conn,
            None => self.connect().await?,
        };
        Ok(Lease {
            pool: self,
            conn: Some(conn),
            reusable: false,
            park: self.slots.mostly_free() && quiet::parking_pays(),
            _permit: permit,
        })
    }

    async fn connect(&self) -> Result<Conn, H1Error> {
        let stream = TcpStream::connect(&*self.address)
            .await
            .map_err(H1Error::Connect)?;
        stream.set_nodelay(true).map_err(H1Error::Connect)?;
        // Failing, answers are dated when read and the connection never parks.
        let _ = quiet::stamp_arrivals(stream.as_fd());
        Ok(Conn {
            stream,
            read: ReadBuf::new(READ_BUF),
            write: Vec::new(),
            text: String::new(),
            reused: false,
            stamped: false,
            quiet: false,
        })
    }
}

impl Lease<'_> {
    /// The connection's buffers, emptied, to render a request into; then
    /// [`Lease::send_rendered`].
    pub fn buffers(&mut self) -> Buffers<'_> {
        let conn = self.conn();
        conn.write.clear();
        Buffers {
            out: &mut conn.write,
            text: &mut conn.text,
        }
    }

    fn conn(&mut self) -> &mut Conn {
        match &mut self.conn {
            Some(conn) => conn,
            None => unreachable!("a lease holds its connection until dropped"),
        }
    }

    /// Sends the request rendered into [`Lease::buffers`].
    pub async fn send_rendered(&mut self, head: bool, keep: bool) -> Result<Response, H1Error> {
        let bytes = std::mem::take(&mut self.conn().write);
        let result = self.send(&bytes, head, keep).await;
        // The buffer goes back for the next request (a fresh connection's too).
        self.conn().write = bytes;
        result
    }

    /// Sends `bytes` (a request serialized once) and reads the answer.
    pub async fn send(
        &mut self,
        bytes: &[u8],
        head: bool,
        keep: bool,
    ) -> Result<Response, H1Error> {
        let park = self.park;
        let first = round_trip(self.conn(), bytes, head, keep, park).await;
        let attempt = match first {
            Ok(response) => return Ok(self.answered(response)),
            Err(attempt) => attempt,
        };
        let closed_under_us = matches!(
            &attempt.error,
            H1Error::Io { error, .. } if matches!(
                error.kind(),
                io::ErrorKind::UnexpectedEof
                    | io::ErrorKind::ConnectionReset
                    | io::ErrorKind::ConnectionAborted
                    | io::ErrorKind::BrokenPipe
            )
        ) || matches!(
            attempt.error,
            H1Error::Response(ResponseError::Eof { in_body: false })
        );
        let retry = self.conn().reused
            && !attempt.answered
            && closed_under_us
            && (attempt.written == 0 || replayable(bytes));
        if !retry {
            return Err(attempt.error);
        }
        self.conn = Some(self.pool.connect().await?);
        match round_trip(self.conn(), bytes, head, keep, park).await {
            Ok(response) => Ok(self.answered(response)),
            Err(attempt) => Err(attempt.error),
        }
    }

    fn answered(&mut self, response: Response) -> Response {
        // Bytes after the answer are none we asked for: not reused.
        self.reusable = response.reusable && self.conn().read.unread().is_empty();
        response
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        if let Some(mut conn) = self.conn.take().filter(|_| self.reusable) {
            conn.reused = true;
            self.pool.slots.push_idle(conn);
        }
    }
}

/// Writes `bytes`, reads one answer (parking for it when `park`); reports
/// the answer's arrival to the SDK ([`quiet::arrived_at`]).
async fn round_trip(
    conn: &mut Conn,
    bytes: &[u8],
    head: bool,
    keep: bool,
    park: bool,
) -> Result<Response, Attempt> {
    let park = park && conn.stamped;
    if park && !conn.quiet {
        // Before the send, so its answer finds the socket quiet.
        conn.quiet = quiet::set_quiet(conn.stream.as_fd(), true).is_ok();
    }
    let mut written = 0;
    while written < bytes.len() {
        match conn.stream.write(&bytes[written..]).await {
            Ok(0) => {
                return Err(Attempt {
                    error: H1Error::Io {
                        error: io::ErrorKind::WriteZero.into(),
                        in_body: false,
                    },
                    written,
                    answered: false,
                })
            }
            Ok(n) => written += n,
            Err(error) => {
                return Err(Attempt {
                    error: H1Error::Io {
                        error,
                        in_body: false,
                    },
                    written,
                    answered: false,
                })
            }
        }
    }
    let mut reader = ResponseReader::new(head, keep);
    let fail = |error: H1Error, reader: &ResponseReader| Attempt {
        error,
        written,
        answered: reader.started(),
    };
    let mut arrived = None;
    let mut parked_at = None;
    loop {
        match reader.advance(&mut conn.read) {
            Ok(Progress::Done(response)) => {
                if let Some(at) = arrived {
                    quiet::arrived_at(at);
                }
                return Ok(response);
            }
            Ok(Progress::More) => {}
            Err(e) => return Err(fail(H1Error::Response(e), &reader)),
        }
        match read_some(conn, park, &mut parked_at).await {
            Ok((0, _)) => {
                return reader
                    .eof()
                    .map_err(|e| fail(H1Error::Response(e), &reader))
            }
            Ok((n, at)) => {
                conn.read.filled(n);
                conn.stamped |= at.is_some();
                arrived = at.or(arrived);
            }
            Err(error) => {
                let in_body = reader.in_body();
                return Err(fail(H1Error::Io { error, in_body }, &reader));
            }
        }
    }
}

/// Reads what the connection has, waiting for it: parked until the worker's
/// next wake-up while the socket is quiet and `park` (at most
/// [`quiet::PARK_LIMIT`] from the first wait), else woken by epoll.
async fn read_some(
    conn: &mut Conn,
    park: bool,
    parked_at: &mut Option<MonoNanos>,
) -> io::Result<(usize, Option<MonoNanos>)> {
    loop {
        if conn.quiet {
            // Right after the send no answer is there yet: park at once.
            if !(park && parked_at.is_none()) {
                match quiet::recv_stamped(conn.stream.as_fd(), conn.read.spare()) {
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    done => return done,
                }
            }
            let now = clock::now();
            let since = now.since(*parked_at.get_or_insert(now));
            let limit = quiet::PARK_LIMIT.as_nanos() as u64;
            if park && since < limit {
                let left = std::time::Duration::from_nanos(limit - since);
                let _ = tokio::time::timeout(left, quiet::next_wake_up()).await;
                continue;
            }
            // No send soon enough to read it at: loud, and epoll tells
            // (of an answer already there too).
            quiet::set_quiet(conn.stream.as_fd(), false)?;
            conn.quiet = false;
            continue;
        }
        conn.stream.readable().await?;
        let buf = conn.read.spare();
        let stream = &conn.stream;
        match stream.try_io(Interest::READABLE, || {
            quiet::recv_stamped(stream.as_fd(), &mut *buf)
        }) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            done => return done,
        }
    }
}
