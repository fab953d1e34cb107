//! [`StepMachine`]: the step lifecycle as a pure state machine.
//!
//! `on(event, now) -> Vec<Command>`: the RampController feeds it what
//! happened (a timer fired, a snapshot came back, a child restarted, the run
//! was cancelled) with the time, and executes the commands it returns
//! (configure the pacer, arm a timer, read a snapshot, report a step). No
//! actor, no clock, no I/O here, so every rule is a table test:
//!
//! `activate → warmup → [hold start: counters + backlogs] → hold → [hold end:
//! backlogs] → drain → [measure, verdict] → cooldown → settle → next step`.
//!
//! Timers carry the step's sequence number, so a timer of an abandoned step
//! is ignored. The [`Search`] it owns decides every rate and the end.

use std::time::Duration;

use crate::backlog::{BacklogChange, Backlogs};
use crate::config::{RunConfig, SearchKind};
use crate::counters::CounterSnapshot;
use crate::pacer::StepTimes;
use crate::report::StepReport;
use crate::search::{ChosenBy, Measurement, Outcome, Probe, Search, Step};
use crate::verdict::{judge, Child, Doubt, Verdict};

use super::measure::{step_inputs, step_report, Measured};
use super::settle::Settle;
use overload::{stop_early, HoldProgress, ProbeKind, StoppedEarly};

pub mod overload;

/// Lost samples are emitted at the loss deadline (drain end); this much extra
/// lets the last of them travel through the sink before the step is judged.
pub const LOSS_GRACE: Duration = Duration::from_millis(100);
/// First op of a step is due this long after the step is activated, so the
/// first tick is not already late.
pub const START_LEAD: Duration = Duration::from_millis(2);
pub const PROGRESS_EVERY: Duration = Duration::from_secs(1);
/// How often the backlogs are read while settling.
pub const SETTLE_POLL: Duration = Duration::from_millis(250);
/// Settling never takes less than this long to give up.
pub const SETTLE_LIMIT_MIN: Duration = Duration::from_secs(30);

/// The timed moments of a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timer {
    HoldStart,
    Progress,
    HoldEnd,
    DrainEnd,
    CooldownEnd,
    SettlePoll,
}

/// What happened.
#[derive(Debug)]
pub enum Event {
    /// The run begins; `idle` is the backlog before any load (what "drained" means).
    Begin {
        idle: Result<Backlogs, String>,
    },
    Timer {
        seq: u64,
        timer: Timer,
    },
    /// The hold-start snapshots ([`Command::ReadHoldStart`]).
    HoldStartRead {
        seq: u64,
        counters: Result<CounterSnapshot, String>,
        backlogs: Result<Backlogs, String>,
    },
    /// The hold-end backlog reading ([`Command::ReadHoldEnd`]).
    HoldEndRead {
        seq: u64,
        changes: Result<Vec<BacklogChange>, String>,
    },
    /// What the hold has done so far, backlogs included ([`Command::Progress`]).
    HoldProgress {
        seq: u64,
        progress: HoldProgress,
    },
    /// What the children measured at drain end ([`Command::Measure`]).
    Measured {
        seq: u64,
        measured: Measured,
    },
    /// A backlog reading while settling ([`Command::ReadBacklogs`]).
    Backlogs(Result<Backlogs, String>),
    /// A child was restarted: the step in progress cannot be trusted.
    ChildRestarted {
        child: Child,
        reason: String,
    },
    /// Stop load now and end with what finished.
    Cancel,
    /// The step in progress cannot be trusted: the reason, verbatim.
    Disrupted(String),
}

/// What the controller should do.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// Tell the collector the hold window and the pacer the step.
    Activate {
        probe: u32,
        attempt: u32,
        /// Why the search chose this rate (for the live view).
        chosen_by: ChosenBy,
        times: StepTimes,
    },
    /// Deliver `Event::Timer { seq, timer }` at `at_ns`.
    Arm { at_ns: u64, seq: u64, timer: Timer },
    /// Snapshot counters and begin the backlog reading; answer with `HoldStartRead`.
    ReadHoldStart { seq: u64 },
    /// Read the backlogs' hold-end values; answer with `HoldEndRead`.
    ReadHoldEnd { seq: u64 },
    /// Ask pacer, counters and collector for the step's figures; answer with `Measured`.
    Measure { seq: u64 },
    /// Show the hold's progress so far and read the pacer, the backlogs
    /// (their trend tells the search whether the service keeps up) and the
    /// answers; answer with `HoldProgress` (an overloaded probe may stop on it).
    Progress { seq: u64, hold_start_ns: u64 },
    /// Show that the drain has begun.
    Draining,
    /// A step was judged: report and journal it.
    StepFinished(StepReport),
    /// Read the backlogs; answer with `Backlogs`.
    ReadBacklogs,
    /// Stop releasing ops now (cancelled, or a hold stopped early).
    HaltPacer,
    /// The run is over.
    Finish { outcome: Outcome, interrupted: bool },
}

/// The step in progress and what has been measured of it so far.
pub(crate) struct Current {
    pub(crate) seq: u64,
    pub(crate) probe: u32,
    pub(crate) rps: u64,
    pub(crate) attempt: u32,
    pub(crate) chosen_by: ChosenBy,
    pub(crate) estimate: Option<f64>,
    pub(crate) times: StepTimes,
    /// Backlog readings during the hold: (seconds since hold start, values).
    pub(crate) during: Vec<(f64, Backlogs)>,
    pub(crate) start_counters: Option<Result<CounterSnapshot, String>>,
    /// The backlogs at hold start (totals), or why they could not be read.
    pub(crate) backlogs_at_start: Option<Result<Backlogs, String>>,
    /// Each backlog from hold start to hold end, or why the hold-end reading failed.
    pub(crate) backlog_changes: Option<Result<Vec<BacklogChange>, String>>,
    /// Why the measurement is broken (a child restarted), if it is.
    pub(crate) disrupted: Option<Doubt>,
    /// The hold ended early: the probe was clearly above capacity.
    pub(crate) stopped_early: Option<StoppedEarly>,
}

impl Current {
    /// How long the hold lasted: the planned hold, or what was held.
    pub(crate) fn held(&self, config: &RunConfig) -> Duration {
        self.stopped_early
            .as_ref()
            .map_or(config.phases.hold, |s| s.held)
    }
}

pub struct StepMachine {
    config: RunConfig,
    search: Search,
    /// The search's last answer, run once the previous step has settled.
    upcoming: Probe,
    idle: Option<Backlogs>,
    /// The wait for the previous step's backlog, with its deadline (ns).
    settling: Option<(Settle, u64)>,
    current: Option<Current>,
    seq: u64,
    finished: bool,
}

impl StepMachine {
    /// `search` has been told the finished steps of a resumed run;
    /// `upcoming` is its answer (see [`Search::resume`]).
    pub fn new(config: RunConfig, search: Search, upcoming: Probe) -> StepMachine {
        StepMachine {
            config,
            search,
            upcoming,
            idle: None,
            settling: None,
            current: None,
            seq: 0,
            finished: false,
        }
    }

    #[cfg(test)]
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    pub fn on(&mut self, event: Event, now: u64) -> Vec<Command> {
        if self.finished {
            return Vec::new();
        }
        let current_seq = self.current.as_ref().map(|c| c.seq);
        let live = |seq: u64| Some(seq) == current_seq;
        match event {
            Event::Begin { idle } => {
                self.idle = idle.ok();
                self.start_upcoming(now)
            }
            Event::Timer { seq, timer } if seq == self.seq => self.timer(timer, now),
            Event::Timer { .. } => Vec::new(),
            Event::HoldStartRead {
                seq,
                counters,
                backlogs,
            } if live(seq) => {
                let cur = self.current.as_mut().expect("live");
                cur.start_counters = Some(counters);
                cur.backlogs_at_start = Some(backlogs);
                let stop = cur.times.stop;
                vec![
                    arm(stop, seq, Timer::HoldEnd),
                    arm(now + nanos(PROGRESS_EVERY), seq, Timer::Progress),
                ]
            }
            Event::HoldEndRead { seq, changes } if live(seq) => {
                let cur = self.current.as_mut().expect("live");
                cur.backlog_changes = Some(changes);
                let at = now + nanos(self.config.phases.drain + LOSS_GRACE);
                vec![Command::Draining, arm(at, seq, Timer::DrainEnd)]
            }
            Event::HoldProgress { seq, progress } if live(seq) => self.progress(progress, now),
            Event::Measured { seq, measured } if live(seq) => self.judge(measured, now),
            Event::HoldStartRead { .. }
            | Event::HoldEndRead { .. }
            | Event::HoldProgress { .. }
            | Event::Measured { .. } => Vec::new(),
            Event::Backlogs(reading) => self.settle(reading, now),
            Event::ChildRestarted { child, reason } => {
                if let Some(cur) = self.current.as_mut() {
                    cur.disrupted
                        .get_or_insert(Doubt::Restarted { child, reason });
                }
                Vec::new()
            }
            Event::Disrupted(reason) => {
                if let Some(cur) = self.current.as_mut() {
                    cur.disrupted.get_or_insert(Doubt::Disrupted { reason });
                }
                Vec::new()
            }
            Event::Cancel => {
                // The step in progress would be judged from a cut-short hold: dropped.
                self.current = None;
                let outcome = self.search.interrupted();
                self.finish(outcome, true, vec![Command::HaltPacer])
            }
        }
    }

    fn timer(&mut self, timer: Timer, now: u64) -> Vec<Command> {
        let seq = self.seq;
        match (timer, self.current.as_ref()) {
            (Timer::HoldStart, Some(_)) => vec![Command::ReadHoldStart { seq }],
            (Timer::Progress, Some(cur)) if now < cur.times.stop => vec![
                Command::Progress {
                    seq,
                    hold_start_ns: cur.times.hold_start,
                },
                arm(now + nanos(PROGRESS_EVERY), seq, Timer::Progress),
            ],
            // A hold stopped early has read its end already.
            (Timer::HoldEnd, Some(cur)) if cur.stopped_early.is_none() => {
                vec![Command::ReadHoldEnd { seq }]
            }
            (Timer::DrainEnd, Some(_)) => vec![Command::Measure { seq }],
            (Timer::CooldownEnd, None) => {
                let limit = SETTLE_LIMIT_MIN.max(
                    2 * (self.config.phases.warmup
                        + self.config.phases.hold
                        + self.config.phases.drain),
                );
                self.settling = Some((Settle::new(self.idle.clone()), now + nanos(limit)));
                vec![Command::ReadBacklogs]
            }
            (Timer::SettlePoll, None) if self.settling.is_some() => vec![Command::ReadBacklogs],
            _ => Vec::new(),
        }
    }

    /// A progress reading mid-hold: end the hold now if the probe is clearly
    /// above capacity (see [`overload`]); the step is then judged on what was held.
    fn progress(&mut self, progress: HoldProgress, now: u64) -> Vec<Command> {
        let cur = self.current.as_mut().expect("live");
        if now >= cur.times.stop || cur.stopped_early.is_some() {
            return Vec::new();
        }
        let held = Duration::from_nanos(progress.at_ns.saturating_sub(cur.times.hold_start));
        // A failed mid-hold reading only thins the trend; the boundaries decide.
        if let Some(values) = &progress.backlogs {
            cur.during.push((held.as_secs_f64(), values.clone()));
        }
        let probe = ProbeKind {
            adaptive: self.config.rates.search == SearchKind::Adaptive,
            chosen_by: cur.chosen_by,
            warmup: self.config.phases.warmup,
            p99_limit: self.config.slo.loosest_p99(),
        };
        let at_start = cur.backlogs_at_start.as_ref().and_then(|r| r.as_ref().ok());
        let Some(stopped) = stop_early(probe, held, at_start, &progress) else {
            return Vec::new();
        };
        cur.times.stop = now;
        cur.stopped_early = Some(stopped);
        vec![Command::HaltPacer, Command::ReadHoldEnd { seq: cur.seq }]
    }

    fn judge(&mut self, measured: Measured, now: u64) -> Vec<Command> {
        let cur = self.current.take().expect("live");
        let (inputs, extras) = step_inputs(&cur, &self.config, measured);
        let mut verdict = judge(&inputs, &self.config.slo);
        // Answers after the early stop fall outside what was held: the
        // goodput is the one read at the stop.
        let goodput = match &cur.stopped_early {
            Some(stopped) => Some(stopped.goodput_rps),
            None => extras.goodput_rps(inputs.attempted, inputs.hold),
        };
        if let Some(stopped) = &cur.stopped_early {
            // A disturbance still makes it INCONCLUSIVE: the environment, not the service.
            if !matches!(verdict, Verdict::Inconclusive(_)) {
                let mut breaches = vec![stopped.breach.clone()];
                if let Verdict::Trip(more) = verdict {
                    breaches.extend(more);
                }
                verdict = Verdict::Trip(breaches);
            }
        }
        let measurement =
            Measurement::of_step(&inputs, &self.config.slo, &verdict, goodput, &cur.during);
        let report = step_report(&cur, &inputs, &extras, &verdict, &measurement);
        let done = vec![Command::StepFinished(report)];
        match self.search.next(Some(&measurement)) {
            Probe::Done(outcome) => self.finish(outcome, false, done),
            run => {
                self.upcoming = run;
                let at = now + nanos(self.config.phases.cooldown);
                let mut commands = done;
                commands.push(arm(at, self.seq, Timer::CooldownEnd));
                commands
            }
        }
    }

    /// Between steps: go on once the backlogs have drained, stopped
    /// draining, cannot be read (the step will say so), or the limit passed.
    fn settle(&mut self, reading: Result<Backlogs, String>, now: u64) -> Vec<Command> {
        let Some((settle, deadline)) = self.settling.as_mut() else {
            return Vec::new();
        };
        let settled = match reading {
            Ok(values) => settle.settled(values),
            Err(_) => true,
        };
        if !settled && now < *deadline {
            return vec![arm(now + nanos(SETTLE_POLL), self.seq, Timer::SettlePoll)];
        }
        if !settled {
            tracing::warn!("backlogs still draining: starting the next step anyway");
        }
        self.settling = None;
        self.start_upcoming(now)
    }

    fn start_upcoming(&mut self, now: u64) -> Vec<Command> {
        let Step {
            probe,
            rps,
            attempt,
            chosen_by,
            estimate,
        } = match self.upcoming.clone() {
            Probe::Run(step) => step,
            Probe::Done(outcome) => return self.finish(outcome, false, Vec::new()),
        };
        self.seq += 1;
        let start = now + nanos(START_LEAD);
        let hold_start = start + nanos(self.config.phases.warmup);
        let times = StepTimes {
            rps,
            start,
            hold_start,
            stop: hold_start + nanos(self.config.phases.hold),
        };
        self.current = Some(Current {
            seq: self.seq,
            probe,
            rps,
            attempt,
            chosen_by,
            estimate,
            times,
            during: Vec::new(),
            start_counters: None,
            backlogs_at_start: None,
            backlog_changes: None,
            disrupted: None,
            stopped_early: None,
        });
        vec![
            Command::Activate {
                probe,
                attempt,
                chosen_by,
                times,
            },
            arm(hold_start, self.seq, Timer::HoldStart),
        ]
    }

    fn finish(
        &mut self,
        outcome: Outcome,
        interrupted: bool,
        mut commands: Vec<Command>,
    ) -> Vec<Command> {
        self.finished = true;
        self.current = None;
        self.settling = None;
        commands.push(Command::Finish {
            outcome,
            interrupted,
        });
        commands
    }
}

fn arm(at_ns: u64, seq: u64, timer: Timer) -> Command {
    Command::Arm { at_ns, seq, timer }
}

fn nanos(d: Duration) -> u64 {
    d.as_nanos() as u64
}

#[cfg(test)]
mod tests;
