//! Ops against the in-process [`Fake`] service; waits run on tokio's paused
//! clock, so timeouts take no real time.

use std::collections::BTreeMap;

use loadgen_plugin_api::sdk::{Limits, Outcome, PluginOptions, Sample};
use loadgen_plugin_api::testing::{capture, Captured};
use serde_json::Value;

use super::*;
use crate::config;
use crate::fake::{Behaviour, Fake};

const LOSS: Duration = Duration::from_secs(2);

/// Ops against the fake, with what their in-flight table records.
struct Tested {
    ops: Ops<Fake>,
    captured: Captured,
}

impl std::ops::Deref for Tested {
    type Target = Ops<Fake>;
    fn deref(&self) -> &Ops<Fake> {
        &self.ops
    }
}

impl Tested {
    /// Run op `seq` due at `intended` to its end; its one sample.
    async fn run(&self, seq: u64, intended: MonoNanos) -> Sample {
        let started = self.ops.begin(seq, intended).expect("not saturated");
        self.ops.finish(started).await;
        let samples = self.captured.drain();
        assert_eq!(samples.len(), 1, "one sample per op: {samples:?}");
        samples[0]
    }
}

fn ops(pairs: &[(&str, &str)]) -> Tested {
    let given: BTreeMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let options = config::HistoryOptions::resolve("history", &given).unwrap();
    let config = Config::from_options(&options, None).unwrap();
    let fixtures = HistoryFixtures::build(config.preset, 42, &config.site);
    let (recorder, captured) = capture();
    let limits = Limits::new(config.max_in_flight).request_timeout(config.request_timeout);
    let inflight = Arc::new(InFlight::new(limits, LOSS, recorder));
    let ops = Ops::new(
        config,
        fixtures.clone(),
        Arc::default(),
        Fake::new(fixtures),
        42,
        inflight,
    );
    Tested { ops, captured }
}

fn counter(ops: &Ops<Fake>, name: &str) -> u64 {
    let counters = ops.counters();
    counters
        .iter()
        .find(|c| c.name.as_str() == name)
        .unwrap()
        .value
}

#[test]
fn choices_repeat_for_a_seed_and_sequence_number() {
    let (a, b) = (ops(&[]), ops(&[]));
    let plans: Vec<Read> = (0..200).map(|seq| a.plan(seq)).collect();
    assert_eq!(plans, (0..200).map(|seq| b.plan(seq)).collect::<Vec<_>>());
    assert!(plans.windows(2).any(|w| w[0] != w[1]));
    for read in plans {
        let (room, user) = match read {
            Read::Open { room, user } | Read::Thread { room, user, .. } => (room, user),
            Read::Scrollback(_) => unreachable!("no chain was ever started"),
        };
        let f = &a.fixtures;
        assert!(
            f.is_member(f.account(user), f.room_id(room)),
            "caller is a member"
        );
    }
}

#[test]
fn the_mix_decides_the_endpoint_and_rooms_follow_zipf() {
    let o = ops(&[("preset", "history-medium")]);
    let plans: Vec<Read> = (0..5_000).map(|seq| o.plan(seq)).collect();
    let threads = plans
        .iter()
        .filter(|r| matches!(r, Read::Thread { .. }))
        .count();
    assert!(
        (800..1_200).contains(&threads),
        "20% of 5000 thread reads, got {threads}"
    );
    let room_of = |r: &Read| match r {
        Read::Open { room, .. } | Read::Thread { room, .. } => *room,
        Read::Scrollback(c) => c.room,
    };
    let hits = |room| plans.iter().filter(|r| room_of(r) == room).count();
    // Rank 1 of 100 rooms at s = 1.1: ~0.23.
    assert!((1_000..1_300).contains(&hits(0)), "room 0: {}", hits(0));
    assert!(hits(0) > hits(1) && hits(1) > hits(10));
    for r in &plans {
        if let Read::Thread { room, parent, .. } = r {
            assert_eq!(parent.room, *room);
            assert!(
                o.fixtures.is_thread_parent(*room, parent.index),
                "{parent} is a seeded thread parent"
            );
        }
    }
    let only_threads = ops(&[("mix", "thread:1")]);
    assert!((0..100).all(|seq| matches!(only_threads.plan(seq), Read::Thread { .. })));
}

#[test]
fn requests_carry_the_protocol_subjects_and_bodies() {
    let o = ops(&[("page_limit", "7")]);
    let chain = Chain {
        id: 0,
        room: 3,
        user: 4,
        before: 1_704_000_000_000,
        pages_left: 2,
    };
    let parent = MessageId {
        room: 3,
        index: 12,
        reply: None,
    };
    let table = [
        (
            Read::Open { room: 3, user: 4 },
            HISTORY,
            "history",
            r#"{"limit":7}"#,
        ),
        (
            Read::Scrollback(chain),
            HISTORY,
            "history",
            r#"{"before":1704000000000,"limit":7}"#,
        ),
        (
            Read::Thread {
                room: 3,
                user: 4,
                parent,
            },
            THREAD,
            "thread",
            r#"{"threadMessageId":"h-0003-000012","limit":7}"#,
        ),
    ];
    for (read, series, endpoint, body) in table {
        let (s, subject, payload) = o.encode(&read);
        assert_eq!(s, series);
        assert_eq!(
            subject,
            format!("chat.user.user-4.request.room.room-0003.site-local.msg.{endpoint}")
        );
        assert_eq!(std::str::from_utf8(&payload).unwrap(), body);
    }
}

#[tokio::test(start_paused = true)]
async fn answered_reads_are_ok_on_their_endpoints_series() {
    let o = ops(&[]);
    let mut by_series = [0, 0];
    for seq in 0..100 {
        let sample = o.run(seq, clock::now()).await;
        assert_eq!(sample.outcome, Outcome::Ok, "{sample:?}");
        assert!(sample.done >= sample.sent && sample.sent >= sample.intended);
        by_series[usize::from(sample.series)] += 1;
    }
    assert!(by_series[0] > 60 && by_series[1] > 5, "{by_series:?}");
    assert_eq!(counter(&o, "requests"), 100);
    let failed: u64 = [
        "timeouts",
        "error_reply",
        "bad_reply",
        "no_responders",
        "request_failed",
        "lost",
    ]
    .iter()
    .map(|c| counter(&o, c))
    .sum();
    assert_eq!(failed, 0);
}

#[tokio::test(start_paused = true)]
async fn scrollback_chains_follow_the_previous_pages_oldest_created_at() {
    let o = ops(&[
        ("mix", "history:1"),
        ("before_mode", "scrollback:1"),
        ("scrollback_pages", "3"),
    ]);
    for seq in 0..8 {
        assert_eq!(o.run(seq, clock::now()).await.outcome, Outcome::Ok);
    }
    let seen = o.transport.seen();
    let oldest = |subject: &str, body: &Value| {
        let room = o
            .fixtures
            .room_by_id(subject.split('.').nth(5).unwrap())
            .unwrap();
        o.fixtures
            .page(room, body["before"].as_i64(), 20)
            .messages
            .last()
            .unwrap()
            .created_at_ms
    };
    // Op 0 finds no chain and opens a room; ops 1-3 scroll it back three
    // pages; op 4 opens another, 5-7 scroll that one.
    for (i, (subject, body)) in seen.iter().enumerate() {
        match i % 4 {
            0 => assert_eq!(body.get("before"), None, "op {i} opens: {body}"),
            _ => {
                let (prev_subject, prev_body) = &seen[i - 1];
                assert_eq!(
                    subject, prev_subject,
                    "op {i} reads the same room as the same user"
                );
                assert_eq!(
                    body["before"],
                    oldest(prev_subject, prev_body),
                    "op {i}: {body}"
                );
            }
        }
    }
    assert_eq!(seen.len(), 8);
}

#[tokio::test(start_paused = true)]
async fn open_reads_start_chains_that_scrollback_ops_advance() {
    let o = ops(&[("mix", "history:1")]);
    for seq in 0..200 {
        o.run(seq, clock::now()).await;
    }
    let seen = o.transport.seen();
    let backs = seen
        .iter()
        .filter(|(_, b)| b.get("before").is_some())
        .count();
    // 30% scrollback; the first few find no chain yet and open instead.
    assert!(
        (40..80).contains(&backs),
        "{backs} of 200 reads scrolled back"
    );
}

#[tokio::test(start_paused = true)]
async fn failures_are_counted_and_classified_never_panics() {
    let table = [
        (
            Behaviour::Error,
            Outcome::Error,
            wire::ERROR_REPLY.index(),
            "error_reply",
        ),
        (
            Behaviour::Malformed,
            Outcome::Error,
            wire::BAD_REPLY.index(),
            "bad_reply",
        ),
        (
            Behaviour::NoResponders,
            Outcome::Error,
            wire::NO_RESPONDERS.index(),
            "no_responders",
        ),
        (
            Behaviour::Fail,
            Outcome::Error,
            wire::REQUEST.index(),
            "request_failed",
        ),
        (Behaviour::Hang, Outcome::Timeout, 0, "timeouts"),
    ];
    for (behaviour, outcome, reason, name) in table {
        let o = ops(&[
            ("request_timeout", "100ms"),
            ("before_mode", "scrollback:1"),
        ]);
        o.transport.set(behaviour);
        for seq in 0..10 {
            let sample = o.run(seq, clock::now()).await;
            assert_eq!(
                (sample.outcome, sample.reason),
                (outcome, reason),
                "{behaviour:?}"
            );
        }
        assert_eq!(counter(&o, name), 10, "{behaviour:?}");
        assert_eq!(counter(&o, "requests"), 10);
        assert_eq!(
            o.chains.len(),
            0,
            "{behaviour:?}: a failed read starts no chain"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_reader_outside_the_room_gets_an_error_reply() {
    let o = ops(&[]);
    let outsider = (0..o.fixtures.spec().users)
        .find(|&u| !o.fixtures.members(0).contains(&u))
        .unwrap();
    let (_, subject, payload) = o.encode(&Read::Open {
        room: 0,
        user: outsider,
    });
    let reply = o.transport.request(subject, payload).await.unwrap();
    assert_eq!(wire::parse_reply(&reply), Reply::Error);
}

#[tokio::test(start_paused = true)]
async fn the_earlier_deadline_names_the_outcome() {
    let o = ops(&[("request_timeout", "5s")]);
    o.transport.set(Behaviour::Hang);
    // Due 1.9 s ago: the loss deadline (intended + 2 s) comes before the
    // request timeout (sent + 5 s).
    let intended = MonoNanos(clock::now().0 - 1_900_000_000);
    let sample = o.run(0, intended).await;
    assert_eq!(sample.outcome, Outcome::Lost);
    assert_eq!(sample.done, intended.add_ns(LOSS.as_nanos() as u64));
    assert_eq!((counter(&o, "lost"), counter(&o, "timeouts")), (1, 0));

    let o = ops(&[("request_timeout", "300ms")]);
    o.transport.set(Behaviour::Hang);
    let started = tokio::time::Instant::now();
    let sample = o.run(0, clock::now()).await;
    assert_eq!(sample.outcome, Outcome::Timeout);
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(300) && waited < Duration::from_millis(310),
        "{waited:?}"
    );
    assert_eq!((counter(&o, "lost"), counter(&o, "timeouts")), (0, 1));
}

#[test]
fn presets_without_threads_still_read_the_thread_endpoint() {
    let o = ops(&[("preset", "history-small"), ("mix", "thread:1")]);
    assert_eq!(o.fixtures.thread_parent_count(0), 0);
    for seq in 0..50 {
        let Read::Thread { room, parent, .. } = o.plan(seq) else {
            panic!("thread only")
        };
        assert_eq!(parent.room, room);
        assert!(parent.index < o.fixtures.spec().messages_per_room);
    }
}
