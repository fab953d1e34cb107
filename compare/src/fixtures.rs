//! Reports for the tests: steps with per-second points and kept histograms.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use loadgen_core::backlog::BacklogChange;
use loadgen_core::config::RunConfig;
use loadgen_core::report::histograms::{encode, StepHistogram};
use loadgen_core::report::per_second::{SecondPoint, SeriesSecond};
use loadgen_core::report::{answer, RunReport, SeriesReport, StepReport, SCHEMA_VERSION};
use loadgen_core::search::{Bracket, Outcome, Plan, Stop, Trials};
use loadgen_core::verdict::{Breach, Doubt, Percentile, Verdict};

/// A step at `rps` whose seconds answered with p50 = `ms` and p99 = 2·`ms`
/// (`ms` per second of the hold), with `failed` of its ops failing.
pub fn measured(rps: u64, verdict: &str, ms: &[f64], failed: u64) -> StepReport {
    let mut latency = Histogram::<u64>::new_with_bounds(1, 3_600_000_000_000, 3).unwrap();
    for &m in ms {
        let ns = (m * 1e6) as u64;
        latency.record_n(ns, 98).unwrap();
        latency.record_n(ns * 2, 2).unwrap();
    }
    let per_second = ms
        .iter()
        .enumerate()
        .map(|(i, &m)| SecondPoint {
            t_s: (i + 1) as f64,
            achieved_rps: rps as f64,
            failures: failed / ms.len() as u64,
            series: vec![SeriesSecond {
                name: "op".into(),
                count: rps,
                p50_ms: m,
                p99_ms: 2.0 * m,
                service_p50_ms: m,
                service_p99_ms: m,
            }],
            backlog: BTreeMap::from([("queue".to_string(), i as i64 + 1)]).into(),
        })
        .collect();
    let attempted = rps * ms.len() as u64;
    StepReport {
        probe: 0,
        target_rps: rps,
        achieved_rps: rps as f64,
        attempt: 1,
        series: vec![SeriesReport {
            name: "op".into(),
            count: attempted,
            p50_ms: ms[0],
            p95_ms: 2.0 * ms[0],
            p99_ms: 2.0 * ms[0],
            max_ms: 2.0 * ms[0],
            service_p99_ms: ms[0],
        }],
        error_rate: failed as f64 / attempted as f64,
        loss_rate: 0.0,
        attempted,
        failed,
        lost: 0,
        saturation: 0,
        emit_underrun: 0,
        worst_durable: Some("queue".into()),
        worst_backlog_delta: Some(ms.len() as i64),
        backlogs: vec![BacklogChange {
            name: "queue".into(),
            start: 0,
            end: ms.len() as i64,
            unacked: None,
        }],
        counters: Default::default(),
        verdict: verdict_of(verdict),
        per_second,
        histograms: vec![StepHistogram {
            series: "op".into(),
            latency: encode(&latency),
            service: encode(&latency),
        }],
        search: None,
    }
}

fn verdict_of(text: &str) -> Verdict {
    match text {
        "TRIP" => Verdict::Trip(vec![Breach::Latency {
            series: "op".into(),
            percentile: Percentile::P99,
            measured: std::time::Duration::from_millis(300),
            limit: std::time::Duration::from_millis(250),
        }]),
        "INCONCLUSIVE" => Verdict::Inconclusive(Doubt::NoOps { refused: 0 }),
        _ => Verdict::Pass,
    }
}

/// A step whose five seconds all answered in 1 ms.
pub fn step(rps: u64, verdict: &str) -> StepReport {
    measured(rps, verdict, &[1.0; 5], 0)
}

pub fn report(steps: &[(u64, &str)]) -> RunReport {
    report_of(steps.iter().map(|(r, v)| step(*r, v)).collect())
}

/// A synthetic ladder run of these steps (numbered in order).
pub fn report_of(mut steps: Vec<StepReport>) -> RunReport {
    for (i, s) in steps.iter_mut().enumerate() {
        s.probe = i as u32;
    }
    let mut settings = RunConfig::new("synthetic");
    settings.options.insert("capacity".into(), "3000".into());
    RunReport {
        schema_version: SCHEMA_VERSION,
        settings,
        plugin_version: "0.1.0".into(),
        answer: answer(&steps),
        steps,
        interrupted: false,
        search: None,
        agents: Vec::new(),
    }
}

/// `report` as an adaptive search that ran the answer `runs` times, `held` passing.
pub fn with_trials(mut report: RunReport, rps: u64, runs: u32, held: u32) -> RunReport {
    let bracket = Bracket {
        pass: report.answer.max_rps,
        trip: report.answer.next_limit_rps,
    };
    let mut outcome = Outcome::bare(bracket, Stop::Converged, report.steps.len() as u32);
    outcome.trials = Some(Trials { rps, runs, held });
    report.search = Some(loadgen_core::report::SearchReport {
        plan: Plan::Fixed {
            rates: report.steps.iter().map(|s| s.target_rps).collect(),
            stop_on_trip: true,
        },
        outcome,
    });
    report
}
