//! The adaptive search's rule: the next rate as a pure function of the runs
//! so far ([`next_rate`]).
//!
//! - **Range finding** (no rate too high yet): extrapolate where the worst
//!   gate margin reaches zero (a secant through the last two PASSes, or
//!   proportional growth from one), never less than `1 + precision` and never
//!   more than `growth` times the highest PASS. Nothing passed yet: the start
//!   rate, then (after a TRIP) the measured throughput or `1/growth` of it.
//! - **Throughput cap**: a step above capacity measures what the service
//!   served (goodput, or offered − backlog growth). Capacity is no higher, so
//!   the bracket's top is capped there and the next probe is that rate.
//! - **Secant** (Illinois regula falsi) on the worst gate's log margin between
//!   the bracket's ends, halving the weight of an end kept twice running.
//! - **Bisection** whenever the model has no estimate inside the bracket, or
//!   its last probe did not at least halve the bracket (its prediction was
//!   contradicted).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::measurement::Assessment;
use super::{Adaptive, Bracket, Step, Stop};

/// Why a rate was chosen (the step report's `chosen_by`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChosenBy {
    /// The start rate, growth by `--growth`, or a ladder rung.
    Range,
    /// The model's estimate: extrapolated margin, measured throughput, secant.
    Model,
    Bisect,
    /// A re-run of contradicting verdicts.
    Reprobe,
    /// A `--confirm` re-run of the answer.
    Confirm,
}

/// A finished run the search learnt from.
#[derive(Clone, Debug, PartialEq)]
pub struct Run {
    pub step: Step,
    pub assessment: Assessment,
}

/// The next rate and why; `estimate` is the model's capacity estimate, if it had one.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Choice {
    pub rps: u64,
    pub chosen_by: ChosenBy,
    pub estimate: Option<f64>,
}

/// How a rate stands after all its runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Votes {
    pub pass: u32,
    pub high: u32,
}

impl Votes {
    fn clear_pass(self) -> bool {
        self.pass > self.high
    }
    fn clear_high(self) -> bool {
        self.high > self.pass
    }
    pub fn mixed(self) -> bool {
        self.pass > 0 && self.high > 0
    }
}

/// Each judged rate's PASS and too-high (TRIP or above capacity) votes.
pub fn votes(runs: &[Run]) -> BTreeMap<u64, Votes> {
    let mut by_rate: BTreeMap<u64, Votes> = BTreeMap::new();
    for run in runs {
        let class = run.assessment.class;
        let pass = class == super::Class::Pass;
        if !pass && !class.too_high() {
            continue;
        }
        let v = by_rate
            .entry(run.step.rps)
            .or_insert(Votes { pass: 0, high: 0 });
        if pass {
            v.pass += 1;
        } else {
            v.high += 1;
        }
    }
    by_rate
}

/// Each rate's decision, `true` = too high. A majority decides; a tie is a
/// PASS only if a clear PASS lies above it and no clear TRIP below it (the
/// neighbours say the too-high vote was the odd one), else too high.
pub fn decided(votes: &BTreeMap<u64, Votes>) -> BTreeMap<u64, bool> {
    votes
        .iter()
        .map(|(&rps, &v)| {
            let high = if v.clear_pass() {
                false
            } else if v.clear_high() {
                true
            } else {
                let pass_above = votes.range(rps + 1..).any(|(_, w)| w.clear_pass());
                let high_below = votes.range(..rps).any(|(_, w)| w.clear_high());
                !pass_above || high_below
            };
            (rps, high)
        })
        .collect()
}

/// The lowest rate too high, and the highest PASS below it.
pub fn bracket(runs: &[Run]) -> Bracket {
    let decided = decided(&votes(runs));
    let trip = decided.iter().find(|(_, &high)| high).map(|(&r, _)| r);
    let pass = decided
        .iter()
        .filter(|(&r, &high)| !high && trip.is_none_or(|t| r < t))
        .map(|(&r, _)| r)
        .next_back();
    Bracket { pass, trip }
}

/// The service's throughput as measured by the step above capacity closest to
/// it, unless a PASS well above it contradicts it.
pub fn throughput(runs: &[Run], precision: f64) -> Option<f64> {
    let served = runs
        .iter()
        .filter(|r| r.assessment.class.too_high())
        .filter_map(|r| r.assessment.served_rps.map(|s| (r.step.rps, s)))
        .min_by_key(|(rps, _)| *rps)
        .map(|(_, s)| s)?;
    match bracket(runs).pass {
        Some(p) if served < p as f64 * (1.0 - precision) => None,
        _ => Some(served),
    }
}

/// Where the bracket's top effectively is: the lowest rate too high, capped
/// by the measured throughput (never below the highest PASS).
fn effective_top(b: Bracket, cap: Option<f64>) -> Option<f64> {
    let top = match (b.trip.map(|t| t as f64), cap) {
        (Some(t), Some(c)) => Some(t.min(c)),
        (t, c) => t.or(c),
    };
    match (top, b.pass) {
        (Some(top), Some(p)) => Some(top.max(p as f64)),
        (top, _) => top,
    }
}

/// Is the bracket narrow enough? (With a throughput cap, a PASS at the cap is converged.)
pub fn converged(b: Bracket, cap: Option<f64>, precision: f64) -> bool {
    match (b.pass, effective_top(b, cap)) {
        (Some(p), Some(top)) if b.trip.is_some() || cap.is_some() => {
            let gap = top - p as f64;
            gap <= 1.0 || gap / (p as f64) <= precision
        }
        _ => false,
    }
}

/// The worst-margin of the latest run at `rps`.
fn margin_at(runs: &[Run], rps: u64) -> Option<f64> {
    runs.iter()
        .rev()
        .find(|r| r.step.rps == rps && r.assessment.class != super::Class::Inconclusive)
        .and_then(|r| r.assessment.margin)
}

/// The adaptive rule: the next rate, or why the search stops. `runs` are the
/// judged search runs in the order run (INCONCLUSIVE ones included).
pub fn next_rate(a: &Adaptive, runs: &[Run]) -> Result<Choice, Stop> {
    let b = bracket(runs);
    let cap = throughput(runs, a.precision);
    match (b.pass, b.trip) {
        (None, None) => match cap {
            // Nothing judged yet (or only INCONCLUSIVE: the caller stops first).
            None => Ok(range(a.start_rps, None)),
            Some(c) => Ok(model(under(c, a.precision), c)),
        },
        (None, Some(trip)) => match cap.filter(|&c| c < trip as f64 && c >= 1.0) {
            Some(c) => Ok(model(under(c, a.precision), c)),
            None if trip <= 1 => Err(Stop::TripAtStart { rps: trip }),
            None => {
                let lower = ((trip as f64) / a.growth).floor() as u64;
                Ok(range(lower.clamp(1, trip - 1), None))
            }
        },
        (Some(pass), None) => match (a.max_rps, cap) {
            (_, Some(_)) if converged(b, cap, a.precision) => Err(Stop::Converged),
            (_, Some(c)) => Ok(model(under(c, a.precision), c)),
            (Some(max), None) if pass >= max => Err(Stop::MaxRps { max_rps: max }),
            (max, None) => Ok(grow(a, runs, pass, max)),
        },
        (Some(pass), Some(trip)) => {
            if converged(b, cap, a.precision) {
                return Err(Stop::Converged);
            }
            Ok(within(a, runs, b, pass, trip, cap))
        }
    }
}

/// The probe for a measured throughput `c`: capacity is no higher, but the
/// measurement is noisy (≈0.5% seen: backlog reads and the hold's edges are
/// not the same instants), so 90% of the precision below it: a PASS there is
/// still within the precision of the cap, and a throughput read a little
/// high does not put the probe above capacity.
fn under(c: f64, precision: f64) -> u64 {
    (c * (1.0 - 0.9 * precision)).floor().max(1.0) as u64
}

fn range(rps: u64, estimate: Option<f64>) -> Choice {
    Choice {
        rps,
        chosen_by: ChosenBy::Range,
        estimate,
    }
}

fn model(rps: u64, estimate: f64) -> Choice {
    Choice {
        rps,
        chosen_by: ChosenBy::Model,
        estimate: Some(estimate),
    }
}

/// Range finding above the highest PASS, nothing too high yet.
fn grow(a: &Adaptive, runs: &[Run], pass: u64, max_rps: Option<u64>) -> Choice {
    let p = pass as f64;
    let estimate = extrapolate(runs, pass);
    let high = p * a.growth;
    let low = p * (1.0 + a.precision);
    let (target, chosen_by, estimate) = match estimate {
        Some(e) if e < high => (e.max(low), ChosenBy::Model, Some(e)),
        // Out of reach: an extrapolation that far says only "higher".
        _ => (high, ChosenBy::Range, None),
    };
    let rps = whole_above(target, pass);
    Choice {
        rps: max_rps.map_or(rps, |m| rps.min(m)),
        chosen_by,
        estimate,
    }
}

/// A whole rate, above `pass`, saturating.
fn whole_above(target: f64, pass: u64) -> u64 {
    let t = target.round();
    if t.is_finite() && t < u64::MAX as f64 {
        (t as u64).max(pass + 1)
    } else {
        u64::MAX
    }
}

/// Where the worst margin reaches zero above `pass`: a secant (in log rate)
/// through the two highest PASSes when the margin falls between them, else
/// growth in proportion (a gate value that scales with the rate).
fn extrapolate(runs: &[Run], pass: u64) -> Option<f64> {
    let m2 = margin_at(runs, pass).filter(|m| *m >= 0.0)?;
    let below = bracket_passes(runs)
        .into_iter()
        .rfind(|&r| r < pass)
        .and_then(|r| margin_at(runs, r).map(|m| (r, m)));
    // In log rate: a gate value that grows as a power of the rate has a log
    // margin linear in it (proportional growth is slope 1).
    let r2 = pass as f64;
    match below {
        Some((r1, m1)) if m1 > m2 => {
            let slope = (r2 / r1 as f64).ln() / (m1 - m2);
            Some(r2 * (m2 * slope).exp())
        }
        _ => Some(r2 * m2.exp()),
    }
}

fn bracket_passes(runs: &[Run]) -> Vec<u64> {
    decided(&votes(runs))
        .into_iter()
        .filter(|(_, high)| !high)
        .map(|(r, _)| r)
        .collect()
}

/// Inside the bracket `(pass, trip)`.
fn within(
    a: &Adaptive,
    runs: &[Run],
    b: Bracket,
    pass: u64,
    trip: u64,
    cap: Option<f64>,
) -> Choice {
    let top = effective_top(b, cap).unwrap_or(trip as f64);
    let bisect = Choice {
        rps: midpoint(pass, top.floor() as u64),
        chosen_by: ChosenBy::Bisect,
        estimate: None,
    };
    if model_let_down(runs) {
        return bisect;
    }
    let in_bracket = |e: &f64| *e > pass as f64 && *e < trip as f64;
    let from_cap = cap.filter(in_bracket);
    let from_margin = secant(runs, pass, trip).filter(in_bracket);
    let estimate = match (from_cap, from_margin) {
        (Some(c), Some(s)) => c.min(s),
        (c, s) => match c.or(s) {
            Some(e) => e,
            None => return bisect,
        },
    };
    // Keep clear of the ends, so either verdict moves the bracket by a useful step.
    let window = a.precision * pass as f64;
    let edge = (window / 2.0).max(1.0);
    let lo = pass as f64 + edge;
    let hi = trip as f64 - edge;
    if lo > hi {
        return bisect;
    }
    let target = if from_cap == Some(estimate) {
        under(estimate, a.precision) as f64
    } else {
        // Aim just past the estimate, on the side the last probe did not
        // move: if the estimate is good, this probe and the last one
        // straddle it within the precision.
        let last_high = runs.last().is_some_and(|r| r.assessment.class.too_high());
        let nudge = 0.45 * window;
        if last_high {
            estimate - nudge
        } else {
            estimate + nudge
        }
        .round()
    };
    model(target.clamp(lo.ceil(), hi.floor()) as u64, estimate)
}

fn midpoint(pass: u64, top: u64) -> u64 {
    pass + top.saturating_sub(pass) / 2
}

/// Illinois regula falsi on the log margin between the bracket's ends: an end
/// kept through the last k ≥ 2 runs has its margin weighed by 2^-(k-1).
fn secant(runs: &[Run], pass: u64, trip: u64) -> Option<f64> {
    let m_pass = margin_at(runs, pass).filter(|m| *m >= 0.0)?;
    let m_trip = margin_at(runs, trip).filter(|m| *m < 0.0)?;
    let last_high = runs.last().is_some_and(|r| r.assessment.class.too_high());
    let kept = runs
        .iter()
        .rev()
        .filter(|r| r.assessment.class != super::Class::Inconclusive)
        .take_while(|r| r.assessment.class.too_high() == last_high)
        .count() as i32;
    let weight = 0.5f64.powi((kept - 1).max(0));
    // The last runs moved the top: the bottom end was kept, and vice versa.
    let (m_pass, m_trip) = if last_high {
        (m_pass * weight, m_trip)
    } else {
        (m_pass, m_trip * weight)
    };
    let (p, t) = (pass as f64, trip as f64);
    Some(p + m_pass * (t - p) / (m_pass - m_trip))
}

/// Did the last model-chosen probe fail to halve the bracket? Then its
/// model was contradicted, and the next probe bisects.
fn model_let_down(runs: &[Run]) -> bool {
    let Some((last, before)) = runs.split_last() else {
        return false;
    };
    if last.step.chosen_by != ChosenBy::Model {
        return false;
    }
    let width = |b: Bracket| match (b.pass, b.trip) {
        (Some(p), Some(t)) => Some(t.saturating_sub(p) as f64),
        _ => None,
    };
    match (width(bracket(before)), width(bracket(runs))) {
        (Some(was), Some(now)) => now > was / 2.0,
        _ => false,
    }
}
