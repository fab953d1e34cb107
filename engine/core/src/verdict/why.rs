//! Why a step is not a PASS, as data: every [`Breach`] of a TRIP and the
//! [`Doubt`] of an INCONCLUSIVE, with the values that decided them. Their
//! `Display` is the one place a reason becomes words (the console, CSV,
//! HTML, journal and JSON `reasons` all print it).

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{fmt_ms, fmt_pct};

/// A latency percentile the SLO limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Percentile {
    P95,
    P99,
}

impl fmt::Display for Percentile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Percentile::P95 => "p95",
            Percentile::P99 => "p99",
        })
    }
}

/// One broken SLO of a TRIP. In JSON: `{"kind": "latency", "series": "op", …}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Breach {
    /// A series answered nothing Ok, so it has no latency to hold to its limits.
    NoSamples { series: String },
    Latency {
        series: String,
        percentile: Percentile,
        #[serde(rename = "measured_ms", with = "millis")]
        measured: Duration,
        #[serde(rename = "limit_ms", with = "millis")]
        limit: Duration,
    },
    /// Failed ops over attempted ones (a fraction, not a percentage).
    ErrorRate { measured: f64, limit: f64 },
    /// Lost ops over attempted ones.
    LossRate { measured: f64, limit: f64 },
    /// A backlog grew over the hold by more than `--slo-pending-growth`.
    Backlog {
        name: String,
        growth: i64,
        limit: i64,
        /// For a durable: how much of the growth is delivered but unacknowledged.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        unacked_growth: Option<i64>,
    },
    /// A `--slo-counter` gate failed.
    CounterGate { expr: String, delta: f64 },
    /// The hold was ended early: the service fell ever further behind.
    StoppedEarly {
        #[serde(rename = "held_ms", with = "millis")]
        held: Duration,
        goodput_rps: f64,
        offered_rps: f64,
        /// Answered over released ops in the held part.
        answered_share: f64,
        backlog: String,
        growth: i64,
    },
    /// A reason read from a report written before reasons were data.
    Text { text: String },
}

impl Breach {
    /// The series or backlog it concerns, if one: for grouping in a table.
    pub fn subject(&self) -> Option<&str> {
        match self {
            Breach::NoSamples { series } | Breach::Latency { series, .. } => Some(series),
            Breach::Backlog { name, .. } => Some(name),
            Breach::StoppedEarly { backlog, .. } => Some(backlog),
            _ => None,
        }
    }

    /// A few words for a narrow column: `p99`, `err`, `backlog`.
    pub fn short(&self) -> &'static str {
        match self {
            Breach::NoSamples { .. } => "no ok",
            Breach::Latency {
                percentile: Percentile::P95,
                ..
            } => "p95",
            Breach::Latency {
                percentile: Percentile::P99,
                ..
            } => "p99",
            Breach::ErrorRate { .. } => "err",
            Breach::LossRate { .. } => "loss",
            Breach::Backlog { .. } => "backlog",
            Breach::CounterGate { .. } => "counter",
            Breach::StoppedEarly { .. } => "stopped",
            Breach::Text { .. } => "slo",
        }
    }
}

impl fmt::Display for Breach {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Breach::NoSamples { series } => write!(f, "{series}: no Ok samples"),
            Breach::Latency {
                series,
                percentile,
                measured,
                limit,
            } => write!(
                f,
                "{series} {percentile}={} > {}",
                fmt_ms(*measured),
                fmt_ms(*limit)
            ),
            Breach::ErrorRate { measured, limit } => {
                write!(f, "error rate {} > {}", fmt_pct(*measured), fmt_pct(*limit))
            }
            Breach::LossRate { measured, limit } => {
                write!(f, "loss rate {} > {}", fmt_pct(*measured), fmt_pct(*limit))
            }
            Breach::Backlog {
                name,
                growth,
                limit,
                unacked_growth,
            } => {
                write!(f, "{name} pending {growth:+} > {limit:+}")?;
                match unacked_growth {
                    Some(unacked) => write!(
                        f,
                        " (undelivered {:+}, unacked {unacked:+})",
                        growth - unacked
                    ),
                    None => Ok(()),
                }
            }
            Breach::CounterGate { expr, delta } => write!(f, "{expr} (delta {delta})"),
            Breach::StoppedEarly {
                held,
                goodput_rps,
                offered_rps,
                answered_share,
                backlog,
                growth,
            } => write!(
                f,
                "stopped early after {:.1}s: the service answered {goodput_rps:.0}/s of \
                 {offered_rps:.0}/s offered ({:.0}%), {backlog} +{growth} since hold start",
                held.as_secs_f64(),
                answered_share * 100.0
            ),
            Breach::Text { text } => f.write_str(text),
        }
    }
}

/// A measuring actor the supervisor restarts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Child {
    Pacer,
    Collector,
    PendingPoller,
    CounterScraper,
    /// One of them, unknown which (restarted while the run started).
    Any,
}

impl fmt::Display for Child {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Child::Pacer => "pacer",
            Child::Collector => "collector",
            Child::PendingPoller => "pending-poller",
            Child::CounterScraper => "counter-scraper",
            Child::Any => "a measuring actor",
        })
    }
}

/// A signal a step is measured with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Signal {
    Backlog,
    Pacer,
    Counter,
    Latency,
    Plugin,
    Disturbance,
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Signal::Backlog => "backlog signal",
            Signal::Pacer => "pacer",
            Signal::Counter => "counter signal",
            Signal::Latency => "latency signal",
            Signal::Plugin => "plugin",
            Signal::Disturbance => "disturbance signal",
        })
    }
}

/// What kept the load box from the target rate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "cause", rename_all = "snake_case")]
pub enum Shortfall {
    /// The plugin's in-flight bound was full.
    Saturation {
        ops: u64,
    },
    /// The pacer could not release ops on schedule.
    EmitUnderrun {
        ops: u64,
    },
    FellBehind,
}

/// Why an INCONCLUSIVE step says nothing about the service. In JSON:
/// `{"kind": "shortfall", "achieved_rps": 900.0, …}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Doubt {
    /// A signal could not be read; `error` is what reading it said.
    Unavailable { signal: Signal, error: String },
    /// A measuring actor was restarted during the step.
    Restarted { child: Child, reason: String },
    /// The plugin reported the environment disturbed (its summary of the reports).
    Disturbed { summary: String },
    /// Something outside the box broke the step (e.g. a fleet's agent lost).
    Disrupted { reason: String },
    /// No op was attempted; `refused` were turned away by the in-flight bound.
    NoOps { refused: u64 },
    /// The load box fell short of the target while the service was healthy.
    Shortfall {
        achieved_rps: f64,
        target_rps: u64,
        /// The share of the target that counts as reached (`1 - rate-tolerance`).
        floor_share: f64,
        #[serde(flatten)]
        cause: Shortfall,
    },
    /// A reason read from a report written before reasons were data.
    Text { text: String },
}

impl Doubt {
    /// A few words for a narrow column.
    pub fn short(&self) -> &'static str {
        match self {
            Doubt::Unavailable { .. } => "no signal",
            Doubt::Restarted { .. } => "restart",
            Doubt::Disturbed { .. } => "disturbed",
            Doubt::Disrupted { .. } => "disrupted",
            Doubt::NoOps { .. } => "no ops",
            Doubt::Shortfall { .. } => "shortfall",
            Doubt::Text { .. } => "unsure",
        }
    }
}

impl fmt::Display for Doubt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Doubt::Unavailable { signal, error } => write!(f, "{signal} unavailable: {error}"),
            Doubt::Restarted { child, reason } => {
                write!(f, "{child} restarted during the step: {reason}")
            }
            Doubt::Disturbed { summary } => f.write_str(summary),
            Doubt::Disrupted { reason } => f.write_str(reason),
            Doubt::NoOps { refused: 0 } => f.write_str("no ops attempted"),
            Doubt::NoOps { refused } => {
                write!(f, "no ops attempted: all {refused} refused (saturation)")
            }
            Doubt::Shortfall {
                achieved_rps,
                target_rps,
                floor_share,
                cause,
            } => {
                write!(
                    f,
                    "achieved {achieved_rps:.0}/s < {:.0}% of {target_rps}/s: ",
                    floor_share * 100.0
                )?;
                match cause {
                    Shortfall::Saturation { ops } => write!(
                        f,
                        "saturation {ops} ops (in-flight bound full: raise max_in_flight)"
                    ),
                    Shortfall::EmitUnderrun { ops } => write!(
                        f,
                        "emit underrun {ops} ops (the load box could not keep schedule: \
                         more CPU or shards)"
                    ),
                    Shortfall::FellBehind => f.write_str("the load generator fell behind"),
                }
            }
            Doubt::Text { text } => f.write_str(text),
        }
    }
}

/// A duration as (fractional) milliseconds, exact to the nanosecond.
mod millis {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    const NS_PER_MS: f64 = 1_000_000.0;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_nanos() as f64 / NS_PER_MS)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let ms = f64::deserialize(d)?;
        Ok(Duration::from_nanos(
            (ms.max(0.0) * NS_PER_MS).round() as u64
        ))
    }
}
