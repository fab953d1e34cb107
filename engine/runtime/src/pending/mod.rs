//! The PendingPoller: how the backlogs the workload feeds move over the hold.
//!
//! Sources: the gauges the plugin measures itself (`Workload::backlog`), and
//! the JetStream durables it names, keyed `stream/durable` (one durable name
//! may exist on several streams). A durable's backlog is what the service has
//! not done: `num_pending` (not yet delivered) plus `num_ack_pending`
//! (delivered, not yet acknowledged); both parts are reported, the gate is on
//! their sum. Each backlog is read at hold start and at hold end. A failed
//! boundary read makes the step INCONCLUSIVE ("backlog signal unavailable"),
//! never PASS.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};

use crate::plugin::Workload;
use loadgen_core::backlog::{BacklogChange, Backlogs};

mod source;

pub use source::{BacklogSource, Durable};

/// A boundary reading is the lowest of this many reads, one pacer tick or so
/// apart: ops arrive in per-tick batches, so even a stable queue is a sawtooth
/// a batch high, and two single reads would differ by up to a batch (±70 at
/// 36k ops/s) — noise a tight `--slo-pending-growth` would trip on. The
/// troughs of a stable queue agree; those of a growing one grow just as much.
const BOUNDARY_READS: usize = 5;
const BOUNDARY_READ_SPACING: Duration = Duration::from_millis(1);

/// One backlog at one read, in more detail than [`Backlogs`] keeps: the
/// poller pairs the unacknowledged parts of hold start and hold end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BacklogLevel {
    /// What is gated: for a durable, undelivered + unacknowledged.
    pub total: i64,
    /// For a durable, the unacknowledged part (`num_ack_pending`).
    pub unacked: Option<i64>,
}

impl BacklogLevel {
    pub fn gauge(value: i64) -> BacklogLevel {
        BacklogLevel {
            total: value,
            unacked: None,
        }
    }
}

/// Every backlog by name, with its detail; reduced to [`Backlogs`] (totals)
/// for every answer but the hold's [`BacklogChange`]s.
pub type BacklogLevels = BTreeMap<String, BacklogLevel>;

pub enum PendingMsg {
    /// Read the hold-start values; answers every backlog's total.
    Begin(RpcReplyPort<Result<Backlogs, String>>),
    /// Read the hold-end values: the changes over the hold.
    End(RpcReplyPort<Result<Vec<BacklogChange>, String>>),
    /// Read every backlog's total now (between steps: has the last one drained?).
    Read(RpcReplyPort<Result<Backlogs, String>>),
}

/// Read-only configuration: where the backlogs are read from.
pub struct PendingPoller {
    /// Whose gauges to read: none in a distributed run's coordinator (an
    /// agent's gauges are its own process's; the durables are shared).
    pub workload: Option<Arc<Workload>>,
    /// The JetStream durables, if the workload names any.
    pub durables: Option<Arc<BacklogSource>>,
}

#[derive(Default)]
pub struct PendingState {
    start: Option<BacklogLevels>,
}

impl PendingPoller {
    /// A hold-boundary reading: the troughs of a few reads; any failed read
    /// fails the boundary.
    async fn read_boundary(&self) -> Result<BacklogLevels, String> {
        let mut readings = Vec::with_capacity(BOUNDARY_READS);
        for i in 0..BOUNDARY_READS {
            if i > 0 {
                tokio::time::sleep(BOUNDARY_READ_SPACING).await;
            }
            readings.push(self.read().await?);
        }
        Ok(troughs(&readings))
    }

    async fn read(&self) -> Result<BacklogLevels, String> {
        let gauges = match &self.workload {
            Some(workload) => workload.backlog()?,
            None => Vec::new(),
        };
        let mut values: BacklogLevels = gauges
            .into_iter()
            .map(|g| (g.name.into_string(), BacklogLevel::gauge(g.value)))
            .collect();
        if let Some(durables) = &self.durables {
            values.extend(durables.read().await?);
        }
        Ok(values)
    }
}

/// The lowest reading of each backlog over several reads (see [`BOUNDARY_READS`]).
pub fn troughs(readings: &[BacklogLevels]) -> BacklogLevels {
    let mut low: BacklogLevels = BTreeMap::new();
    for reading in readings {
        for (name, &v) in reading {
            low.entry(name.clone())
                .and_modify(|l| {
                    if v.total < l.total {
                        *l = v
                    }
                })
                .or_insert(v);
        }
    }
    low
}

/// Each backlog's total, the reading the ramp keeps.
fn totals(levels: BacklogLevels) -> Backlogs {
    levels
        .into_iter()
        .map(|(name, level)| (name, level.total))
        .collect()
}

/// Pair start and end values by name. A backlog present at one end only means
/// the signal broke mid-hold (a consumer deleted or a gauge gone).
pub fn changes(start: &BacklogLevels, end: &BacklogLevels) -> Result<Vec<BacklogChange>, String> {
    if let Some(name) = start.keys().find(|k| !end.contains_key(*k)) {
        return Err(format!("{name} disappeared mid-hold"));
    }
    if let Some(name) = end.keys().find(|k| !start.contains_key(*k)) {
        return Err(format!("{name} appeared mid-hold"));
    }
    Ok(start
        .iter()
        .map(|(name, s)| {
            let e = end[name];
            BacklogChange {
                name: name.clone(),
                start: s.total,
                end: e.total,
                unacked: s.unacked.zip(e.unacked),
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
        _myself: ActorRef<PendingMsg>,
        message: PendingMsg,
        state: &mut PendingState,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            PendingMsg::Begin(reply) => {
                let read = self.read_boundary().await;
                state.start = read.as_ref().ok().cloned();
                let _ = reply.send(read.map(totals));
            }
            PendingMsg::Read(reply) => {
                let _ = reply.send(self.read().await.map(totals));
            }
            PendingMsg::End(reply) => {
                let result = match (state.start.take(), self.read_boundary().await) {
                    (None, _) => Err("no hold-start reading".to_string()),
                    (Some(_), Err(e)) => Err(e),
                    (Some(start), Ok(end)) => changes(&start, &end),
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

    fn map(pairs: &[(&str, i64)]) -> BacklogLevels {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), BacklogLevel::gauge(*v)))
            .collect()
    }

    #[test]
    fn changes_pair_start_and_end() {
        let mut start = map(&[("q", 10), ("S/d", 5)]);
        start.insert(
            "S/d".into(),
            BacklogLevel {
                total: 5,
                unacked: Some(2),
            },
        );
        let mut end = map(&[("q", 40)]);
        end.insert(
            "S/d".into(),
            BacklogLevel {
                total: 9,
                unacked: Some(6),
            },
        );
        let got = changes(&start, &end).unwrap();
        assert_eq!(
            got,
            vec![
                BacklogChange {
                    name: "S/d".into(),
                    start: 5,
                    end: 9,
                    unacked: Some((2, 6)),
                },
                BacklogChange {
                    name: "q".into(),
                    start: 10,
                    end: 40,
                    unacked: None,
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
        let err = changes(&map(&[("q", 1)]), &map(&[])).unwrap_err();
        assert_eq!(err, "q disappeared mid-hold");
        let err = changes(&map(&[]), &map(&[("q", 1)])).unwrap_err();
        assert_eq!(err, "q appeared mid-hold");
    }
}
