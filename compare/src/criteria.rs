//! `--fail-on 'capacity < -5%'`: what a comparison must not show.
//!
//! `METRIC OP VALUE[%]`: with `%` the bound is on the relative change, without
//! it on the absolute change in the metric's unit (ops/s for capacity, ms for
//! latencies, a fraction for error and loss rates — `0.001` is 0.1 points —,
//! messages for backlog growth). Only a significant change can fail a
//! criterion: a `~` never does.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::change::Change;

/// What a criterion is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    Capacity,
    P50,
    P95,
    P99,
    ErrorRate,
    LossRate,
    BacklogGrowth,
}

impl Metric {
    pub const ALL: [Metric; 7] = [
        Metric::Capacity,
        Metric::P50,
        Metric::P95,
        Metric::P99,
        Metric::ErrorRate,
        Metric::LossRate,
        Metric::BacklogGrowth,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Metric::Capacity => "capacity",
            Metric::P50 => "p50",
            Metric::P95 => "p95",
            Metric::P99 => "p99",
            Metric::ErrorRate => "error_rate",
            Metric::LossRate => "loss_rate",
            Metric::BacklogGrowth => "backlog_growth",
        }
    }

    /// The unit of an absolute change, for messages.
    pub fn unit(self) -> &'static str {
        match self {
            Metric::Capacity => " ops/s",
            Metric::P50 | Metric::P95 | Metric::P99 => " ms",
            Metric::ErrorRate | Metric::LossRate => "",
            Metric::BacklogGrowth => " msgs",
        }
    }
}

/// `<`, `<=`, `>`, `>=`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    #[serde(rename = "<")]
    Less,
    #[serde(rename = "<=")]
    AtMost,
    #[serde(rename = ">")]
    Greater,
    #[serde(rename = ">=")]
    AtLeast,
}

impl Op {
    fn holds(self, value: f64, bound: f64) -> bool {
        match self {
            Op::Less => value < bound,
            Op::AtMost => value <= bound,
            Op::Greater => value > bound,
            Op::AtLeast => value >= bound,
        }
    }

    fn text(self) -> &'static str {
        match self {
            Op::Less => "<",
            Op::AtMost => "<=",
            Op::Greater => ">",
            Op::AtLeast => ">=",
        }
    }
}

/// One `--fail-on` expression: the comparison fails when a significant change
/// of `metric` satisfies `op bound`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Criterion {
    pub metric: Metric,
    pub op: Op,
    /// In percent when `relative`, else in the metric's unit.
    pub bound: f64,
    pub relative: bool,
}

#[derive(Debug, PartialEq, thiserror::Error)]
pub enum CriterionError {
    #[error(
        "'{0}' is not METRIC OP VALUE (e.g. 'capacity < -5%', 'p99 > +10%', 'error_rate > +0.001')"
    )]
    Shape(String),
    #[error("unknown metric '{metric}' (one of: {valid})")]
    UnknownMetric { metric: String, valid: String },
    #[error("'{0}' is not a number (e.g. -5%, +10%, 0.001)")]
    Value(String),
}

impl FromStr for Criterion {
    type Err = CriterionError;

    fn from_str(s: &str) -> Result<Criterion, CriterionError> {
        let text = s.trim();
        let at = text
            .find(['<', '>'])
            .ok_or_else(|| CriterionError::Shape(s.into()))?;
        let (name, rest) = text.split_at(at);
        let (op, value) = if let Some(v) = rest.strip_prefix("<=") {
            (Op::AtMost, v)
        } else if let Some(v) = rest.strip_prefix(">=") {
            (Op::AtLeast, v)
        } else if let Some(v) = rest.strip_prefix('<') {
            (Op::Less, v)
        } else {
            (Op::Greater, &rest[1..])
        };
        let name = name.trim();
        if name.is_empty() {
            return Err(CriterionError::Shape(s.into()));
        }
        let metric = Metric::ALL
            .into_iter()
            .find(|m| m.name() == name)
            .ok_or_else(|| CriterionError::UnknownMetric {
                metric: name.into(),
                valid: Metric::ALL.map(Metric::name).join(", "),
            })?;
        let value = value.trim();
        let (number, relative) = match value.strip_suffix('%') {
            Some(n) => (n.trim(), true),
            None => (value, false),
        };
        if value.is_empty() {
            return Err(CriterionError::Shape(s.into()));
        }
        let bound: f64 = number
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite())
            .ok_or_else(|| CriterionError::Value(value.into()))?;
        Ok(Criterion {
            metric,
            op,
            bound,
            relative,
        })
    }
}

impl fmt::Display for Criterion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.bound > 0.0 { "+" } else { "" };
        let unit = if self.relative { "%" } else { "" };
        write!(
            f,
            "{} {} {sign}{}{unit}",
            self.metric.name(),
            self.op.text(),
            self.bound
        )
    }
}

impl Criterion {
    /// Does this change break the criterion? Only a significant change can;
    /// a relative bound on a change from 0 is judged as +∞ or −∞.
    pub fn broken_by(&self, change: &Change) -> bool {
        if !change.significant {
            return false;
        }
        let value = if self.relative {
            match change.relative {
                Some(r) => r * 100.0,
                None if change.delta > 0.0 => f64::INFINITY,
                None if change.delta < 0.0 => f64::NEG_INFINITY,
                None => 0.0,
            }
        } else {
            change.delta
        };
        self.op.holds(value, self.bound)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_forms() {
        type Row<'a> = (&'a str, Metric, Op, f64, bool);
        let table: &[Row] = &[
            ("capacity < -5%", Metric::Capacity, Op::Less, -5.0, true),
            ("p99 > +10%", Metric::P99, Op::Greater, 10.0, true),
            (
                "error_rate > +0.1",
                Metric::ErrorRate,
                Op::Greater,
                0.1,
                false,
            ),
            ("p50>=2", Metric::P50, Op::AtLeast, 2.0, false),
            (
                "  loss_rate <= 0.001 ",
                Metric::LossRate,
                Op::AtMost,
                0.001,
                false,
            ),
            (
                "backlog_growth > 100",
                Metric::BacklogGrowth,
                Op::Greater,
                100.0,
                false,
            ),
            ("p95 > 12.5 %", Metric::P95, Op::Greater, 12.5, true),
        ];
        for (text, metric, op, bound, relative) in table {
            let c: Criterion = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(
                c,
                Criterion {
                    metric: *metric,
                    op: *op,
                    bound: *bound,
                    relative: *relative
                },
                "{text}"
            );
        }
    }

    #[test]
    fn parse_errors_say_what_was_expected() {
        let table: &[(&str, &str)] = &[
            ("capacity", "'capacity' is not METRIC OP VALUE (e.g. 'capacity < -5%', 'p99 > +10%', 'error_rate > +0.001')"),
            ("< 5%", "'< 5%' is not METRIC OP VALUE (e.g. 'capacity < -5%', 'p99 > +10%', 'error_rate > +0.001')"),
            ("capacity <", "'capacity <' is not METRIC OP VALUE (e.g. 'capacity < -5%', 'p99 > +10%', 'error_rate > +0.001')"),
            ("latency > 5%", "unknown metric 'latency' (one of: capacity, p50, p95, p99, error_rate, loss_rate, backlog_growth)"),
            ("p99 > ten%", "'ten%' is not a number (e.g. -5%, +10%, 0.001)"),
            ("p99 > inf", "'inf' is not a number (e.g. -5%, +10%, 0.001)"),
        ];
        for (text, want) in table {
            let err = text.parse::<Criterion>().unwrap_err().to_string();
            assert_eq!(err, *want, "{text}");
        }
    }

    #[test]
    fn displays_as_written() {
        for text in ["capacity < -5%", "p99 > +10%", "error_rate >= +0.001"] {
            assert_eq!(text.parse::<Criterion>().unwrap().to_string(), text);
        }
    }

    fn change(delta: f64, relative: Option<f64>, significant: bool) -> Change {
        Change {
            base: 100.0,
            new: 100.0 + delta,
            delta,
            relative,
            p_value: Some(if significant { 0.01 } else { 0.5 }),
            significant,
        }
    }

    #[test]
    fn only_significant_changes_break_a_criterion() {
        type Row<'a> = (&'a str, &'a str, Change, bool);
        let table: &[Row] = &[
            (
                "a significant drop past the bound",
                "capacity < -5%",
                change(-14.0, Some(-0.14), true),
                true,
            ),
            (
                "a drop within the bound",
                "capacity < -5%",
                change(-3.0, Some(-0.03), true),
                false,
            ),
            (
                "a large drop that is not significant (~)",
                "capacity < -5%",
                change(-14.0, Some(-0.14), false),
                false,
            ),
            (
                "a rise never breaks a floor",
                "capacity < -5%",
                change(20.0, Some(0.2), true),
                false,
            ),
            (
                "p99 up 25%",
                "p99 > +10%",
                change(25.0, Some(0.25), true),
                true,
            ),
            (
                "absolute bound on a rate",
                "error_rate > +0.1",
                change(0.2, None, true),
                true,
            ),
            (
                "absolute bound, small rise",
                "error_rate > +0.1",
                change(0.05, Some(5.0), true),
                false,
            ),
            (
                "relative rise from zero is infinite",
                "error_rate > +50%",
                change(0.01, None, true),
                true,
            ),
            (
                "at the bound with <=",
                "p50 <= -1",
                change(-1.0, Some(-0.01), true),
                true,
            ),
        ];
        for (name, criterion, change, want) in table {
            let c: Criterion = criterion.parse().unwrap();
            assert_eq!(c.broken_by(change), *want, "{name}");
        }
    }
}
