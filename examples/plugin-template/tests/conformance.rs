//! The plugin as a crate, through the same glue loadgen uses.

use std::time::Duration;

use loadgen_plugin_api::sdk::*;
use loadgen_plugin_api::testing;
use loadgen_plugin_template::{Template, REFUSED};

const LOSS: Duration = Duration::from_secs(5);

fn batch(count: u32) -> Batch {
    Batch {
        first_op: 0,
        first_intended: clock::now(),
        interval_ns: 100_000,
        count,
    }
}

#[test]
fn declares_its_options_with_help() {
    let (options, all_have_help) = testing::declared_options::<Template>();
    let names: Vec<&str> = options.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "latency",
            "error_every",
            "max_in_flight",
            "request_timeout",
            "worker_threads"
        ]
    );
    assert!(all_have_help);
    let err = testing::start_error::<Template>(&[("latency", "soon")]);
    assert!(
        err.starts_with("option 'latency': 'soon' is not a duration"),
        "{err}"
    );
}

#[test]
fn every_op_ends_in_one_sample() {
    let options = [("latency", "1ms"), ("error_every", "4")];
    let (workload, sink) = testing::start::<Template>(&options, LOSS).unwrap();
    assert_eq!(workload.fire(batch(8)).unwrap(), FireAck::all_accepted(8));
    let samples = sink.wait_for(8, Duration::from_secs(10));
    assert_eq!(samples.len(), 8);
    let errors = samples
        .iter()
        .filter(|s| s.outcome == Outcome::Error)
        .count();
    assert_eq!(errors, 2);
    assert!(samples
        .iter()
        .filter(|s| s.outcome == Outcome::Error)
        .all(|s| s.reason == REFUSED.index()));
    workload.shutdown().unwrap();
}

#[test]
fn a_full_table_refuses_and_a_slow_reply_times_out() {
    let options = [
        ("latency", "10s"),
        ("max_in_flight", "3"),
        ("request_timeout", "100ms"),
    ];
    let (workload, sink) = testing::start::<Template>(&options, LOSS).unwrap();
    let ack = workload.fire(batch(5)).unwrap();
    assert_eq!((ack.accepted, ack.saturated), (3, 2));
    let samples = sink.wait_for(3, Duration::from_secs(10));
    assert!(
        samples.iter().all(|s| s.outcome == Outcome::Timeout),
        "{samples:?}"
    );
    workload.shutdown().unwrap();
}
