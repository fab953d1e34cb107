//! The end of a step: what the children measured, turned into the verdict's
//! inputs and the step's report line. Pure functions of their arguments.

use std::collections::BTreeMap;

use crate::backlog::BacklogChange;
use crate::collector::CollectorStats;
use crate::counters::{CounterDeltas, CounterSnapshot};
use crate::disturbance::{self, Disturbance};
use crate::pacer::PacerCounts;
use crate::report::{ms_value, SeriesReport, StepReport};
use crate::search::{Measurement, StepSearch};
use crate::verdict::{CounterGate, Doubt, Signal, StepInputs, Verdict};

use super::machine::overload::StoppedEarly;
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
    // What the plugin says disturbed the step explains the signals it broke.
    if let Ok(reported) = &m.disturbances {
        if let Some(summary) = disturbance::step_reason(reported, cur.times.start) {
            note(Doubt::Disturbed { summary });
        }
    }
    let mut backlogs = backlog_changes(cur, &mut note);
    let mut counts = m.counts.unwrap_or_else(|e| {
        note(unavailable(Signal::Pacer, &e));
        PacerCounts::default()
    });
    if let Some(stopped) = &cur.stopped_early {
        end_at_early_stop(stopped, &mut counts, &mut backlogs);
    }
    let (deltas, counter_gates) = counter_readings(cur, config, &m.end_counters, &mut note);
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
    let extras = Extras {
        stats,
        counters: deltas.by_name,
        in_use,
    };
    (inputs, extras)
}

/// A signal that could not be read, as the step's doubt.
fn unavailable(signal: Signal, error: &str) -> Doubt {
    Doubt::Unavailable {
        signal,
        error: error.to_string(),
    }
}

/// Each backlog over the hold; a failed boundary reading is noted.
fn backlog_changes(cur: &Current, note: &mut impl FnMut(Doubt)) -> Vec<BacklogChange> {
    if let Some(Err(e)) = &cur.backlogs_at_start {
        note(unavailable(Signal::Backlog, e));
    }
    match &cur.backlog_changes {
        Some(Ok(changes)) => changes.clone(),
        Some(Err(e)) => {
            note(unavailable(Signal::Backlog, e));
            Vec::new()
        }
        None => {
            note(unavailable(Signal::Backlog, "no hold-end reading"));
            Vec::new()
        }
    }
}

/// A hold stopped early ends at the reading that stopped it.
fn end_at_early_stop(
    stopped: &StoppedEarly,
    counts: &mut PacerCounts,
    backlogs: &mut [BacklogChange],
) {
    counts.accepted = stopped.accepted;
    for change in backlogs {
        if let Some(&end) = stopped.backlogs.as_ref().and_then(|b| b.get(&change.name)) {
            change.end = end;
        }
    }
}

/// The plugin counters' deltas over the step and the `--slo-counter` gates;
/// a snapshot or a gate that could not be read is noted.
fn counter_readings(
    cur: &Current,
    config: &RunConfig,
    end_counters: &Result<CounterSnapshot, String>,
    note: &mut impl FnMut(Doubt),
) -> (CounterDeltas, Vec<CounterGate>) {
    let start_counters = cur
        .start_counters
        .clone()
        .unwrap_or_else(|| Err("no hold-start snapshot".into()));
    match (&start_counters, end_counters) {
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
    }
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
