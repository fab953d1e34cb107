//! The Collector: turns sample batches into one latency histogram per series.
//!
//! Memory is constant whatever the rate or hold length (hdrhistogram). Latency
//! is measured from the op's **intended** send time (coordinated-omission
//! corrected, like wrk2); service time (from the actual send) is kept beside it
//! for diagnosis. Samples whose intended time lies outside the hold window are
//! warmup (or stragglers of an earlier step) and are discarded.

use std::sync::{Arc, RwLock};

use hdrhistogram::Histogram;
use loadgen_plugin_api::abi::{Outcome, Sample};
use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};

use crate::disturbance::{Disturbance, KEPT_PER_STEP};
use crate::plugin::{DeclaredSeries, Slots};
use crate::report::histograms::StepHistogram;
use crate::report::per_second::SeriesInterval;
pub use loadgen_core::collector::{
    new_histogram, CollectorStats, SeriesCounts, SeriesParts, SeriesStats, MAX_TRACKABLE_NS,
};

/// The current Collector, for senders outside the actor tree (the plugin's
/// sample sink). The Supervisor swaps in the new ref when it restarts the
/// collector, so samples reach the live actor without a registry look-up.
#[derive(Clone, Default)]
pub struct CollectorHandle(Arc<RwLock<Option<ActorRef<CollectorMsg>>>>);

impl CollectorHandle {
    pub fn set(&self, collector: ActorRef<CollectorMsg>) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = Some(collector);
    }

    /// The collector running now, if any.
    pub fn current(&self) -> Option<ActorRef<CollectorMsg>> {
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Non-blocking; dropped while no collector runs (that step is
    /// INCONCLUSIVE anyway: its collector restarted).
    pub fn send(&self, samples: Vec<Sample>) {
        let guard = self.0.read().unwrap_or_else(|e| e.into_inner());
        if let Some(collector) = guard.as_ref() {
            let _ = collector.send_message(CollectorMsg::Samples(samples));
        }
    }

    /// Non-blocking, like [`CollectorHandle::send`]. A disturbance sent while
    /// the collector restarts is lost, but that step is INCONCLUSIVE anyway.
    pub fn disturbed(&self, disturbance: Disturbance) {
        let guard = self.0.read().unwrap_or_else(|e| e.into_inner());
        if let Some(collector) = guard.as_ref() {
            let _ = collector.send_message(CollectorMsg::Disturbed(disturbance));
        }
    }
}

pub enum CollectorMsg {
    /// A batch from the plugin's sink.
    Samples(Vec<Sample>),
    /// The plugin says the measurement environment was disturbed.
    Disturbed(Disturbance),
    /// The disturbances since the last `Window` (the step's start), in order.
    Disturbances(RpcReplyPort<Vec<Disturbance>>),
    /// Start a new hold window `[hold_start, hold_end)` (ns); forget the last one.
    Window { hold_start: u64, hold_end: u64 },
    /// The window's statistics so far.
    Snapshot(RpcReplyPort<CollectorStats>),
    /// What arrived since the last `Interval` (or the window's start), per
    /// series; starts the next interval. Feeds the per-second series.
    Interval(RpcReplyPort<Vec<SeriesInterval>>),
    /// The window's histograms, serialized for the report.
    Histograms(RpcReplyPort<Vec<StepHistogram>>),
    /// The window's raw parts per series, for merging with other collectors'
    /// (a distributed run's agents).
    Parts(RpcReplyPort<Vec<SeriesParts>>),
    /// Fail on purpose: lets tests prove that supervision works.
    #[doc(hidden)]
    InjectFailure(String),
}

/// Read-only configuration: the series the workload declared at start (a
/// sample of another id is ignored), in the order every output lists them.
pub struct Collector {
    pub series: Vec<DeclaredSeries>,
}

/// One series' figures. Each Ok sample is recorded once, into the interval's
/// histograms; a reading of the interval adds them into the window's, and a
/// reading of the window adds the interval so far to a copy. At 1M ops/s the
/// four records per sample this replaced were ≈15% of loadgen's CPU.
struct SeriesHistograms {
    /// The window's histograms up to the last interval reading; its counts are
    /// always whole (they are cheap to keep twice).
    window: SeriesParts,
    /// What arrived since the last interval reading.
    interval: Interval,
}

struct Interval {
    latency: Histogram<u64>,
    service: Histogram<u64>,
    failures: u64,
}

impl SeriesHistograms {
    fn new(name: &str) -> SeriesHistograms {
        let h = new_histogram;
        SeriesHistograms {
            window: SeriesParts::empty(name),
            interval: Interval {
                latency: h(),
                service: h(),
                failures: 0,
            },
        }
    }

    /// The interval so far, added into the window; the next one starts empty.
    fn take_interval(&mut self, name: &str) -> Result<SeriesInterval, String> {
        let i = &mut self.interval;
        let taken = SeriesInterval {
            name: name.to_string(),
            latency: std::mem::replace(&mut i.latency, new_histogram()),
            service: std::mem::replace(&mut i.service, new_histogram()),
            failures: std::mem::take(&mut i.failures),
        };
        let add = |into: &mut Histogram<u64>, from: &Histogram<u64>| {
            into.add(from)
                .map_err(|e| format!("series {name}: histograms do not add: {e:?}"))
        };
        add(&mut self.window.latency, &taken.latency)?;
        add(&mut self.window.service, &taken.service)?;
        Ok(taken)
    }

    /// The whole window: its histograms up to the last interval reading plus
    /// the interval so far.
    fn whole(&self) -> Result<SeriesParts, String> {
        let mut whole = self.window.clone();
        whole.merge(&SeriesParts {
            name: whole.name.clone(),
            latency: self.interval.latency.clone(),
            service: self.interval.service.clone(),
            counts: Default::default(),
        })?;
        Ok(whole)
    }

    fn record(&mut self, s: &Sample) {
        match s.outcome {
            Outcome::Ok => {
                let latency = s.done.since(s.intended).clamp(1, MAX_TRACKABLE_NS);
                let service = s.done.since(s.sent).clamp(1, MAX_TRACKABLE_NS);
                self.interval.latency.saturating_record(latency);
                self.interval.service.saturating_record(service);
                return;
            }
            Outcome::Error => self.window.counts.errors += 1,
            Outcome::Timeout => self.window.counts.timeouts += 1,
            Outcome::Lost => self.window.counts.lost += 1,
        }
        self.interval.failures += 1;
    }
}

pub struct CollectorState {
    /// `None` until the first window: everything before it is discarded.
    window: Option<(u64, u64)>,
    /// Parallel to [`Collector::series`].
    series: Vec<SeriesHistograms>,
    /// A sample's series id → its position in `series`.
    slots: Slots,
    /// Since the last `Window` (sent when a step is activated).
    disturbances: Vec<Disturbance>,
}

impl CollectorState {
    /// Every series' whole window (see [`SeriesHistograms::whole`]).
    fn whole(&self) -> Result<Vec<SeriesParts>, String> {
        self.series.iter().map(SeriesHistograms::whole).collect()
    }
}

impl Collector {
    fn fresh(&self) -> Vec<SeriesHistograms> {
        self.series
            .iter()
            .map(|s| SeriesHistograms::new(&s.name))
            .collect()
    }
}

impl Actor for Collector {
    type Msg = CollectorMsg;
    type State = CollectorState;
    type Arguments = ();

    async fn pre_start(
        &self,
        _myself: ActorRef<CollectorMsg>,
        _args: (),
    ) -> Result<CollectorState, ActorProcessingErr> {
        Ok(CollectorState {
            window: None,
            series: self.fresh(),
            slots: Slots::new(&self.series),
            disturbances: Vec::new(),
        })
    }

    async fn handle(
        &self,
        _myself: ActorRef<CollectorMsg>,
        message: CollectorMsg,
        state: &mut CollectorState,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            CollectorMsg::Samples(samples) => {
                let Some((start, end)) = state.window else {
                    return Ok(());
                };
                for s in &samples {
                    let Some(h) = state
                        .slots
                        .get(s.series)
                        .and_then(|slot| state.series.get_mut(slot))
                    else {
                        continue;
                    };
                    if (start..end).contains(&s.intended.0) {
                        h.record(s);
                    }
                    // Goodput counts by answer time, warmup ops included:
                    // what the service got done during the hold.
                    let answered = matches!(s.outcome, Outcome::Ok | Outcome::Error);
                    if answered && (start..end).contains(&s.done.0) {
                        h.window.counts.answered_in_hold += 1;
                    }
                }
            }
            CollectorMsg::Window {
                hold_start,
                hold_end,
            } => {
                state.window = Some((hold_start, hold_end));
                state.series = self.fresh();
                state.disturbances.clear();
            }
            CollectorMsg::Disturbed(disturbance) => {
                if state.disturbances.len() < KEPT_PER_STEP {
                    state.disturbances.push(disturbance);
                }
            }
            CollectorMsg::Disturbances(reply) => {
                let _ = reply.send(state.disturbances.clone());
            }
            CollectorMsg::Snapshot(reply) => {
                let series = state.whole()?.iter().map(SeriesParts::stats).collect();
                let _ = reply.send(CollectorStats { series });
            }
            CollectorMsg::Interval(reply) => {
                let intervals = state
                    .series
                    .iter_mut()
                    .zip(&self.series)
                    .map(|(h, s)| h.take_interval(&s.name))
                    .collect::<Result<_, _>>()?;
                let _ = reply.send(intervals);
            }
            CollectorMsg::Histograms(reply) => {
                let serialized = state.whole()?.iter().map(SeriesParts::serialized).collect();
                let _ = reply.send(serialized);
            }
            CollectorMsg::Parts(reply) => {
                let _ = reply.send(state.whole()?);
            }
            CollectorMsg::InjectFailure(why) => return Err(why.into()),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use loadgen_plugin_api::abi::MonoNanos;

    fn sample(series: u16, outcome: Outcome, intended_ms: u64, latency_ms: u64) -> Sample {
        Sample {
            series,
            outcome,
            reason: 0,
            intended: MonoNanos(intended_ms * 1_000_000),
            sent: MonoNanos(intended_ms * 1_000_000 + 500_000),
            done: MonoNanos((intended_ms + latency_ms) * 1_000_000),
        }
    }

    #[tokio::test]
    async fn measures_from_intended_time_within_the_window_only() {
        let (actor, handle) = Actor::spawn(
            None,
            Collector {
                // Ids need not be positions: samples find their series by id.
                series: vec![DeclaredSeries::new(0, "a"), DeclaredSeries::new(5, "b")],
            },
            (),
        )
        .await
        .unwrap();
        actor
            .send_message(CollectorMsg::Samples(vec![sample(0, Outcome::Ok, 50, 1)]))
            .unwrap();
        actor
            .send_message(CollectorMsg::Window {
                hold_start: 100_000_000,
                hold_end: 200_000_000,
            })
            .unwrap();
        let mut batch = vec![
            sample(0, Outcome::Ok, 99, 500),  // warmup: discarded
            sample(0, Outcome::Ok, 200, 500), // after the hold: discarded
            sample(5, Outcome::Error, 150, 1),
            sample(5, Outcome::Lost, 150, 1),
            sample(5, Outcome::Timeout, 150, 1),
            sample(1, Outcome::Ok, 150, 1), // undeclared series: ignored
            sample(7, Outcome::Ok, 150, 1), // undeclared series: ignored
        ];
        batch.extend((0..100).map(|i| sample(0, Outcome::Ok, 100 + i % 100, 1 + i)));
        actor.send_message(CollectorMsg::Samples(batch)).unwrap();
        let stats = ractor::call!(actor, CollectorMsg::Snapshot).unwrap();
        let a = &stats.series[0];
        assert_eq!(a.latency.count, 100);
        // Latencies 1..=100 ms: p50 = 50 ms, p99 = 99 ms (3 significant digits).
        assert_eq!(a.latency.p50.as_millis(), 50);
        assert_eq!(a.latency.p99.as_millis(), 99);
        assert_eq!(a.latency.max.as_millis(), 100);
        // Service time excludes the 0.5 ms the send was late.
        assert!(a.service_p99 < a.latency.p99);
        let b = &stats.series[1];
        assert_eq!(
            (b.latency.count, b.errors, b.lost, b.timeouts),
            (0, 1, 1, 1)
        );
        assert_eq!(stats.lost(), 1);

        let interval = ractor::call!(actor, CollectorMsg::Interval).unwrap();
        assert_eq!(
            (interval[0].latency.len(), interval[1].failures),
            (100, 3),
            "the first interval holds the window so far"
        );
        let next = ractor::call!(actor, CollectorMsg::Interval).unwrap();
        assert_eq!((next[0].latency.len(), next[1].failures), (0, 0));
        let kept = ractor::call!(actor, CollectorMsg::Histograms).unwrap();
        let latency = crate::report::histograms::decode(&kept[0].latency).unwrap();
        assert_eq!(
            latency.len(),
            100,
            "intervals never drain the step's histogram"
        );
        actor.stop(None);
        handle.await.unwrap();
    }

    #[tokio::test]
    async fn the_window_is_every_interval_added_whether_read_or_not() {
        let (actor, handle) = Actor::spawn(
            None,
            Collector {
                series: vec![DeclaredSeries::new(0, "a")],
            },
            (),
        )
        .await
        .unwrap();
        actor
            .send_message(CollectorMsg::Window {
                hold_start: 0,
                hold_end: 1_000_000_000,
            })
            .unwrap();
        let ok = |latency_ms| sample(0, Outcome::Ok, 10, latency_ms);
        actor
            .send_message(CollectorMsg::Samples(vec![ok(1), ok(2)]))
            .unwrap();
        let first = ractor::call!(actor, CollectorMsg::Interval).unwrap();
        actor
            .send_message(CollectorMsg::Samples(vec![
                ok(3),
                sample(0, Outcome::Error, 10, 1),
            ]))
            .unwrap();
        // Read before the next interval: the window has both.
        let stats = ractor::call!(actor, CollectorMsg::Snapshot).unwrap();
        assert_eq!(
            (stats.series[0].latency.count, stats.series[0].errors),
            (3, 1)
        );
        assert_eq!(stats.series[0].latency.max.as_millis(), 3);
        let parts = ractor::call!(actor, CollectorMsg::Parts).unwrap();
        assert_eq!((parts[0].latency.len(), parts[0].service.len()), (3, 3));
        let second = ractor::call!(actor, CollectorMsg::Interval).unwrap();
        assert_eq!(
            [first[0].latency.len(), second[0].latency.len()],
            [2, 1],
            "each interval only what arrived in it"
        );
        assert_eq!([first[0].failures, second[0].failures], [0, 1]);
        // Read after: the same window, nothing counted twice.
        let stats = ractor::call!(actor, CollectorMsg::Snapshot).unwrap();
        assert_eq!(stats.series[0].latency.count, 3);
        let kept = ractor::call!(actor, CollectorMsg::Histograms).unwrap();
        let service = crate::report::histograms::decode(&kept[0].service).unwrap();
        assert_eq!(service.len(), 3);
        actor.stop(None);
        handle.await.unwrap();
    }

    #[tokio::test]
    async fn disturbances_are_kept_from_one_window_to_the_next() {
        let (actor, handle) = Actor::spawn(None, Collector { series: vec![] }, ())
            .await
            .unwrap();
        let disturbance = |at_ns| Disturbance {
            at_ns,
            reason: "connection lost".into(),
        };
        let window = || CollectorMsg::Window {
            hold_start: 0,
            hold_end: 1,
        };
        actor.send_message(window()).unwrap();
        for at in 0..(KEPT_PER_STEP as u64 + 10) {
            actor
                .send_message(CollectorMsg::Disturbed(disturbance(at)))
                .unwrap();
        }
        let kept = ractor::call!(actor, CollectorMsg::Disturbances).unwrap();
        assert_eq!(kept.len(), KEPT_PER_STEP, "bounded");
        assert_eq!(kept[0], disturbance(0), "the first ones, in order");
        actor.send_message(window()).unwrap();
        let kept = ractor::call!(actor, CollectorMsg::Disturbances).unwrap();
        assert_eq!(kept, [], "a new step starts clean");
        actor.stop(None);
        handle.await.unwrap();
    }
}
