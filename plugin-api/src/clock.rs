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

/// A `CLOCK_REALTIME` time the kernel stamped (a socket's receive time) on
/// the monotonic clock, by the two clocks' offset now.
pub fn from_realtime(at: libc::timespec) -> MonoNanos {
    let mut real = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `real` is a valid, writable timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_REALTIME, &mut real) };
    let mono = now().0 as i128;
    let ns = |ts: &libc::timespec| ts.tv_sec as i128 * 1_000_000_000 + ts.tv_nsec as i128;
    // How long ago it was, by the realtime clock; never in the future.
    let ago = (ns(&real) - ns(&at)).max(0);
    MonoNanos((mono - ago).max(0) as u64)
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
