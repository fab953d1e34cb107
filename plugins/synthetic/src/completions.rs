//! [`Completions`]: samples waiting for their `done` time, and the one task that
//! delivers them.
//!
//! The engine's drain logic needs every sample delivered no earlier than its
//! `done` (and promptly after it). One timer per op would not keep up with
//! 100k ops/s on 2 cores; instead the server's FIFO order makes `done` times
//! non-decreasing, so the queue is already sorted: the task sleeps until the
//! front is due, takes everything due, and sleeps again (tokio timers fire
//! about 1 ms late, which bounds the extra delay).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use loadgen_plugin_api::sdk::{clock, MonoNanos, Sample};
use tokio::sync::Notify;

#[derive(Default)]
pub struct Completions {
    /// Sorted by `done` when pushed in the server's order. A sample pushed out
    /// of order is still never early, only held back behind the front.
    queue: Mutex<VecDeque<Sample>>,
    /// Wakes the delivery task when the queue stops being empty (a later sample
    /// pushed behind others never needs to wake it).
    pushed: Notify,
}

impl Completions {
    /// Queue samples, in non-decreasing `done` order.
    pub fn push(&self, samples: impl IntoIterator<Item = Sample>) {
        let mut queue = self.queue.lock().unwrap();
        let was_empty = queue.is_empty();
        queue.extend(samples);
        if was_empty && !queue.is_empty() {
            // Stores a permit if the task is not waiting yet: no lost wake-up.
            self.pushed.notify_one();
        }
    }

    /// Move every sample due at `now` (`done <= now`) to `due`; return when the
    /// next one is due, if any.
    pub fn take_due(&self, now: MonoNanos, due: &mut Vec<Sample>) -> Option<MonoNanos> {
        let mut queue = self.queue.lock().unwrap();
        while let Some(front) = queue.front() {
            if front.done > now {
                return Some(front.done);
            }
            due.extend(queue.pop_front());
        }
        None
    }

    /// Hand each sample to `deliver` once `clock::now()` has reached its `done`.
    /// Runs until the runtime stops.
    pub async fn run(self: Arc<Self>, mut deliver: impl FnMut(Sample) + Send) {
        let mut due = Vec::new();
        loop {
            let next = self.take_due(clock::now(), &mut due);
            // Delivered outside the lock so `fire` never waits for the sink.
            due.drain(..).for_each(&mut deliver);
            match next {
                None => self.pushed.notified().await,
                Some(at) => {
                    // Rounded up to the timer's granularity; if it still
                    // wakes early, the loop finds nothing due and sleeps again.
                    let wait = at.since(clock::now());
                    tokio::time::sleep(Duration::from_nanos(wait)).await;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use loadgen_plugin_api::sdk::{Op, Sample, Series};

    fn done_at(ns: u64) -> Sample {
        let op = Op {
            index: 0,
            intended: MonoNanos(0),
        };
        op.sent_at(MonoNanos(0))
            .ok(Series::new(0, "op"), MonoNanos(ns))
    }

    #[test]
    fn take_due_takes_only_what_is_due_and_names_the_next() {
        let c = Completions::default();
        c.push([10, 20, 20, 30].map(done_at));
        // (now, dones taken, next due)
        let table: [(u64, &[u64], Option<u64>); 5] = [
            (9, &[], Some(10)),
            (10, &[10], Some(20)),
            (25, &[20, 20], Some(30)),
            (29, &[], Some(30)),
            (100, &[30], None),
        ];
        for (now, taken, next) in table {
            let mut due = Vec::new();
            let got = c.take_due(MonoNanos(now), &mut due);
            let dones: Vec<u64> = due.iter().map(|s| s.done.0).collect();
            assert_eq!(
                (dones.as_slice(), got),
                (taken, next.map(MonoNanos)),
                "now={now}"
            );
        }
    }

    #[test]
    fn run_delivers_each_sample_at_or_after_its_done_time() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let c = Arc::new(Completions::default());
        let (tx, rx) = std::sync::mpsc::channel();
        rt.spawn(Arc::clone(&c).run(move |s| {
            let _ = tx.send((s, clock::now()));
        }));
        let start = clock::now();
        // Pushed while the task waits on an empty queue, then again later.
        let first: Vec<_> = [0, 20, 40]
            .map(|ms| done_at(start.0 + ms * 1_000_000))
            .into();
        let second: Vec<_> = [60, 60].map(|ms| done_at(start.0 + ms * 1_000_000)).into();
        let mut delivered = Vec::new();
        rt.block_on(async {
            c.push(first);
            tokio::time::sleep(Duration::from_millis(5)).await;
            c.push(second);
            // Poll with a wide bound: the box may be busy.
            for _ in 0..1000 {
                delivered.extend(rx.try_iter());
                if delivered.len() >= 5 {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        });
        assert_eq!(delivered.len(), 5);
        for (sample, at) in delivered {
            assert!(
                at >= sample.done,
                "delivered {} ns early",
                sample.done.since(at)
            );
        }
    }
}
