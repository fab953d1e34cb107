//! [`Fifo`]: a service with exactly `rate` completions per second, in arrival
//! order. Each arrival is finished `1/rate` after the later of its arrival and
//! the previous finish, so below `rate` latency stays ≈ `1/rate` and above it
//! the queue (and the latency) grows without bound: the test servers' known
//! capacity. Pure: the clock is an argument.

use std::time::Duration;

use tokio::time::Instant;

#[derive(Debug)]
pub struct Fifo {
    service: Duration,
    /// When the last admitted arrival finishes.
    busy_until: Option<Instant>,
}

impl Fifo {
    pub fn new(rate_per_second: u32) -> Fifo {
        assert!(rate_per_second > 0, "a FIFO needs a positive rate");
        Fifo {
            service: Duration::from_secs(1) / rate_per_second,
            busy_until: None,
        }
    }

    /// Admit an arrival at `now`; returns when it is finished.
    pub fn admit(&mut self, now: Instant) -> Instant {
        self.admit_costing(now, self.service)
    }

    /// Admit an arrival at `now` that takes `service` (requests of different
    /// cost on one queue, like one CPU); returns when it is finished.
    pub fn admit_costing(&mut self, now: Instant, service: Duration) -> Instant {
        let start = self.busy_until.map_or(now, |busy| busy.max(now));
        let done = start + service;
        self.busy_until = Some(done);
        done
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn below_capacity_each_arrival_takes_one_service_time() {
        let t0 = Instant::now();
        let mut fifo = Fifo::new(100);
        let ms = Duration::from_millis;
        assert_eq!(fifo.admit(t0), t0 + ms(10));
        assert_eq!(fifo.admit(t0 + ms(20)), t0 + ms(30));
        assert_eq!(fifo.admit(t0 + ms(45)), t0 + ms(55));
    }

    #[test]
    fn above_capacity_the_queue_grows() {
        let t0 = Instant::now();
        let mut fifo = Fifo::new(100);
        let ms = Duration::from_millis;
        // 4 arrivals at once: finished 10 ms apart, the last after 40 ms.
        let done: Vec<_> = (0..4).map(|_| fifo.admit(t0)).collect();
        assert_eq!(
            done,
            vec![t0 + ms(10), t0 + ms(20), t0 + ms(30), t0 + ms(40)]
        );
        // One arriving while the queue drains waits behind it.
        assert_eq!(fifo.admit(t0 + ms(5)), t0 + ms(50));
    }
}
