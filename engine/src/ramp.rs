//! The RampController: owns the step lifecycle and the order of steps.
//!
//! Per step: `activate rate → warmup → [hold start: snapshot counters and
//! backlogs] → hold → [hold end: backlogs; the pacer stops by itself] → drain →
//! verdict → cooldown`. Phases advance by timed messages to itself, so a child
//! restart or a cancellation is handled between phases, never lost behind a
//! long-running handler. All phase times are absolute (`CLOCK_MONOTONIC`), set
//! when the step starts: the pacer, collector and timers agree on the window.

use std::sync::Arc;
use std::time::Duration;

use loadgen_plugin_api::clock;
use ractor::rpc::CallResult;
use ractor::{Actor, ActorProcessingErr, ActorRef, MessagingErr, RpcReplyPort};
use tokio::sync::oneshot;

use crate::collector::{CollectorMsg, CollectorStats};
use crate::counters::{CounterMsg, CounterSnapshot};
use crate::pacer::{PacerCounts, PacerMsg, StepTimes};
use crate::pending::PendingMsg;
use crate::plugin::Workload;
use crate::report::{ms_value, SeriesReport, StepReport};
use crate::reporter::{Phase, ReporterMsg};
use crate::supervisor::{Children, Supervisor, SupervisorMsg};
use crate::verdict::{judge, PendingChange, Slo, StepInputs, Verdict};

/// Lost samples are emitted at the loss deadline (drain end); this much extra
/// lets the last of them travel through the sink before the step is judged.
const LOSS_GRACE: Duration = Duration::from_millis(100);
/// Bound on every question to a child actor.
const ASK_TIMEOUT: Duration = Duration::from_secs(10);
/// First op of a step is due this long after the step is activated, so the
/// first tick is not already late.
const START_LEAD: Duration = Duration::from_millis(2);
const PROGRESS_EVERY: Duration = Duration::from_secs(1);

/// How the ramp runs.
#[derive(Clone, Debug)]
pub struct RampConfig {
    pub rates: Vec<u64>,
    pub warmup: Duration,
    pub hold: Duration,
    pub drain: Duration,
    pub cooldown: Duration,
    pub stop_on_trip: bool,
    pub slo: Slo,
    /// How many times an INCONCLUSIVE step is re-run.
    pub retry_inconclusive: u32,
}

/// What the ramp hands back when it ends.
#[derive(Debug)]
pub struct RampOutcome {
    pub steps: Vec<StepReport>,
    pub interrupted: bool,
}

pub enum RampMsg {
    /// Start the next step, or end the run if there is none.
    NextStep,
    HoldStart {
        seq: u64,
    },
    Progress {
        seq: u64,
    },
    HoldEnd {
        seq: u64,
    },
    DrainEnd {
        seq: u64,
    },
    /// The supervisor restarted a child: the current step cannot be trusted.
    ChildRestarted {
        child: &'static str,
        reason: String,
    },
    /// Stop load now and end with what has finished (SIGINT/SIGTERM).
    Cancel,
}

/// Read-only configuration.
pub struct RampController {
    pub config: RampConfig,
    pub workload: Arc<Workload>,
    pub collector_name: String,
    pub reporter: ActorRef<ReporterMsg>,
}

pub struct RampArgs {
    pub done: oneshot::Sender<RampOutcome>,
}

/// The step in progress.
struct Current {
    seq: u64,
    probe: u32,
    rps: u64,
    attempt: u32,
    times: StepTimes,
    start_counters: Option<Result<CounterSnapshot, String>>,
    pending_begin: Option<Result<(), String>>,
    pending: Option<Result<Vec<PendingChange>, String>>,
    /// Why the measurement is broken (a child restarted), if it is.
    disrupted: Option<String>,
}

pub struct RampState {
    supervisor: ActorRef<SupervisorMsg>,
    next_rate: usize,
    /// A rate to run again (INCONCLUSIVE), with its attempt number.
    rerun: Option<(u64, u32)>,
    current: Option<Current>,
    seq: u64,
    steps: Vec<StepReport>,
    done: Option<oneshot::Sender<RampOutcome>>,
}

/// Ask an actor and wait, bounded; errors become text for the step's reasons.
async fn ask<M, T>(
    actor: &ActorRef<M>,
    what: &str,
    msg: impl FnOnce(RpcReplyPort<T>) -> M,
) -> Result<T, String>
where
    M: ractor::Message,
    T: Send + 'static,
{
    match actor.call(msg, Some(ASK_TIMEOUT)).await {
        Ok(CallResult::Success(v)) => Ok(v),
        Ok(CallResult::Timeout) => Err(format!("{what}: no answer in {ASK_TIMEOUT:?}")),
        Ok(CallResult::SenderError) | Err(MessagingErr::ChannelClosed) => {
            Err(format!("{what}: actor stopped"))
        }
        Err(e) => Err(format!("{what}: {e}")),
    }
}

fn until(t_ns: u64) -> Duration {
    Duration::from_nanos(t_ns.saturating_sub(clock::now().0))
}

impl RampController {
    async fn children(&self, state: &RampState) -> Result<Children, ActorProcessingErr> {
        Ok(ask(&state.supervisor, "supervisor", SupervisorMsg::Children).await?)
    }

    async fn next_step(
        &self,
        myself: &ActorRef<RampMsg>,
        state: &mut RampState,
    ) -> Result<(), ActorProcessingErr> {
        let (rps, attempt) = match state.rerun.take() {
            Some(rerun) => rerun,
            None => match self.config.rates.get(state.next_rate) {
                Some(&rps) => {
                    state.next_rate += 1;
                    (rps, 1)
                }
                None => return self.finish(myself, state, false).await,
            },
        };
        let children = self.children(state).await?;
        state.seq += 1;
        let start = clock::now().0 + START_LEAD.as_nanos() as u64;
        let hold_start = start + self.config.warmup.as_nanos() as u64;
        let times = StepTimes {
            rps,
            start,
            hold_start,
            stop: hold_start + self.config.hold.as_nanos() as u64,
        };
        children.collector.send_message(CollectorMsg::Window {
            hold_start,
            hold_end: times.stop,
        })?;
        children.pacer.send_message(PacerMsg::Start(times))?;
        let probe = state.steps.len() as u32;
        let _ = self.reporter.send_message(ReporterMsg::StepStarted {
            probe,
            rps,
            attempt,
            phase_len: self.config.warmup,
        });
        state.current = Some(Current {
            seq: state.seq,
            probe,
            rps,
            attempt,
            times,
            start_counters: None,
            pending_begin: None,
            pending: None,
            disrupted: None,
        });
        let seq = state.seq;
        myself.send_after(until(hold_start), move || RampMsg::HoldStart { seq });
        Ok(())
    }

    async fn hold_start(
        &self,
        myself: &ActorRef<RampMsg>,
        state: &mut RampState,
    ) -> Result<(), ActorProcessingErr> {
        let children = self.children(state).await?;
        let counters = ask(&children.counters, "counter snapshot", CounterMsg::Snapshot).await;
        let pending = ask(&children.pending, "backlog snapshot", PendingMsg::Begin).await;
        let Some(cur) = state.current.as_mut() else {
            return Ok(());
        };
        cur.start_counters = Some(counters.and_then(|r| r));
        cur.pending_begin = Some(pending.and_then(|r| r));
        let seq = cur.seq;
        myself.send_after(until(cur.times.stop), move || RampMsg::HoldEnd { seq });
        myself.send_after(PROGRESS_EVERY, move || RampMsg::Progress { seq });
        Ok(())
    }

    async fn progress(
        &self,
        myself: &ActorRef<RampMsg>,
        state: &mut RampState,
    ) -> Result<(), ActorProcessingErr> {
        let children = self.children(state).await?;
        let Some(cur) = state.current.as_ref() else {
            return Ok(());
        };
        let now = clock::now().0;
        if now >= cur.times.stop {
            return Ok(());
        }
        let (seq, hold_start) = (cur.seq, cur.times.hold_start);
        let counts = ask(&children.pacer, "pacer", PacerMsg::Report)
            .await
            .unwrap_or_default();
        let stats = ask(&children.collector, "collector", CollectorMsg::Snapshot)
            .await
            .ok();
        let elapsed = Duration::from_nanos(now.saturating_sub(hold_start));
        let _ = self.reporter.send_message(ReporterMsg::Progress {
            phase: Phase::Hold,
            elapsed,
            achieved_rps: counts.accepted as f64 / elapsed.as_secs_f64().max(1e-3),
            p99: stats.and_then(|s| s.worst_p99()),
        });
        myself.send_after(PROGRESS_EVERY, move || RampMsg::Progress { seq });
        Ok(())
    }

    async fn hold_end(
        &self,
        myself: &ActorRef<RampMsg>,
        state: &mut RampState,
    ) -> Result<(), ActorProcessingErr> {
        let children = self.children(state).await?;
        let pending = ask(&children.pending, "backlog snapshot", PendingMsg::End).await;
        let Some(cur) = state.current.as_mut() else {
            return Ok(());
        };
        cur.pending = Some(pending.and_then(|r| r));
        let _ = self.reporter.send_message(ReporterMsg::Progress {
            phase: Phase::Drain,
            elapsed: Duration::ZERO,
            achieved_rps: 0.0,
            p99: None,
        });
        let seq = cur.seq;
        myself.send_after(self.config.drain + LOSS_GRACE, move || RampMsg::DrainEnd {
            seq,
        });
        Ok(())
    }

    async fn drain_end(
        &self,
        myself: &ActorRef<RampMsg>,
        state: &mut RampState,
    ) -> Result<(), ActorProcessingErr> {
        let children = self.children(state).await?;
        let counts = ask(&children.pacer, "pacer report", PacerMsg::Report).await;
        let end_counters = ask(&children.counters, "counter snapshot", CounterMsg::Snapshot).await;
        let stats = ask(
            &children.collector,
            "collector snapshot",
            CollectorMsg::Snapshot,
        )
        .await;
        let in_use = self.workload.series_in_use();
        let Some(cur) = state.current.take() else {
            return Ok(());
        };

        let measured = Measured {
            counts,
            start_counters: cur
                .start_counters
                .clone()
                .unwrap_or_else(|| Err("no hold-start snapshot".into())),
            end_counters: end_counters.and_then(|r| r),
            stats,
            in_use,
        };
        let (inputs, stats) = step_inputs(&cur, &self.config, measured);
        let verdict = judge(&inputs, &self.config.slo);
        let report = step_report(&cur, &inputs, &stats, &verdict);
        let _ = self
            .reporter
            .send_message(ReporterMsg::StepFinished(report.clone()));
        state.steps.push(report);

        match verdict {
            Verdict::Inconclusive(_) if cur.attempt <= self.config.retry_inconclusive => {
                state.rerun = Some((cur.rps, cur.attempt + 1));
            }
            Verdict::Trip(_) if self.config.stop_on_trip => {
                return self.finish(myself, state, false).await;
            }
            _ => {}
        }
        myself.send_after(self.config.cooldown, || RampMsg::NextStep);
        Ok(())
    }

    async fn finish(
        &self,
        myself: &ActorRef<RampMsg>,
        state: &mut RampState,
        interrupted: bool,
    ) -> Result<(), ActorProcessingErr> {
        state.current = None;
        if let Some(done) = state.done.take() {
            let _ = ask(
                &state.supervisor,
                "supervisor shutdown",
                SupervisorMsg::Shutdown,
            )
            .await;
            let _ = done.send(RampOutcome {
                steps: std::mem::take(&mut state.steps),
                interrupted,
            });
        }
        myself.stop(None);
        Ok(())
    }
}

/// What the children reported at the end of a step.
struct Measured {
    counts: Result<PacerCounts, String>,
    start_counters: Result<CounterSnapshot, String>,
    end_counters: Result<CounterSnapshot, String>,
    stats: Result<CollectorStats, String>,
    in_use: Result<Vec<u16>, String>,
}

/// Assemble the verdict's inputs; the first broken signal, if any, becomes
/// the measurement failure (so the step is INCONCLUSIVE, never PASS).
fn step_inputs(cur: &Current, config: &RampConfig, m: Measured) -> (StepInputs, CollectorStats) {
    let mut failure = cur.disrupted.clone();
    let mut note = |e: String| {
        failure.get_or_insert(e);
    };
    if let Some(Err(e)) = &cur.pending_begin {
        note(format!("backlog signal unavailable: {e}"));
    }
    let pending = match &cur.pending {
        Some(Ok(changes)) => changes.clone(),
        Some(Err(e)) => {
            note(format!("backlog signal unavailable: {e}"));
            Vec::new()
        }
        None => {
            note("backlog signal unavailable: no hold-end reading".into());
            Vec::new()
        }
    };
    let counts = m.counts.unwrap_or_else(|e| {
        note(format!("pacer unavailable: {e}"));
        PacerCounts::default()
    });
    let deltas = match (&m.start_counters, &m.end_counters) {
        (Ok(start), Ok(end)) => end.delta_since(start),
        (Err(e), _) | (_, Err(e)) => {
            note(format!("counter signal unavailable: {e}"));
            Default::default()
        }
    };
    let stats = m.stats.unwrap_or_else(|e| {
        note(format!("latency signal unavailable: {e}"));
        CollectorStats::default()
    });
    let in_use = m.in_use.unwrap_or_else(|e| {
        note(format!("plugin unavailable: {e}"));
        Vec::new()
    });
    let inputs = StepInputs {
        target_rps: cur.rps,
        hold: config.hold,
        attempted: counts.accepted,
        failed: deltas.failed + counts.fire_errors,
        lost: stats.lost(),
        saturated: counts.saturated,
        emit_underrun: counts.emit_underrun,
        series: stats
            .series
            .iter()
            .enumerate()
            .filter(|(i, _)| in_use.contains(&(*i as u16)))
            .map(|(_, s)| s.latency.clone())
            .collect(),
        pending,
        counter_gates: Vec::new(),
        measurement_failure: failure,
    };
    (inputs, stats)
}

fn step_report(
    cur: &Current,
    inputs: &StepInputs,
    stats: &CollectorStats,
    verdict: &Verdict,
) -> StepReport {
    let service_p99 = |name: &str| {
        stats
            .series
            .iter()
            .find(|s| s.latency.name == name)
            .map_or(0.0, |s| ms_value(s.service_p99))
    };
    let worst = inputs.worst_pending();
    StepReport {
        probe: cur.probe,
        target_rps: cur.rps,
        achieved_rps: inputs.achieved_rps(),
        attempt: cur.attempt,
        series: inputs
            .series
            .iter()
            .map(|s| SeriesReport {
                name: s.name.clone(),
                count: s.count,
                p50_ms: ms_value(s.p50),
                p95_ms: ms_value(s.p95),
                p99_ms: ms_value(s.p99),
                max_ms: ms_value(s.max),
                service_p99_ms: service_p99(&s.name),
            })
            .collect(),
        error_rate: inputs.error_rate(),
        loss_rate: inputs.loss_rate(),
        attempted: inputs.attempted,
        failed: inputs.failed,
        lost: inputs.lost,
        saturation: inputs.saturated,
        emit_underrun: inputs.emit_underrun,
        worst_durable: worst.map(|p| p.name.clone()),
        worst_pending_delta: worst.map(|p| p.growth()),
        verdict: verdict.label().to_string(),
        reasons: verdict.reasons(),
    }
}

impl Actor for RampController {
    type Msg = RampMsg;
    type State = RampState;
    type Arguments = RampArgs;

    async fn pre_start(
        &self,
        myself: ActorRef<RampMsg>,
        args: RampArgs,
    ) -> Result<RampState, ActorProcessingErr> {
        let supervisor = Supervisor {
            workload: Arc::clone(&self.workload),
            series: self.workload.description.series.clone(),
            collector_name: self.collector_name.clone(),
            ramp: myself.clone(),
        };
        let (supervisor, _) = Actor::spawn_linked(None, supervisor, (), myself.get_cell()).await?;
        myself.send_message(RampMsg::NextStep)?;
        Ok(RampState {
            supervisor,
            next_rate: 0,
            rerun: None,
            current: None,
            seq: 0,
            steps: Vec::new(),
            done: Some(args.done),
        })
    }

    async fn handle(
        &self,
        myself: ActorRef<RampMsg>,
        message: RampMsg,
        state: &mut RampState,
    ) -> Result<(), ActorProcessingErr> {
        if state.done.is_none() {
            return Ok(()); // finished: stray timers
        }
        let current_seq = state.current.as_ref().map(|c| c.seq);
        match message {
            RampMsg::NextStep => self.next_step(&myself, state).await?,
            RampMsg::HoldStart { seq } if Some(seq) == current_seq => {
                self.hold_start(&myself, state).await?
            }
            RampMsg::Progress { seq } if Some(seq) == current_seq => {
                self.progress(&myself, state).await?
            }
            RampMsg::HoldEnd { seq } if Some(seq) == current_seq => {
                self.hold_end(&myself, state).await?
            }
            RampMsg::DrainEnd { seq } if Some(seq) == current_seq => {
                self.drain_end(&myself, state).await?
            }
            RampMsg::HoldStart { .. }
            | RampMsg::Progress { .. }
            | RampMsg::HoldEnd { .. }
            | RampMsg::DrainEnd { .. } => {}
            RampMsg::ChildRestarted { child, reason } => {
                if let Some(cur) = state.current.as_mut() {
                    cur.disrupted
                        .get_or_insert(format!("{child} restarted during the step: {reason}"));
                }
            }
            RampMsg::Cancel => {
                if let Ok(children) = self.children(state).await {
                    let _ = children.pacer.send_message(PacerMsg::Halt);
                }
                self.finish(&myself, state, true).await?;
            }
        }
        Ok(())
    }

    /// Overridden: the default would stop the ramp when the supervisor exits.
    async fn handle_supervisor_evt(
        &self,
        _myself: ActorRef<RampMsg>,
        _event: ractor::SupervisionEvent,
        _state: &mut RampState,
    ) -> Result<(), ActorProcessingErr> {
        Ok(())
    }
}
