//! [`Ops`]: what every op needs, and one op from choice to sample.
//!
//! An op's choices (endpoint, open or scrollback, room, caller, thread) are
//! drawn from `hash(seed, seq)`, so a run repeats them exactly; only the
//! scrollback cursors come from the server's answers. [`Ops::begin`] claims
//! the op's place in the SDK's in-flight table (or refuses it: saturation);
//! [`Ops::finish`] sends one request and waits until the table's deadline —
//! `sent + request_timeout` (Timeout) or `intended + loss_timeout` (Lost),
//! whichever comes first. The table records exactly one sample per op.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use chat_fixtures::{hash, HistoryFixtures, MessageId, Rng};
use loadgen_plugin_api::sdk::{clock, Answer, InFlight, MonoNanos, Op, Reason, Sent, Series};

use crate::chains::{Chain, Chains, PageEnd};
use crate::config::{Config, SCROLLBACK};
use crate::tally::{bump, Tally};
use crate::wire::{self, Reply, HISTORY, THREAD};
use crate::zipf::{Zipf, ROOM_EXPONENT};

/// Separates this workload's draws from other uses of `hash(seed, …)`.
const DRAWS: u64 = 0x4849_5354_5245_4144;

/// One request/reply exchange; the NATS client in production, a double in tests.
pub trait Transport: Send + Sync + 'static {
    /// Send `payload` to `subject` and wait for the reply, however long it takes
    /// (the caller bounds the wait).
    fn request(
        &self,
        subject: String,
        payload: Bytes,
    ) -> impl Future<Output = Result<Bytes, SendError>> + Send;
}

/// Why a request got no reply from the transport.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendError {
    /// Nobody subscribes to the subject.
    NoResponders,
    /// The transport gave up waiting itself.
    TimedOut,
    /// The request could not be sent (disconnected, closed).
    Failed,
}

/// What op `seq` reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Read {
    /// The newest page of a room (no `before`); may start a scrollback chain.
    Open { room: u32, user: u32 },
    /// The next page of a chain.
    Scrollback(Chain),
    /// A thread's replies.
    Thread {
        room: u32,
        user: u32,
        parent: MessageId,
    },
}

/// An op that has its place in the in-flight table, ready to send.
pub struct Started {
    seq: u64,
    read: Read,
    subject: String,
    payload: Bytes,
    sent: Sent,
}

pub struct Ops<T> {
    pub config: Config,
    pub fixtures: HistoryFixtures,
    /// Room choice, computed once.
    rooms: Zipf,
    pub chains: Chains,
    /// Shared with the connection's event callback (slow-consumer drops).
    pub tally: Arc<Tally>,
    pub transport: T,
    seed: u64,
    /// Ops awaiting replies: `max_in_flight`, request timeout, loss deadline.
    pub inflight: Arc<InFlight<u64>>,
}

impl<T: Transport> Ops<T> {
    pub fn new(
        config: Config,
        fixtures: HistoryFixtures,
        tally: Arc<Tally>,
        transport: T,
        seed: u64,
        inflight: Arc<InFlight<u64>>,
    ) -> Ops<T> {
        Ops {
            rooms: Zipf::new(fixtures.room_count(), ROOM_EXPONENT),
            config,
            fixtures,
            chains: Chains::default(),
            tally,
            transport,
            seed,
            inflight,
        }
    }

    /// The plugin's counters: its own and the in-flight table's.
    pub fn counters(&self) -> Vec<loadgen_plugin_api::sdk::Counter> {
        let mut counters = self.tally.counters();
        counters.extend(self.inflight.counters());
        counters
    }

    /// What op `seq` reads. Every draw is made whatever the options, so one
    /// option never shifts the others' choices.
    pub fn plan(&self, seq: u64) -> Read {
        let f = &self.fixtures;
        let mut rng = self.draws(seq);
        let endpoint = self.config.mix.pick(&mut rng);
        let mode = self.config.before_mode.pick(&mut rng);
        let room = self.rooms.draw(&mut rng);
        let members = f.members(room);
        let user = members[rng.below(members.len() as u64) as usize];
        let thread_draw = rng.next_u64();
        if endpoint == THREAD.index() as usize {
            return Read::Thread {
                room,
                user,
                parent: self.thread_parent(room, thread_draw),
            };
        }
        if mode == SCROLLBACK {
            // None waiting (run start, or every chain's page in flight): this
            // op opens a room instead, and so starts a chain.
            if let Some(chain) = self.chains.take() {
                return Read::Scrollback(chain);
            }
        }
        Read::Open { room, user }
    }

    fn draws(&self, seq: u64) -> Rng {
        Rng::new(hash(&[self.seed, DRAWS, seq]))
    }

    /// The series op `seq` reads: `plan`'s first draw, without its side
    /// effects (taking a chain).
    fn series_of(&self, seq: u64) -> Series {
        if self.config.mix.pick(&mut self.draws(seq)) == THREAD.index() as usize {
            THREAD
        } else {
            HISTORY
        }
    }

    /// A seeded thread parent of `room`; in a preset without threads, any
    /// top-level message (its thread is empty, the endpoint is still read).
    fn thread_parent(&self, room: u32, draw: u64) -> MessageId {
        let f = &self.fixtures;
        let pick = |n: u32| (((draw as u128) * u128::from(n)) >> 64) as u32;
        match f.thread_parent_count(room) {
            0 => MessageId {
                room,
                index: pick(f.spec().messages_per_room.max(1)),
                reply: None,
            },
            n => f.thread_parent(room, pick(n)),
        }
    }

    /// The series, subject and body of a read.
    pub fn encode(&self, read: &Read) -> (Series, String, Bytes) {
        let f = &self.fixtures;
        let limit = self.config.page_limit;
        let subject = |room: u32, user: u32, endpoint: &str| {
            format!(
                "chat.user.{}.request.room.{}.{}.msg.{endpoint}",
                f.account(user),
                f.room_id(room),
                self.config.site
            )
        };
        let body = |value: Result<Vec<u8>, serde_json::Error>| {
            Bytes::from(value.expect("a plain struct serialises"))
        };
        match read {
            Read::Open { room, user } => (
                HISTORY,
                subject(*room, *user, "history"),
                body(serde_json::to_vec(&wire::HistoryRequest {
                    before: None,
                    limit,
                })),
            ),
            Read::Scrollback(c) => (
                HISTORY,
                subject(c.room, c.user, "history"),
                body(serde_json::to_vec(&wire::HistoryRequest {
                    before: Some(c.before),
                    limit,
                })),
            ),
            Read::Thread { room, user, parent } => (
                THREAD,
                subject(*room, *user, "thread"),
                body(serde_json::to_vec(&wire::ThreadRequest {
                    thread_message_id: &parent.to_string(),
                    limit,
                })),
            ),
        }
    }

    /// Claim op `seq`'s place in the in-flight table and plan it; `None`
    /// when `max_in_flight` ops are open (saturation: nothing is planned, so
    /// no scrollback chain is taken).
    pub fn begin(&self, seq: u64, intended: MonoNanos) -> Option<Started> {
        let sent = Op {
            index: seq,
            intended,
        }
        .sent_at(clock::now());
        self.inflight.start(seq, sent, self.series_of(seq)).ok()?;
        let read = self.plan(seq);
        let (_, subject, payload) = self.encode(&read);
        bump(&self.tally.requests);
        Some(Started {
            seq,
            read,
            subject,
            payload,
            sent,
        })
    }

    /// Send the request and wait for its answer until the table's deadline;
    /// the table records the op's sample. Never panics on what the server sends.
    pub async fn finish(&self, op: Started) {
        let (deadline, _) = self.inflight.deadline(op.sent);
        let budget = Duration::from_nanos(deadline.since(clock::now()));
        let answer =
            tokio::time::timeout(budget, self.transport.request(op.subject, op.payload)).await;
        let done = clock::now();
        let table = &self.inflight;
        let fail = |counter: &std::sync::atomic::AtomicU64, reason: Reason| {
            if table.complete(&op.seq, Answer::Error(reason), done) {
                bump(counter);
            }
        };
        let tally = &self.tally;
        match answer {
            Ok(Ok(reply)) => match wire::parse_reply(&reply) {
                Reply::Page(end) => {
                    if table.complete(&op.seq, Answer::Ok, done) {
                        self.follow(op.seq, op.read, end);
                    }
                }
                Reply::Error => fail(&tally.error_reply, wire::ERROR_REPLY),
                Reply::Malformed => fail(&tally.bad_reply, wire::BAD_REPLY),
            },
            Ok(Err(SendError::NoResponders)) => fail(&tally.no_responders, wire::NO_RESPONDERS),
            Ok(Err(SendError::Failed)) => fail(&tally.request_failed, wire::REQUEST),
            // The client gave up before our deadline: a timeout all the same.
            Ok(Err(SendError::TimedOut)) => {
                table.complete(&op.seq, Answer::Timeout, done);
            }
            // Our timer fired at the deadline (tokio's clock may differ from
            // the monotonic one by a tick): Timeout or Lost, recorded at it.
            Err(_elapsed) => {
                table.expire_key(&op.seq, MonoNanos(done.0.max(deadline.0)));
            }
        }
    }

    /// A history page arrived: start or advance a scrollback chain.
    fn follow(&self, seq: u64, read: Read, end: PageEnd) {
        match read {
            Read::Open { room, user } if self.config.before_mode.includes(SCROLLBACK) => self
                .chains
                .start(seq, room, user, end, self.config.scrollback_pages),
            Read::Scrollback(chain) => self.chains.advanced(chain, end),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests;
