//! The Pacer: releases each op of a step at its intended time.
//!
//! Op *k* of a step is due at `start + k·10⁹/rps` — an absolute time, so a late
//! wake-up never shifts the schedule. The actor hands each step to its own OS
//! thread ([`thread`]), which sleeps with `clock_nanosleep` to absolute
//! deadlines and fires ops one at a time at low rates and in small batches at
//! high rates: wake-ups are at least a window apart, the wider of the rate's
//! [`schedule::batch_window`] and the run's [`schedule::slo_window`] (1/1000 of
//! its tightest latency SLO), so no op is released later than that. A wake-up so late that
//! more than [`schedule::BURST`] of schedule is due releases only the newest
//! burst and counts the older ops as **emit underrun** (the load box could not
//! keep schedule). Ops the plugin refuses are **saturation**. The arithmetic
//! lives in the plain [`Schedule`]; the thread only drives it.

use std::sync::Arc;
use std::time::Duration;

use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};

use crate::plugin::Workload;

pub mod schedule;
mod thread;

pub use loadgen_core::pacer::PacerCounts;
pub use schedule::{slo_window, Release, Schedule, Slice, StepTimes};
use thread::{Command, PacerThread};

pub enum PacerMsg {
    /// Begin pacing a step (replaces any step in progress).
    Start(StepTimes),
    /// Begin pacing only `Slice` of a step (an agent of a distributed run).
    StartSlice(StepTimes, Slice),
    /// Stop releasing ops now (cancellation).
    Halt,
    /// The hold-window tallies so far.
    Report(RpcReplyPort<PacerCounts>),
}

/// Read-only configuration: the workload to fire into, and the shortest gap
/// between wake-ups ([`schedule::slo_window`] of the run's SLO).
pub struct Pacer {
    pub workload: Arc<Workload>,
    pub window: Duration,
}

/// The pacing thread; dropping the state (actor stopped or restarted) ends it.
pub struct PacerState {
    thread: PacerThread,
}

impl Actor for Pacer {
    type Msg = PacerMsg;
    type State = PacerState;
    type Arguments = ();

    async fn pre_start(
        &self,
        _myself: ActorRef<PacerMsg>,
        _args: (),
    ) -> Result<PacerState, ActorProcessingErr> {
        let thread = PacerThread::spawn(Arc::clone(&self.workload), self.window)?;
        Ok(PacerState { thread })
    }

    async fn handle(
        &self,
        _myself: ActorRef<PacerMsg>,
        message: PacerMsg,
        state: &mut PacerState,
    ) -> Result<(), ActorProcessingErr> {
        let command = match message {
            PacerMsg::Start(times) => Command::Start(times, Slice::WHOLE),
            PacerMsg::StartSlice(times, slice) => Command::Start(times, slice),
            PacerMsg::Halt => Command::Halt,
            PacerMsg::Report(reply) => Command::Report(reply),
        };
        // A dead thread fails the actor: the supervisor restarts it and the
        // step in progress is judged INCONCLUSIVE, never from partial tallies.
        state.thread.send(command)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
