//! The end of a step: what the children measured, turned into the verdict's
//! inputs and the step's report line. Pure functions of their arguments.

use std::collections::BTreeMap;

use crate::collector::CollectorStats;
use crate::counters::CounterSnapshot;
use crate::disturbance::{self, Disturbance};
use crate::pacer::PacerCounts;
use crate::report::{ms_value, SeriesReport, StepReport};
use crate::search::{Measurement, StepSearch};
use crate::verdict::{Doubt, Signal, StepInputs, Verdict};

use super::machine::Current;
use crate::config::RunConfig;

/// What the children reported at the end of a step.
#[derive(Debug)]
pub struct Measured {
    pub counts: Result<PacerCounts, String>,
    pub end_counters: Result<CounterSnapshot, String>,
    pub stats: Result<CollectorStats, String>,
    /// The series the plugin records (others are not judged).
    pub in_use: Result<Vec<u16>, String>,
    /// What the plugin reported disturbed since the step was activated.
    pub disturbances: Result<Vec<Disturbance>, String>,
}

/// What the report shows beyond the verdict's inputs.
pub(super) struct Extras {
    pub(super) stats: CollectorStats,
    /// Plugin counter deltas from hold start to drain end, for diagnosis.
    counters: BTreeMap<String, u64>,
    /// The series the plugin records.
    in_use: Vec<u16>,
}

/// Assemble the verdict's inputs; the first broken signal, if any, becomes
/// the measurement failure (so the step is INCONCLUSIVE, never PASS).
pub(super) fn step_inputs(cur: &Current, config: &RunConfig, m: Measured) -> (StepInputs, Extras) {
    let mut failure = cur.disrupted.clone();
    let mut note = |doubt: Doubt| {
        failure.get_or_insert(doubt);
    };
    let unavailable = |signal: Signal, error: &str| Doubt::Unavailable {
        signal,
        error: error.to_string(),
    };
    // What the plugin says disturbed the step explains the signals it broke.
    if let Ok(reported) = &m.disturbances {
        if let Some(summary) = disturbance::step_reason(reported, cur.times.start) {
            note(Doubt::Disturbed { summary });
        }
    }
    if let Some(Err(e)) = &cur.backlogs_at_start {
        note(unavailable(Signal::Backlog, e));
    }
    let mut backlogs = match &cur.backlog_changes {
        Some(Ok(changes)) => changes.clone(),
        Some(Err(e)) => {
            note(unavailable(Signal::Backlog, e));
            Vec::new()
        }
        None => {
            note(unavailable(Signal::Backlog, "no hold-end reading"));
            Vec::new()
        }
    };
    let mut counts = m.counts.unwrap_or_else(|e| {
        note(unavailable(Signal::Pacer, &e));
        PacerCounts::default()
    });
    // A hold stopped early ends at the reading that stopped it.
    if let Some(stopped) = &cur.stopped_early {
        counts.accepted = stopped.accepted;
        for change in &mut backlogs {
            if let Some(&end) = stopped.backlogs.as_ref().and_then(|b| b.get(&change.name)) {
                change.end = end;
            }
        }
    }
    let start_counters = cur
        .start_counters
        .clone()
        .unwrap_or_else(|| Err("no hold-start snapshot".into()));
    let (deltas, counter_gates) = match (&start_counters, &m.end_counters) {
        (Ok(start), Ok(end)) => {
            let mut gates = Vec::new();
            for spec in &config.slo_counter {
                match spec.evaluate(&start.scraped, &end.scraped) {
                    Ok(gate) => gates.push(gate),
                    Err(e) => note(unavailable(Signal::Counter, &e)),
                }
            }
            (end.delta_since(start), gates)
        }
        (Err(e), _) | (_, Err(e)) => {
            note(unavailable(Signal::Counter, e));
            Default::default()
        }
    };
    let stats = m.stats.unwrap_or_else(|e| {
        note(unavailable(Signal::Latency, &e));
        CollectorStats::default()
    });
    let in_use = m.in_use.unwrap_or_else(|e| {
        note(unavailable(Signal::Plugin, &e));
        Vec::new()
    });
    if let Err(e) = &m.disturbances {
        note(unavailable(Signal::Disturbance, e));
    }
    let inputs = StepInputs {
        target_rps: cur.rps,
        hold: cur.held(config),
        attempted: counts.accepted,
        // A hold stopped early counts its ops up to the stop reading; the
        // few released until the halt still fail or get lost: not more than all.
        failed: (stats.failed() + counts.fire_errors).min(counts.accepted),
        lost: stats.lost().min(counts.accepted),
        saturated: counts.saturated,
        emit_underrun: counts.emit_underrun,
        series: stats
            .series
            .iter()
            .enumerate()
            .filter(|(i, _)| in_use.contains(&(*i as u16)))
            .map(|(_, s)| s.latency.clone())
            .collect(),
        backlogs,
        counter_gates,
        measurement_failure: failure,
    };
    (
        inputs,
        Extras {
            stats,
            counters: deltas.by_name,
            in_use,
        },
    )
}

pub(super) fn step_report(
    cur: &Current,
    inputs: &StepInputs,
    extras: &Extras,
    verdict: &Verdict,
    measurement: &Measurement,
) -> StepReport {
    let service_p99 = |name: &str| {
        extras
            .stats
            .series
            .iter()
            .find(|s| s.latency.name == name)
            .map_or(0.0, |s| ms_value(s.service_p99))
    };
    let worst = inputs.worst_backlog();
    StepReport {
        probe: cur.probe,
        target_rps: cur.rps,
        achieved_rps: inputs.achieved_rps(),
        attempt: cur.attempt,
        series: inputs
            .series
            .iter()
            .map(|s| SeriesReport {
                name: s.name.clone(),
                count: s.count,
                p50_ms: ms_value(s.p50),
                p95_ms: ms_value(s.p95),
                p99_ms: ms_value(s.p99),
                max_ms: ms_value(s.max),
                service_p99_ms: service_p99(&s.name),
            })
            .collect(),
        error_rate: inputs.error_rate(),
        loss_rate: inputs.loss_rate(),
        attempted: inputs.attempted,
        failed: inputs.failed,
        lost: inputs.lost,
        saturation: inputs.saturated,
        emit_underrun: inputs.emit_underrun,
        worst_durable: worst.map(|p| p.name.clone()),
        worst_backlog_delta: worst.map(|p| p.growth()),
        backlogs: inputs.backlogs.clone(),
        counters: extras.counters.clone(),
        verdict: verdict.clone(),
        per_second: Vec::new(),
        histograms: Vec::new(),
        search: Some(Box::new(
            StepSearch::new(cur.chosen_by, cur.estimate, measurement.clone())
                .stopped_early(cur.stopped_early.as_ref().map(|s| s.held)),
        )),
    }
}

impl Extras {
    /// Answers completed per second of the hold: the offered rate times the
    /// share answered within the hold (`None` if none were counted: a
    /// collector that restarted, or a plugin that answers nothing).
    pub(super) fn goodput_rps(&self, attempted: u64, hold: std::time::Duration) -> Option<f64> {
        let share = self.stats.answered_share(&self.in_use)?;
        (hold > std::time::Duration::ZERO)
            .then(|| share.min(1.0) * attempted as f64 / hold.as_secs_f64())
    }
}
