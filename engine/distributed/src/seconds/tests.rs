use super::*;
use crate::protocol::SummarySeries;

const S: u64 = SECOND_NS;

fn member(name: &str, offset_ns: i64) -> Member {
    Member {
        name: name.into(),
        offset_ns,
    }
}

/// Agent `name`'s summary of `second`: `accepted` ops so far, `latencies_ms`
/// answered since its last one, `failures` of them failed.
fn summary(
    name: &str,
    hold_start: u64,
    second: u32,
    accepted: u64,
    latencies_ms: &[u64],
    failures: u64,
) -> Summary {
    let mut latency = new_histogram();
    for ms in latencies_ms {
        latency.record(ms * 1_000_000).unwrap();
    }
    Summary {
        name: name.into(),
        hold_start,
        second,
        last: false,
        counts: PacerCounts {
            accepted,
            ..PacerCounts::default()
        },
        intervals: vec![SummarySeries::from_interval(&SeriesInterval {
            name: "E1".into(),
            service: latency.clone(),
            latency,
            failures,
        })],
        window: vec![SeriesCounts {
            errors: failures,
            answered_in_hold: accepted,
            ..SeriesCounts::default()
        }],
        gauges: [("queue".to_string(), accepted as i64)].into(),
    }
}

fn two_agents() -> Seconds {
    let mut s = Seconds::new(vec!["E1".into()]);
    // Hold [10 s, 13.5 s); agent b's clock is 1 s ahead.
    s.begin(
        10 * S,
        13 * S + S / 2,
        &[member("a", 0), member("b", S as i64)],
    );
    s
}

#[test]
fn the_summary_due_is_the_last_second_begun_then_the_hold_end_one() {
    let s = two_agents();
    let cases = [
        (10 * S, 0),
        (10 * S + S / 2, 0),
        (11 * S + 5, 1),
        (13 * S + S / 4, 3),
        (13 * S + S / 2, 4),
        (20 * S, 4),
    ];
    for (now, due) in cases {
        assert_eq!(s.due(now), due, "at {now}");
    }
}

#[test]
fn what_arrived_is_merged_exactly_and_an_interval_is_taken_once() {
    let mut s = two_agents();
    assert!(s
        .arrive(summary("a", 10 * S, 1, 100, &[1, 2, 3], 1))
        .unwrap());
    assert!(s.arrive(summary("b", 11 * S, 1, 50, &[100], 0)).unwrap());
    assert_eq!(s.counts().accepted, 150);
    assert_eq!(s.gauges()["queue"], 150, "gauges add up across agents");
    let interval = s.take_interval();
    assert_eq!((interval[0].latency.len(), interval[0].failures), (4, 1));
    assert_eq!(s.take_interval()[0].latency.len(), 0, "taken once");
    assert!(s.arrive(summary("a", 10 * S, 2, 180, &[4], 0)).unwrap());
    let stats = s.stats();
    let e1 = &stats.series[0];
    assert_eq!(e1.latency.count, 5, "the window is every interval so far");
    assert_eq!(e1.latency.max.as_millis(), 100);
    assert_eq!((e1.errors, e1.answered_in_hold), (0, 230), "latest counts");
    assert_eq!(
        s.counts().accepted,
        230,
        "cumulative tallies: the newest wins"
    );
}

#[test]
fn buckets_merge_exactly_as_histograms_add() {
    let mut a = new_histogram();
    for v in [1, 999, 1_000, 1_001, 123_456_789, 3_599_999_999_999] {
        a.record_n(v, v % 7 + 1).unwrap();
    }
    let mut added = new_histogram();
    added.record(5).unwrap();
    let mut recorded = added.clone();
    added.add(&a).unwrap();
    crate::protocol::Buckets::of(&a)
        .add_to(&mut recorded)
        .unwrap();
    assert_eq!(recorded, added);
    assert_eq!(crate::protocol::Buckets::of(&a).count(), a.len());
}

#[test]
fn stale_foreign_and_repeated_summaries_are_ignored() {
    let mut s = two_agents();
    let ignored = [
        summary("a", 9 * S, 1, 1, &[1], 0),  // another step
        summary("z", 10 * S, 1, 1, &[1], 0), // not in the run
    ];
    for summary in ignored {
        assert!(!s.arrive(summary).unwrap());
    }
    assert!(s.arrive(summary("a", 10 * S, 2, 7, &[1], 0)).unwrap());
    assert!(
        !s.arrive(summary("a", 10 * S, 1, 3, &[1], 0)).unwrap(),
        "older than the newest"
    );
    assert_eq!(s.counts().accepted, 7);
    assert_eq!(s.take_interval()[0].latency.len(), 1);
}

#[test]
fn an_overdue_agent_is_late_once_per_second_and_forgotten_when_lost() {
    let mut s = two_agents();
    let now = 11 * S + 10;
    s.arrive(summary("a", 10 * S, 1, 10, &[], 0)).unwrap();
    assert_eq!(s.awaited(now), ["b"]);
    assert_eq!(s.mark_late(now), ["b"]);
    assert_eq!(s.awaited(now), Vec::<String>::new(), "not waited for twice");
    assert_eq!(s.mark_late(now), Vec::<String>::new());
    // Its second comes in later: merged into the next point, not lost.
    s.arrive(summary("b", 11 * S, 1, 5, &[9], 0)).unwrap();
    assert_eq!(s.counts().accepted, 15);
    let next = 12 * S + 10;
    assert_eq!(s.awaited(next), ["a", "b"]);
    s.retain(&[member("a", 0)]);
    assert_eq!(s.awaited(next), ["a"], "a lost agent is nobody's wait");
    assert_eq!(s.late()["b"], 1);
    assert!(!s.late().contains_key("a"));
}

#[test]
fn the_hold_end_summary_ends_the_wait_and_a_new_step_starts_clean() {
    let mut s = two_agents();
    let end = 13 * S + S / 2;
    let mut last = summary("a", 10 * S, 4, 300, &[1], 0);
    last.last = true;
    s.arrive(last).unwrap();
    assert_eq!(s.awaited(end + 1), ["b"]);
    assert!(s.covers(end + 1) && !s.covers(end + S) && !s.in_hold(end));
    s.begin(20 * S, 21 * S, &[member("a", 0)]);
    assert_eq!(s.counts().accepted, 0);
    assert_eq!(s.take_interval()[0].latency.len(), 0);
    assert!(s.gauges().is_empty());
}

#[test]
fn a_hold_ended_early_awaits_nothing_and_is_asked_for() {
    let mut s = two_agents();
    let now = 11 * S + 10;
    assert!(s.in_hold(now) && !s.awaited(now).is_empty());
    s.halt();
    assert!(!s.in_hold(now) && !s.covers(now));
    assert_eq!(s.awaited(now), Vec::<String>::new());
    s.begin(20 * S, 21 * S, &[member("a", 0)]);
    assert!(s.in_hold(20 * S), "the next step is summed up again");
}
