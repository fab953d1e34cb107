//! The ground-truth knobs tests and benchmarks turn: per-service rate, delay
//! and concurrency, and the faults the testbed injects on purpose.

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chat_fixtures::mix64;

/// The four services; names are the metric label and the flag prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Service {
    Gatekeeper,
    Worker,
    Broadcast,
    History,
}

impl Service {
    pub const ALL: [Service; 4] = [
        Self::Gatekeeper,
        Self::Worker,
        Self::Broadcast,
        Self::History,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::Gatekeeper => "gatekeeper",
            Self::Worker => "worker",
            Self::Broadcast => "broadcast",
            Self::History => "history",
        }
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One service's knobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Knobs {
    /// Operations per second through a token bucket; 0 = unlimited.
    pub rate: u32,
    /// Added to every operation, inside its concurrency slot.
    pub delay: Duration,
    /// Operations in flight at once.
    pub concurrency: usize,
}

impl fmt::Display for Knobs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rate = if self.rate == 0 {
            "unlimited".to_string()
        } else {
            format!("{}/s", self.rate)
        };
        write!(
            f,
            "rate={rate} delay={} concurrency={}",
            humantime::format_duration(self.delay),
            self.concurrency
        )
    }
}

/// `--stall EVERY:FOR`: every `every`, all services pause for `pause`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stall {
    pub every: Duration,
    pub pause: Duration,
}

/// Why a `--stall` value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StallError {
    #[error("expected EVERY:FOR, e.g. 10s:500ms")]
    Shape,
    #[error("bad duration `{0}`: {1}")]
    Duration(String, String),
    #[error("FOR must be shorter than EVERY and EVERY non-zero")]
    Order,
}

impl FromStr for Stall {
    type Err = StallError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (every, pause) = s.split_once(':').ok_or(StallError::Shape)?;
        let parse = |d: &str| {
            humantime::parse_duration(d.trim())
                .map_err(|e| StallError::Duration(d.to_string(), e.to_string()))
        };
        let stall = Stall {
            every: parse(every)?,
            pause: parse(pause)?,
        };
        if stall.every.is_zero() || stall.pause >= stall.every {
            return Err(StallError::Order);
        }
        Ok(stall)
    }
}

impl fmt::Display for Stall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}",
            humantime::format_duration(self.every),
            humantime::format_duration(self.pause)
        )
    }
}

impl Stall {
    /// If `elapsed` (since start) falls in a stall window, how long is left
    /// of it. Windows open at every multiple of `every` after the first, so a
    /// run starts healthy.
    pub fn remaining(&self, elapsed: Duration) -> Option<Duration> {
        let every = self.every.as_nanos();
        let k = elapsed.as_nanos() / every;
        let into = elapsed.as_nanos() - k * every;
        (k >= 1 && into < self.pause.as_nanos())
            .then(|| self.pause - Duration::from_nanos(into as u64))
    }
}

/// Injected faults, as probabilities. Rolls come from a shared counter
/// hashed through splitmix64: lock-free, and reproducible for a given
/// order of operations.
#[derive(Debug, Default)]
pub struct Faults {
    /// The gatekeeper rejects a valid send.
    pub error_rate: f64,
    /// A reply or broadcast is silently not sent.
    pub drop_rate: f64,
    /// A reply is sent as invalid JSON.
    pub malformed_rate: f64,
    rolls: AtomicU64,
}

impl Faults {
    pub fn new(error_rate: f64, drop_rate: f64, malformed_rate: f64) -> Self {
        Faults {
            error_rate,
            drop_rate,
            malformed_rate,
            rolls: AtomicU64::new(0),
        }
    }

    /// True with probability `p`; never draws when `p` is 0.
    pub fn roll(&self, p: f64) -> bool {
        if p <= 0.0 {
            return false;
        }
        let n = mix64(self.rolls.fetch_add(1, Ordering::Relaxed));
        ((n >> 11) as f64 / (1u64 << 53) as f64) < p
    }
}

/// Parses a probability in `[0, 1]` (clap value parser).
pub fn parse_fraction(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|_| format!("`{s}` is not a number"))?;
    if (0.0..=1.0).contains(&v) {
        Ok(v)
    } else {
        Err(format!("`{s}` is not within 0..=1"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stall_parses_and_opens_windows_after_the_first_period() {
        let s: Stall = "10s:2s".parse().unwrap();
        assert_eq!(s.remaining(Duration::from_secs(1)), None);
        assert_eq!(
            s.remaining(Duration::from_secs(10)),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            s.remaining(Duration::from_millis(11_500)),
            Some(Duration::from_millis(500))
        );
        assert_eq!(s.remaining(Duration::from_secs(12)), None);
        assert_eq!(
            s.remaining(Duration::from_secs(20)),
            Some(Duration::from_secs(2))
        );
        assert_eq!("10s".parse::<Stall>(), Err(StallError::Shape));
        assert_eq!("1s:2s".parse::<Stall>(), Err(StallError::Order));
        assert!(matches!(
            "x:1s".parse::<Stall>(),
            Err(StallError::Duration(..))
        ));
    }

    #[test]
    fn fault_rolls_hit_about_the_rate() {
        let f = Faults::new(0.0, 0.0, 0.0);
        assert!(!(0..1000).any(|_| f.roll(0.0)));
        let hits = (0..10_000).filter(|_| f.roll(0.25)).count();
        assert!((2200..2800).contains(&hits), "{hits}");
        assert!((0..100).all(|_| f.roll(1.0)));
    }

    #[test]
    fn fractions_are_bounded() {
        assert_eq!(parse_fraction("0.5"), Ok(0.5));
        assert!(parse_fraction("1.5").is_err());
        assert!(parse_fraction("-0.1").is_err());
        assert!(parse_fraction("x").is_err());
    }
}
