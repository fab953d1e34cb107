//! Open-loop pacing for the plain reference generators: op *k* is due at
//! `start + k·10⁹/rate` (absolute, so lateness never accumulates), released
//! from a dedicated thread that sleeps between wake-ups at least [`MIN_GAP`]
//! apart — the same scheme as loadgen's pacer, so the references are paced
//! as precisely as loadgen is.

use std::time::Duration;

use crate::measure::now_ns;

/// Shortest sleep between two wake-ups; ops due meanwhile go out together.
pub const MIN_GAP: Duration = Duration::from_micros(50);

/// The `k`-th op's intended time.
pub fn intended(start_ns: u64, rate: u64, k: u64) -> u64 {
    start_ns + (k as u128 * 1_000_000_000 / rate as u128) as u64
}

/// How many ops are due at or before `t` (the `k` with `intended(k) <= t`).
pub fn due_by(start_ns: u64, rate: u64, t: u64) -> u64 {
    if t < start_ns {
        return 0;
    }
    ((t - start_ns + 1) as u128 * rate as u128).div_ceil(1_000_000_000) as u64
}

/// Calls `fire(intended_ns)` for every op due in `[start, start + duration)`,
/// each no sooner than its intended time, then returns how many it fired.
/// Blocks the calling thread for the duration.
pub fn run(start_ns: u64, rate: u64, duration: Duration, mut fire: impl FnMut(u64)) -> u64 {
    assert!(rate > 0, "rate must be > 0");
    let end = due_by(start_ns, rate, start_ns + duration.as_nanos() as u64 - 1);
    let mut next = 0;
    let mut last_wake = 0;
    while next < end {
        let wake = intended(start_ns, rate, next).max(last_wake + MIN_GAP.as_nanos() as u64);
        let now = now_ns();
        if wake > now {
            std::thread::sleep(Duration::from_nanos(wake - now));
        }
        last_wake = now_ns();
        let due = due_by(start_ns, rate, last_wake).min(end);
        while next < due {
            fire(intended(start_ns, rate, next));
            next += 1;
        }
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn op_times_are_absolute_and_due_counts_include_the_op_at_t() {
        assert_eq!(intended(100, 3, 3), 1_000_000_100);
        assert_eq!(intended(0, 3, 1), 333_333_333);
        let table = [
            (99, 0),
            (100, 1),
            (333_333_432, 1),
            (333_333_433, 2),
            (1_000_000_100, 4),
        ];
        for (t, want) in table {
            assert_eq!(due_by(100, 3, t), want, "t={t}");
        }
    }

    #[test]
    fn run_fires_every_op_of_the_duration_at_or_after_its_time() {
        let start = now_ns() + 1_000_000;
        let mut fired = Vec::new();
        let n = run(start, 10_000, Duration::from_millis(20), |intended| {
            fired.push((intended, now_ns()))
        });
        assert_eq!(n, 200);
        assert_eq!(fired.len(), 200);
        assert!(fired.iter().all(|&(intended, at)| at >= intended));
        assert!(fired.windows(2).all(|w| w[0].0 < w[1].0));
    }
}
