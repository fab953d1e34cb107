//! The SDK glue, exercised through the same FFI path the host uses.

use std::time::{Duration, Instant};

use loadgen_plugin_api::sdk::*;
use loadgen_plugin_api::testing;

const OP: Series = Series::new(0, "op");

loadgen_plugin_api::options! {
    struct BrittleOptions {
        /// refuse to start
        fail_start: bool = "false",
    }
}

/// Answers every op at once; panics when asked to fire op 13; reports a
/// disturbance when asked to fire op 7.
struct Brittle {
    recorder: Recorder,
    fired: std::sync::atomic::AtomicU64,
}

impl Plugin for Brittle {
    type Options = BrittleOptions;

    fn info() -> Info {
        Info::new("brittle", "0.0.1", "test double").series(&[OP])
    }

    async fn start(ctx: Context<BrittleOptions>) -> Result<Self, String> {
        if ctx.options.fail_start {
            return Err("refusing to start as asked".into());
        }
        Ok(Brittle {
            recorder: ctx.recorder,
            fired: Default::default(),
        })
    }

    fn fire(&self, batch: Batch) -> FireAck {
        let recorder = self.recorder.clone();
        for op in batch.ops() {
            if op.index == 13 {
                panic!("op 13 is unlucky");
            }
            if op.index == 7 {
                recorder.disturbed("connection lost: op 7 unplugged the cable");
            }
            let recorder = recorder.clone();
            // Spawning proves fire runs inside the plugin's runtime.
            tokio::spawn(async move {
                let now = clock::now();
                recorder.record(op.sent_at(now).ok(OP, now));
            });
        }
        self.fired
            .fetch_add(batch.count as u64, std::sync::atomic::Ordering::Relaxed);
        FireAck::all_accepted(batch.count)
    }

    fn counters(&self) -> Vec<Counter> {
        let fired = self.fired.load(std::sync::atomic::Ordering::Relaxed);
        vec![Counter::new("fired", fired)]
    }
}

fn batch(first_op: u64, count: u32) -> Batch {
    Batch {
        first_op,
        first_intended: clock::now(),
        interval_ns: 1_000,
        count,
    }
}

#[test]
fn samples_reach_the_sink_in_batches() {
    let (workload, sink) = testing::start::<Brittle>(&[], Duration::from_secs(1)).unwrap();
    let ack = workload.fire(batch(0, 10)).unwrap();
    assert_eq!(ack, FireAck::all_accepted(10));
    let samples = sink.wait_for(10, Duration::from_secs(5));
    assert_eq!(samples.len(), 10);
    assert!(samples.iter().all(|s| s.outcome == Outcome::Ok));
    let counters = workload.counters().unwrap();
    assert_eq!(counters[0].value, 10);
    workload.shutdown().unwrap();
}

#[test]
fn a_panic_in_fire_comes_back_as_an_error() {
    let (workload, _sink) = testing::start::<Brittle>(&[], Duration::from_secs(1)).unwrap();
    let err = workload.fire(batch(10, 5)).unwrap_err();
    assert_eq!(err.as_str(), "plugin panicked: op 13 is unlucky");
    // The workload survives its panic.
    assert!(workload.fire(batch(20, 1)).is_ok());
}

#[test]
fn start_errors_and_bad_options_are_reported() {
    let err = testing::start::<Brittle>(&[("fail_start", "true")], Duration::from_secs(1))
        .err()
        .unwrap();
    assert_eq!(err, "refusing to start as asked");
    let err = testing::start::<Brittle>(&[("nope", "1")], Duration::from_secs(1))
        .err()
        .unwrap();
    assert_eq!(
        err,
        "unknown option 'nope' for plugin brittle (valid: fail_start, worker_threads, fire_ahead)"
    );
    let err = testing::start::<Brittle>(&[("fail_start", "maybe")], Duration::from_secs(1))
        .err()
        .unwrap();
    assert!(
        err.starts_with("option 'fail_start': 'maybe' is not true or false"),
        "{err}"
    );
}

#[test]
fn fire_returns_at_once() {
    let (workload, sink) = testing::start::<Brittle>(&[], Duration::from_secs(1)).unwrap();
    let started = Instant::now();
    workload.fire(batch(100, 5_000)).unwrap();
    assert!(started.elapsed() < Duration::from_millis(500));
    assert_eq!(sink.wait_for(5_000, Duration::from_secs(5)).len(), 5_000);
}

#[test]
fn disturbances_reach_the_sink_at_once_with_their_time() {
    let (workload, sink) = testing::start::<Brittle>(&[], Duration::from_secs(1)).unwrap();
    let before = clock::now();
    workload.fire(batch(5, 5)).unwrap();
    let disturbances = sink.disturbances();
    assert_eq!(disturbances.len(), 1, "delivered before fire returned");
    let (at, reason) = &disturbances[0];
    assert_eq!(reason, "connection lost: op 7 unplugged the cable");
    assert!(*at >= before && *at <= clock::now());
    assert_eq!(sink.wait_for(5, Duration::from_secs(5)).len(), 5);
    workload.shutdown().unwrap();
}

loadgen_plugin_api::options! {
    struct MixOptions {
        /// request names, comma-separated (each its own series)
        names: String = "item,order",
    }
}

/// Series known only from its options, the last one with its own SLO.
struct Mix {
    names: Vec<String>,
}

impl Plugin for Mix {
    type Options = MixOptions;

    fn info() -> Info {
        Info::new("mix", "0.0.1", "test double").series(&[OP])
    }

    async fn start(ctx: Context<MixOptions>) -> Result<Self, String> {
        let names = ctx.options.names.split(',').map(str::to_string).collect();
        Ok(Mix { names })
    }

    fn fire(&self, batch: Batch) -> FireAck {
        FireAck::all_accepted(batch.count)
    }

    fn series_specs(&self) -> Vec<SeriesSpec> {
        let last = self.names.len() - 1;
        self.names
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let spec = SeriesSpec::new(i as u16, name.clone());
                if i == last {
                    spec.slo_p99(Duration::from_millis(500))
                } else {
                    spec
                }
            })
            .collect()
    }
}

#[test]
fn series_declared_at_start_reach_the_host() {
    let (workload, _sink) = testing::start::<Mix>(&[], Duration::from_secs(1)).unwrap();
    let declared = workload.series_at_start().unwrap();
    let shown: Vec<_> = declared
        .iter()
        .map(|d| (d.id, d.name.to_string(), d.slo_p99_ns.into_option()))
        .collect();
    assert_eq!(
        shown,
        [
            (0, "item".to_string(), None),
            (1, "order".to_string(), Some(500_000_000))
        ]
    );
    assert_eq!(
        workload.series_in_use().unwrap().as_slice(),
        [0, 1],
        "the series in use are the declared ones"
    );
    workload.shutdown().unwrap();
}

#[test]
fn a_plugin_that_declares_nothing_at_start_declares_its_series_in_use() {
    let (workload, _sink) = testing::start::<Brittle>(&[], Duration::from_secs(1)).unwrap();
    let declared = workload.series_at_start().unwrap();
    assert_eq!(declared.len(), 1);
    assert_eq!((declared[0].id, declared[0].name.as_str()), (0, "op"));
    assert!(declared[0].slo_p95_ns.is_none() && declared[0].slo_p99_ns.is_none());
    workload.shutdown().unwrap();
}

#[test]
fn a_bad_declaration_refuses_the_start_in_one_line() {
    let err = testing::start_error::<Mix>(&[("names", "item,item")]);
    assert_eq!(err, "two series are named 'item'");
}
