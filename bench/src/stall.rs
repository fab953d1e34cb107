//! "Stall S every P": the server answers nothing during the last S of every
//! period P (counted from its start); a request arriving in a stall is answered
//! when the stall ends. An open-loop client at any steady rate therefore sees
//! a fraction S/P of its requests wait, uniformly between 0 and S — which fixes
//! the true latency quantiles, whatever a tool reports.

use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StallPattern {
    pub stall: Duration,
    pub every: Duration,
}

impl StallPattern {
    pub fn new(stall: Duration, every: Duration) -> Result<StallPattern, String> {
        if every.is_zero() || stall >= every {
            return Err(format!(
                "stall {stall:?} must be shorter than its period {every:?}"
            ));
        }
        Ok(StallPattern { stall, every })
    }

    /// How long a request arriving `since_start` after the server started waits.
    pub fn wait_at(&self, since_start: Duration) -> Duration {
        let period = self.every.as_nanos();
        let phase = since_start.as_nanos() % period;
        let stall_from = period - self.stall.as_nanos();
        if phase < stall_from {
            Duration::ZERO
        } else {
            Duration::from_nanos((period - phase) as u64)
        }
    }

    /// The true `q` quantile of the added wait for open-loop arrivals at a
    /// steady rate: a fraction f = S/P waits U(0, S], so
    /// P(wait > x) = f·(1 − x/S) and the quantile is S·(1 − (1 − q)/f), or 0
    /// when the stalled fraction is smaller than 1 − q.
    pub fn true_quantile(&self, q: f64) -> Duration {
        let f = self.stall.as_secs_f64() / self.every.as_secs_f64();
        let x = 1.0 - (1.0 - q) / f;
        Duration::from_secs_f64(self.stall.as_secs_f64() * x.max(0.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn requests_in_the_last_s_of_each_period_wait_for_its_end() {
        let p = StallPattern::new(ms(500), ms(5_000)).unwrap();
        let table = [
            (0, 0),
            (4_499, 0),
            (4_500, 500),
            (4_900, 100),
            (4_999, 1),
            (5_000, 0),
            (9_600, 400),
            (14_750, 250),
        ];
        for (at, want) in table {
            assert_eq!(p.wait_at(ms(at)), ms(want), "at {at} ms");
        }
    }

    #[test]
    fn true_quantiles_follow_from_the_stalled_fraction() {
        let p = StallPattern::new(ms(500), ms(5_000)).unwrap();
        // 10% of requests wait U(0, 500 ms]: p99 = 450 ms, p95 = 250 ms, p90 = 0.
        let table = [(0.99, 450.0), (0.95, 250.0), (0.90, 0.0), (0.5, 0.0)];
        for (q, want_ms) in table {
            let got = p.true_quantile(q).as_secs_f64() * 1e3;
            assert!((got - want_ms).abs() < 1e-6, "q={q}: {got} ms");
        }
    }

    #[test]
    fn a_stall_as_long_as_its_period_is_refused() {
        assert!(StallPattern::new(ms(5), ms(5)).is_err());
        assert!(StallPattern::new(ms(1), Duration::ZERO).is_err());
    }
}
