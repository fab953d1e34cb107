//! [`Search`]: which rate the ramp runs next — a pure state machine, no actors, no clock.
//!
//! Layout:
//! - `search.rs` (here): the state machine — plans, re-runs, contradictions,
//!   confirmations, the outcome.
//! - [`measurement`]: what a step tells the search ([`Measurement`]) and what
//!   the search reads from it ([`Assessment`]: margin, trend, throughput).
//! - [`rate`]: the adaptive rule, the next rate as a function of the runs so far.
//!
//! The ramp asks [`Search::next`] once at the start (no result yet) and again
//! after every judged step (with its measurement); the answer is either
//! [`Probe::Run`] with the next step or [`Probe::Done`] with the [`Outcome`].
//! Two plans share that one question:
//! - [`Plan::Fixed`]: the `--steps` ladder, in order; the run ends after the
//!   last rung, or at the first TRIP with `stop_on_trip`. It answers only to
//!   its grid.
//! - [`Plan::Adaptive`]: each probe's measurement (gate margins, backlog
//!   trend, throughput above capacity) chooses the next rate ([`rate`]) until
//!   the bracket is within `precision` or `max_steps` probes have run.
//!
//! Rules both plans follow:
//! - A PASS whose backlog rose through the hold is above capacity: too high,
//!   never the answer (it counts like a TRIP in the bracket).
//! - An INCONCLUSIVE step is re-run, up to `retry_inconclusive` times. If it
//!   stays INCONCLUSIVE, the fixed ladder moves on (SPEC §3: INCONCLUSIVE never
//!   stops a ramp), but the adaptive search stops: its next rate would depend
//!   on a result it does not have, and an INCONCLUSIVE is never read as a PASS.
//! - Contradicting verdicts — a rate too high below a PASS, or a rate that
//!   both passed and tripped — are noise until shown otherwise: the odd TRIP
//!   (the ladder) or both rates (the adaptive search) are re-probed once, and
//!   the contradiction is reported. A rate's runs are then decided by majority;
//!   a tie is a PASS only when the neighbours agree ([`rate::decided`]).
//! - With `confirm` N, once the search has stopped, the answer is re-run N
//!   times. If the answer's trials then say it is too high, the search goes
//!   on below it; the outcome counts how many trials at the answer held.
//!
//! Probe numbers count every run the search hands out (re-runs and
//! confirmations included), so they match the ramp's step reports one to one.

use std::collections::{BTreeSet, VecDeque};

use serde::{Deserialize, Serialize};

use crate::verdict::Verdict;

pub mod measurement;
pub mod rate;

pub use measurement::{Assessment, BacklogTrace, Class, Margin, Measurement, Trend};
pub use rate::ChosenBy;
use rate::{Choice, Run};

/// How the rates are chosen.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Plan {
    /// Run these rates in order (`--steps`).
    Fixed {
        rates: Vec<u64>,
        /// End the run at the first TRIP.
        stop_on_trip: bool,
    },
    /// Let each probe's measurement choose the next (`--search adaptive`).
    Adaptive(Adaptive),
}

impl Plan {
    pub fn is_adaptive(&self) -> bool {
        matches!(self, Plan::Adaptive(_))
    }
}

/// The adaptive search's knobs (`--start-rps`, `--max-rps`, `--growth`,
/// `--precision`, `--max-steps`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Adaptive {
    /// The first rate probed.
    pub start_rps: u64,
    /// No rate above this is probed; `None` = no cap (`max_steps` still bounds the run).
    pub max_rps: Option<u64>,
    /// Range finding grows the highest PASS at most this much per probe (> 1).
    pub growth: f64,
    /// The search stops once `(top − pass) / pass` is at most this (0 < p < 1).
    pub precision: f64,
    /// Search probes (re-runs included, confirmations not) before giving up on `precision`.
    pub max_steps: u32,
}

impl Adaptive {
    /// A step above capacity measures the throughput, so overshooting costs
    /// one probe, not several: grow fast (500 → 128k in 4 probes).
    pub const DEFAULT_GROWTH: f64 = 4.0;
    pub const DEFAULT_PRECISION: f64 = 0.02;
    /// Range finding from 500 to ~500k plus a few bisections if the model
    /// fails; a model that holds needs about half.
    pub const DEFAULT_MAX_STEPS: u32 = 12;
    /// The answer is re-run once: one probe never decides it alone.
    pub const DEFAULT_CONFIRM: u32 = 1;

    /// Start at `start_rps`, every other knob at its default.
    pub fn new(start_rps: u64) -> Adaptive {
        Adaptive {
            start_rps,
            max_rps: None,
            growth: Adaptive::DEFAULT_GROWTH,
            precision: Adaptive::DEFAULT_PRECISION,
            max_steps: Adaptive::DEFAULT_MAX_STEPS,
        }
    }
}

/// One run the ramp is asked to do.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Step {
    /// Position in the run (0-based), counting re-runs and confirmations.
    pub probe: u32,
    pub rps: u64,
    /// 1 for the first run of a rate, 2 for its re-run after an INCONCLUSIVE, …
    pub attempt: u32,
    pub chosen_by: ChosenBy,
    /// The model's capacity estimate when the rate was chosen, if it had one.
    pub estimate: Option<f64>,
}

/// What the search made of one step: the step report's `search` record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepSearch {
    pub chosen_by: ChosenBy,
    /// The model's capacity estimate when the rate was chosen.
    pub estimate: Option<f64>,
    /// What the search was told (and what `--resume` tells it again).
    pub measurement: Measurement,
    /// What the search read from it.
    pub assessment: Assessment,
    /// Seconds held when the hold was ended early (the probe was clearly
    /// above capacity); absent for a full hold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped_early_s: Option<f64>,
}

impl StepSearch {
    pub fn new(chosen_by: ChosenBy, estimate: Option<f64>, measurement: Measurement) -> StepSearch {
        StepSearch {
            chosen_by,
            estimate,
            assessment: Assessment::of(&measurement),
            measurement,
            stopped_early_s: None,
        }
    }

    /// Record a hold ended early after `held`.
    pub fn stopped_early(mut self, held: Option<std::time::Duration>) -> StepSearch {
        self.stopped_early_s = held.map(|h| h.as_secs_f64());
        self
    }

    /// Why a step that passed its gates is still too high, if it is:
    /// `backlog rising +25/s through the hold (served 5100/s): above capacity`.
    pub fn above_capacity_reason(&self) -> Option<Vec<String>> {
        if self.assessment.class != Class::AboveCapacity {
            return None;
        }
        let rise = self
            .assessment
            .trend
            .filter(|t| t.rising)
            .map(|t| format!("backlog rising {:+.0}/s through the hold", t.per_sec));
        let served = self
            .assessment
            .served_rps
            .map(|s| format!("served {s:.0}/s"));
        let what = match (rise, served) {
            (Some(r), Some(s)) => format!("{r} ({s})"),
            (r, s) => r.or(s).unwrap_or_default(),
        };
        Some(vec![format!("{what}: above capacity")])
    }
}

/// What the search wants next.
#[derive(Clone, Debug, PartialEq)]
pub enum Probe {
    Run(Step),
    Done(Outcome),
}

/// The highest PASS below the lowest rate too high (TRIP or above capacity), and that rate.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bracket {
    pub pass: Option<u64>,
    pub trip: Option<u64>,
}

impl Bracket {
    /// `(trip − pass) / pass`, when both ends are known.
    pub fn width(&self) -> Option<f64> {
        match (self.pass, self.trip) {
            (Some(p), Some(t)) if p > 0 => Some(t.saturating_sub(p) as f64 / p as f64),
            _ => None,
        }
    }
}

/// Why the search ended.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "why", rename_all = "snake_case")]
pub enum Stop {
    /// Fixed: every rate of the ladder ran.
    LadderDone,
    /// Fixed: the first TRIP ended the ladder (`stop_on_trip`).
    StoppedOnTrip { rps: u64 },
    /// Adaptive: the bracket, capped by the measured throughput, is within
    /// `precision` (or 1 ops/s wide).
    Converged,
    /// Adaptive: `max_steps` probes ran before the bracket was narrow enough.
    MaxSteps { max_steps: u32 },
    /// Adaptive: every rate passed up to `max_rps`; the limit lies higher.
    MaxRps { max_rps: u64 },
    /// Adaptive: even 1 ops/s tripped; the service fails the SLO at any rate.
    TripAtStart { rps: u64 },
    /// Adaptive: a rate stayed INCONCLUSIVE after its re-runs: it could not be
    /// measured (the load box fell behind, the plugin's connection kept
    /// dropping, …; the reason says which). The name predates disturbances.
    LoadBoxLimit { rps: u64, reason: String },
    /// The run was cancelled before the search ended.
    Interrupted,
}

/// `--confirm N`: the answer re-run N times.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confirmation {
    pub rps: u64,
    /// Confirmation runs asked for.
    pub runs: u32,
    /// Confirmation runs that ended PASS.
    pub held: u32,
    /// The probe numbers of every confirmation run (re-runs included, and
    /// those of an answer that then fell), so a report can tell them from
    /// search probes.
    pub probes: Vec<u32>,
}

/// Every judged run at the answer's rate, search probes and confirmations alike.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trials {
    pub rps: u64,
    pub runs: u32,
    pub held: u32,
}

/// Verdicts that contradicted each other: `trip_rps` too high at or below a
/// PASS at `pass_rps`. Both were re-probed (the ladder: the TRIP).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contradiction {
    pub trip_rps: u64,
    pub pass_rps: u64,
}

/// How the search ended.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    pub bracket: Bracket,
    pub stop: Stop,
    /// Search probes run, INCONCLUSIVE re-runs included, re-probes and
    /// confirmation runs not.
    pub probes: u32,
    pub confirm: Option<Confirmation>,
    /// The service's throughput measured above capacity (caps the bracket).
    #[serde(default)]
    pub throughput_rps: Option<f64>,
    #[serde(default)]
    pub trials: Option<Trials>,
    #[serde(default)]
    pub contradictions: Vec<Contradiction>,
}

impl Outcome {
    /// An outcome with only a bracket (no confirmation, model or contradictions).
    pub fn bare(bracket: Bracket, stop: Stop, probes: u32) -> Outcome {
        Outcome {
            bracket,
            stop,
            probes,
            confirm: None,
            throughput_rps: None,
            trials: None,
            contradictions: Vec::new(),
        }
    }
}

/// The search's state. Build it with [`Search::new`], then call [`Search::next`].
#[derive(Clone, Debug)]
pub struct Search {
    plan: Plan,
    retry_inconclusive: u32,
    confirm_runs: u32,
    /// The step whose measurement the next call to `next` brings.
    running: Option<Step>,
    /// Runs handed out so far: the next probe number.
    issued: u32,
    /// Search runs handed out (INCONCLUSIVE re-runs included, re-probes and
    /// confirmations not).
    probes: u32,
    /// Every judged run (final attempts), in the order run.
    runs: Vec<Run>,
    /// Fixed plan: the next rung.
    rung: usize,
    /// Re-probes waiting to run, before anything else.
    reprobes: VecDeque<u64>,
    /// Rates already re-probed once: never again.
    reprobed: BTreeSet<u64>,
    contradictions: Vec<Contradiction>,
    /// Set once the search has stopped (confirmations may still be running).
    stopped: Option<Stop>,
    /// The answer being confirmed and how many confirmation runs were handed out.
    confirming: Option<(u64, u32)>,
    /// Probe numbers of all confirmation runs.
    confirm_probes: Vec<u32>,
}

impl Search {
    /// A search following `plan`, re-running an INCONCLUSIVE step once and
    /// confirming nothing; see [`Search::retry_inconclusive`], [`Search::confirm`].
    pub fn new(plan: Plan) -> Search {
        Search {
            plan,
            retry_inconclusive: 1,
            confirm_runs: 0,
            running: None,
            issued: 0,
            probes: 0,
            runs: Vec::new(),
            rung: 0,
            reprobes: VecDeque::new(),
            reprobed: BTreeSet::new(),
            contradictions: Vec::new(),
            stopped: None,
            confirming: None,
            confirm_probes: Vec::new(),
        }
    }

    /// Re-run an INCONCLUSIVE step up to `n` times.
    pub fn retry_inconclusive(mut self, n: u32) -> Search {
        self.retry_inconclusive = n;
        self
    }

    /// Re-run the answer `n` times once the search has stopped.
    pub fn confirm(mut self, n: u32) -> Search {
        self.confirm_runs = n;
        self
    }

    /// Continue a killed run: feed the journal's finished steps through the
    /// search as if they had just run; the answer is where the run goes on.
    /// The steps must be this search's own history, in order.
    pub fn resume(&mut self, finished: &[Finished]) -> Result<Probe, String> {
        let mut next = self.next(None);
        for step in finished {
            match &next {
                Probe::Run(run) if run.rps == step.target_rps && run.probe == step.probe => {}
                _ => {
                    return Err(format!(
                    "the journal's step {} ({} ops/s) is not what this run's search would run next",
                    step.probe, step.target_rps
                ))
                }
            }
            next = self.next(Some(&step.measurement));
        }
        Ok(next)
    }

    /// The next step, given the measurement of the step handed out last
    /// (`None` on the first call). After `Done`, every call returns the same outcome.
    pub fn next(&mut self, last: Option<&Measurement>) -> Probe {
        if let Some((step, m)) = self.running.take().zip(last) {
            if let Verdict::Inconclusive(_) = m.verdict {
                if step.attempt <= self.retry_inconclusive {
                    return self.issue(Step {
                        attempt: step.attempt + 1,
                        ..step
                    });
                }
            }
            if let Some(stop) = self.record(step, m) {
                self.stop(stop);
            }
        }
        if let Some(rps) = self.reprobes.pop_front() {
            return self.issue_new(Choice {
                rps,
                chosen_by: ChosenBy::Reprobe,
                estimate: None,
            });
        }
        if self.stopped.is_some() {
            if !self.answer_fell() {
                return self.confirm_or_done();
            }
            // The answer's trials say it is too high: search on below it.
            self.stopped = None;
            self.confirming = None;
        }
        let choice = match &self.plan {
            Plan::Fixed { rates, .. } => match rates.get(self.rung).copied() {
                Some(rps) => {
                    self.rung += 1;
                    Ok(Choice {
                        rps,
                        chosen_by: ChosenBy::Range,
                        estimate: None,
                    })
                }
                None => Err(Stop::LadderDone),
            },
            Plan::Adaptive(a) => match rate::next_rate(a, &self.runs) {
                Ok(_) if self.probes >= a.max_steps => Err(Stop::MaxSteps {
                    max_steps: a.max_steps,
                }),
                other => other,
            },
        };
        match choice {
            Ok(choice) => self.issue_new(choice),
            Err(stop) => {
                self.stop(stop);
                if self.reprobes.is_empty() {
                    self.confirm_or_done()
                } else {
                    self.next(None)
                }
            }
        }
    }

    /// End the search now (the run was cancelled) with what it has.
    pub fn interrupted(&mut self) -> Outcome {
        self.running = None;
        self.reprobes.clear();
        let stop = self.stopped.clone().unwrap_or(Stop::Interrupted);
        self.stopped = Some(stop);
        self.confirming = None;
        self.outcome()
    }

    /// The bracket so far: the lowest rate too high, and the highest PASS below
    /// it (a PASS above it, possible with a fixed ladder that does not stop on
    /// trip, is luck, not capacity).
    pub fn bracket(&self) -> Bracket {
        rate::bracket(&self.runs)
    }

    /// Learn from a judged step; the stop it forces, if any.
    fn record(&mut self, step: Step, m: &Measurement) -> Option<Stop> {
        let assessment = Assessment::of(m);
        self.runs.push(Run { step, assessment });
        // Re-probes and confirmations re-test known rates: only search probes stop a search.
        let searching = self.stopped.is_none()
            && !matches!(step.chosen_by, ChosenBy::Confirm | ChosenBy::Reprobe);
        match (&self.plan, assessment.class) {
            (Plan::Adaptive(_), Class::Inconclusive) if searching => {
                return Some(Stop::LoadBoxLimit {
                    rps: step.rps,
                    reason: m.verdict.reasons().join("; "),
                });
            }
            (
                Plan::Fixed {
                    stop_on_trip: true, ..
                },
                class,
            ) if class.too_high() && searching => {
                return Some(Stop::StoppedOnTrip { rps: step.rps });
            }
            _ => {}
        }
        self.find_contradictions();
        None
    }

    /// Queue re-probes for verdicts that contradict each other: a rate too
    /// high at or below a PASS. Each rate is re-probed once at most.
    fn find_contradictions(&mut self) {
        let votes = rate::votes(&self.runs);
        let reprobe_pass = self.plan.is_adaptive();
        let mut found = Vec::new();
        for (&low, v) in &votes {
            if v.high == 0 {
                continue;
            }
            let pass_at_or_above = votes.range(low..).find(|(_, w)| w.pass > 0);
            if let Some((&high, _)) = pass_at_or_above {
                found.push(Contradiction {
                    trip_rps: low,
                    pass_rps: high,
                });
            }
        }
        for c in found {
            let mut rates = vec![c.trip_rps];
            if reprobe_pass && c.pass_rps != c.trip_rps {
                rates.push(c.pass_rps);
            }
            let fresh: Vec<u64> = rates
                .into_iter()
                .filter(|r| !self.reprobed.contains(r))
                .collect();
            if fresh.is_empty() {
                continue;
            }
            if !self.contradictions.contains(&c) {
                self.contradictions.push(c);
            }
            for r in fresh {
                self.reprobed.insert(r);
                self.reprobes.push_back(r);
            }
        }
    }

    /// Does the answer being confirmed now count as too high?
    fn answer_fell(&self) -> bool {
        let Some((rps, _)) = self.confirming else {
            return false;
        };
        self.plan.is_adaptive() && self.bracket().pass != Some(rps)
    }

    fn issue_new(&mut self, c: Choice) -> Probe {
        self.issue(Step {
            probe: self.issued,
            rps: c.rps,
            attempt: 1,
            chosen_by: c.chosen_by,
            estimate: c.estimate,
        })
    }

    fn issue(&mut self, step: Step) -> Probe {
        let step = Step {
            probe: self.issued,
            ..step
        };
        self.issued += 1;
        match step.chosen_by {
            ChosenBy::Confirm => self.confirm_probes.push(step.probe),
            // Re-testing known rates does not spend the search's budget.
            ChosenBy::Reprobe => {}
            _ => self.probes += 1,
        }
        self.running = Some(step);
        Probe::Run(step)
    }

    /// The search is over: confirm the answer next, if asked.
    fn stop(&mut self, stop: Stop) {
        self.stopped = Some(stop);
        self.confirming = match (self.bracket().pass, self.confirm_runs) {
            (Some(rps), n) if n > 0 => Some((rps, 0)),
            _ => None,
        };
    }

    fn confirm_or_done(&mut self) -> Probe {
        match self.confirming {
            Some((rps, issued)) if issued < self.confirm_runs => {
                self.confirming = Some((rps, issued + 1));
                self.issue_new(Choice {
                    rps,
                    chosen_by: ChosenBy::Confirm,
                    estimate: None,
                })
            }
            _ => Probe::Done(self.outcome()),
        }
    }

    fn outcome(&self) -> Outcome {
        let bracket = self.bracket();
        let at = |rps: u64, confirm_only: bool| {
            let judged = self.runs.iter().filter(|r| {
                r.step.rps == rps
                    && r.assessment.class != Class::Inconclusive
                    && (!confirm_only || r.step.chosen_by == ChosenBy::Confirm)
            });
            let (mut runs, mut held) = (0, 0);
            for r in judged {
                runs += 1;
                held += u32::from(r.assessment.class == Class::Pass);
            }
            (runs, held)
        };
        let confirm = self.confirming.map(|(rps, _)| Confirmation {
            rps,
            runs: self.confirm_runs,
            held: at(rps, true).1,
            probes: self.confirm_probes.clone(),
        });
        let trials = bracket.pass.map(|rps| {
            let (runs, held) = at(rps, false);
            Trials { rps, runs, held }
        });
        let precision = match &self.plan {
            Plan::Adaptive(a) => a.precision,
            Plan::Fixed { .. } => 0.0,
        };
        Outcome {
            bracket,
            stop: self.stopped.clone().unwrap_or(Stop::Interrupted),
            probes: self.probes,
            confirm,
            throughput_rps: rate::throughput(&self.runs, precision),
            trials,
            contradictions: self.contradictions.clone(),
        }
    }
}

/// A step a killed run finished, as [`Search::resume`] replays it: its rate,
/// its position in the run, and what it measured.
#[derive(Clone, Debug, PartialEq)]
pub struct Finished {
    pub target_rps: u64,
    pub probe: u32,
    pub measurement: Measurement,
}

#[cfg(test)]
mod tests;
