//! What moved second by second during a hold: achieved rate, latency per
//! series (from the intended and from the actual send), failures and every
//! backlog. One point per second of hold, so the series stays small however
//! long the hold; a step's whole-hold figures stay in its [`StepReport`].
//!
//! Latency points cover the samples *answered* in that second (as a
//! Prometheus scrape would see them); the step's own percentiles cover all
//! of its hold ops, stragglers of the drain included.
//!
//! [`StepReport`]: super::StepReport

use std::time::Duration;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use super::ms_value;
use crate::backlog::Backlogs;

/// One second (or the last part-second) of a hold.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SecondPoint {
    /// From hold start to the end of this interval, in seconds.
    pub t_s: f64,
    /// Ops the plugin accepted in the interval, per second.
    pub achieved_rps: f64,
    /// Failure samples (errors, timeouts, lost) that arrived in the interval.
    pub failures: u64,
    pub series: Vec<SeriesSecond>,
    /// Every backlog (durable or plugin gauge) at the interval's end; empty
    /// when the reading failed.
    pub backlog: Backlogs,
}

/// One series' answers in one interval, in milliseconds (0 when none).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeriesSecond {
    pub name: String,
    pub count: u64,
    /// From the intended send time (what users wait).
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// From the actual send (what a closed-loop tool would report).
    pub service_p50_ms: f64,
    pub service_p99_ms: f64,
}

/// What the Collector saw of one series since its last interval reading.
#[derive(Clone, Debug)]
pub struct SeriesInterval {
    pub name: String,
    /// Latency from intended send, ns.
    pub latency: Histogram<u64>,
    /// Latency from actual send, ns.
    pub service: Histogram<u64>,
    /// Errors, timeouts and lost samples.
    pub failures: u64,
}

impl SeriesInterval {
    fn second(&self) -> SeriesSecond {
        let q = |h: &Histogram<u64>, quantile: f64| {
            if h.is_empty() {
                0.0
            } else {
                ms_value(Duration::from_nanos(h.value_at_quantile(quantile)))
            }
        };
        SeriesSecond {
            name: self.name.clone(),
            count: self.latency.len(),
            p50_ms: q(&self.latency, 0.50),
            p99_ms: q(&self.latency, 0.99),
            service_p50_ms: q(&self.service, 0.50),
            service_p99_ms: q(&self.service, 0.99),
        }
    }
}

/// The point for the interval `(from, to]` seconds after hold start in which
/// the pacer's hold count of accepted ops went up by `accepted`.
pub fn second_point(
    from_s: f64,
    to_s: f64,
    accepted: u64,
    interval: &[SeriesInterval],
    backlog: Backlogs,
) -> SecondPoint {
    let span = (to_s - from_s).max(1e-3);
    SecondPoint {
        t_s: (to_s * 1000.0).round() / 1000.0,
        achieved_rps: (accepted as f64 / span * 10.0).round() / 10.0,
        failures: interval.iter().map(|s| s.failures).sum(),
        series: interval.iter().map(SeriesInterval::second).collect(),
        backlog,
    }
}

/// One second's reading, for the report and the live metrics.
pub struct SecondUpdate {
    pub point: SecondPoint,
    /// The interval's histograms per series (live latency metrics).
    pub intervals: Vec<SeriesInterval>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn interval(name: &str, latencies_ms: &[u64], failures: u64) -> SeriesInterval {
        let mut latency = Histogram::new_with_bounds(1, 3_600_000_000_000, 3).unwrap();
        let mut service = latency.clone();
        for ms in latencies_ms {
            latency.record(ms * 1_000_000).unwrap();
            service.record(ms * 500_000).unwrap();
        }
        SeriesInterval {
            name: name.into(),
            latency,
            service,
            failures,
        }
    }

    #[test]
    fn a_point_is_rates_per_second_and_percentiles_of_the_interval() {
        let latencies: Vec<u64> = (1..=100).collect();
        let p = second_point(
            1.0,
            1.5,
            600,
            &[interval("a", &latencies, 2), interval("b", &[], 1)],
            [("q".to_string(), 7)].into(),
        );
        assert_eq!(p.t_s, 1.5);
        assert_eq!(p.achieved_rps, 1200.0, "600 ops in half a second");
        assert_eq!(p.failures, 3);
        let near = |got: f64, want: f64| (got - want).abs() < want * 0.002;
        let a = &p.series[0];
        assert_eq!(a.count, 100);
        assert!(near(a.p50_ms, 50.0) && near(a.p99_ms, 99.0), "{a:?}");
        assert!(near(a.service_p99_ms, 49.5), "{a:?}");
        assert_eq!(
            (p.series[1].count, p.series[1].p99_ms),
            (0, 0.0),
            "no answers: zeros, not garbage"
        );
        assert_eq!(p.backlog.get("q"), Some(&7));
    }
}
