//! Report values for renderer tests.

use super::*;
use crate::config::{Phases, Rates, SearchKind};
use crate::search::{Adaptive, Bracket, Outcome, Plan, Stop};
use crate::verdict::{Breach, Doubt, Percentile};

pub fn step(target_rps: u64, verdict: &str) -> StepReport {
    let typed = match verdict {
        // Reads "op p95=143ms > 100ms" and "no ops attempted".
        "TRIP" => Verdict::Trip(vec![Breach::Latency {
            series: "op".into(),
            percentile: Percentile::P95,
            measured: std::time::Duration::from_millis(143),
            limit: std::time::Duration::from_millis(100),
        }]),
        "INCONCLUSIVE" => Verdict::Inconclusive(Doubt::NoOps { refused: 0 }),
        _ => Verdict::Pass,
    };
    StepReport {
        probe: 0,
        target_rps,
        achieved_rps: target_rps as f64 * 0.999,
        attempt: 1,
        series: vec![SeriesReport {
            name: "op".into(),
            count: target_rps * 3,
            p50_ms: 1.2,
            p95_ms: if verdict == "TRIP" { 143.0 } else { 2.5 },
            p99_ms: if verdict == "TRIP" { 180.0 } else { 3.25 },
            max_ms: 200.0,
            service_p99_ms: 1.0,
        }],
        error_rate: 0.0,
        loss_rate: 0.0,
        attempted: target_rps * 3,
        failed: 0,
        lost: 0,
        saturation: 0,
        emit_underrun: 0,
        worst_durable: Some("queue".into()),
        worst_backlog_delta: Some(if verdict == "TRIP" { 1500 } else { 0 }),
        counters: Default::default(),
        backlogs: vec![BacklogChange {
            name: "queue".into(),
            start: 0,
            end: if verdict == "TRIP" { 1500 } else { 0 },
            unacked: None,
        }],
        verdict: typed,
        per_second: Vec::new(),
        histograms: Vec::new(),
        search: None,
    }
}

pub fn report(steps: &[(u64, &str)]) -> RunReport {
    let steps: Vec<StepReport> = steps
        .iter()
        .enumerate()
        .map(|(i, (r, v))| StepReport {
            probe: i as u32,
            ..step(*r, v)
        })
        .collect();
    RunReport {
        schema_version: SCHEMA_VERSION,
        settings: settings(steps.iter().map(|s| s.target_rps).collect()),
        plugin_version: "0.1.0".into(),
        answer: answer(&steps),
        steps,
        interrupted: false,
        search: None,
        agents: Vec::new(),
    }
}

/// A resolved config of a quick synthetic run over `rates`.
pub fn settings(rates: Vec<u64>) -> RunConfig {
    let mut c = RunConfig::new("synthetic");
    c.options.insert("capacity".into(), "3000".into());
    c.rates.steps = (!rates.is_empty()).then_some(crate::steps::StepList(rates));
    c.phases = Phases {
        warmup: std::time::Duration::from_secs(1),
        hold: std::time::Duration::from_secs(3),
        drain: std::time::Duration::from_secs(2),
        cooldown: std::time::Duration::ZERO,
    };
    c
}

/// An adaptive run: `steps` in the order probed, ending as `outcome` says.
pub fn adaptive_report(steps: &[(u64, &str)], outcome: Outcome) -> RunReport {
    let mut r = report(steps);
    r.settings.rates = Rates {
        search: SearchKind::Adaptive,
        start_rps: Some(500),
        ..Rates::default()
    };
    let search = SearchReport {
        plan: Plan::Adaptive(Adaptive::new(500)),
        outcome,
    };
    r.answer = search_answer(&r.steps, &search);
    r.search = Some(search);
    r
}

pub fn outcome(pass: Option<u64>, trip: Option<u64>, stop: Stop) -> Outcome {
    Outcome::bare(Bracket { pass, trip }, stop, 0)
}
