//! [`Http1Pool`]: HTTP/1.1 keep-alive connections of our own over
//! `hyper::client::conn::http1`, at most `connections` of them.
//!
//! A checkout is [`Slots`]' (a permit, then the most recently used idle
//! connection, or a new one). hyper-util's pooled client
//! did the same with a keyed pool, a boxed future per request and a task per
//! connection not yet ready at its return; here a checkout is a permit, a
//! short lock and a pop.

use bytes::Bytes;
use http::{Request, Response, Uri};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::client::conn::http1::{self, SendRequest};
use tokio::sync::SemaphorePermit;
use tower_service::Service;

use crate::slots::Slots;
use crate::status::Failure;
use crate::tls::Connector;

type Sender = SendRequest<Full<Bytes>>;

/// Why opening a connection failed (refused, reset, TLS handshake), or any error for a message.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Why a request got no answer.
#[derive(Debug)]
pub enum SendError {
    /// The connection it needed could not be opened.
    Connect(BoxError),
    /// The connection failed mid-request.
    Request(hyper::Error),
}

impl SendError {
    pub fn failure(&self) -> Failure {
        match self {
            SendError::Connect(_) => Failure::Connect,
            SendError::Request(_) => Failure::Request,
        }
    }

    pub fn into_cause(self) -> BoxError {
        match self {
            SendError::Connect(e) => e,
            SendError::Request(e) => Box::new(e),
        }
    }
}

pub struct Http1Pool {
    connector: Connector,
    /// Where connections go (the URL's scheme and authority).
    uri: Uri,
    slots: Slots<Sender>,
}

/// A connection lent to one op. It returns to the pool on drop only if the
/// op read its answer whole ([`Lease::reuse`]); one dropped mid-answer (a
/// timeout) is closed, never handed to the next op still busy.
pub struct Lease<'a> {
    pool: &'a Http1Pool,
    sender: Option<Sender>,
    reusable: bool,
    _permit: SemaphorePermit<'a>,
}

impl Http1Pool {
    pub fn new(connector: Connector, uri: Uri, connections: usize) -> Http1Pool {
        Http1Pool {
            connector,
            uri,
            slots: Slots::new(connections),
        }
    }

    /// Waits for a connection's worth of room.
    pub async fn permit(&self) -> SemaphorePermit<'_> {
        self.slots.permit().await
    }

    /// An idle connection that is still open, else a new one.
    pub async fn lease<'a>(&'a self, permit: SemaphorePermit<'a>) -> Result<Lease<'a>, BoxError> {
        let sender = match self.ready_idle().await {
            Some(sender) => sender,
            None => self.connect().await?,
        };
        Ok(Lease {
            pool: self,
            sender: Some(sender),
            reusable: false,
            _permit: permit,
        })
    }

    /// An idle connection ready for a request; closed ones (the server ended
    /// keep-alive) are dropped on the way.
    async fn ready_idle(&self) -> Option<Sender> {
        loop {
            let mut sender = self.slots.pop_idle()?;
            // A returned connection had its answer read whole, so it is ready
            // or about to be (its task has still to see the end) or closed.
            if sender.is_ready() || sender.ready().await.is_ok() {
                return Some(sender);
            }
        }
    }

    async fn connect(&self) -> Result<Sender, BoxError> {
        let mut connector = self.connector.clone();
        std::future::poll_fn(|cx| connector.poll_ready(cx)).await?;
        let stream = connector.call(self.uri.clone()).await?;
        let (sender, connection) = http1::handshake(stream).await?;
        // Its errors reach the op through its request.
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(sender)
    }
}

impl Lease<'_> {
    /// Sends `request`. A connection that closed before taking it (the
    /// server's keep-alive ended just then) is replaced once, as hyper-util did.
    pub async fn send(
        &mut self,
        request: Request<Full<Bytes>>,
    ) -> Result<Response<Incoming>, SendError> {
        let mut error = match &mut self.sender {
            Some(sender) => match sender.try_send_request(request).await {
                Ok(response) => return Ok(response),
                Err(error) => error,
            },
            None => unreachable!("a lease holds its connection until dropped"),
        };
        let Some(request) = error.take_message() else {
            return Err(SendError::Request(error.into_error()));
        };
        let fresh = self.pool.connect().await.map_err(SendError::Connect)?;
        let sender = self.sender.insert(fresh);
        sender
            .send_request(request)
            .await
            .map_err(SendError::Request)
    }

    /// The answer was read whole: the connection may carry the next request.
    pub fn reuse(&mut self) {
        self.reusable = true;
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        if let Some(sender) = self.sender.take() {
            if self.reusable && !sender.is_closed() {
                self.pool.slots.push_idle(sender);
            }
        }
    }
}
