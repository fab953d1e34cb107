//! Pacing of one service: a token bucket for `--<svc>-rate` and the global
//! `--stall` windows. The bucket is a plain struct that takes the clock as
//! an argument, so its arithmetic is tested without sleeping.

use std::time::Duration;

use tokio::time::Instant;

use crate::knobs::Stall;

/// Token bucket: `rate` tokens per second, at most `burst` saved up.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    /// The burst is 1/50 s of tokens (at least one): small enough that a
    /// few seconds' processed rate sits within a percent or two of `rate`,
    /// large enough to ride over tokio's millisecond timer granularity.
    pub fn new(rate: u32, now: Instant) -> Self {
        let burst = (f64::from(rate) / 50.0).max(1.0);
        TokenBucket {
            rate: f64::from(rate),
            burst,
            tokens: burst,
            last: now,
        }
    }

    /// Takes one token, or says how long until one is due.
    pub fn take(&mut self, now: Instant) -> Result<(), Duration> {
        let earned = now.saturating_duration_since(self.last).as_secs_f64() * self.rate;
        self.tokens = (self.tokens + earned).min(self.burst);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - self.tokens) / self.rate))
        }
    }
}

/// What a service's intake loop awaits before taking the next operation.
#[derive(Debug)]
pub struct Throttle {
    bucket: Option<TokenBucket>,
    stall: Option<Stall>,
    /// Stall windows are counted from here (testbed start).
    origin: Instant,
}

impl Throttle {
    pub fn new(rate: u32, stall: Option<Stall>, origin: Instant) -> Self {
        let bucket = (rate > 0).then(|| TokenBucket::new(rate, Instant::now()));
        Throttle {
            bucket,
            stall,
            origin,
        }
    }

    /// Returns once the next operation may start.
    pub async fn ready(&mut self) {
        loop {
            let now = Instant::now();
            if let Some(left) = self.stall.and_then(|s| s.remaining(now - self.origin)) {
                tokio::time::sleep(left).await;
                continue;
            }
            match self.bucket.as_mut().map_or(Ok(()), |b| b.take(now)) {
                Ok(()) => return,
                Err(wait) => tokio::time::sleep(wait).await,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_releases_rate_per_second_after_the_burst() {
        let t0 = Instant::now();
        let mut b = TokenBucket::new(1000, t0);
        let burst = (0..100).take_while(|_| b.take(t0).is_ok()).count();
        assert_eq!(burst, 20);
        let wait = b.take(t0).unwrap_err();
        assert!(wait <= Duration::from_millis(1), "{wait:?}");
        let mut taken = 0;
        for ms in 1..=1000 {
            let now = t0 + Duration::from_millis(ms);
            while b.take(now).is_ok() {
                taken += 1;
            }
        }
        assert!((999..=1001).contains(&taken), "{taken}");
    }

    #[test]
    fn idle_time_saves_at_most_the_burst() {
        let t0 = Instant::now();
        let mut b = TokenBucket::new(100, t0);
        let later = t0 + Duration::from_secs(60);
        let saved = (0..1000).take_while(|_| b.take(later).is_ok()).count();
        assert_eq!(saved, 2);
    }

    #[tokio::test(start_paused = true)]
    async fn throttle_paces_to_the_rate() {
        let start = Instant::now();
        let mut t = Throttle::new(200, None, start);
        for _ in 0..204 {
            t.ready().await;
        }
        let took = start.elapsed();
        assert!(
            took >= Duration::from_millis(990) && took <= Duration::from_millis(1010),
            "{took:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn throttle_waits_out_a_stall() {
        let origin = Instant::now();
        let stall = Stall {
            every: Duration::from_secs(1),
            pause: Duration::from_millis(300),
        };
        let mut t = Throttle::new(0, Some(stall), origin);
        tokio::time::advance(Duration::from_millis(1100)).await;
        t.ready().await;
        assert!(origin.elapsed() >= Duration::from_millis(1300));
    }
}
