use super::*;
use crate::collector::new_histogram;

fn parts(name: &str, latencies_us: impl IntoIterator<Item = u64>, errors: u64) -> SeriesParts {
    let mut p = SeriesParts::empty(name);
    for us in latencies_us {
        p.latency.record(us * 1_000).unwrap();
        p.service.record(us * 500).unwrap();
    }
    p.counts.errors = errors;
    p.counts.answered_in_hold = p.latency.len() + errors;
    p
}

#[test]
fn merged_percentiles_are_those_of_the_union_never_an_average() {
    // Agent a: 900 fast answers; agent b: 100 slow ones. The union's p99 is
    // slow; an average of the agents' p99s would be neither.
    let a = parts("E1", (0..900).map(|i| 1_000 + i), 1);
    let b = parts("E1", (0..100).map(|i| 50_000 + i * 10), 2);
    let mut union = new_histogram();
    for v in (0..900)
        .map(|i| 1_000 + i)
        .chain((0..100).map(|i| 50_000 + i * 10))
    {
        union.record(v * 1_000).unwrap();
    }
    let wire = |p: &SeriesParts| WireSeries::from_parts(p).into_parts().unwrap();
    let names = vec!["E1".to_string(), "E2".to_string()];
    let merged = merge_series(&names, vec![vec![wire(&a)], vec![wire(&b)]]).unwrap();
    let stats = merged[0].stats();
    assert_eq!(stats.latency.count, 1_000);
    assert_eq!(
        stats.latency.p99.as_nanos() as u64,
        union.value_at_quantile(0.99)
    );
    assert_eq!(
        stats.latency.p50.as_nanos() as u64,
        union.value_at_quantile(0.5)
    );
    let averaged = (a.stats().latency.p99 + b.stats().latency.p99) / 2;
    assert_ne!(stats.latency.p99, averaged);
    assert_eq!((stats.errors, stats.answered_in_hold), (3, 1_003));
    assert_eq!(
        merged[1].stats().latency.count,
        0,
        "a series no agent fed stays empty"
    );
}

#[test]
fn histograms_survive_the_wire_exactly() {
    let p = parts("E1", [1, 2, 2, 3_600_000], 0);
    let back = WireSeries::from_parts(&p).into_parts().unwrap();
    assert_eq!(back, p);
    assert!(decode("not base64!").is_err());
}

#[test]
fn subjects_stay_under_the_prefix() {
    let s = Subjects::new("run7");
    assert_eq!(s.announce(), "run7.announce");
    assert_eq!(s.heartbeat("a1"), "run7.heartbeat.a1");
    assert_eq!(s.request::<Step>("a1"), "run7.agent.a1.step");
    assert_eq!(s.requests("a1"), "run7.agent.a1.*");
}
