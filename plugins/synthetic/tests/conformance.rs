//! The plugin through the same FFI glue the host uses
//! (`loadgen_plugin_api::testing`). Timing bounds are wide: the box is busy.

use std::time::{Duration, Instant};

use loadgen_plugin_api::sdk::*;
use loadgen_plugin_api::testing::{self, RecordingSink};
use loadgen_plugin_synthetic::config::SyntheticOptions;
use loadgen_plugin_synthetic::Synthetic;

const LOSS: Duration = Duration::from_secs(10);

/// `count` ops all due now.
fn burst(first_op: u64, count: u32) -> Batch {
    Batch {
        first_op,
        first_intended: clock::now(),
        interval_ns: 0,
        count,
    }
}

fn counter(workload: &loadgen_plugin_api::abi::WorkloadBox, name: &str) -> u64 {
    let counters = workload.counters().unwrap();
    counters
        .iter()
        .find(|c| c.name.as_str() == name)
        .unwrap()
        .value
}

#[test]
fn describes_itself_and_starts_with_its_defaults() {
    let info = Synthetic::info();
    assert_eq!(info.name, "synthetic");
    assert_eq!(info.series[0].name(), "op");
    assert_eq!(info.error_reasons[0].name(), "synthetic");
    assert_eq!(info.default_steps, "1k,2k,5k,10k,20k");
    let declared = SyntheticOptions::declare();
    let declared: Vec<(&str, &str)> = declared
        .iter()
        .map(|o| (o.name.as_str(), o.default.as_str()))
        .collect();
    assert_eq!(
        declared,
        [
            ("capacity", "1000"),
            ("base_latency", "1ms"),
            ("error_rate", "0"),
            ("stall_every", "0s"),
            ("stall_for", "0s"),
            ("max_in_flight", "0"),
            ("capacity_jitter", "0"),
            ("mix", ""),
        ]
    );
    assert!(SyntheticOptions::declare()
        .iter()
        .all(|o| !o.help.is_empty()));
    let (workload, _sink) = testing::start::<Synthetic>(&[], LOSS).unwrap();
    workload.shutdown().unwrap();
}

#[test]
fn bad_options_are_refused_naming_the_option() {
    let table: &[(&str, &str, &str)] = &[
        (
            "capacity",
            "abc",
            "option 'capacity': 'abc' is not a whole number",
        ),
        ("capacity", "0", "option 'capacity' must be > 0"),
        (
            "base_latency",
            "soon",
            "option 'base_latency': 'soon' is not a duration",
        ),
        (
            "error_rate",
            "2",
            "option 'error_rate' must be between 0 and 1",
        ),
        (
            "stall_every",
            "x",
            "option 'stall_every': 'x' is not a duration",
        ),
        (
            "stall_for",
            "5s",
            "option 'stall_for' needs a stall_every > 0",
        ),
        (
            "max_in_flight",
            "lots",
            "option 'max_in_flight': 'lots' is not a whole number",
        ),
        (
            "mix",
            "read:9",
            "option 'mix': 'read:9' is not name:weight:cost",
        ),
        (
            "capcity",
            "1",
            "unknown option 'capcity' for plugin synthetic (valid: ",
        ),
    ];
    for (key, value, want) in table {
        let err = testing::start_error::<Synthetic>(&[(key, value)]);
        assert!(
            err.starts_with(want),
            "{key}={value}: {err:?} should start with {want:?}"
        );
    }
}

#[test]
fn fire_returns_at_once_and_the_queue_shows_the_burst() {
    let (workload, _sink) = testing::start::<Synthetic>(&[("capacity", "1000")], LOSS).unwrap();
    let started = Instant::now();
    let ack = workload.fire(burst(0, 5_000)).unwrap();
    assert!(
        started.elapsed() < Duration::from_millis(200),
        "fire took {:?}",
        started.elapsed()
    );
    assert_eq!(ack, FireAck::all_accepted(5_000));
    // 5 s of work at 1000 ops/s: most of it is still queued.
    let backlog = workload.backlog().unwrap();
    assert_eq!(backlog.len(), 1);
    assert_eq!(backlog[0].name.as_str(), "queue");
    assert!(
        backlog[0].value > 0 && backlog[0].value <= 5_000,
        "{:?}",
        backlog[0]
    );
    assert_eq!(counter(&workload, "attempted"), 5_000);
    workload.shutdown().unwrap();
}

/// Poll the sink until `n` samples arrived, checking on every look that each
/// sample present is already due: delivered no earlier than its `done`.
fn collect_never_early(sink: &RecordingSink, n: usize) -> Vec<Sample> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let samples = sink.samples();
        let now = clock::now();
        for s in &samples {
            assert!(
                s.done <= now,
                "sample delivered {} ns before done",
                s.done.since(now)
            );
        }
        if samples.len() >= n || Instant::now() >= deadline {
            return samples;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn samples_arrive_once_done_and_not_before() {
    // 200 ops at 2000/s with 50 ms base latency: done from +50.5 ms to +150 ms.
    let options = [("capacity", "2000"), ("base_latency", "50ms")];
    let (workload, sink) = testing::start::<Synthetic>(&options, LOSS).unwrap();
    let fired = clock::now();
    workload.fire(burst(0, 200)).unwrap();
    let samples = sink.wait_for(1, Duration::from_secs(10));
    assert!(
        clock::now().since(fired) >= 50_000_000,
        "first sample before its base latency"
    );
    assert!(!samples.is_empty());
    let samples = collect_never_early(&sink, 200);
    assert_eq!(samples.len(), 200);
    assert!(samples
        .iter()
        .all(|s| s.outcome == Outcome::Ok && s.series == 0));
    // FIFO: done times follow op order, 0.5 ms apart.
    for pair in samples.windows(2) {
        assert_eq!(pair[1].done.since(pair[0].done), 500_000);
    }
    workload.shutdown().unwrap();
}

#[test]
fn the_in_flight_bound_refuses_and_loss_is_recorded_at_the_deadline() {
    let options = [
        ("capacity", "10"),
        ("base_latency", "0s"),
        ("max_in_flight", "10"),
    ];
    let loss = Duration::from_millis(450);
    let (workload, sink) = testing::start::<Synthetic>(&options, loss).unwrap();
    let ack = workload.fire(burst(0, 15)).unwrap();
    assert_eq!(
        ack,
        FireAck {
            accepted: 10,
            saturated: 5
        }
    );
    // At 10 ops/s op k ends k·100 ms after the fire: ops 1–4 answer within
    // 450 ms of their intended time (50 ms to spare for a slow fire call).
    let samples = collect_never_early(&sink, 10);
    let lost = samples
        .iter()
        .filter(|s| s.outcome == Outcome::Lost)
        .count();
    assert_eq!((samples.len(), lost), (10, 6));
    for s in samples.iter().filter(|s| s.outcome == Outcome::Lost) {
        assert_eq!(s.done.since(s.intended), 450_000_000);
    }
    assert_eq!(counter(&workload, "saturated"), 5);
    assert_eq!(counter(&workload, "lost"), 6);
    workload.shutdown().unwrap();
}

#[test]
fn error_rate_one_fails_every_op() {
    let options = [("capacity", "100000"), ("error_rate", "1")];
    let (workload, sink) = testing::start::<Synthetic>(&options, LOSS).unwrap();
    workload.fire(burst(0, 100)).unwrap();
    let samples = sink.wait_for(100, Duration::from_secs(10));
    assert_eq!(samples.len(), 100);
    assert!(samples
        .iter()
        .all(|s| s.outcome == Outcome::Error && s.reason == 0));
    assert_eq!(counter(&workload, "errors"), 100);
    workload.shutdown().unwrap();
}

#[test]
fn a_mix_declares_one_series_per_kind_and_deals_them_by_weight() {
    let (workload, sink) =
        testing::start::<Synthetic>(&[("mix", "read:9:1,write:1:5:p99=30ms")], LOSS).unwrap();
    let declared: Vec<_> = workload
        .series_at_start()
        .unwrap()
        .iter()
        .map(|d| (d.id, d.name.to_string(), d.slo_p99_ns.into_option()))
        .collect();
    assert_eq!(
        declared,
        [
            (0, "read".to_string(), None),
            (1, "write".to_string(), Some(30_000_000))
        ]
    );
    workload.fire(burst(0, 100)).unwrap();
    let samples = sink.wait_for(100, Duration::from_secs(10));
    let writes = samples.iter().filter(|s| s.series == 1).count();
    assert_eq!((samples.len(), writes), (100, 10), "9 reads to 1 write");
    workload.shutdown().unwrap();
}

#[test]
fn without_a_mix_the_one_series_is_op() {
    let (workload, _sink) = testing::start::<Synthetic>(&[], LOSS).unwrap();
    let declared = workload.series_at_start().unwrap();
    assert_eq!(declared.len(), 1);
    assert_eq!((declared[0].id, declared[0].name.as_str()), (0, "op"));
    workload.shutdown().unwrap();
}
