//! The one clock host and plugins agree on: raw `CLOCK_MONOTONIC` nanoseconds.
//!
//! `std::time::Instant` cannot cross the library boundary (it is opaque), so both
//! sides read the same kernel clock and exchange plain `u64`s.

use crate::abi::MonoNanos;

/// The current `CLOCK_MONOTONIC` time.
pub fn now() -> MonoNanos {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_MONOTONIC always exists on Linux.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    debug_assert_eq!(rc, 0);
    MonoNanos(ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64)
}

/// `ns` (a `CLOCK_MONOTONIC` time or a span) as the kernel's `timespec`, for
/// absolute sleeps and timers.
pub fn timespec(ns: u64) -> libc::timespec {
    libc::timespec {
        tv_sec: (ns / 1_000_000_000) as libc::time_t,
        tv_nsec: (ns % 1_000_000_000) as libc::c_long,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_is_monotonic_and_advances_with_sleep() {
        let a = now();
        std::thread::sleep(std::time::Duration::from_millis(5));
        let b = now();
        assert!(b.0 - a.0 >= 5_000_000, "{a:?} -> {b:?}");
    }

    #[test]
    fn timespec_splits_seconds_and_nanoseconds() {
        for (ns, sec, nsec) in [
            (0, 0, 0),
            (999_999_999, 0, 999_999_999),
            (3_000_000_007, 3, 7),
        ] {
            let ts = timespec(ns);
            assert_eq!((ts.tv_sec as u64, ts.tv_nsec as u64), (sec, nsec), "{ns}");
        }
    }
}
