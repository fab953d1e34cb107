//! The verdict on one step: a pure function of what was measured and the SLO.
//!
//! Precedence is the point (SPEC §5):
//! 1. INCONCLUSIVE if the measurement itself failed;
//! 2. TRIP if any SLO is broken (every broken one is listed);
//! 3. INCONCLUSIVE if the load box fell short of the target rate while healthy;
//! 4. PASS.
//!
//! TRIP comes before the shortfall check: a saturated server slows a
//! request/reply generator down, and that step is the limit, not a harness problem.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::backlog::BacklogChange;

pub use why::{Breach, Child, Doubt, Percentile, Shortfall, Signal};

mod why;

/// The thresholds a step must meet. Every field is > 0 (checked by the CLI).
/// Serialized with the flags' names (`slo-p95 = "100ms"`): it is part of
/// [`RunConfig`](crate::config::RunConfig).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Slo {
    #[serde(rename = "slo-p95", with = "crate::duration_text")]
    pub p95: Duration,
    #[serde(rename = "slo-p99", with = "crate::duration_text")]
    pub p99: Duration,
    #[serde(rename = "slo-error-rate")]
    pub error_rate: f64,
    #[serde(rename = "slo-loss-rate")]
    pub loss_rate: f64,
    #[serde(rename = "slo-pending-growth")]
    pub pending_growth: i64,
    #[serde(rename = "rate-tolerance")]
    pub rate_tolerance: f64,
    /// Series with limits of their own, by name: `--slo-series`, and once the
    /// run has started, the limits the plugin declared under them (the
    /// user's win). A series not here is held to `p95`/`p99`.
    #[serde(
        rename = "slo-series",
        default,
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub series: BTreeMap<String, SeriesSlo>,
}

/// One series' own latency limits; a limit not given is the run's.
/// In `--config`: `[slo-series.order]` with `p99 = "500ms"`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeriesSlo {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::duration_text::optional"
    )]
    pub p95: Option<Duration>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::duration_text::optional"
    )]
    pub p99: Option<Duration>,
}

impl SeriesSlo {
    /// `self`, its missing limits taken from `under`.
    pub fn over(self, under: SeriesSlo) -> SeriesSlo {
        SeriesSlo {
            p95: self.p95.or(under.p95),
            p99: self.p99.or(under.p99),
        }
    }
}

impl Slo {
    /// The `(p95, p99)` limits of the series named `series`.
    pub fn limits(&self, series: &str) -> (Duration, Duration) {
        let own = self.series.get(series).copied().unwrap_or_default();
        (own.p95.unwrap_or(self.p95), own.p99.unwrap_or(self.p99))
    }

    /// The tightest `(p95, p99)` limits of any series: how fine latency must
    /// be seen (the pacer's wake-ups).
    pub fn tightest(&self) -> (Duration, Duration) {
        let own = self.series.values();
        let p95 = own
            .clone()
            .filter_map(|s| s.p95)
            .fold(self.p95, Duration::min);
        let p99 = own.filter_map(|s| s.p99).fold(self.p99, Duration::min);
        (p95, p99)
    }

    /// The loosest p99 limit of any series: an answer this slow may still
    /// be within some series' SLO.
    pub fn loosest_p99(&self) -> Duration {
        self.series
            .values()
            .filter_map(|s| s.p99)
            .fold(self.p99, Duration::max)
    }
}

impl Default for Slo {
    fn default() -> Slo {
        Slo {
            p95: Duration::from_millis(100),
            p99: Duration::from_millis(250),
            error_rate: 0.001,
            loss_rate: 0.001,
            pending_growth: 1000,
            rate_tolerance: 0.05,
            series: BTreeMap::new(),
        }
    }
}

/// Latency of one series over the hold window (from intended send time).
#[derive(Clone, Debug, PartialEq)]
pub struct SeriesLatency {
    pub name: String,
    /// Ok samples; errors, timeouts and losses have no latency.
    pub count: u64,
    pub p50: Duration,
    pub p95: Duration,
    pub p99: Duration,
    pub max: Duration,
}

/// A `--slo-counter` gate evaluated over the hold window.
#[derive(Clone, Debug, PartialEq)]
pub struct CounterGate {
    pub expr: String,
    pub delta: f64,
    pub passed: bool,
}

/// Everything the verdict looks at for one step.
#[derive(Clone, Debug, PartialEq)]
pub struct StepInputs {
    pub target_rps: u64,
    pub hold: Duration,
    /// Ops started with an intended time in the hold.
    pub attempted: u64,
    pub failed: u64,
    /// Hold ops still unanswered when the drain ended.
    pub lost: u64,
    /// Hold ops the plugin refused (in-flight bound full).
    pub saturated: u64,
    /// Hold ops the pacer could not release on schedule.
    pub emit_underrun: u64,
    pub series: Vec<SeriesLatency>,
    /// Every backlog from hold start to hold end.
    pub backlogs: Vec<BacklogChange>,
    pub counter_gates: Vec<CounterGate>,
    /// Why the measurement cannot be trusted (a failed boundary snapshot, an
    /// actor restarted mid-hold), if it cannot.
    pub measurement_failure: Option<Doubt>,
}

impl StepInputs {
    pub fn achieved_rps(&self) -> f64 {
        let secs = self.hold.as_secs_f64();
        if secs > 0.0 {
            self.attempted as f64 / secs
        } else {
            0.0
        }
    }

    pub fn error_rate(&self) -> f64 {
        ratio(self.failed, self.attempted)
    }

    pub fn loss_rate(&self) -> f64 {
        ratio(self.lost, self.attempted)
    }

    /// The backlog that grew most over the hold.
    pub fn worst_backlog(&self) -> Option<&BacklogChange> {
        self.backlogs.iter().max_by_key(|p| p.growth())
    }
}

fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// Deliberately no `Default`: an empty result must never read as PASS.
///
/// Serialized as `{"verdict": "TRIP", "reasons": ["…"], "breaches": [{…}]}`:
/// `reasons` always a list of words (empty for PASS), so a report's step
/// reads the same whatever the verdict; `breaches` (TRIP) or `doubt`
/// (INCONCLUSIVE) the same as data. A report written before those existed
/// reads back with its reasons as [`Breach::Text`] / [`Doubt::Text`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "VerdictText", into = "VerdictText")]
pub enum Verdict {
    Pass,
    Trip(Vec<Breach>),
    Inconclusive(Doubt),
}

/// [`Verdict`]'s serde shape.
#[derive(Clone, Serialize, Deserialize)]
struct VerdictText {
    verdict: String,
    #[serde(default)]
    reasons: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    breaches: Vec<Breach>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    doubt: Option<Doubt>,
}

impl From<Verdict> for VerdictText {
    fn from(v: Verdict) -> VerdictText {
        let reasons = v.reasons();
        let label = v.label().to_string();
        let (breaches, doubt) = match v {
            Verdict::Pass => (Vec::new(), None),
            Verdict::Trip(breaches) => (breaches, None),
            Verdict::Inconclusive(doubt) => (Vec::new(), Some(doubt)),
        };
        VerdictText {
            verdict: label,
            reasons,
            breaches,
            doubt,
        }
    }
}

impl TryFrom<VerdictText> for Verdict {
    type Error = String;

    fn try_from(t: VerdictText) -> Result<Verdict, String> {
        match t.verdict.as_str() {
            "PASS" => Ok(Verdict::Pass),
            "TRIP" if t.breaches.is_empty() => Ok(Verdict::Trip(
                t.reasons
                    .into_iter()
                    .map(|text| Breach::Text { text })
                    .collect(),
            )),
            "TRIP" => Ok(Verdict::Trip(t.breaches)),
            "INCONCLUSIVE" => Ok(Verdict::Inconclusive(t.doubt.unwrap_or(Doubt::Text {
                text: t.reasons.join("; "),
            }))),
            other => Err(format!(
                "'{other}' is not a verdict (PASS, TRIP, INCONCLUSIVE)"
            )),
        }
    }
}

impl Verdict {
    pub fn label(&self) -> &'static str {
        self.kind().label()
    }

    pub fn kind(&self) -> VerdictKind {
        match self {
            Verdict::Pass => VerdictKind::Pass,
            Verdict::Trip(_) => VerdictKind::Trip,
            Verdict::Inconclusive(_) => VerdictKind::Inconclusive,
        }
    }

    /// The reasons in words, one per breach (one for INCONCLUSIVE).
    pub fn reasons(&self) -> Vec<String> {
        match self {
            Verdict::Pass => Vec::new(),
            Verdict::Trip(breaches) => breaches.iter().map(Breach::to_string).collect(),
            Verdict::Inconclusive(doubt) => vec![doubt.to_string()],
        }
    }

    pub fn is_pass(&self) -> bool {
        matches!(self, Verdict::Pass)
    }
}

/// A verdict without its reasons: what live metrics count by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum VerdictKind {
    Pass,
    Trip,
    Inconclusive,
}

impl VerdictKind {
    pub const ALL: [VerdictKind; 3] = [
        VerdictKind::Pass,
        VerdictKind::Trip,
        VerdictKind::Inconclusive,
    ];

    pub fn label(self) -> &'static str {
        match self {
            VerdictKind::Pass => "PASS",
            VerdictKind::Trip => "TRIP",
            VerdictKind::Inconclusive => "INCONCLUSIVE",
        }
    }
}

/// How far below the floor an achieved rate may round and still reach it.
const RATE_EPSILON: f64 = 1e-9;

pub fn judge(step: &StepInputs, slo: &Slo) -> Verdict {
    if let Some(failure) = &step.measurement_failure {
        return Verdict::Inconclusive(failure.clone());
    }
    if step.attempted == 0 {
        return Verdict::Inconclusive(Doubt::NoOps {
            refused: step.saturated,
        });
    }
    let trips = slo_breaches(step, slo);
    if !trips.is_empty() {
        return Verdict::Trip(trips);
    }
    let floor_share = 1.0 - slo.rate_tolerance;
    // The epsilon keeps "exactly at the tolerance" a pass despite float rounding.
    if step.achieved_rps() + RATE_EPSILON < floor_share * step.target_rps as f64 {
        return Verdict::Inconclusive(Doubt::Shortfall {
            achieved_rps: step.achieved_rps(),
            target_rps: step.target_rps,
            floor_share,
            cause: shortfall_cause(step),
        });
    }
    Verdict::Pass
}

fn slo_breaches(step: &StepInputs, slo: &Slo) -> Vec<Breach> {
    let mut trips = Vec::new();
    for s in &step.series {
        if s.count == 0 {
            trips.push(Breach::NoSamples {
                series: s.name.clone(),
            });
            continue;
        }
        let (p95, p99) = slo.limits(&s.name);
        for (percentile, measured, limit) in
            [(Percentile::P95, s.p95, p95), (Percentile::P99, s.p99, p99)]
        {
            if measured > limit {
                trips.push(Breach::Latency {
                    series: s.name.clone(),
                    percentile,
                    measured,
                    limit,
                });
            }
        }
    }
    if step.error_rate() > slo.error_rate {
        trips.push(Breach::ErrorRate {
            measured: step.error_rate(),
            limit: slo.error_rate,
        });
    }
    if step.loss_rate() > slo.loss_rate {
        trips.push(Breach::LossRate {
            measured: step.loss_rate(),
            limit: slo.loss_rate,
        });
    }
    for p in &step.backlogs {
        if p.growth() > slo.pending_growth {
            trips.push(Breach::Backlog {
                name: p.name.clone(),
                growth: p.growth(),
                limit: slo.pending_growth,
                unacked_growth: p.unacked.map(|(start, end)| end - start),
            });
        }
    }
    for gate in step.counter_gates.iter().filter(|g| !g.passed) {
        trips.push(Breach::CounterGate {
            expr: gate.expr.clone(),
            delta: gate.delta,
        });
    }
    trips
}

fn shortfall_cause(step: &StepInputs) -> Shortfall {
    if step.saturated >= step.emit_underrun && step.saturated > 0 {
        Shortfall::Saturation {
            ops: step.saturated,
        }
    } else if step.emit_underrun > 0 {
        Shortfall::EmitUnderrun {
            ops: step.emit_underrun,
        }
    } else {
        Shortfall::FellBehind
    }
}

/// `143ms`, `3.1ms`, `0.25ms`: whole milliseconds from 10ms up, more digits below.
pub fn fmt_ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms >= 10.0 {
        format!("{ms:.0}ms")
    } else if ms >= 1.0 {
        format!("{ms:.1}ms")
    } else {
        format!("{ms:.2}ms")
    }
}

/// `0.150%`.
pub fn fmt_pct(rate: f64) -> String {
    format!("{:.3}%", rate * 100.0)
}

#[cfg(test)]
mod tests;
