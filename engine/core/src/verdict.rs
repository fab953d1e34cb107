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

/// How one backlog (JetStream durable `stream/durable`, or plugin gauge)
/// moved over the hold.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingChange {
    pub name: String,
    /// For a durable: messages not yet delivered plus those delivered and not
    /// yet acknowledged (both are work the service has not done).
    pub start: i64,
    pub end: i64,
    /// For a durable: the delivered-but-unacknowledged part
    /// (`num_ack_pending`) of `start` and `end`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unacked: Option<(i64, i64)>,
}

impl PendingChange {
    pub fn growth(&self) -> i64 {
        self.end - self.start
    }
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
    pub pending: Vec<PendingChange>,
    pub counter_gates: Vec<CounterGate>,
    /// Why the measurement cannot be trusted (a failed boundary snapshot, an
    /// actor restarted mid-hold), if it cannot.
    pub measurement_failure: Option<String>,
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
    pub fn worst_pending(&self) -> Option<&PendingChange> {
        self.pending.iter().max_by_key(|p| p.growth())
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
/// Serialized as `{"verdict": "TRIP", "reasons": ["…"]}` (reasons always a
/// list, empty for PASS), so a report's step reads the same whatever the verdict.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "VerdictText", into = "VerdictText")]
pub enum Verdict {
    Pass,
    Trip(Vec<String>),
    Inconclusive(String),
}

/// [`Verdict`]'s serde shape.
#[derive(Clone, Serialize, Deserialize)]
struct VerdictText {
    verdict: String,
    #[serde(default)]
    reasons: Vec<String>,
}

impl From<Verdict> for VerdictText {
    fn from(v: Verdict) -> VerdictText {
        VerdictText {
            verdict: v.label().to_string(),
            reasons: v.reasons(),
        }
    }
}

impl TryFrom<VerdictText> for Verdict {
    type Error = String;

    fn try_from(t: VerdictText) -> Result<Verdict, String> {
        match t.verdict.as_str() {
            "PASS" => Ok(Verdict::Pass),
            "TRIP" => Ok(Verdict::Trip(t.reasons)),
            "INCONCLUSIVE" => Ok(Verdict::Inconclusive(t.reasons.join("; "))),
            other => Err(format!(
                "'{other}' is not a verdict (PASS, TRIP, INCONCLUSIVE)"
            )),
        }
    }
}

impl Verdict {
    pub fn label(&self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Trip(_) => "TRIP",
            Verdict::Inconclusive(_) => "INCONCLUSIVE",
        }
    }

    pub fn reasons(&self) -> Vec<String> {
        match self {
            Verdict::Pass => Vec::new(),
            Verdict::Trip(reasons) => reasons.clone(),
            Verdict::Inconclusive(reason) => vec![reason.clone()],
        }
    }

    pub fn is_pass(&self) -> bool {
        matches!(self, Verdict::Pass)
    }
}

pub fn judge(step: &StepInputs, slo: &Slo) -> Verdict {
    if let Some(failure) = &step.measurement_failure {
        return Verdict::Inconclusive(failure.clone());
    }
    if step.attempted == 0 {
        return Verdict::Inconclusive(no_ops_reason(step));
    }
    let trips = slo_breaches(step, slo);
    if !trips.is_empty() {
        return Verdict::Trip(trips);
    }
    let floor = (1.0 - slo.rate_tolerance) * step.target_rps as f64;
    // The epsilon keeps "exactly at the tolerance" a pass despite float rounding.
    if step.achieved_rps() + 1e-9 < floor {
        return Verdict::Inconclusive(shortfall_reason(step, slo));
    }
    Verdict::Pass
}

fn no_ops_reason(step: &StepInputs) -> String {
    if step.saturated > 0 {
        format!(
            "no ops attempted: all {} refused (saturation)",
            step.saturated
        )
    } else {
        "no ops attempted".to_string()
    }
}

fn slo_breaches(step: &StepInputs, slo: &Slo) -> Vec<String> {
    let mut trips = Vec::new();
    for s in &step.series {
        if s.count == 0 {
            trips.push(format!("{}: no Ok samples", s.name));
            continue;
        }
        let (p95, p99) = slo.limits(&s.name);
        if s.p95 > p95 {
            trips.push(format!(
                "{} p95={} > {}",
                s.name,
                fmt_ms(s.p95),
                fmt_ms(p95)
            ));
        }
        if s.p99 > p99 {
            trips.push(format!(
                "{} p99={} > {}",
                s.name,
                fmt_ms(s.p99),
                fmt_ms(p99)
            ));
        }
    }
    if step.error_rate() > slo.error_rate {
        trips.push(format!(
            "error rate {} > {}",
            fmt_pct(step.error_rate()),
            fmt_pct(slo.error_rate)
        ));
    }
    if step.loss_rate() > slo.loss_rate {
        trips.push(format!(
            "loss rate {} > {}",
            fmt_pct(step.loss_rate()),
            fmt_pct(slo.loss_rate)
        ));
    }
    for p in &step.pending {
        if p.growth() > slo.pending_growth {
            let split = p.unacked.map_or(String::new(), |(s, e)| {
                let undelivered = p.growth() - (e - s);
                format!(" (undelivered {undelivered:+}, unacked {:+})", e - s)
            });
            trips.push(format!(
                "{} pending {:+} > {:+}{split}",
                p.name,
                p.growth(),
                slo.pending_growth
            ));
        }
    }
    for gate in step.counter_gates.iter().filter(|g| !g.passed) {
        trips.push(format!("{} (delta {})", gate.expr, gate.delta));
    }
    trips
}

fn shortfall_reason(step: &StepInputs, slo: &Slo) -> String {
    let head = format!(
        "achieved {:.0}/s < {:.0}% of {}/s",
        step.achieved_rps(),
        (1.0 - slo.rate_tolerance) * 100.0,
        step.target_rps
    );
    if step.saturated >= step.emit_underrun && step.saturated > 0 {
        format!(
            "{head}: saturation {} ops (in-flight bound full: raise max_in_flight)",
            step.saturated
        )
    } else if step.emit_underrun > 0 {
        format!(
            "{head}: emit underrun {} ops (the load box could not keep schedule: more CPU or shards)",
            step.emit_underrun
        )
    } else {
        format!("{head}: the load generator fell behind")
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
