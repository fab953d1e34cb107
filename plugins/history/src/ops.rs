//! [`Ops`]: what every op needs, and one op from choice to sample.
//!
//! An op's choices (endpoint, open or scrollback, room, caller, thread) are
//! drawn from `hash(seed, seq)`, so a run repeats them exactly; only the
//! scrollback cursors come from the server's answers. The op then sends one
//! request and waits until the earlier of two deadlines:
//! - `sent + request_timeout` → [`Outcome::Timeout`], counted in `timeouts`
//!   (a failure);
//! - `intended + loss_timeout` (the engine's drain) → [`Outcome::Lost`],
//!   counted in `lost` (the engine's loss rate), as the SDK asks.
//!
//! Whichever comes first names the outcome, so an op is never both.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use chat_fixtures::{hash, HistoryFixtures, MessageId, Rng};
use loadgen_plugin_api::sdk::{clock, MonoNanos, Outcome, Sample};

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

/// Which deadline ended a wait.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expiry {
    Timeout,
    Lost,
}

/// The earlier of `sent + request_timeout` and `intended + loss_timeout`
/// (all ns), and what reaching it means. A tie is Lost: the engine would
/// count the op lost anyway.
pub fn deadline(
    sent: u64,
    intended: u64,
    request_timeout: u64,
    loss_timeout: Option<u64>,
) -> (u64, Expiry) {
    let timeout_at = sent.saturating_add(request_timeout);
    match loss_timeout.map(|l| intended.saturating_add(l)) {
        Some(lost_at) if lost_at <= timeout_at => (lost_at, Expiry::Lost),
        _ => (timeout_at, Expiry::Timeout),
    }
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
    /// `None` when the host sets no loss deadline.
    loss_timeout_ns: Option<u64>,
}

impl<T: Transport> Ops<T> {
    pub fn new(
        config: Config,
        fixtures: HistoryFixtures,
        tally: Arc<Tally>,
        transport: T,
        seed: u64,
        loss_timeout: Duration,
    ) -> Ops<T> {
        Ops {
            rooms: Zipf::new(fixtures.room_count(), ROOM_EXPONENT),
            config,
            fixtures,
            chains: Chains::default(),
            tally,
            transport,
            seed,
            loss_timeout_ns: (!loss_timeout.is_zero()).then_some(loss_timeout.as_nanos() as u64),
        }
    }

    /// What op `seq` reads. Every draw is made whatever the options, so one
    /// option never shifts the others' choices.
    pub fn plan(&self, seq: u64) -> Read {
        let f = &self.fixtures;
        let mut rng = Rng::new(hash(&[self.seed, DRAWS, seq]));
        let endpoint = self.config.mix.pick(&mut rng);
        let mode = self.config.before_mode.pick(&mut rng);
        let room = self.rooms.draw(&mut rng);
        let members = f.members(room);
        let user = members[rng.below(members.len() as u64) as usize];
        let thread_draw = rng.next_u64();
        if endpoint == THREAD as usize {
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
    pub fn encode(&self, read: &Read) -> (u16, String, Bytes) {
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

    /// Run op `seq`, due at `intended`: send, wait, classify, count. Returns
    /// its sample; never panics on what the server sends.
    pub async fn run(&self, seq: u64, intended: MonoNanos) -> Sample {
        let read = self.plan(seq);
        let (series, subject, payload) = self.encode(&read);
        let tally = &self.tally;
        bump(&tally.requests);
        let sent = clock::now();
        let (at, expiry) = deadline(
            sent.0,
            intended.0,
            self.config.request_timeout.as_nanos() as u64,
            self.loss_timeout_ns,
        );
        let budget = Duration::from_nanos(at.saturating_sub(sent.0));
        let answer = tokio::time::timeout(budget, self.transport.request(subject, payload)).await;
        let done = clock::now();
        let fail = |reason| Sample::failed(series, Outcome::Error, reason, intended, sent, done);
        match answer.unwrap_or(Err(SendError::TimedOut)) {
            Ok(reply) => match wire::parse_reply(&reply) {
                Reply::Page(end) => {
                    self.follow(seq, read, end);
                    Sample::ok(series, intended, sent, done)
                }
                Reply::Error => {
                    bump(&tally.error_reply);
                    fail(wire::ERROR_REPLY)
                }
                Reply::Malformed => {
                    bump(&tally.bad_reply);
                    fail(wire::BAD_REPLY)
                }
            },
            Err(SendError::NoResponders) => {
                bump(&tally.no_responders);
                fail(wire::NO_RESPONDERS)
            }
            Err(SendError::Failed) => {
                bump(&tally.request_failed);
                fail(wire::REQUEST)
            }
            Err(SendError::TimedOut) => match expiry {
                Expiry::Timeout => {
                    bump(&tally.timeouts);
                    Sample::failed(series, Outcome::Timeout, 0, intended, sent, done)
                }
                Expiry::Lost => {
                    bump(&tally.lost);
                    Sample::failed(series, Outcome::Lost, 0, intended, sent, MonoNanos(at))
                }
            },
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
