//! [`Recorder`]: the plugin-side handle for delivering samples to the host.
//!
//! Samples wait in one buffer shared by every clone of the recorder; one
//! flusher task hands them to the host sink in batches: one FFI call and one
//! host message per batch instead of per sample. Recording a sample is a push
//! under an uncontended lock (an unbounded channel's push, permit and waker
//! were ≈20% of loadgen's CPU with `echo` at 1M ops/s); only the first sample
//! after a flush wakes the flusher. The flusher lingers [`LINGER`] after that
//! first sample so a steady trickle of network answers (each arriving alone)
//! still forms batches: at 20k req/s a 1 ms linger cut the host's wake-ups from
//! thousands a second per thread to about a thousand, and total CPU by ≈25%;
//! 5 ms cut loadgen's CPU with the http plugin at 5k req/s by another ≈10%
//! (the host's actor threads wake 200 times a second, not 1000). Samples carry
//! their own times, so the linger never shows in latency, and the host reads
//! its figures after a drain of seconds.
//!
//! Disturbances ([`Recorder::disturbed`]) are rare and must not wait behind a
//! batch: they go straight to the host sink.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use abi_stable::std_types::{RSlice, RStr};
use tokio::sync::Notify;

use crate::abi::{MonoNanos, Sample, SinkBox};

/// Largest batch handed to the host sink in one call.
const MAX_BATCH: usize = 4096;
/// How long a batch waits for company after its first sample.
pub const LINGER: Duration = Duration::from_millis(5);

/// Where [`Recorder::disturbed`] reports go.
type DisturbanceSink = Arc<dyn Fn(MonoNanos, &str) + Send + Sync>;

/// Disturbances a [`Recorder::captured`] recorder kept (for tests).
pub(crate) type KeptDisturbances = Arc<Mutex<Vec<(MonoNanos, String)>>>;

/// The samples recorded and not yet flushed.
#[derive(Default)]
pub(crate) struct Pending {
    samples: Mutex<Vec<Sample>>,
    /// The first sample after a flush arrived, or the last recorder went.
    arrived: Notify,
    /// Every recorder is gone: nothing more will be pushed.
    closed: AtomicBool,
}

impl Pending {
    fn lock(&self) -> MutexGuard<'_, Vec<Sample>> {
        // A push cannot leave the Vec inconsistent, even if it panicked.
        self.samples.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn push_all(&self, samples: impl IntoIterator<Item = Sample>) {
        let was_empty = {
            let mut pending = self.lock();
            let was_empty = pending.is_empty();
            pending.extend(samples);
            was_empty && !pending.is_empty()
        };
        if was_empty {
            self.arrived.notify_one();
        }
    }

    /// Swap the pending samples into `batch` (empty; its capacity is reused).
    pub(crate) fn take(&self, batch: &mut Vec<Sample>) {
        std::mem::swap(&mut *self.lock(), batch);
    }
}

/// The recorders' share of [`Pending`]: when the last clone goes, the
/// flusher delivers what is left and ends.
struct Producer(Arc<Pending>);

impl Drop for Producer {
    fn drop(&mut self) {
        self.0.closed.store(true, Ordering::Release);
        self.0.arrived.notify_one();
    }
}

#[derive(Clone)]
pub struct Recorder {
    pending: Arc<Producer>,
    disturbances: DisturbanceSink,
}

impl fmt::Debug for Recorder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recorder").finish_non_exhaustive()
    }
}

impl Recorder {
    /// Create a recorder and the future that drains it into `sink`; spawn the
    /// future on the plugin's runtime.
    pub fn new(sink: Arc<SinkBox>) -> (Recorder, impl std::future::Future<Output = ()> + Send) {
        let samples_sink = Arc::clone(&sink);
        let deliver = move |batch: &[Sample]| samples_sink.record(RSlice::from_slice(batch));
        let (recorder, pending) = Recorder::reporting_to(Arc::new(move |at, reason: &str| {
            sink.disturbed(at, RStr::from_str(reason))
        }));
        (recorder, flush_loop(pending, deliver, LINGER))
    }

    /// A recorder over a new, empty buffer, its disturbances going to `disturbances`.
    fn reporting_to(disturbances: DisturbanceSink) -> (Recorder, Arc<Pending>) {
        let pending = Arc::new(Pending::default());
        let recorder = Recorder {
            pending: Arc::new(Producer(Arc::clone(&pending))),
            disturbances,
        };
        (recorder, pending)
    }

    /// A recorder whose samples wait in the returned buffer (take them with
    /// [`Pending::take`]) and whose disturbances are kept in the returned
    /// list (for tests).
    pub(crate) fn captured() -> (Recorder, Arc<Pending>, KeptDisturbances) {
        let kept = KeptDisturbances::default();
        let keep = Arc::clone(&kept);
        let (recorder, pending) = Recorder::reporting_to(Arc::new(move |at, reason: &str| {
            keep.lock()
                .unwrap_or_else(|e| e.into_inner())
                .push((at, reason.to_string()))
        }));
        (recorder, pending, kept)
    }

    /// Tell the host the measurement environment was disturbed now: the
    /// client lost its connection, reconnected, … The step in progress is
    /// INCONCLUSIVE with `reason` (say what happened first: `connection
    /// lost: …`) and re-run, never judged from what the disturbance did to
    /// its figures. Never blocks.
    pub fn disturbed(&self, reason: &str) {
        self.disturbed_at(crate::clock::now(), reason);
    }

    /// [`Recorder::disturbed`] at a known time (e.g. when an outage began).
    pub fn disturbed_at(&self, at: MonoNanos, reason: &str) {
        (self.disturbances)(at, reason);
    }

    /// Queue one sample for the host. Never waits but for a short lock.
    pub fn record(&self, sample: Sample) {
        self.record_all(std::iter::once(sample));
    }

    /// Queue samples for the host under one lock (e.g. a batch's). The
    /// iterator runs under that lock: let it build samples, never record.
    pub fn record_all(&self, samples: impl IntoIterator<Item = Sample>) {
        self.pending.0.push_all(samples);
    }
}

async fn flush_loop(pending: Arc<Pending>, deliver: impl Fn(&[Sample]), linger: Duration) {
    let mut batch = Vec::new();
    loop {
        pending.arrived.notified().await;
        // Read before taking: once every recorder is gone nothing more is
        // pushed, so this take is the last one needed.
        let closed = pending.closed.load(Ordering::Acquire);
        if !closed {
            // Sleep through the linger, then take what arrived: waiting for
            // each sample instead would wake this task for every one of a trickle.
            tokio::time::sleep(linger).await;
        }
        pending.take(&mut batch);
        for chunk in batch.chunks(MAX_BATCH) {
            deliver(chunk);
        }
        batch.clear();
        if closed {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    fn sample() -> Sample {
        Sample {
            series: 0,
            outcome: crate::abi::Outcome::Ok,
            reason: 0,
            intended: Default::default(),
            sent: Default::default(),
            done: Default::default(),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_trickle_is_batched_within_the_linger_and_the_rest_delivered_at_the_end() {
        let (recorder, pending, _) = Recorder::captured();
        let batches = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&batches);
        let flusher = tokio::spawn(flush_loop(
            pending,
            move |b: &[Sample]| seen.lock().unwrap().push(b.len()),
            Duration::from_millis(5),
        ));
        // Three samples 1 ms apart, within a 5 ms linger: one batch. Then
        // one alone, well after; then a batch of 10,000 at once, in chunks;
        // then two just before the last recorder goes.
        for _ in 0..3 {
            recorder.record(sample());
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        recorder.record(sample());
        tokio::time::sleep(Duration::from_millis(20)).await;
        let clone = recorder.clone();
        clone.record_all(std::iter::repeat_n(sample(), 10_000));
        drop(clone);
        tokio::time::sleep(Duration::from_millis(20)).await;
        recorder.record_all([sample(), sample()]);
        drop(recorder);
        flusher.await.unwrap();
        assert_eq!(
            *batches.lock().unwrap(),
            [3, 1, MAX_BATCH, MAX_BATCH, 10_000 - 2 * MAX_BATCH, 2]
        );
    }
}
