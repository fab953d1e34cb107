//! [`Exchange`]: everything one call needs, shared by all calls; `run` takes
//! one op from its send to its end in the in-flight table (which records its
//! samples, and the Timeout or Lost if it comes to that).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::Stream;
use loadgen_plugin_api::counter_set;
use loadgen_plugin_api::sdk::{bump, clock, Answer, InFlight, Sent, Series};
use prost_reflect::MethodDescriptor;
use tonic::client::Grpc;
use tonic::codegen::http::uri::PathAndQuery;
use tonic::metadata::MetadataMap;
use tonic::transport::Channel;
use tonic::{Code, Status, Streaming};

use crate::codec::RawCodec;
use crate::status::{asks_to_back_off, Failure, FailureCounts};
use crate::{FIRST, GRPC, LAST};

counter_set! {
    /// What the plugin saw besides failures by reason.
    pub struct Tally {
        /// Calls handed to a channel.
        calls,
        /// Messages received on streaming calls.
        messages,
        /// RESOURCE_EXHAUSTED or UNAVAILABLE carrying a retry pushback: the server asked to back off.
        retry_after,
    }
}

/// Which way messages flow, from the method's descriptor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    Unary,
    ServerStreaming,
    ClientStreaming,
    Bidi,
}

impl Shape {
    pub fn of(method: &MethodDescriptor) -> Shape {
        match (method.is_client_streaming(), method.is_server_streaming()) {
            (false, false) => Shape::Unary,
            (false, true) => Shape::ServerStreaming,
            (true, false) => Shape::ClientStreaming,
            (true, true) => Shape::Bidi,
        }
    }

    /// The series a call of this shape answers: the reply, or the first and
    /// the last message of a stream of replies.
    pub fn series(self) -> &'static [Series] {
        match self {
            Shape::Unary | Shape::ClientStreaming => &[GRPC],
            Shape::ServerStreaming | Shape::Bidi => &[FIRST, LAST],
        }
    }
}

pub struct Exchange {
    /// One per channel; calls go round-robin by key.
    pub clients: Vec<Grpc<Channel>>,
    pub path: PathAndQuery,
    pub shape: Shape,
    /// The request message, encoded.
    pub message: Bytes,
    pub metadata: MetadataMap,
    pub timeout: Option<Duration>,
    /// Messages a client- or bidi-streaming call sends, and the pause between them.
    pub stream_count: usize,
    pub stream_interval: Duration,
    pub table: Arc<InFlight<u64>>,
    pub tally: Tally,
    pub failures: FailureCounts,
}

impl Exchange {
    /// Runs op `key` (already started in the table) to its end.
    pub async fn run(&self, key: u64, sent: Sent) {
        let (deadline, _) = self.table.deadline(sent);
        let budget = Duration::from_nanos(deadline.since(clock::now()));
        match tokio::time::timeout(budget, self.call(key)).await {
            Ok(result) => {
                let answer = match result {
                    Ok(()) => Answer::Ok,
                    // Our own deadline, sent as grpc-timeout, enforced by the server.
                    Err(Failure::Status(Code::DeadlineExceeded)) if self.timeout.is_some() => {
                        Answer::Timeout
                    }
                    Err(failure) => Answer::Error(failure.reason()),
                };
                // `false`: the deadline passed meanwhile and the op ended there.
                let ended_here = self.table.complete(&key, answer, clock::now());
                if let (true, Answer::Error(_), Err(failure)) = (ended_here, answer, result) {
                    bump(self.failures.get(failure));
                }
            }
            Err(_) => {
                self.table.expire_key(&key, clock::now());
            }
        }
    }

    async fn call(&self, key: u64) -> Result<(), Failure> {
        let mut grpc = self.clients[key as usize % self.clients.len()].clone();
        grpc.ready().await.map_err(|_| Failure::Transport)?;
        bump(&self.tally.calls);
        let path = self.path.clone();
        match self.shape {
            Shape::Unary => {
                let request = self.request(self.message.clone());
                grpc.unary(request, path, RawCodec)
                    .await
                    .map_err(|s| self.failed(&s))?;
                Ok(())
            }
            Shape::ServerStreaming => {
                let request = self.request(self.message.clone());
                let response = grpc
                    .server_streaming(request, path, RawCodec)
                    .await
                    .map_err(|s| self.failed(&s))?;
                self.read_stream(key, response.into_inner()).await
            }
            Shape::ClientStreaming => {
                let request = self.request(self.outgoing());
                grpc.client_streaming(request, path, RawCodec)
                    .await
                    .map_err(|s| self.failed(&s))?;
                Ok(())
            }
            Shape::Bidi => {
                let request = self.request(self.outgoing());
                let response = grpc
                    .streaming(request, path, RawCodec)
                    .await
                    .map_err(|s| self.failed(&s))?;
                self.read_stream(key, response.into_inner()).await
            }
        }
    }

    fn request<T>(&self, message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        *request.metadata_mut() = self.metadata.clone();
        if let Some(timeout) = self.timeout {
            request.set_timeout(timeout);
        }
        request
    }

    /// `stream_count` copies of the message, `stream_interval` apart.
    fn outgoing(&self) -> impl Stream<Item = Bytes> + Send + 'static {
        let (message, count, interval) = (
            self.message.clone(),
            self.stream_count,
            self.stream_interval,
        );
        futures::stream::unfold(0, move |sent| {
            let message = message.clone();
            async move {
                if sent == count {
                    return None;
                }
                if sent > 0 && !interval.is_zero() {
                    tokio::time::sleep(interval).await;
                }
                Some((message, sent + 1))
            }
        })
    }

    /// Reads a stream of replies to its end: the first message ends the
    /// `first_message` series, the end (OK) the `last_message` one (in `run`).
    async fn read_stream(&self, key: u64, mut replies: Streaming<Bytes>) -> Result<(), Failure> {
        let mut first = true;
        loop {
            match replies.message().await {
                Ok(Some(_)) => {
                    bump(&self.tally.messages);
                    if first {
                        self.table.complete_series(&key, FIRST, clock::now());
                        first = false;
                    }
                }
                Ok(None) => return Ok(()),
                Err(status) => return Err(self.failed(&status)),
            }
        }
    }

    fn failed(&self, status: &Status) -> Failure {
        if asks_to_back_off(status) {
            bump(&self.tally.retry_after);
        }
        Failure::of(status)
    }
}
