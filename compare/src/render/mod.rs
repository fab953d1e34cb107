//! Renderings of a [`Comparison`](crate::Comparison), each to `impl Write`:
//! [`text`] for the terminal, [`markdown`] for a CI step summary, [`junit`]
//! for CI test reports, [`json`] (schema: `docs/compare.schema.json`); and of
//! a single run for `max-rps --junit/--markdown` ([`junit::write_run`],
//! [`markdown::write_run`]).

pub mod json;
pub mod junit;
pub mod markdown;
pub mod text;

use crate::change::{round_sig, Change};
use crate::rates::RateComparison;
use crate::Comparison;

/// One line of the per-rate table: rate, series, figure, base, new, change.
pub(crate) type Row = [String; 6];

/// The per-rate table shared by the text and Markdown renderings.
pub(crate) fn rate_rows(c: &Comparison) -> Vec<Row> {
    let mut rows = Vec::new();
    for r in &c.rates {
        rows.extend(rows_of(r));
    }
    rows
}

/// The rows of one compared rate (its name only on the first).
pub(crate) fn rows_of(r: &RateComparison) -> Vec<Row> {
    let mut rows = Vec::new();
    let mut rate = Some(rate_text(r));
    let mut row = |series: &str, figure: &str, change: &Change, unit: Unit| {
        rows.push([
            rate.take().unwrap_or_default(),
            series.to_string(),
            figure.to_string(),
            unit.show(change.base),
            unit.show(change.new),
            change.verdict_text(),
        ]);
    };
    for s in &r.series {
        row(&s.name, "p50", &s.p50, Unit::Ms);
        row(&s.name, "p95", &s.p95, Unit::Ms);
        row(&s.name, "p99", &s.p99, Unit::Ms);
    }
    row("", "error rate", &r.error_rate, Unit::Percent);
    row("", "loss rate", &r.loss_rate, Unit::Percent);
    row("", "backlog growth", &r.backlog_growth, Unit::Count);
    rows
}

/// `2000 ops/s (PASS / PASS)`, `2000 → 2100 ops/s (PASS / TRIP)`.
pub(crate) fn rate_text(r: &RateComparison) -> String {
    let rates = if r.base_rps == r.new_rps {
        format!("{} ops/s", r.base_rps)
    } else {
        format!("{} → {} ops/s", r.base_rps, r.new_rps)
    };
    format!(
        "{rates} ({} / {})",
        r.base_verdicts.join(","),
        r.new_verdicts.join(",")
    )
}

/// A note for rates whose holds had too few seconds for any latency change
/// to be significant.
pub(crate) fn too_few_seconds_note(c: &Comparison) -> Option<String> {
    let short: Vec<String> = c
        .rates
        .iter()
        .filter(|r| r.series.iter().any(|s| s.too_few_seconds()))
        .map(|r| r.base_rps.to_string())
        .collect();
    (!short.is_empty()).then(|| {
        format!(
            "note: at {} ops/s the holds had too few seconds for a latency change to be significant \
             (a rank test needs 4 seconds a side at least; hold longer or repeat the rate)",
            short.join(", ")
        )
    })
}

#[derive(Clone, Copy)]
pub(crate) enum Unit {
    Ms,
    Percent,
    Count,
}

impl Unit {
    fn show(self, v: f64) -> String {
        match self {
            Unit::Ms => format!("{:.3} ms", v),
            Unit::Percent => format!("{:.3}%", v * 100.0),
            Unit::Count => format!("{}", round_sig(v)),
        }
    }
}

/// `2800 [2800, 3200)`, or `none [0, 1000)` for a run where nothing passed.
pub(crate) fn capacity_text(c: &crate::capacity::Capacity) -> String {
    let answer = c.answer.map_or("none".to_string(), |a| a.to_string());
    let mut text = format!("{answer} {}", c.bracket_text());
    if let Some(t) = c.trials {
        text.push_str(&format!(", {}/{} trials held", t.held, t.runs));
    }
    if c.interrupted {
        text.push_str(", interrupted");
    }
    text
}

/// `-14.3% [-25.0%, +0.0%)` when the brackets are apart, `~ [-37.5%, +100.0%)` otherwise.
pub(crate) fn capacity_change_text(c: &crate::capacity::CapacityChange) -> String {
    let head = if c.change.significant {
        c.change.percent_text()
    } else {
        "~".to_string()
    };
    format!("{head} {}", c.interval_text())
}

#[cfg(test)]
mod tests;
