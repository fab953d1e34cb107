//! The PendingPoller: how the backlogs the workload feeds move over the hold.
//!
//! Sources: the gauges the plugin measures itself (`Workload::backlog`), and
//! the JetStream durables it names. Each is read at hold start, at hold end and
//! every second in between (the peak). A failed boundary read makes the step
//! INCONCLUSIVE ("backlog signal unavailable"), never PASS.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};

use crate::plugin::Workload;
use crate::verdict::PendingChange;

mod source;

pub use source::{BacklogSource, Durable};

const PEAK_INTERVAL: Duration = Duration::from_secs(1);
/// A boundary reading is the lowest of this many reads, one pacer tick or so
/// apart: ops arrive in per-tick batches, so even a stable queue is a sawtooth
/// a batch high, and two single reads would differ by up to a batch (±70 at
/// 36k ops/s) — noise a tight `--slo-pending-growth` would trip on. The
/// troughs of a stable queue agree; those of a growing one grow just as much.
const BOUNDARY_READS: usize = 5;
const BOUNDARY_READ_SPACING: Duration = Duration::from_millis(1);

pub enum PendingMsg {
    /// Read the hold-start values and start tracking the peak.
    Begin(RpcReplyPort<Result<(), String>>),
    /// A peak sample of tracking run `generation`.
    Poll { generation: u64 },
    /// Read the hold-end values: the changes over the hold.
    End(RpcReplyPort<Result<Vec<PendingChange>, String>>),
    /// Read every backlog now (between steps: has the last one drained?).
    Read(RpcReplyPort<Result<BTreeMap<String, i64>, String>>),
}

/// Read-only configuration: where the backlogs are read from.
pub struct PendingPoller {
    pub workload: Arc<Workload>,
    /// The JetStream durables, if the workload names any.
    pub durables: Option<Arc<BacklogSource>>,
}

#[derive(Default)]
pub struct PendingState {
    start: Option<BTreeMap<String, i64>>,
    peak: BTreeMap<String, i64>,
    generation: u64,
}

impl PendingPoller {
    /// A hold-boundary reading: the troughs of a few reads; any failed read
    /// fails the boundary.
    async fn read_boundary(&self) -> Result<BTreeMap<String, i64>, String> {
        let mut readings = Vec::with_capacity(BOUNDARY_READS);
        for i in 0..BOUNDARY_READS {
            if i > 0 {
                tokio::time::sleep(BOUNDARY_READ_SPACING).await;
            }
            readings.push(self.read().await?);
        }
        Ok(troughs(&readings))
    }

    async fn read(&self) -> Result<BTreeMap<String, i64>, String> {
        let mut values: BTreeMap<String, i64> = self
            .workload
            .backlog()?
            .into_iter()
            .map(|g| (g.name.into_string(), g.value))
            .collect();
        if let Some(durables) = &self.durables {
            values.extend(durables.read().await?);
        }
        Ok(values)
    }
}

/// The lowest value of each backlog over several reads (see [`BOUNDARY_READS`]).
pub fn troughs(readings: &[BTreeMap<String, i64>]) -> BTreeMap<String, i64> {
    let mut low: BTreeMap<String, i64> = BTreeMap::new();
    for reading in readings {
        for (name, &v) in reading {
            low.entry(name.clone())
                .and_modify(|l| *l = (*l).min(v))
                .or_insert(v);
        }
    }
    low
}

/// Pair start and end values by name. A backlog present at one end only means
/// the signal broke mid-hold (a consumer deleted or a gauge gone).
pub fn changes(
    start: &BTreeMap<String, i64>,
    end: &BTreeMap<String, i64>,
    peak: &BTreeMap<String, i64>,
) -> Result<Vec<PendingChange>, String> {
    if let Some(name) = start.keys().find(|k| !end.contains_key(*k)) {
        return Err(format!("{name} disappeared mid-hold"));
    }
    if let Some(name) = end.keys().find(|k| !start.contains_key(*k)) {
        return Err(format!("{name} appeared mid-hold"));
    }
    Ok(start
        .iter()
        .map(|(name, &s)| {
            let e = end[name];
            PendingChange {
                name: name.clone(),
                start: s,
                end: e,
                peak: peak.get(name).copied().unwrap_or(s).max(s).max(e),
            }
        })
        .collect())
}

impl Actor for PendingPoller {
    type Msg = PendingMsg;
    type State = PendingState;
    type Arguments = ();

    async fn pre_start(
        &self,
        _myself: ActorRef<PendingMsg>,
        _args: (),
    ) -> Result<PendingState, ActorProcessingErr> {
        Ok(PendingState::default())
    }

    async fn handle(
        &self,
        myself: ActorRef<PendingMsg>,
        message: PendingMsg,
        state: &mut PendingState,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            PendingMsg::Begin(reply) => {
                state.generation += 1;
                state.peak.clear();
                let read = self.read_boundary().await;
                state.start = read.as_ref().ok().cloned();
                let _ = reply.send(read.map(|_| ()));
                let generation = state.generation;
                myself.send_after(PEAK_INTERVAL, move || PendingMsg::Poll { generation });
            }
            PendingMsg::Poll { generation } if generation == state.generation => {
                // A failed peak sample only loses that sample; the boundaries decide.
                if let Ok(values) = self.read().await {
                    for (name, v) in values {
                        let peak = state.peak.entry(name).or_insert(v);
                        *peak = (*peak).max(v);
                    }
                }
                myself.send_after(PEAK_INTERVAL, move || PendingMsg::Poll { generation });
            }
            PendingMsg::Poll { .. } => {}
            PendingMsg::Read(reply) => {
                let _ = reply.send(self.read().await);
            }
            PendingMsg::End(reply) => {
                state.generation += 1;
                let result = match (state.start.take(), self.read_boundary().await) {
                    (None, _) => Err("no hold-start reading".to_string()),
                    (Some(_), Err(e)) => Err(e),
                    (Some(start), Ok(end)) => changes(&start, &end, &state.peak),
                };
                let _ = reply.send(result);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, i64)]) -> BTreeMap<String, i64> {
        pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    }

    #[test]
    fn changes_pair_start_and_end_and_keep_the_peak() {
        let got = changes(
            &map(&[("q", 10), ("w", 5)]),
            &map(&[("q", 40), ("w", 0)]),
            &map(&[("q", 90)]),
        )
        .unwrap();
        assert_eq!(
            got,
            vec![
                PendingChange {
                    name: "q".into(),
                    start: 10,
                    end: 40,
                    peak: 90
                },
                PendingChange {
                    name: "w".into(),
                    start: 5,
                    end: 0,
                    peak: 5
                },
            ]
        );
    }

    #[test]
    fn boundary_readings_keep_each_backlogs_trough() {
        let reads = [
            map(&[("q", 40), ("w", 3)]),
            map(&[("q", 2), ("w", 9)]),
            map(&[("q", 71)]),
        ];
        assert_eq!(troughs(&reads), map(&[("q", 2), ("w", 3)]));
    }

    #[test]
    fn a_backlog_that_vanishes_mid_hold_is_a_broken_signal() {
        let err = changes(&map(&[("q", 1)]), &map(&[]), &map(&[])).unwrap_err();
        assert_eq!(err, "q disappeared mid-hold");
        let err = changes(&map(&[]), &map(&[("q", 1)]), &map(&[])).unwrap_err();
        assert_eq!(err, "q appeared mid-hold");
    }
}
