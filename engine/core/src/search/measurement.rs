//! [`Measurement`]: what the search is told about a finished step — more than
//! its verdict — and [`Assessment`], what the search reads from it: how far
//! the step was from its gates (the margin), whether it was above what the
//! service serves, and if so the service's throughput.
//!
//! Pure functions of their arguments; the ramp builds the measurement.

use serde::{Deserialize, Serialize};

use crate::backlog::Backlogs;
use crate::verdict::{Doubt, Slo, StepInputs, Verdict};

/// A gate's value can be zero (no errors, no backlog growth): its margin is
/// capped as if the value were this fraction of the limit (ln 100 ≈ 4.6).
const MARGIN_FLOOR: f64 = 0.01;
/// A backlog rising by at most this many ops over the hold is noise.
const TREND_MIN_OPS: f64 = 2.0;
/// Ops arrive in per-tick batches (≈1 ms): a reading may be a batch high.
const TICKS_PER_SEC: f64 = 1000.0;
/// Without a backlog signal, answers this far below the offered rate mean
/// the service served less than it was offered.
const GOODPUT_SHORTFALL: f64 = 0.02;

/// What one step measured, as the search needs it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Measurement {
    /// Not written: a step report carries its verdict beside its measurement.
    #[serde(skip_serializing, default = "unrecorded")]
    pub verdict: Verdict,
    /// Ops offered per second in the hold (attempted / hold).
    pub offered_rps: f64,
    /// Answers (ok or error) completed per second in the hold; `None` when
    /// not measured.
    #[serde(default)]
    pub goodput_rps: Option<f64>,
    /// Each backlog read through the hold (start, every second, end).
    #[serde(default)]
    pub backlogs: Vec<BacklogTrace>,
    /// How far each gate was from its limit.
    #[serde(default)]
    pub margins: Vec<Margin>,
}

impl Measurement {
    /// Only a verdict (the fixed ladder needs no more; old journals have no more).
    pub fn verdict_only(verdict: Verdict) -> Measurement {
        Measurement {
            verdict,
            offered_rps: 0.0,
            goodput_rps: None,
            backlogs: Vec::new(),
            margins: Vec::new(),
        }
    }

    /// A judged step's measurement: every gate's margin from the verdict's
    /// inputs, the goodput, and each backlog from hold start through the
    /// readings `during` the hold (seconds since hold start) to hold end.
    pub fn of_step(
        inputs: &StepInputs,
        slo: &Slo,
        verdict: &Verdict,
        goodput_rps: Option<f64>,
        during: &[(f64, Backlogs)],
    ) -> Measurement {
        let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
        let mut margins = Vec::new();
        let mut gate =
            |gate: String, value: f64, limit: f64| margins.push(Margin { gate, value, limit });
        for s in inputs.series.iter().filter(|s| s.count > 0) {
            let (p95, p99) = slo.limits(&s.name);
            gate(format!("{} p95", s.name), ms(s.p95), ms(p95));
            gate(format!("{} p99", s.name), ms(s.p99), ms(p99));
        }
        gate("error rate".into(), inputs.error_rate(), slo.error_rate);
        gate("loss rate".into(), inputs.loss_rate(), slo.loss_rate);
        let hold = inputs.hold.as_secs_f64();
        let backlogs = inputs
            .backlogs
            .iter()
            .map(|p| {
                gate(
                    format!("{} pending", p.name),
                    p.growth() as f64,
                    slo.pending_growth as f64,
                );
                let mut readings = vec![(0.0, p.start)];
                readings.extend(
                    during
                        .iter()
                        .filter(|(t, _)| *t > 0.0 && *t < hold)
                        .filter_map(|(t, values)| values.get(&p.name).map(|v| (*t, *v))),
                );
                readings.push((hold, p.end));
                BacklogTrace {
                    name: p.name.clone(),
                    readings,
                }
            })
            .collect();
        Measurement {
            verdict: verdict.clone(),
            offered_rps: inputs.achieved_rps(),
            goodput_rps,
            backlogs,
            margins,
        }
    }
}

fn unrecorded() -> Verdict {
    Verdict::Inconclusive(Doubt::Text {
        text: "verdict not recorded with the measurement".into(),
    })
}

/// One backlog's readings through the hold: (seconds since hold start,
/// value), the first at hold start, the last at hold end.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BacklogTrace {
    pub name: String,
    pub readings: Vec<(f64, i64)>,
}

/// One gate: the measured value against its limit (a latency in ms, a rate, a
/// backlog growth). A value over the limit trips the step.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Margin {
    pub gate: String,
    pub value: f64,
    pub limit: f64,
}

impl Margin {
    /// `ln(limit / value)`: positive within the limit, negative over it, 0 at
    /// it; symmetric in ratio, so a secant on it is not thrown by one huge
    /// overshoot. Capped at ±ln(1/MARGIN_FLOOR).
    pub fn log_headroom(&self) -> f64 {
        if self.limit <= 0.0 {
            return 0.0;
        }
        let value = self.value.max(self.limit * MARGIN_FLOOR);
        let cap = (1.0 / MARGIN_FLOOR).ln();
        (self.limit / value).ln().clamp(-cap, cap)
    }
}

/// A backlog's straight-line fit through the hold.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Trend {
    /// Growth in ops per second (least squares).
    pub per_sec: f64,
    /// The rise is beyond the readings' noise: the service falls behind.
    pub rising: bool,
}

impl Trend {
    /// Least-squares slope of `readings` (seconds, value); the trend is
    /// rising when the fitted rise over the readings' span exceeds the noise:
    /// a couple of ops, two pacer batches at `offered_rps`, three times the
    /// worst residual.
    pub fn fit(readings: &[(f64, i64)], offered_rps: f64) -> Option<Trend> {
        let n = readings.len() as f64;
        let span = readings.last()?.0 - readings.first()?.0;
        if readings.len() < 2 || span <= 0.0 {
            return None;
        }
        let mean_t = readings.iter().map(|r| r.0).sum::<f64>() / n;
        let mean_y = readings.iter().map(|r| r.1 as f64).sum::<f64>() / n;
        let (mut sxy, mut sxx) = (0.0, 0.0);
        for &(t, y) in readings {
            sxy += (t - mean_t) * (y as f64 - mean_y);
            sxx += (t - mean_t).powi(2);
        }
        let per_sec = sxy / sxx;
        let worst_residual = readings
            .iter()
            .map(|&(t, y)| (y as f64 - (mean_y + per_sec * (t - mean_t))).abs())
            .fold(0.0, f64::max);
        let noise = TREND_MIN_OPS
            .max(2.0 * offered_rps / TICKS_PER_SEC)
            .max(3.0 * worst_residual);
        Some(Trend {
            per_sec,
            rising: per_sec * span > noise,
        })
    }
}

/// How a step counts in the search.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Class {
    /// Within every gate and not above what the service serves.
    Pass,
    /// PASS by the gates, but a backlog rose through the hold: the rate is
    /// above what the service serves, and must not be the answer.
    AboveCapacity,
    Trip,
    Inconclusive,
}

impl Class {
    /// A PASS verdict that is not an answer, or a TRIP: the rate is too high.
    pub fn too_high(self) -> bool {
        matches!(self, Class::AboveCapacity | Class::Trip)
    }
}

/// What the search reads from one step.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Assessment {
    pub class: Class,
    /// The worst gate's [`Margin::log_headroom`], if any gate was measured.
    pub margin: Option<f64>,
    /// The fastest-rising backlog's trend.
    pub trend: Option<Trend>,
    /// What the service served (ops/s) when the step was above it: offered
    /// minus the backlog's growth, else the goodput. `None` below capacity.
    pub served_rps: Option<f64>,
}

impl Assessment {
    pub fn of(m: &Measurement) -> Assessment {
        let margin = m
            .margins
            .iter()
            .map(Margin::log_headroom)
            .min_by(f64::total_cmp);
        let trend = m
            .backlogs
            .iter()
            .filter_map(|b| Trend::fit(&b.readings, m.offered_rps))
            .max_by(|a, b| a.per_sec.total_cmp(&b.per_sec));
        let rising = trend.is_some_and(|t| t.rising);
        let short = m
            .goodput_rps
            .is_some_and(|g| trend.is_none() && g < (1.0 - GOODPUT_SHORTFALL) * m.offered_rps);
        let overloaded = rising || short;
        // A rising backlog counts all the work the service has not done, so
        // offered − growth is what it served; the goodput misses answers the
        // client gave up on (lost ops the service still works through).
        let served_rps = match (overloaded, trend.filter(|t| t.rising), m.goodput_rps) {
            (false, _, _) => None,
            (true, Some(t), _) => Some((m.offered_rps - t.per_sec).max(0.0)),
            (true, None, goodput) => goodput,
        };
        let class = match &m.verdict {
            Verdict::Pass if overloaded => Class::AboveCapacity,
            Verdict::Pass => Class::Pass,
            Verdict::Trip(_) => Class::Trip,
            Verdict::Inconclusive(_) => Class::Inconclusive,
        };
        Assessment {
            class,
            margin,
            trend,
            served_rps,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_headroom_is_positive_within_the_limit_and_capped() {
        let table = [
            (50.0, 100.0, 2f64.ln()),
            (100.0, 100.0, 0.0),
            (200.0, 100.0, -(2f64.ln())),
            (0.0, 0.001, 100f64.ln()),
            (1e9, 1.0, -(100f64.ln())),
        ];
        for (value, limit, want) in table {
            let m = Margin {
                gate: "g".into(),
                value,
                limit,
            };
            assert!((m.log_headroom() - want).abs() < 1e-9, "{value}/{limit}");
        }
    }

    /// Readings spread evenly over `hold` seconds.
    pub(crate) fn even(values: &[i64], hold: f64) -> Vec<(f64, i64)> {
        let step = hold / (values.len().max(2) - 1) as f64;
        values
            .iter()
            .enumerate()
            .map(|(i, &v)| (i as f64 * step, v))
            .collect()
    }

    #[test]
    fn a_trend_rises_only_beyond_the_noise() {
        // (readings, hold s, offered/s, per_sec, rising)
        let table: &[(&[i64], f64, f64, f64, bool)] = &[
            (&[0, 25, 50, 75], 3.0, 5125.0, 25.0, true),
            (&[10, 10, 10, 10], 3.0, 5000.0, 0.0, false),
            // One op over a 3 s hold: rounding, not a trend.
            (&[10, 10, 11, 11], 3.0, 300.0, 0.4, false),
            // A sawtooth a batch high rises by less than its noise.
            (&[40, 90, 45, 95], 3.0, 50_000.0, 12.0, false),
            // Start and end only: the rise must beat two batches.
            (&[0, 150], 3.0, 50_000.0, 50.0, true),
            (&[0, 90], 3.0, 50_000.0, 30.0, false),
        ];
        for &(readings, hold, offered, per_sec, rising) in table {
            let t = Trend::fit(&even(readings, hold), offered).unwrap();
            assert!((t.per_sec - per_sec).abs() < 0.5, "{readings:?}: {t:?}");
            assert_eq!(t.rising, rising, "{readings:?}: {t:?}");
        }
        assert_eq!(Trend::fit(&[(0.0, 5)], 100.0), None);
    }

    fn measured(verdict: Verdict, goodput: Option<f64>, readings: &[i64]) -> Measurement {
        Measurement {
            verdict,
            offered_rps: 5125.0,
            goodput_rps: goodput,
            backlogs: vec![BacklogTrace {
                name: "queue".into(),
                readings: even(readings, 3.0),
            }],
            margins: vec![Margin {
                gate: "op p95".into(),
                value: 20.0,
                limit: 100.0,
            }],
        }
    }

    #[test]
    fn a_pass_with_a_rising_backlog_is_above_capacity() {
        let table: &[(&str, Measurement, Class, Option<f64>)] = &[
            (
                "steady backlog",
                measured(Verdict::Pass, Some(5125.0), &[5, 5, 6, 5]),
                Class::Pass,
                None,
            ),
            (
                "rising within the gate: above capacity, served offered − growth",
                measured(Verdict::Pass, Some(5100.0), &[0, 25, 50, 75]),
                Class::AboveCapacity,
                Some(5100.0),
            ),
            (
                "no goodput: offered minus growth",
                measured(Verdict::Pass, None, &[0, 25, 50, 75]),
                Class::AboveCapacity,
                Some(5100.0),
            ),
            (
                // Lost ops are work the service does, not answers the client sees.
                "the backlog beats a goodput cut by losses",
                measured(Verdict::Trip(vec![]), Some(2000.0), &[0, 375, 750, 1125]),
                Class::Trip,
                Some(4750.0),
            ),
            (
                "a latency trip below capacity does not",
                measured(Verdict::Trip(vec![]), Some(5125.0), &[3, 3, 3, 3]),
                Class::Trip,
                None,
            ),
        ];
        for (name, m, class, served) in table {
            let a = Assessment::of(m);
            assert_eq!((a.class, a.served_rps), (*class, *served), "{name}");
            assert!((a.margin.unwrap() - 5f64.ln()).abs() < 1e-9, "{name}");
        }
        // No backlog signal: a goodput short of the offered rate.
        let mut m = measured(Verdict::Pass, Some(4000.0), &[]);
        m.backlogs.clear();
        assert_eq!(
            (Assessment::of(&m).class, Assessment::of(&m).served_rps),
            (Class::AboveCapacity, Some(4000.0))
        );
    }
}
