//! [`Search`]: which rate the ramp runs next — a pure state machine, no actors, no clock.
//!
//! The ramp asks [`Search::next`] once at the start (no result yet) and again
//! after every judged step (with its verdict); the answer is either
//! [`Probe::Run`] with the next step or [`Probe::Done`] with the [`Outcome`].
//! Two plans share that one question:
//! - [`Plan::Fixed`]: the `--steps` ladder, in order; the run ends after the
//!   last rung, or at the first TRIP with `stop_on_trip`. It answers only to
//!   its grid.
//! - [`Plan::Adaptive`]: *range finding* — from `start_rps`, multiply by
//!   `growth` until the first TRIP (or `max_rps`) — then *bisection* between
//!   the highest PASS and the lowest TRIP until
//!   `(trip − pass) / pass ≤ precision` or `max_steps` probes have run.
//!
//! Rules both plans follow:
//! - An INCONCLUSIVE step is re-run, up to `retry_inconclusive` times. If it
//!   stays INCONCLUSIVE, the fixed ladder moves on (SPEC §3: INCONCLUSIVE never
//!   stops a ramp), but the adaptive search stops: its next rate would depend
//!   on a result it does not have, and an INCONCLUSIVE is never read as a PASS.
//!   The outcome says the load box was the limit, and at which rate.
//! - With `confirm` N, once the search has stopped, the answer (the highest
//!   PASS) is re-run N times and the outcome counts how many held. The runs do
//!   not move the bracket.
//!
//! Probe numbers count every run the search hands out (re-runs and
//! confirmations included), so they match the ramp's step reports one to one.

use serde::{Deserialize, Serialize};

use crate::report::StepReport;
use crate::verdict::Verdict;

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
    /// Grow until the first TRIP, then bisect (`--search adaptive`).
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
    /// Range finding multiplies the last PASS by this (> 1).
    pub growth: f64,
    /// Bisection stops once `(trip − pass) / pass` is at most this (0 < p < 1).
    pub precision: f64,
    /// Search probes (re-runs included, confirmations not) before giving up on `precision`.
    pub max_steps: u32,
}

impl Adaptive {
    pub const DEFAULT_GROWTH: f64 = 2.0;
    pub const DEFAULT_PRECISION: f64 = 0.02;
    /// Enough for a 2% bracket from 500 to ~10k ops/s with growth 2 (≈ 5 doublings
    /// + 6 halvings); wider ranges stop here with the bracket they have.
    pub const DEFAULT_MAX_STEPS: u32 = 12;

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

    /// Range finding's next rate after a PASS at `pass`: whole, above `pass`, capped.
    fn grow(&self, pass: u64) -> u64 {
        let grown = ((pass as f64) * self.growth).round();
        let grown = if grown.is_finite() && grown < u64::MAX as f64 {
            (grown as u64).max(pass + 1)
        } else {
            u64::MAX
        };
        self.max_rps.map_or(grown, |cap| grown.min(cap))
    }
}

/// One run the ramp is asked to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Step {
    /// Position in the run (0-based), counting re-runs and confirmations.
    pub probe: u32,
    pub rps: u64,
    /// 1 for the first run of a rate, 2 for its re-run after an INCONCLUSIVE, …
    pub attempt: u32,
}

/// What the search wants next.
#[derive(Clone, Debug, PartialEq)]
pub enum Probe {
    Run(Step),
    Done(Outcome),
}

/// The highest PASS below the lowest TRIP, and that TRIP.
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
    /// Adaptive: the bracket is within `precision` (or 1 ops/s wide).
    Converged,
    /// Adaptive: `max_steps` probes ran before the bracket was narrow enough.
    MaxSteps { max_steps: u32 },
    /// Adaptive: every rate passed up to `max_rps`; the limit lies higher.
    MaxRps { max_rps: u64 },
    /// Adaptive: the very first rate tripped; the service fails the SLO even there.
    TripAtStart { rps: u64 },
    /// Adaptive: a rate stayed INCONCLUSIVE after its re-runs: the load box, not
    /// the service, was the limit there.
    LoadBoxLimit { rps: u64, reason: String },
    /// The run was cancelled before the search ended.
    Interrupted,
}

/// `--confirm N`: the answer re-run N times.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confirmation {
    pub rps: u64,
    /// Runs asked for.
    pub runs: u32,
    /// Runs that ended PASS (an INCONCLUSIVE after its re-runs, or a TRIP, did not hold).
    pub held: u32,
    /// The probe numbers of the confirmation runs (re-runs included), so a
    /// report can tell them from search probes.
    pub probes: Vec<u32>,
}

/// How the search ended.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    pub bracket: Bracket,
    pub stop: Stop,
    /// Search probes run, re-runs included, confirmation runs not.
    pub probes: u32,
    pub confirm: Option<Confirmation>,
}

/// A search rate's final result (after re-runs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Judged {
    Pass,
    Trip,
}

/// The search's state. Build it with [`Search::new`], then call [`Search::next`].
#[derive(Clone, Debug)]
pub struct Search {
    plan: Plan,
    retry_inconclusive: u32,
    confirm_runs: u32,
    /// The step whose verdict the next call to `next` brings.
    running: Option<Step>,
    /// Runs handed out so far: the next probe number.
    issued: u32,
    /// Search runs handed out (re-runs included, confirmations not).
    probes: u32,
    /// Final results of the search rates, in the order run.
    results: Vec<(u64, Judged)>,
    /// Fixed plan: the next rung.
    rung: usize,
    /// Set once the search has stopped (confirmations may still be running).
    stopped: Option<Stop>,
    confirm: Option<Confirmation>,
    /// Confirmation runs decided so far.
    confirmed: u32,
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
            results: Vec::new(),
            rung: 0,
            stopped: None,
            confirm: None,
            confirmed: 0,
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
    pub fn resume(&mut self, finished: &[StepReport]) -> Result<Probe, String> {
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
            next = self.next(Some(&step.verdict));
        }
        Ok(next)
    }

    /// The next step, given the verdict of the step handed out last (`None`
    /// on the first call). After `Done`, every call returns the same outcome.
    pub fn next(&mut self, last: Option<&Verdict>) -> Probe {
        let finished = self.running.take().zip(last);
        if self.stopped.is_some() {
            if let Some((step, verdict)) = finished {
                if let Some(rerun) = self.rerun(step, verdict) {
                    return self.issue(rerun.rps, rerun.attempt, true);
                }
                self.confirmed += 1;
                if let (Some(c), true) = (self.confirm.as_mut(), verdict.is_pass()) {
                    c.held += 1;
                }
            }
            return self.confirm_or_done();
        }
        if let Some((step, verdict)) = finished {
            if let Some(rerun) = self.rerun(step, verdict) {
                return self.search_run(rerun.rps, rerun.attempt);
            }
            match verdict {
                Verdict::Pass => self.results.push((step.rps, Judged::Pass)),
                Verdict::Trip(_) => {
                    self.results.push((step.rps, Judged::Trip));
                    if let Plan::Fixed {
                        stop_on_trip: true, ..
                    } = self.plan
                    {
                        return self.stop(Stop::StoppedOnTrip { rps: step.rps });
                    }
                }
                Verdict::Inconclusive(reason) => {
                    if self.plan.is_adaptive() {
                        return self.stop(Stop::LoadBoxLimit {
                            rps: step.rps,
                            reason: reason.clone(),
                        });
                    }
                }
            }
        }
        match &self.plan {
            Plan::Fixed { rates, .. } => match rates.get(self.rung).copied() {
                Some(rps) => {
                    self.rung += 1;
                    self.search_run(rps, 1)
                }
                None => self.stop(Stop::LadderDone),
            },
            Plan::Adaptive(a) => match self.adaptive_next(a) {
                Ok(rps) => self.search_run(rps, 1),
                Err(stop) => self.stop(stop),
            },
        }
    }

    /// End the search now (the run was cancelled) with what it has.
    pub fn interrupted(&mut self) -> Outcome {
        self.running = None;
        let stop = self.stopped.clone().unwrap_or(Stop::Interrupted);
        self.stopped = Some(stop);
        self.outcome()
    }

    /// The bracket so far: the lowest TRIP, and the highest PASS below it (a
    /// PASS above a TRIP, possible with a fixed ladder that does not stop on
    /// trip, is luck, not capacity).
    pub fn bracket(&self) -> Bracket {
        let trip = self
            .results
            .iter()
            .filter(|(_, j)| *j == Judged::Trip)
            .map(|(r, _)| *r)
            .min();
        let pass = self
            .results
            .iter()
            .filter(|(r, j)| *j == Judged::Pass && trip.is_none_or(|t| *r < t))
            .map(|(r, _)| *r)
            .max();
        Bracket { pass, trip }
    }

    /// The re-run an INCONCLUSIVE step still has, if any.
    fn rerun(&self, step: Step, verdict: &Verdict) -> Option<Step> {
        match verdict {
            Verdict::Inconclusive(_) if step.attempt <= self.retry_inconclusive => Some(Step {
                attempt: step.attempt + 1,
                ..step
            }),
            _ => None,
        }
    }

    /// The adaptive plan's next rate, or why it stops.
    fn adaptive_next(&self, a: &Adaptive) -> Result<u64, Stop> {
        let Bracket { pass, trip } = self.bracket();
        match (pass, trip) {
            (None, None) => Ok(a.start_rps),
            (None, Some(rps)) => Err(Stop::TripAtStart { rps }),
            (Some(pass), None) => match a.max_rps {
                Some(cap) if pass >= cap => Err(Stop::MaxRps { max_rps: cap }),
                _ => Ok(a.grow(pass)),
            },
            (Some(pass), Some(trip)) => {
                let width = trip.saturating_sub(pass) as f64 / pass as f64;
                if width <= a.precision || trip - pass <= 1 {
                    Err(Stop::Converged)
                } else {
                    Ok(pass + (trip - pass) / 2)
                }
            }
        }
    }

    /// Hand out a search run, unless the adaptive step budget is spent.
    fn search_run(&mut self, rps: u64, attempt: u32) -> Probe {
        if let Plan::Adaptive(a) = &self.plan {
            if self.probes >= a.max_steps {
                let max_steps = a.max_steps;
                return self.stop(Stop::MaxSteps { max_steps });
            }
        }
        self.probes += 1;
        self.issue(rps, attempt, false)
    }

    fn issue(&mut self, rps: u64, attempt: u32, confirmation: bool) -> Probe {
        let step = Step {
            probe: self.issued,
            rps,
            attempt,
        };
        self.issued += 1;
        if let (true, Some(c)) = (confirmation, self.confirm.as_mut()) {
            c.probes.push(step.probe);
        }
        self.running = Some(step);
        Probe::Run(step)
    }

    /// The search is over: confirm the answer if asked, else report.
    fn stop(&mut self, stop: Stop) -> Probe {
        self.stopped = Some(stop);
        if let (Some(rps), true) = (self.bracket().pass, self.confirm_runs > 0) {
            self.confirm = Some(Confirmation {
                rps,
                runs: self.confirm_runs,
                held: 0,
                probes: Vec::new(),
            });
        }
        self.confirm_or_done()
    }

    fn confirm_or_done(&mut self) -> Probe {
        match &self.confirm {
            Some(c) if self.confirmed < c.runs => {
                let rps = c.rps;
                self.issue(rps, 1, true)
            }
            _ => Probe::Done(self.outcome()),
        }
    }

    fn outcome(&self) -> Outcome {
        Outcome {
            bracket: self.bracket(),
            stop: self.stopped.clone().unwrap_or(Stop::Interrupted),
            probes: self.probes,
            confirm: self.confirm.clone(),
        }
    }
}

#[cfg(test)]
mod tests;
