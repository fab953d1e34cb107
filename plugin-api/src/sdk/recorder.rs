//! [`Recorder`]: the plugin-side handle for delivering samples to the host.
//!
//! Samples go through an unbounded channel to one flusher task that hands them
//! to the host sink in batches: one FFI call and one host message per batch
//! instead of per sample. The flusher lingers up to [`LINGER`] after the first
//! sample of a batch so a steady trickle of network answers (each arriving
//! alone) still forms batches: at 20k req/s a 1 ms linger cut the host's
//! wake-ups from thousands a second per thread to about a thousand, and total
//! CPU by ≈25%; 5 ms cut loadgen's CPU with the http plugin at 5k req/s by
//! another ≈10% (the host's actor threads wake 200 times a second, not 1000).
//! Samples carry their own times, so the linger never shows in latency, and
//! the host reads its figures after a drain of seconds.
//!
//! Disturbances ([`Recorder::disturbed`]) are rare and must not wait behind a
//! batch: they go straight to the host sink.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use abi_stable::std_types::{RSlice, RStr};
use tokio::sync::mpsc;

use crate::abi::{MonoNanos, Sample, SinkBox};

/// Largest batch handed to the host sink in one call.
const MAX_BATCH: usize = 4096;
/// How long a batch waits for company after its first sample.
pub const LINGER: Duration = Duration::from_millis(5);

/// Where [`Recorder::disturbed`] reports go.
type DisturbanceSink = Arc<dyn Fn(MonoNanos, &str) + Send + Sync>;

/// Disturbances a [`Recorder::channel`] recorder kept (for tests).
pub(crate) type KeptDisturbances = Arc<Mutex<Vec<(MonoNanos, String)>>>;

#[derive(Clone)]
pub struct Recorder {
    tx: mpsc::UnboundedSender<Sample>,
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
        let (tx, rx) = mpsc::unbounded_channel();
        let samples_sink = Arc::clone(&sink);
        let deliver = move |batch: &[Sample]| samples_sink.record(RSlice::from_slice(batch));
        let disturbances: DisturbanceSink =
            Arc::new(move |at, reason: &str| sink.disturbed(at, RStr::from_str(reason)));
        (
            Recorder { tx, disturbances },
            flush_loop(rx, deliver, LINGER),
        )
    }

    /// A recorder whose samples wait in the returned receiver and whose
    /// disturbances are kept in the returned list (for tests).
    pub(crate) fn channel() -> (Recorder, mpsc::UnboundedReceiver<Sample>, KeptDisturbances) {
        let (tx, rx) = mpsc::unbounded_channel();
        let kept = KeptDisturbances::default();
        let keep = Arc::clone(&kept);
        let disturbances: DisturbanceSink = Arc::new(move |at, reason: &str| {
            keep.lock()
                .unwrap_or_else(|e| e.into_inner())
                .push((at, reason.to_string()))
        });
        (Recorder { tx, disturbances }, rx, kept)
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

    /// Queue one sample for the host. Never blocks.
    pub fn record(&self, sample: Sample) {
        // The receiver only goes away while the runtime shuts down; samples
        // recorded then have no one left to read them.
        let _ = self.tx.send(sample);
    }
}

async fn flush_loop(
    mut rx: mpsc::UnboundedReceiver<Sample>,
    deliver: impl Fn(&[Sample]),
    linger: Duration,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        // Sleep through the linger, then take what arrived: waiting on the
        // channel instead would wake this task for every sample of a trickle.
        // A full batch goes at once (at millions of samples a second).
        if batch.len() < MAX_BATCH {
            tokio::time::sleep(linger).await;
        }
        let mut open = true;
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(sample) => batch.push(sample),
                Err(mpsc::error::TryRecvError::Empty) => break,
                Err(mpsc::error::TryRecvError::Disconnected) => {
                    open = false;
                    break;
                }
            }
        }
        deliver(&batch);
        batch.clear();
        if !open {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[tokio::test(start_paused = true)]
    async fn a_trickle_is_batched_within_the_linger() {
        let (tx, rx) = mpsc::unbounded_channel();
        let batches = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&batches);
        let flusher = tokio::spawn(flush_loop(
            rx,
            move |b: &[Sample]| seen.lock().unwrap().push(b.len()),
            Duration::from_millis(5),
        ));
        let sample = Sample {
            series: 0,
            outcome: crate::abi::Outcome::Ok,
            reason: 0,
            intended: Default::default(),
            sent: Default::default(),
            done: Default::default(),
        };
        // Three samples 1 ms apart, within a 5 ms linger: one batch. Then
        // one alone, well after.
        for _ in 0..3 {
            tx.send(sample).unwrap();
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        tx.send(sample).unwrap();
        drop(tx);
        flusher.await.unwrap();
        assert_eq!(*batches.lock().unwrap(), [3, 1]);
    }
}
