//! [`Fifo`]: a service with exactly `rate` completions per second, in arrival
//! order. Each arrival is finished `1/rate` after the later of its arrival and
//! the previous finish, so below `rate` latency stays ≈ `1/rate` and above it
//! the queue (and the latency) grows without bound: the test servers' known
//! capacity. Pure: the clock is an argument.
//!
//! [`Worker`]: the same service for callers that may give up (gRPC deadlines,
//! a client that cancels at the end of a step): one call at a time, in arrival
//! order, and a call cancelled while it waits costs nothing, as with a worker
//! that skips abandoned requests. A [`Fifo`] books every arrival, so an
//! overloaded step would leave minutes of abandoned work ahead of the next one.

use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::Semaphore;
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

/// A [`Fifo`] whose waiting callers may leave the queue for free.
#[derive(Debug)]
pub struct Worker {
    /// Fair (FIFO) and held through a call's service time.
    turn: Semaphore,
    clock: Mutex<Fifo>,
}

impl Worker {
    pub fn new(rate_per_second: u32) -> Worker {
        Worker {
            turn: Semaphore::new(1),
            clock: Mutex::new(Fifo::new(rate_per_second)),
        }
    }

    /// Serve one call of the default cost, after the ones before it.
    pub async fn serve(&self) {
        let service = self.clock.lock().unwrap().service;
        self.serve_costing(service).await;
    }

    /// Serve one call that takes `service`, after the ones before it.
    pub async fn serve_costing(&self, service: Duration) {
        let arrival = Instant::now();
        let _turn = self.turn.acquire().await.expect("never closed");
        // Booked from the arrival, not from this task's (later) wake-up, so
        // scheduling delays do not lower the rate.
        let done = self.clock.lock().unwrap().admit_costing(arrival, service);
        tokio::time::sleep_until(done).await;
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

    #[tokio::test(start_paused = true)]
    async fn a_worker_serves_in_order_and_cancelled_waiters_cost_nothing() {
        let worker = std::sync::Arc::new(Worker::new(100));
        let t0 = Instant::now();
        let spawn = |w: &std::sync::Arc<Worker>| {
            let w = std::sync::Arc::clone(w);
            tokio::spawn(async move {
                w.serve().await;
                Instant::now()
            })
        };
        let first = spawn(&worker);
        tokio::task::yield_now().await;
        let abandoned = spawn(&worker);
        tokio::task::yield_now().await;
        let third = spawn(&worker);
        tokio::task::yield_now().await;
        abandoned.abort();
        let ms = Duration::from_millis;
        assert_eq!(first.await.unwrap() - t0, ms(10));
        assert_eq!(third.await.unwrap() - t0, ms(20));
    }
}
