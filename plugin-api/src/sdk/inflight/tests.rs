use super::*;
use crate::abi::{Op, Outcome, Sample};
use crate::testing::capture;
use proptest::prelude::*;

const A: Series = Series::new(0, "a");
const B: Series = Series::new(1, "b");
const R: super::super::series::Reason = super::super::series::Reason::new(3, "r");
const MS: u64 = 1_000_000;

fn sent(intended_ms: u64, sent_ms: u64) -> Sent {
    Op {
        index: 0,
        intended: MonoNanos(intended_ms * MS),
    }
    .sent_at(MonoNanos(sent_ms * MS))
}

/// max 2, timeout 100 ms, loss 300 ms.
fn table() -> (InFlight<u64>, crate::testing::Captured) {
    let (recorder, captured) = capture();
    let limits = Limits::new(2).request_timeout(Duration::from_millis(100));
    (
        InFlight::new(limits, Duration::from_millis(300), recorder),
        captured,
    )
}

/// `(series, outcome, done ms)` in done order (expiry visits shards in hash order).
fn outcomes(samples: &[Sample]) -> Vec<(u16, Outcome, u64)> {
    let mut rows: Vec<_> = samples
        .iter()
        .map(|s| (s.series, s.outcome, s.done.0 / MS))
        .collect();
    rows.sort_by_key(|r| r.2);
    rows
}

#[test]
fn the_bound_refuses_until_an_op_ends() {
    let (t, _) = table();
    t.start(1, sent(0, 0), A).unwrap();
    assert_eq!(t.start(1, sent(0, 0), A), Err(Refused::DuplicateKey));
    t.start(2, sent(0, 0), A).unwrap();
    assert_eq!(t.start(3, sent(0, 0), A), Err(Refused::Saturated));
    assert!(t.complete(&1, Answer::Ok, MonoNanos(5 * MS)));
    t.start(3, sent(0, 0), A).unwrap();
    assert_eq!(t.start(4, sent(0, 0), A), Err(Refused::Saturated));
    assert_eq!(t.counters()[0].value, 2, "saturated");
}

#[test]
fn deadlines_timeout_vs_lost() {
    let (t, captured) = table();
    // (intended, sent) → deadline, expiry. Timeout at sent+100, Lost at intended+300.
    let table = [
        ((0, 10), (110, Expiry::Timeout)),
        ((0, 200), (300, Expiry::Lost)), // queued long before its send
        ((0, 199), (299, Expiry::Timeout)),
        ((100, 300), (400, Expiry::Lost)), // both at 400: a tie is Lost
    ];
    for ((intended, at), (deadline, expiry)) in table {
        assert_eq!(
            t.deadline(sent(intended, at)),
            (MonoNanos(deadline * MS), expiry),
            "intended {intended} sent {at}"
        );
    }
    t.start(1, sent(0, 10), A).unwrap();
    t.start(2, sent(0, 250), B).unwrap();
    assert_eq!(t.expire(MonoNanos(109 * MS)), 0);
    assert_eq!(t.expire(MonoNanos(500 * MS)), 2);
    assert_eq!(
        outcomes(&captured.drain()),
        [(0, Outcome::Timeout, 110), (1, Outcome::Lost, 300)]
    );
    assert!(
        !t.complete(&1, Answer::Ok, MonoNanos(600 * MS)),
        "late answer"
    );
    assert!(captured.drain().is_empty());
    assert!(t.is_empty());
}

#[test]
fn a_multi_series_op_fails_once_on_the_first_series_it_awaits() {
    let (t, captured) = table();
    t.start_awaiting(1, sent(0, 0), &[A, B]).unwrap();
    assert!(t.complete_series(&1, A, MonoNanos(MS)));
    assert!(!t.complete_series(&1, A, MonoNanos(2 * MS)), "A twice");
    assert!(t.awaits(&1, B));
    assert!(t.complete(&1, Answer::Error(R), MonoNanos(3 * MS)));
    t.start_awaiting(2, sent(0, 0), &[A, B]).unwrap();
    t.expire(MonoNanos(1_000 * MS));
    let samples = captured.drain();
    assert_eq!(
        outcomes(&samples),
        [
            (0, Outcome::Ok, 1),
            (1, Outcome::Error, 3),
            (0, Outcome::Timeout, 100)
        ]
    );
    assert_eq!(samples[1].reason, 3);
}

#[test]
fn expire_key_ends_only_a_due_op() {
    let (t, captured) = table();
    t.start(1, sent(0, 0), A).unwrap();
    assert_eq!(t.expire_key(&1, MonoNanos(99 * MS)), None);
    assert_eq!(t.expire_key(&1, MonoNanos(100 * MS)), Some(Expiry::Timeout));
    assert_eq!(t.expire_key(&1, MonoNanos(100 * MS)), None);
    assert_eq!(outcomes(&captured.drain()), [(0, Outcome::Timeout, 100)]);
}

#[derive(Clone, Debug)]
enum Event {
    Start { key: u8, both: bool, queued_ms: u64 },
    Ok { key: u8 },
    Series { key: u8, second: bool },
    Fail { key: u8, timeout: bool },
    Expire { key: Option<u8> },
    Advance { ms: u64 },
}

fn event() -> impl Strategy<Value = Event> {
    prop_oneof![
        (0u8..12, any::<bool>(), 0u64..400).prop_map(|(key, both, queued_ms)| Event::Start {
            key,
            both,
            queued_ms
        }),
        (0u8..12).prop_map(|key| Event::Ok { key }),
        (0u8..12, any::<bool>()).prop_map(|(key, second)| Event::Series { key, second }),
        (0u8..12, any::<bool>()).prop_map(|(key, timeout)| Event::Fail { key, timeout }),
        proptest::option::of(0u8..12).prop_map(|key| Event::Expire { key }),
        (0u64..150).prop_map(|ms| Event::Advance { ms }),
    ]
}

proptest! {
    /// Whatever the order of answers, timeouts and deadlines, every started op
    /// ends exactly once: all its series Ok, or its Ok series so far plus one
    /// failure; a single-series op has exactly one sample. Nothing else is
    /// recorded, and nothing stays open.
    #[test]
    fn exactly_one_ending_per_op(events in proptest::collection::vec(event(), 1..150)) {
        let (recorder, captured) = capture();
        let limits = Limits::new(8).request_timeout(Duration::from_millis(100));
        let t: InFlight<u8> = InFlight::new(limits, Duration::from_millis(300), recorder);
        let mut now = 1_000u64;
        // Started ops by a unique intended time (ns): how many series each awaits.
        let mut started: std::collections::BTreeMap<u64, usize> = Default::default();
        let mut refused = 0u64;
        for (n, e) in events.into_iter().enumerate() {
            let at = MonoNanos(now * MS);
            match e {
                Event::Start { key, both, queued_ms } => {
                    let intended = (now - queued_ms) * MS + n as u64;
                    let s = Op { index: 0, intended: MonoNanos(intended) }.sent_at(at);
                    let series: &[Series] = if both { &[A, B] } else { &[A] };
                    match t.start_awaiting(key, s, series) {
                        Ok(()) => { started.insert(intended, series.len()); }
                        Err(Refused::Saturated) => refused += 1,
                        Err(Refused::DuplicateKey) => {}
                    }
                }
                Event::Ok { key } => { t.complete(&key, Answer::Ok, at); }
                Event::Series { key, second } => {
                    t.complete_series(&key, if second { B } else { A }, at);
                }
                Event::Fail { key, timeout } => {
                    let answer = if timeout { Answer::Timeout } else { Answer::Error(R) };
                    t.complete(&key, answer, at);
                }
                Event::Expire { key: Some(key) } => { t.expire_key(&key, at); }
                Event::Expire { key: None } => { t.expire(at); }
                Event::Advance { ms } => now += ms,
            }
        }
        t.expire(MonoNanos(u64::MAX));
        prop_assert!(t.is_empty());
        prop_assert_eq!(t.counters()[0].value, refused);
        let mut by_op: std::collections::BTreeMap<u64, Vec<Sample>> = Default::default();
        for s in captured.drain() {
            prop_assert!(started.contains_key(&s.intended.0), "a sample for no started op");
            by_op.entry(s.intended.0).or_default().push(s);
        }
        for (intended, series) in started {
            let got = by_op.remove(&intended).unwrap_or_default();
            let oks: Vec<u16> = got.iter().filter(|s| s.outcome == Outcome::Ok).map(|s| s.series).collect();
            let failures = got.len() - oks.len();
            let mut distinct = oks.clone();
            distinct.dedup();
            prop_assert_eq!(distinct.len(), oks.len(), "one Ok per series");
            prop_assert!(
                (oks.len() == series && failures == 0) || (oks.len() < series && failures == 1),
                "op {} awaiting {} series ended with {:?}", intended, series, got
            );
            if series == 1 {
                prop_assert_eq!(got.len(), 1);
            }
            for s in got.iter().filter(|s| s.outcome == Outcome::Lost) {
                prop_assert_eq!(s.done.0, s.intended.0 + 300 * MS, "Lost at the loss deadline");
            }
        }
    }
}
