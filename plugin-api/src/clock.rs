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
}
