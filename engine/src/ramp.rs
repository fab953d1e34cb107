//! The RampController: owns the step lifecycle; a [`Search`] decides the rates.
//!
//! Per step: `activate rate → warmup → [hold start: snapshot counters and
//! backlogs] → hold → [hold end: backlogs; the pacer stops by itself] → drain →
//! verdict → cooldown → settle`. Phases advance by timed messages to itself, so a child
//! restart or a cancellation is handled between phases, never lost behind a
//! long-running handler. *Settle* waits (bounded) until the backlogs the step
//! left behind have drained ([`settle`]), so no step is judged on the queue of
//! the one before. All phase times are absolute (`CLOCK_MONOTONIC`), set
//! when the step starts: the pacer, collector and timers agree on the window.
//!
//! Which rate comes next, whether an INCONCLUSIVE step is re-run and when the
//! run ends are the search's decisions: after each verdict the ramp asks
//! [`Search::next`] and runs what it is told, on one code path for the fixed
//! ladder and the adaptive search alike.

use std::sync::Arc;
use std::time::Duration;

mod measure;
pub mod settle;

use loadgen_plugin_api::clock;
use ractor::rpc::CallResult;
use ractor::{Actor, ActorProcessingErr, ActorRef, MessagingErr, RpcReplyPort};
use tokio::sync::oneshot;

use crate::collector::CollectorMsg;
use crate::counters::{CounterMsg, CounterSnapshot};
use crate::gates::GateSpec;
use crate::pacer::{PacerMsg, StepTimes};
use crate::pending::{BacklogSource, PendingMsg};
use crate::plugin::Workload;
use crate::report::StepReport;
use crate::reporter::{Phase, ReporterMsg};
use crate::search::{Measurement, Outcome, Plan, Probe, Search, Step};
use crate::supervisor::{Children, Supervisor, SupervisorMsg};
use crate::verdict::{judge, PendingChange, Slo, Verdict};
use measure::{step_inputs, step_report, Measured};
use settle::{Backlogs, Settle};

/// Lost samples are emitted at the loss deadline (drain end); this much extra
/// lets the last of them travel through the sink before the step is judged.
const LOSS_GRACE: Duration = Duration::from_millis(100);
/// Bound on every question to a child actor.
const ASK_TIMEOUT: Duration = Duration::from_secs(10);
/// First op of a step is due this long after the step is activated, so the
/// first tick is not already late.
const START_LEAD: Duration = Duration::from_millis(2);
const PROGRESS_EVERY: Duration = Duration::from_secs(1);
/// How often the backlogs are read while settling.
const SETTLE_POLL: Duration = Duration::from_millis(250);
/// Settling never takes less than this long to give up.
const SETTLE_LIMIT_MIN: Duration = Duration::from_secs(30);

/// How the ramp runs.
#[derive(Clone, Debug)]
pub struct RampConfig {
    /// Which rates to run: the fixed ladder or the adaptive search.
    pub plan: Plan,
    pub warmup: Duration,
    pub hold: Duration,
    pub drain: Duration,
    pub cooldown: Duration,
    pub slo: Slo,
    /// How many times an INCONCLUSIVE step is re-run.
    pub retry_inconclusive: u32,
    /// Re-runs of the answer once the search has stopped (`--confirm`).
    pub confirm: u32,
    /// Prometheus text endpoints scraped at hold boundaries (`--scrape`).
    pub scrape_urls: Vec<String>,
    /// Bounds on scraped counters' hold-window growth (`--slo-counter`).
    pub counter_gates: Vec<GateSpec>,
    /// Steps a killed run already finished (`--resume`): replayed through the
    /// search, reported again, not re-run.
    pub resumed: Vec<StepReport>,
}

/// What the ramp hands back when it ends.
#[derive(Debug)]
pub struct RampOutcome {
    pub steps: Vec<StepReport>,
    /// How the search ended: bracket, why it stopped, confirmations.
    pub search: Outcome,
    pub interrupted: bool,
}

pub enum RampMsg {
    /// Run what the search asked for last (a step, or the end of the run).
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
    /// Read the backlogs; start the next step once they have drained.
    Settle,
    /// Stop load now and end with what has finished (SIGINT/SIGTERM).
    Cancel,
}

/// Read-only configuration.
pub struct RampController {
    pub config: RampConfig,
    pub workload: Arc<Workload>,
    pub collector_name: String,
    pub reporter: ActorRef<ReporterMsg>,
    /// Where the workload's JetStream durables are read, if it names any.
    pub backlog: Option<Arc<BacklogSource>>,
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
    /// Decides every rate, re-run and the end of the run.
    search: Search,
    /// The search's last answer, waiting for `NextStep` (after the cooldown).
    upcoming: Option<Probe>,
    /// Backlog levels before the first step: what "drained" means.
    idle_backlogs: Option<Backlogs>,
    /// The wait for the previous step's backlog, with its deadline (ns), if waiting.
    settling: Option<(Settle, u64)>,
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

/// Feed a resumed run's finished steps to a fresh search; the next probe is
/// where the run continues. The journal must be the search's own history.
pub fn replay(search: &mut Search, finished: &[StepReport]) -> Result<Probe, String> {
    let mut next = search.next(None);
    for step in finished {
        match &next {
            Probe::Run(run) if run.rps == step.target_rps => {}
            _ => {
                return Err(format!(
                    "the journal's step {} ({} ops/s) is not what this run's search would run next",
                    step.probe, step.target_rps
                ))
            }
        }
        let verdict = match step.verdict.as_str() {
            "PASS" => Verdict::Pass,
            "TRIP" => Verdict::Trip(step.reasons.clone()),
            _ => Verdict::Inconclusive(step.reasons.first().cloned().unwrap_or_default()),
        };
        next = search.next(Some(&Measurement::verdict_only(verdict)));
    }
    Ok(next)
}

/// Every backlog the workload feeds, as the PendingPoller reads them.
async fn read_backlogs(supervisor: &ActorRef<SupervisorMsg>) -> Result<Backlogs, String> {
    let children = ask(supervisor, "supervisor", SupervisorMsg::Children).await?;
    ask(&children.pending, "backlog reading", PendingMsg::Read).await?
}

fn until(t_ns: u64) -> Duration {
    Duration::from_nanos(t_ns.saturating_sub(clock::now().0))
}

impl RampController {
    /// How long to wait for a backlog to drain: a step at g× capacity leaves
    /// about (g − 1)·(warmup + hold) seconds of work behind.
    fn settle_limit(&self) -> Duration {
        let c = &self.config;
        SETTLE_LIMIT_MIN.max(2 * (c.warmup + c.hold + c.drain))
    }

    /// Between steps: read the backlogs until they have drained (or stopped
    /// draining, or the limit passed), then start the next step.
    async fn settle(
        &self,
        myself: &ActorRef<RampMsg>,
        state: &mut RampState,
    ) -> Result<(), ActorProcessingErr> {
        let now = clock::now().0;
        let limit = self.settle_limit();
        let (settle, deadline) = state.settling.get_or_insert_with(|| {
            (
                Settle::new(state.idle_backlogs.clone()),
                now + limit.as_nanos() as u64,
            )
        });
        // An unreadable backlog cannot be waited for; the step will say so.
        let reading = read_backlogs(&state.supervisor).await;
        let settled = match reading {
            Ok(values) => settle.settled(values),
            Err(_) => true,
        };
        if settled || now >= *deadline {
            if !settled {
                tracing::warn!(
                    "backlogs still draining after {}: starting the next step anyway",
                    humantime::format_duration(limit)
                );
            }
            state.settling = None;
            myself.send_message(RampMsg::NextStep)?;
        } else {
            myself.send_after(SETTLE_POLL, || RampMsg::Settle);
        }
        Ok(())
    }

    async fn children(&self, state: &RampState) -> Result<Children, ActorProcessingErr> {
        Ok(ask(&state.supervisor, "supervisor", SupervisorMsg::Children).await?)
    }

    async fn next_step(
        &self,
        myself: &ActorRef<RampMsg>,
        state: &mut RampState,
    ) -> Result<(), ActorProcessingErr> {
        let Step {
            probe,
            rps,
            attempt,
            ..
        } = match state.upcoming.take() {
            Some(Probe::Run(step)) => step,
            Some(Probe::Done(outcome)) => return self.finish(myself, state, outcome, false).await,
            None => return Ok(()),
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
        let (inputs, extras) = step_inputs(&cur, &self.config, measured);
        let verdict = judge(&inputs, &self.config.slo);
        let report = step_report(&cur, &inputs, &extras, &verdict);
        let _ = self
            .reporter
            .send_message(ReporterMsg::StepFinished(report.clone()));
        state.steps.push(report);

        match state
            .search
            .next(Some(&Measurement::verdict_only(verdict.clone())))
        {
            Probe::Done(outcome) => self.finish(myself, state, outcome, false).await,
            run => {
                state.upcoming = Some(run);
                myself.send_after(self.config.cooldown, || RampMsg::Settle);
                Ok(())
            }
        }
    }

    async fn finish(
        &self,
        myself: &ActorRef<RampMsg>,
        state: &mut RampState,
        search: Outcome,
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
                search,
                interrupted,
            });
        }
        myself.stop(None);
        Ok(())
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
            backlog: self.backlog.clone(),
            scrape_urls: self.config.scrape_urls.clone(),
            ramp: myself.clone(),
        };
        let (supervisor, _) = Actor::spawn_linked(None, supervisor, (), myself.get_cell()).await?;
        let mut search = Search::new(self.config.plan.clone())
            .retry_inconclusive(self.config.retry_inconclusive)
            .confirm(self.config.confirm);
        let upcoming = Some(replay(&mut search, &self.config.resumed)?);
        let idle_backlogs = read_backlogs(&supervisor).await.ok();
        myself.send_message(RampMsg::NextStep)?;
        Ok(RampState {
            supervisor,
            search,
            upcoming,
            idle_backlogs,
            settling: None,
            current: None,
            seq: 0,
            steps: self.config.resumed.clone(),
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
            RampMsg::Settle => self.settle(&myself, state).await?,
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
                let outcome = state.search.interrupted();
                self.finish(&myself, state, outcome, true).await?;
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
