//! The RampController: runs the step lifecycle that its [`StepMachine`]
//! decides, one command at a time.
//!
//! Per step: `activate rate → warmup → [hold start: snapshot counters and
//! backlogs] → hold → [hold end: backlogs; the pacer stops by itself] → drain →
//! verdict → cooldown → settle`. The machine ([`machine`]) owns that order,
//! the search and the verdict; this actor only executes its commands: it
//! arms timers (messages to itself, so a child restart or a cancellation is
//! handled between phases), asks the children, and feeds the answers back.
//!
//! Dependencies come from the caller: the children's refs (updated by the
//! Supervisor's restart announcements, never looked up), the clock, the
//! plugin's series in use and the reporter. Every question to a child is
//! bounded; a failed or unanswered one is that step's INCONCLUSIVE reason,
//! never the end of the run.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

mod seconds;

pub use loadgen_core::ramp::{machine, measure, settle, Phase};

use ractor::rpc::CallResult;
use ractor::{Actor, ActorProcessingErr, ActorRef, MessagingErr, RpcReplyPort};
use tokio::sync::oneshot;

use crate::clock::Clock;
use crate::collector::CollectorMsg;
use crate::counters::CounterMsg;
use crate::pacer::PacerMsg;
use crate::pending::PendingMsg;
pub use crate::report::per_second::SecondUpdate;
use crate::report::StepReport;
use crate::reporter::ReporterMsg;
use crate::search::{ChosenBy, Outcome};
use crate::supervisor::{Children, Restarted};
use loadgen_core::backlog::Backlogs;
use loadgen_core::pacer::StepTimes;
use machine::overload::HoldProgress;
use machine::{Command, Event, StepMachine, Timer};
pub use measure::Measured;
use seconds::Seconds;

/// Bound on every question to a child actor.
const ASK_TIMEOUT: Duration = Duration::from_secs(10);

/// What the ramp hands back when it ends.
#[derive(Debug)]
pub struct RampOutcome {
    pub steps: Vec<StepReport>,
    /// How the search ended: bracket, why it stopped, confirmations.
    pub search: Outcome,
    pub interrupted: bool,
}

pub enum RampMsg {
    /// A step's timer (see [`Timer`]); the machine ignores stale ones.
    Timer { seq: u64, timer: Timer },
    /// The supervisor restarted a child: new refs, and the step cannot be trusted.
    ChildRestarted(Restarted),
    /// Stop load now and end with what has finished (SIGINT/SIGTERM).
    Cancel,
    /// The step in progress cannot be trusted, for the reason given (a
    /// distributed run's agent was lost).
    Disrupted(String),
}

/// The plugin's list of series it records, asked at each step's end.
pub trait SeriesInUse: Send + Sync {
    fn series_in_use(&self) -> Result<Vec<u16>, String>;
}

impl SeriesInUse for crate::plugin::Workload {
    fn series_in_use(&self) -> Result<Vec<u16>, String> {
        crate::plugin::Workload::series_in_use(self)
    }
}

/// Read-only configuration.
pub struct RampController {
    pub reporter: ActorRef<ReporterMsg>,
    pub plugin: Arc<dyn SeriesInUse>,
    pub clock: Arc<dyn Clock>,
}

pub struct RampArgs {
    pub machine: StepMachine,
    pub children: Children,
    /// Steps a resumed run had finished: reported again, not re-run.
    pub resumed: Vec<StepReport>,
    pub done: oneshot::Sender<RampOutcome>,
}

pub struct RampState {
    machine: StepMachine,
    children: Children,
    steps: Vec<StepReport>,
    /// The step in progress's per-second series.
    seconds: Seconds,
    done: Option<oneshot::Sender<RampOutcome>>,
}

/// Ask an actor and wait, bounded; errors become text for the step's reasons.
pub async fn ask<M, T>(
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

/// Every backlog the workload feeds, as the PendingPoller reads them.
pub async fn read_backlogs(pending: &ActorRef<PendingMsg>) -> Result<Backlogs, String> {
    ask(pending, "backlog reading", PendingMsg::Read).await?
}

impl RampController {
    /// Pass one second of hold on (per-second series, live metrics).
    fn second(&self, update: SecondUpdate) {
        let _ = self
            .reporter
            .send_message(ReporterMsg::Second(Box::new(update)));
    }

    /// Feed `event` to the machine and execute what it asks, until nothing
    /// more is to be done now (answers to questions are events too).
    async fn drive(&self, myself: &ActorRef<RampMsg>, state: &mut RampState, event: Event) {
        let mut pending = VecDeque::from([event]);
        while let Some(event) = pending.pop_front() {
            let commands = state.machine.on(event, self.clock.now_ns());
            for command in commands {
                if let Some(answer) = self.execute(myself, state, command).await {
                    pending.push_back(answer);
                }
            }
        }
    }

    /// Execute one command; a question's answer comes back as the event to feed.
    async fn execute(
        &self,
        myself: &ActorRef<RampMsg>,
        state: &mut RampState,
        command: Command,
    ) -> Option<Event> {
        let c = &state.children;
        match command {
            Command::Activate {
                probe,
                attempt,
                chosen_by,
                times,
            } => {
                self.activate(state, probe, attempt, chosen_by, times);
                None
            }
            Command::Arm { at_ns, seq, timer } => {
                let wait = Duration::from_nanos(at_ns.saturating_sub(self.clock.now_ns()));
                myself.send_after(wait, move || RampMsg::Timer { seq, timer });
                None
            }
            Command::ReadHoldStart { seq } => Some(self.read_hold_start(c, seq).await),
            Command::ReadHoldEnd { seq } => Some(self.read_hold_end(state, seq).await),
            Command::Measure { seq } => Some(Event::Measured {
                seq,
                measured: self.measure(c).await,
            }),
            Command::Progress { seq, hold_start_ns } => {
                Some(self.read_progress(state, seq, hold_start_ns).await)
            }
            Command::Draining => {
                self.show_phase_began(Phase::Drain);
                None
            }
            Command::StepFinished(report) => {
                self.report_step(state, report).await;
                None
            }
            Command::ReadBacklogs => Some(Event::Backlogs(read_backlogs(&c.pending).await)),
            Command::HaltPacer => {
                let _ = c.pacer.send_message(PacerMsg::Halt);
                None
            }
            Command::Finish {
                outcome,
                interrupted,
            } => {
                if let Some(done) = state.done.take() {
                    let _ = done.send(RampOutcome {
                        steps: std::mem::take(&mut state.steps),
                        search: outcome,
                        interrupted,
                    });
                }
                myself.stop(None);
                None
            }
        }
    }

    /// Start a step: the collector's window, the pacer's times, the reporter's line.
    fn activate(
        &self,
        state: &mut RampState,
        probe: u32,
        attempt: u32,
        chosen_by: ChosenBy,
        times: StepTimes,
    ) {
        let c = &state.children;
        // A dead child is being restarted: its announcement marks the step.
        let _ = c.collector.send_message(CollectorMsg::Window {
            hold_start: times.hold_start,
            hold_end: times.stop,
        });
        let _ = c.pacer.send_message(PacerMsg::Start(times));
        state.seconds = Seconds::new(times.hold_start, times.stop);
        let _ = self.reporter.send_message(ReporterMsg::StepStarted {
            probe,
            rps: times.rps,
            attempt,
            chosen_by,
            phase_len: Duration::from_nanos(times.hold_start - times.start),
            hold_len: Duration::from_nanos(times.stop - times.hold_start),
        });
    }

    /// Show that `phase` has just begun.
    fn show_phase_began(&self, phase: Phase) {
        let _ = self.reporter.send_message(ReporterMsg::Progress {
            phase,
            elapsed: Duration::ZERO,
            achieved_rps: 0.0,
            p99: None,
        });
    }

    /// The hold-start snapshots: counters and every backlog.
    async fn read_hold_start(&self, c: &Children, seq: u64) -> Event {
        let counters = ask(&c.counters, "counter snapshot", CounterMsg::Snapshot).await;
        let backlogs = ask(&c.pending, "backlog snapshot", PendingMsg::Begin).await;
        self.show_phase_began(Phase::Hold);
        Event::HoldStartRead {
            seq,
            counters: counters.and_then(|r| r),
            backlogs: backlogs.and_then(|r| r),
        }
    }

    /// The hold-end backlog reading, and the hold's last part-second.
    async fn read_hold_end(&self, state: &mut RampState, seq: u64) -> Event {
        let changes = ask(&state.children.pending, "backlog snapshot", PendingMsg::End).await;
        let now = self.clock.now_ns();
        if let Some(update) = state.seconds.take(&state.children, now).await {
            self.second(update);
        }
        Event::HoldEndRead {
            seq,
            changes: changes.and_then(|r| r),
        }
    }

    /// What the children measured of the step, at drain end.
    async fn measure(&self, c: &Children) -> Measured {
        Measured {
            counts: ask(&c.pacer, "pacer report", PacerMsg::Report).await,
            end_counters: ask(&c.counters, "counter snapshot", CounterMsg::Snapshot)
                .await
                .and_then(|r| r),
            stats: ask(&c.collector, "collector snapshot", CollectorMsg::Snapshot).await,
            in_use: self.plugin.series_in_use(),
            disturbances: ask(
                &c.collector,
                "collector disturbances",
                CollectorMsg::Disturbances,
            )
            .await,
        }
    }

    /// A progress tick of the hold: pass the last second on, show the hold so
    /// far, and read what the machine needs to decide on an early stop.
    async fn read_progress(&self, state: &mut RampState, seq: u64, hold_start_ns: u64) -> Event {
        let c = &state.children;
        if let Some(update) = state.seconds.take(c, self.clock.now_ns()).await {
            self.second(update);
        }
        // Backlogs right after the pacer: an overloaded probe's served
        // rate is offered − growth, so the two belong to one moment
        // (ops released in between count as growth: an estimate low, not high).
        let counts = ask(&c.pacer, "pacer", PacerMsg::Report).await.ok();
        let at_ns = self.clock.now_ns();
        let backlogs = read_backlogs(&c.pending).await.ok();
        let stats = ask(&c.collector, "collector", CollectorMsg::Snapshot)
            .await
            .ok();
        let elapsed = Duration::from_nanos(self.clock.now_ns().saturating_sub(hold_start_ns));
        let accepted = counts.map(|c| c.accepted);
        let _ = self.reporter.send_message(ReporterMsg::Progress {
            phase: Phase::Hold,
            elapsed,
            achieved_rps: accepted.unwrap_or(0) as f64 / elapsed.as_secs_f64().max(1e-3),
            p99: stats.as_ref().and_then(|s| s.worst_p99()),
        });
        let progress = HoldProgress {
            at_ns,
            accepted,
            answered: stats.map(|s| s.answered_in_hold()),
            backlogs,
        };
        Event::HoldProgress { seq, progress }
    }

    /// A judged step: add its histograms and seconds, report and keep it.
    async fn report_step(&self, state: &mut RampState, mut report: StepReport) {
        // The window is still the step's until the next Activate.
        let kept = ask(
            &state.children.collector,
            "collector histograms",
            CollectorMsg::Histograms,
        )
        .await
        .unwrap_or_default();
        report.histograms = kept
            .into_iter()
            .filter(|h| report.series.iter().any(|s| s.name == h.series))
            .collect();
        report.per_second = state.seconds.take_points();
        let _ = self
            .reporter
            .send_message(ReporterMsg::StepFinished(Box::new(report.clone())));
        state.steps.push(report);
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
        let mut state = RampState {
            machine: args.machine,
            children: args.children,
            steps: args.resumed,
            seconds: Seconds::default(),
            done: Some(args.done),
        };
        let idle = read_backlogs(&state.children.pending).await;
        self.drive(&myself, &mut state, Event::Begin { idle }).await;
        Ok(state)
    }

    async fn handle(
        &self,
        myself: ActorRef<RampMsg>,
        message: RampMsg,
        state: &mut RampState,
    ) -> Result<(), ActorProcessingErr> {
        let event = match message {
            RampMsg::Timer { seq, timer } => Event::Timer { seq, timer },
            RampMsg::ChildRestarted(restarted) => {
                state.children = restarted.children;
                Event::ChildRestarted {
                    child: restarted.child,
                    reason: restarted.reason,
                }
            }
            RampMsg::Cancel => Event::Cancel,
            RampMsg::Disrupted(reason) => Event::Disrupted(reason),
        };
        self.drive(&myself, state, event).await;
        Ok(())
    }
}
