//! CPU time, the clock, and the result line every bench program prints.

use std::time::Duration;

use hdrhistogram::Histogram;

/// `CLOCK_MONOTONIC` in ns (the same clock loadgen measures with).
pub fn now_ns() -> u64 {
    clock(libc::CLOCK_MONOTONIC)
}

/// CPU time of this whole process (all threads) so far.
pub fn process_cpu() -> Duration {
    Duration::from_nanos(clock(libc::CLOCK_PROCESS_CPUTIME_ID))
}

fn clock(id: libc::clockid_t) -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec and both clocks exist on Linux.
    unsafe { libc::clock_gettime(id, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// A latency histogram in ns, 1 ns to 1 h at 3 significant digits.
pub fn latency_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 3_600_000_000_000, 3).expect("valid bounds")
}

/// What one generator run achieved; printed as one `key=value` line.
pub struct RunResult {
    pub ok: u64,
    pub errors: u64,
    pub elapsed: Duration,
    pub cpu: Duration,
    pub latency: Histogram<u64>,
}

impl RunResult {
    pub fn line(&self) -> String {
        let ms = |q: f64| self.latency.value_at_quantile(q) as f64 / 1e6;
        let done = (self.ok + self.errors).max(1);
        format!(
            "achieved_rps={:.1} ok={} errors={} p50_ms={:.3} p99_ms={:.3} cpu_s={:.3} cpu_us_per_op={:.3}",
            self.ok as f64 / self.elapsed.as_secs_f64(),
            self.ok,
            self.errors,
            ms(0.50),
            ms(0.99),
            self.cpu.as_secs_f64(),
            self.cpu.as_secs_f64() * 1e6 / done as f64,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_result_line_has_rate_quantiles_and_cpu_per_op() {
        let mut latency = latency_histogram();
        for v in 1..=100u64 {
            latency.record(v * 1_000_000).unwrap();
        }
        let line = RunResult {
            ok: 100,
            errors: 0,
            elapsed: Duration::from_secs(2),
            cpu: Duration::from_millis(5),
            latency,
        }
        .line();
        assert!(
            line.starts_with("achieved_rps=50.0 ok=100 errors=0 p50_ms=50.0"),
            "{line}"
        );
        assert!(line.contains("p99_ms=99.0"), "{line}");
        assert!(line.ends_with("cpu_s=0.005 cpu_us_per_op=50.000"), "{line}");
    }
}
