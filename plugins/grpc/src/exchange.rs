//! [`Exchange`]: everything one call needs, shared by all calls; `run` takes
//! one op from its send to its end in the in-flight table (which records its
//! samples, and the Timeout or Lost if it comes to that). It is also the
//! scenario's [`Caller`] for setup steps (at start, and on re-authentication).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::Stream;
use loadgen_plugin_api::counter_set;
use loadgen_plugin_api::sdk::traffic::{Caller, Compiled, OpContext, OpPlan, Reply, Traffic, Vars};
use loadgen_plugin_api::sdk::{bump, clock, Answer, InFlight, Sent, Series};
use prost_reflect::{DynamicMessage, MessageDescriptor, SerializeOptions};
use tonic::client::Grpc;
use tonic::metadata::MetadataMap;
use tonic::transport::Channel;
use tonic::{Code, Status, Streaming};

use crate::call::{code_name, GrpcCall, Prepared};
use crate::codec::RawCodec;
use crate::shape::Shape;
use crate::status::{asks_to_back_off, Failure, FailureCounts};
use crate::FIRST;

counter_set! {
    /// What the plugin saw besides failures by reason.
    pub struct Tally {
        /// Calls handed to a channel.
        calls,
        /// Messages received on streaming calls.
        messages,
        /// RESOURCE_EXHAUSTED or UNAVAILABLE carrying a retry pushback: the server asked to back off.
        retry_after,
        /// Scenario sessions whose setup re-ran after a reauth_status answer.
        reauths,
    }
}

/// What the ops call.
pub enum Plan {
    /// The one call of the options (templated or not).
    Single(Box<GrpcCall>),
    /// A scenario's weighted requests, each its own series, over sessions.
    Scenario(Arc<Traffic<GrpcCall>>),
}

pub struct Exchange {
    /// One per channel; calls go round-robin by key.
    pub clients: Vec<Grpc<Channel>>,
    pub plan: Plan,
    pub timeout: Option<Duration>,
    /// Messages a client- or bidi-streaming call sends, and the pause between them.
    pub stream_count: usize,
    pub stream_interval: Duration,
    /// Scenario answers that re-run the session's setup.
    pub reauth: Vec<Code>,
    /// The seed templates draw from (`--seed`).
    pub seed: u64,
    pub table: Arc<InFlight<u64>>,
    pub tally: Tally,
    pub failures: FailureCounts,
}

/// A call answered with status OK: the response metadata (headers and
/// trailers) and the last message.
struct Answered {
    metadata: MetadataMap,
    last: Option<Bytes>,
}

impl Exchange {
    /// The series op `seq` is started with, and its plan.
    pub fn start_of(&self, seq: u64) -> (&[Series], OpPlan) {
        match &self.plan {
            Plan::Single(call) => (
                call.shape.series(),
                OpPlan {
                    seq,
                    request: 0,
                    session: 0,
                },
            ),
            Plan::Scenario(traffic) => {
                let op = traffic.plan(seq);
                let series = &traffic.requests()[op.request].series;
                (std::slice::from_ref(series), op)
            }
        }
    }

    /// Runs op `key` (already started in the table) to its end.
    pub async fn run(self: &Arc<Self>, key: u64, sent: Sent, op: OpPlan) {
        let (deadline, _) = self.table.deadline(sent);
        let budget = Duration::from_nanos(deadline.since(clock::now()));
        match tokio::time::timeout(budget, self.call_op(key, op)).await {
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
                    self.reauth_if_asked(failure, op);
                }
            }
            Err(_) => {
                self.table.expire_key(&key, clock::now());
            }
        }
    }

    async fn call_op(&self, key: u64, op: OpPlan) -> Result<(), Failure> {
        let (call, prepared, first) = match &self.plan {
            Plan::Single(call) => {
                let vars = Vars(Vec::new());
                let context = OpContext {
                    seq: op.seq,
                    session: 0,
                    vars: &vars,
                    data: &[],
                    seed: self.seed,
                };
                // A stream of replies has its first message as a series of its own.
                let first = call.shape.streams_replies().then_some(FIRST);
                (&**call, call.render(&context), first)
            }
            Plan::Scenario(traffic) => {
                let vars = traffic.vars(op.session);
                let step = &traffic.requests()[op.request];
                let prepared = step.call.render(&traffic.context(&op, &vars));
                (&step.call, prepared, None)
            }
        };
        let prepared = prepared.map_err(|_| Failure::Data)?;
        match self.send(key, prepared, first).await {
            Ok(_) => Ok(()),
            Err(status) if call.expect.contains(&status.code()) => Ok(()),
            Err(status) => Err(self.failed(&status)),
        }
    }

    /// A scenario answer in `reauth_status`: the session's setup runs again.
    fn reauth_if_asked(self: &Arc<Self>, failure: Failure, op: OpPlan) {
        let (Plan::Scenario(traffic), Failure::Status(code)) = (&self.plan, failure) else {
            return;
        };
        if self.reauth.contains(&code) && traffic.reauth(op.session, Arc::clone(self)) {
            bump(&self.tally.reauths);
        }
    }

    /// Sends one call on channel `key % connections` and reads its answer to
    /// the end. `first`: the series the first reply message ends.
    async fn send(
        &self,
        key: u64,
        call: Prepared,
        first: Option<Series>,
    ) -> Result<Answered, Status> {
        let mut grpc = self.clients[key as usize % self.clients.len()].clone();
        grpc.ready()
            .await
            .map_err(|e| Status::from_error(e.into()))?;
        bump(&self.tally.calls);
        let Prepared {
            path,
            shape,
            message,
            metadata,
        } = call;
        match shape {
            Shape::Unary => {
                let response = grpc
                    .unary(self.request(message, metadata), path, RawCodec)
                    .await?;
                let (metadata, last, _) = response.into_parts();
                Ok(Answered {
                    metadata,
                    last: Some(last),
                })
            }
            Shape::ClientStreaming => {
                let outgoing = self.outgoing(message);
                let response = grpc
                    .client_streaming(self.request(outgoing, metadata), path, RawCodec)
                    .await?;
                let (metadata, last, _) = response.into_parts();
                Ok(Answered {
                    metadata,
                    last: Some(last),
                })
            }
            Shape::ServerStreaming => {
                let response = grpc
                    .server_streaming(self.request(message, metadata), path, RawCodec)
                    .await?;
                self.read_stream(key, response, first).await
            }
            Shape::Bidi => {
                let outgoing = self.outgoing(message);
                let response = grpc
                    .streaming(self.request(outgoing, metadata), path, RawCodec)
                    .await?;
                self.read_stream(key, response, first).await
            }
        }
    }

    fn request<T>(&self, message: T, metadata: MetadataMap) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        *request.metadata_mut() = metadata;
        if let Some(timeout) = self.timeout {
            // The server gets a little more than our deadline, so ours
            // decides: a call past it is a Timeout, never the server's
            // cancellation (a stream reset) racing it.
            request.set_timeout(timeout + timeout / 10 + Duration::from_millis(5));
        }
        request
    }

    /// `stream_count` copies of the message, `stream_interval` apart.
    fn outgoing(&self, message: Bytes) -> impl Stream<Item = Bytes> + Send + 'static {
        let (count, interval) = (self.stream_count, self.stream_interval);
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

    /// Reads a stream of replies to its end (OK). The first message ends
    /// `first`'s series; the end ends the rest (in `run`).
    async fn read_stream(
        &self,
        key: u64,
        response: tonic::Response<Streaming<Bytes>>,
        mut first: Option<Series>,
    ) -> Result<Answered, Status> {
        let (metadata, mut replies, _) = response.into_parts();
        let mut last = None;
        while let Some(message) = replies.message().await? {
            bump(&self.tally.messages);
            if let Some(series) = first.take() {
                self.table.complete_series(&key, series, clock::now());
            }
            last = Some(message);
        }
        let metadata = match replies.trailers().await {
            Ok(Some(trailers)) => {
                let mut headers = metadata.into_headers();
                headers.extend(trailers.into_headers());
                MetadataMap::from_headers(headers)
            }
            _ => metadata,
        };
        Ok(Answered { metadata, last })
    }

    fn failed(&self, status: &Status) -> Failure {
        if asks_to_back_off(status) {
            bump(&self.tally.retry_after);
        }
        Failure::of(status)
    }
}

/// A scenario's setup step as a call; its answer as captures see it: the
/// status name, the response metadata, the last message as JSON (proto
/// field names).
pub struct SetupCall {
    call: Prepared,
    expect: Vec<Code>,
    output: MessageDescriptor,
}

impl Caller<GrpcCall> for Exchange {
    type Prepared = Result<SetupCall, String>;

    fn prepare(&self, step: &Compiled<GrpcCall>, op: &OpContext<'_>) -> Self::Prepared {
        Ok(SetupCall {
            call: step.call.render(op)?,
            expect: step.call.expect.clone(),
            output: step.call.output.clone(),
        })
    }

    async fn call(&self, prepared: Self::Prepared) -> Result<Reply, String> {
        let SetupCall {
            call,
            expect,
            output,
        } = prepared?;
        let key = clock::now().0;
        let ok = |code: Code| code == Code::Ok || expect.contains(&code);
        match self.send(key, call, None).await {
            Ok(answered) => Ok(Reply {
                status: "OK".into(),
                ok: ok(Code::Ok),
                headers: metadata_pairs(&answered.metadata),
                body: answered
                    .last
                    .map(|bytes| as_json(&output, bytes))
                    .unwrap_or_default(),
            }),
            Err(status) if Failure::of(&status) == Failure::Transport => Err(format!(
                "no answer: {}",
                loadgen_plugin_api::sdk::error_chain(&status)
            )),
            Err(status) => Ok(Reply {
                status: code_name(status.code()).to_ascii_uppercase(),
                ok: ok(status.code()),
                headers: metadata_pairs(status.metadata()),
                body: Vec::new(),
            }),
        }
    }
}

fn metadata_pairs(metadata: &MetadataMap) -> Vec<(String, String)> {
    metadata
        .clone()
        .into_headers()
        .iter()
        .filter_map(|(k, v)| Some((k.to_string(), v.to_str().ok()?.to_string())))
        .collect()
}

/// The message as JSON with its proto field names (`access_token`, as the
/// .proto spells them), for `json:/pointer` captures; empty if it does not decode.
fn as_json(output: &MessageDescriptor, bytes: Bytes) -> Vec<u8> {
    let Ok(message) = DynamicMessage::decode(output.clone(), bytes) else {
        return Vec::new();
    };
    let options = SerializeOptions::new().use_proto_field_name(true);
    let mut out = Vec::new();
    let mut serializer = serde_json::Serializer::new(&mut out);
    match message.serialize_with_options(&mut serializer, &options) {
        Ok(()) => out,
        Err(_) => Vec::new(),
    }
}
