//! A measuring actor that fails mid-hold is restarted; that step is
//! INCONCLUSIVE with the reason, re-run, and the run still finishes.

mod common;

use std::time::Duration;

use loadgen_runtime::collector::CollectorMsg;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_collector_failure_mid_hold_makes_the_step_inconclusive_and_re_runs_it() {
    let spec = common::quick_spec("synthetic", &[("capacity", "100000")], &[300]);
    let collector = spec.collector.clone();
    let run = tokio::spawn(loadgen_runtime::run(spec, std::future::pending()));

    // Warmup is 300 ms: 1 s in, the first attempt is mid-hold.
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    let first = collector.current().expect("the collector runs");
    first
        .send_message(CollectorMsg::InjectFailure("injected by test".into()))
        .unwrap();

    let report = tokio::time::timeout(Duration::from_secs(30), run)
        .await
        .expect("the run finishes")
        .unwrap()
        .unwrap();
    let verdicts: Vec<(&str, u32)> = report
        .steps
        .iter()
        .map(|s| (s.verdict.label(), s.attempt))
        .collect();
    assert_eq!(verdicts, [("INCONCLUSIVE", 1), ("PASS", 2)], "{report:#?}");
    assert_eq!(
        report.steps[0].reasons(),
        ["collector restarted during the step: injected by test"]
    );
    assert_eq!(report.answer.max_rps, Some(300));
    let now = collector.current().expect("a collector runs again");
    assert_ne!(
        now.get_id(),
        first.get_id(),
        "the sink's handle was swapped"
    );
}
