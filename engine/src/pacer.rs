//! The Pacer: turns a target rate into batches of ops on a coarse (≈1 ms) tick.
//!
//! Op *k* of a step is due at `start + k·10⁹/rps` — an absolute time, so a late
//! wake-up never shifts the schedule. Each tick releases every op due by now; a
//! wake-up so late that more than [`BURST_TICKS`] ticks' worth is due releases
//! only the newest burst and counts the older ops as **emit underrun** (the load
//! box could not keep schedule). Ops the plugin refuses are **saturation**.
//! The arithmetic lives in the plain [`Schedule`]; the actor only drives it.

use std::sync::Arc;
use std::time::Duration;

use loadgen_plugin_api::abi::{Batch, MonoNanos};
use loadgen_plugin_api::clock;
use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};

use crate::plugin::Workload;

const NS_PER_SEC: u128 = 1_000_000_000;
/// How often the pacer wakes. tokio timers are millisecond-grained anyway.
pub const TICK: Duration = Duration::from_millis(1);
/// A late wake-up releases at most this many ticks' worth of ops at once.
pub const BURST_TICKS: u64 = 8;

/// The times of one step, all in `CLOCK_MONOTONIC` ns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StepTimes {
    pub rps: u64,
    /// When op 0 is due (warmup begins).
    pub start: u64,
    /// Ops due from here on are measured.
    pub hold_start: u64,
    /// No op is due at or after this (hold end).
    pub stop: u64,
}

/// What one tick should do.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Release {
    /// Batches to fire; none straddles `hold_start`, so each is wholly warmup or hold.
    pub batches: Vec<Batch>,
    /// Ops skipped because they were too late, and how many of them were hold ops.
    pub underrun: u64,
    pub underrun_in_hold: u64,
}

/// The pacing arithmetic for one step.
#[derive(Clone, Debug)]
pub struct Schedule {
    times: StepTimes,
    /// The next op not yet released or skipped.
    next: u64,
    /// First op due in the hold.
    hold_first: u64,
    /// First op not due at all (at or after `stop`).
    end: u64,
    /// Most ops one wake-up may release.
    burst: u64,
}

impl Schedule {
    pub fn new(times: StepTimes, tick: Duration) -> Schedule {
        assert!(times.rps > 0, "rate must be > 0");
        let mut s = Schedule {
            times,
            next: 0,
            hold_first: 0,
            end: 0,
            burst: 0,
        };
        s.hold_first = s.ops_before(times.hold_start);
        s.end = s.ops_before(times.stop);
        let per_burst = times.rps as u128 * tick.as_nanos() * BURST_TICKS as u128;
        s.burst = per_burst.div_ceil(NS_PER_SEC).max(1) as u64;
        s
    }

    /// When op `k` is due.
    pub fn intended(&self, k: u64) -> u64 {
        self.times.start + (k as u128 * NS_PER_SEC / self.times.rps as u128) as u64
    }

    /// How many ops are due strictly before `t`.
    fn ops_before(&self, t: u64) -> u64 {
        let elapsed = t.saturating_sub(self.times.start) as u128;
        (elapsed * self.times.rps as u128).div_ceil(NS_PER_SEC) as u64
    }

    /// Ops due in the hold window.
    pub fn hold_ops(&self) -> u64 {
        self.end - self.hold_first
    }

    pub fn finished(&self) -> bool {
        self.next >= self.end
    }

    /// What to release at `now`.
    pub fn release(&mut self, now: u64) -> Release {
        let due = self.ops_before(now + 1).min(self.end);
        let mut out = Release::default();
        if due <= self.next {
            return out;
        }
        let missed = due - self.next;
        if missed > self.burst {
            let skip_to = due - self.burst;
            out.underrun = skip_to - self.next;
            out.underrun_in_hold = skip_to - self.next.max(self.hold_first).min(skip_to);
            self.next = skip_to;
        }
        if self.next < self.hold_first && due > self.hold_first {
            self.push_batches(&mut out.batches, self.next, self.hold_first);
            self.push_batches(&mut out.batches, self.hold_first, due);
        } else {
            self.push_batches(&mut out.batches, self.next, due);
        }
        self.next = due;
        out
    }

    pub fn is_hold_batch(&self, batch: &Batch) -> bool {
        batch.first_op >= self.hold_first
    }

    /// Ops `from..to` as batches; a batch counts at most `u32::MAX` ops (the
    /// ABI's width), so a longer run is split, never truncated.
    fn push_batches(&self, out: &mut Vec<Batch>, from: u64, to: u64) {
        let mut first = from;
        while first < to {
            let count = u32::try_from(to - first).unwrap_or(u32::MAX);
            out.push(Batch {
                first_op: first,
                first_intended: MonoNanos(self.intended(first)),
                interval_ns: (NS_PER_SEC / self.times.rps as u128) as u64,
                count,
            });
            first += count as u64;
        }
    }
}

/// The pacer's hold-window tallies.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PacerCounts {
    /// Hold ops the plugin started (including those whose `fire` call failed).
    pub accepted: u64,
    pub saturated: u64,
    pub emit_underrun: u64,
    /// Hold ops whose `fire` call returned an error (they count as failed).
    pub fire_errors: u64,
}

pub enum PacerMsg {
    /// Begin pacing a step (replaces any step in progress).
    Start(StepTimes),
    /// Wake-up of pacing run `generation`; stale ones are ignored.
    Tick { generation: u64 },
    /// Stop releasing ops now (cancellation).
    Halt,
    /// The hold-window tallies so far.
    Report(RpcReplyPort<PacerCounts>),
}

/// Read-only configuration: the workload to fire into.
pub struct Pacer {
    pub workload: Arc<Workload>,
}

#[derive(Default)]
pub struct PacerState {
    schedule: Option<Schedule>,
    counts: PacerCounts,
    /// Bumped by every `Start`/`Halt`, so a stale tick chain dies out.
    generation: u64,
    /// Log a failing `fire` once per step, not per tick.
    fire_error_logged: bool,
}

impl Pacer {
    fn tick(&self, state: &mut PacerState) {
        let Some(schedule) = state.schedule.as_mut() else {
            return;
        };
        let release = schedule.release(clock::now().0);
        state.counts.emit_underrun += release.underrun_in_hold;
        for batch in release.batches {
            let in_hold = schedule.is_hold_batch(&batch);
            let (accepted, saturated) = match self.workload.fire(batch) {
                Ok(ack) => (ack.accepted as u64, ack.saturated as u64),
                Err(e) => {
                    if !state.fire_error_logged {
                        tracing::warn!("plugin fire failed: {e}");
                        state.fire_error_logged = true;
                    }
                    if in_hold {
                        state.counts.fire_errors += batch.count as u64;
                    }
                    (batch.count as u64, 0)
                }
            };
            if in_hold {
                state.counts.accepted += accepted;
                state.counts.saturated += saturated;
            }
        }
    }
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
        Ok(PacerState::default())
    }

    async fn handle(
        &self,
        myself: ActorRef<PacerMsg>,
        message: PacerMsg,
        state: &mut PacerState,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            PacerMsg::Start(times) => {
                state.counts = PacerCounts::default();
                state.schedule = Some(Schedule::new(times, TICK));
                state.generation += 1;
                state.fire_error_logged = false;
                myself.send_message(PacerMsg::Tick {
                    generation: state.generation,
                })?;
            }
            PacerMsg::Tick { generation } if generation == state.generation => {
                self.tick(state);
                if state.schedule.as_ref().is_some_and(|s| !s.finished()) {
                    myself.send_after(TICK, move || PacerMsg::Tick { generation });
                }
            }
            PacerMsg::Tick { .. } => {}
            PacerMsg::Halt => {
                state.schedule = None;
                state.generation += 1;
            }
            PacerMsg::Report(reply) => {
                let _ = reply.send(state.counts);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
