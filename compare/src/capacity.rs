//! A run's capacity as what its steps can vouch for, and the change between
//! two runs' capacities.
//!
//! A run does not measure its capacity C, it brackets it: the answer passed
//! (C ≥ lo) and the rate above it tripped (C < hi). Two runs' capacities
//! differ for sure only when their brackets do not overlap; a change inside
//! the overlap is `~`, however different the two answers read.

use loadgen_core::report::{RunReport, StepReport};
use serde::{Deserialize, Serialize};

use crate::change::Change;

/// What one run says about its capacity.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Capacity {
    /// The run's ANSWER (highest passing rate), if any step passed.
    pub answer: Option<u64>,
    /// The capacity is at least this: the answer when every trial of it held,
    /// else the highest rate below it whose every trial held (0 if none).
    pub lo: u64,
    /// The capacity is below this: the rate the run found too high (none when
    /// nothing tripped).
    pub hi: Option<u64>,
    /// Search probes run (re-runs included, confirmations not).
    pub probes: u32,
    /// Runs at the answer's rate, and how many of them passed.
    pub trials: Option<Trials>,
    /// The run was stopped before its search ended.
    pub interrupted: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trials {
    pub rps: u64,
    pub runs: u32,
    pub held: u32,
}

impl Capacity {
    pub fn of(report: &RunReport) -> Capacity {
        let answer = report.answer.max_rps;
        let outcome = report.search.as_ref().map(|s| &s.outcome);
        let trials = outcome
            .and_then(|o| o.trials)
            .map(|t| Trials {
                rps: t.rps,
                runs: t.runs,
                held: t.held,
            })
            .or_else(|| answer.map(|rps| trials_at(&report.steps, rps)));
        let lo = match (answer, trials) {
            (Some(rps), Some(t)) if t.held < t.runs => highest_unanimous_pass(&report.steps, rps),
            (Some(rps), _) => rps,
            (None, _) => 0,
        };
        Capacity {
            answer,
            lo,
            hi: report.answer.next_limit_rps,
            probes: outcome.map_or(report.steps.len() as u32, |o| o.probes),
            trials,
            interrupted: report.interrupted,
        }
    }

    /// `[2800, 3200)`, `[2800, ∞)`.
    pub fn bracket_text(&self) -> String {
        match self.hi {
            Some(hi) => format!("[{}, {hi})", self.lo),
            None => format!("[{}, ∞)", self.lo),
        }
    }
}

fn trials_at(steps: &[StepReport], rps: u64) -> Trials {
    let at: Vec<&StepReport> = steps.iter().filter(|s| s.target_rps == rps).collect();
    Trials {
        rps,
        runs: at.len() as u32,
        held: at.iter().filter(|s| s.passed()).count() as u32,
    }
}

/// The highest rate below `rps` that was run and passed every time.
fn highest_unanimous_pass(steps: &[StepReport], rps: u64) -> u64 {
    steps
        .iter()
        .map(|s| s.target_rps)
        .filter(|&r| r < rps)
        .filter(|&r| {
            steps
                .iter()
                .filter(|s| s.target_rps == r)
                .all(|s| s.passed())
        })
        .max()
        .unwrap_or(0)
}

/// How the capacity moved from `base` to `new`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CapacityChange {
    pub base: Capacity,
    pub new: Capacity,
    /// The answers' change (a run without an answer counts as 0 ops/s); its
    /// `significant` says whether the brackets are apart.
    pub change: Change,
    /// The relative change the two brackets allow: from `low` (included) to
    /// `high` (excluded; none = unbounded), as fractions.
    pub low: f64,
    pub high: Option<f64>,
}

impl CapacityChange {
    pub fn between(base: &Capacity, new: &Capacity) -> CapacityChange {
        let as_rate = |a: Option<u64>| a.unwrap_or(0) as f64;
        // The capacity dropped for sure if the new run tripped at or below a
        // rate the base run held; rose for sure the other way round.
        let dropped = base.lo > 0 && new.hi.is_some_and(|hi| hi <= base.lo);
        let rose = new.lo > 0 && base.hi.is_some_and(|hi| hi <= new.lo);
        let low = match base.hi {
            Some(hi) if hi > 0 => new.lo as f64 / hi as f64 - 1.0,
            _ => -1.0,
        };
        let high = match new.hi {
            Some(hi) if base.lo > 0 => Some(hi as f64 / base.lo as f64 - 1.0),
            _ => None,
        };
        CapacityChange {
            base: base.clone(),
            new: new.clone(),
            change: Change::judged(
                as_rate(base.answer),
                as_rate(new.answer),
                dropped || rose,
                None,
            ),
            low,
            high,
        }
    }

    /// `[-25.0%, 0.0%)`, `[-12.5%, +∞)`.
    pub fn interval_text(&self) -> String {
        let high = self
            .high
            .map_or("+∞".to_string(), |h| format!("{:+.1}%", h * 100.0));
        format!("[{:+.1}%, {high})", self.low * 100.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn capacity(answer: Option<u64>, hi: Option<u64>) -> Capacity {
        Capacity {
            answer,
            lo: answer.unwrap_or(0),
            hi,
            probes: 5,
            trials: None,
            interrupted: false,
        }
    }

    #[test]
    fn significance_is_whether_the_brackets_are_apart() {
        type Row<'a> = (
            &'a str,
            (Option<u64>, Option<u64>),
            (Option<u64>, Option<u64>),
            bool,
            &'a str,
        );
        let table: &[Row] = &[
            (
                "the new run tripped where the base held: a drop",
                (Some(2800), Some(3200)),
                (Some(2400), Some(2800)),
                true,
                "[-25.0%, +0.0%)",
            ),
            (
                "overlapping brackets: ~ however the answers read",
                (Some(2000), Some(4000)),
                (Some(2500), Some(4000)),
                false,
                "[-37.5%, +100.0%)",
            ),
            (
                "the new run held where the base tripped: a rise",
                (Some(2400), Some(2800)),
                (Some(2800), Some(3200)),
                true,
                "[+0.0%, +33.3%)",
            ),
            (
                "the base never tripped: no rise can be shown",
                (Some(2400), None),
                (Some(4000), None),
                false,
                "[-100.0%, +∞)",
            ),
            (
                "the new run passed nothing below the base answer",
                (Some(2000), Some(4000)),
                (None, Some(1000)),
                true,
                "[-100.0%, -50.0%)",
            ),
        ];
        for (name, (ba, bh), (na, nh), significant, interval) in table {
            let c = CapacityChange::between(&capacity(*ba, *bh), &capacity(*na, *nh));
            assert_eq!(c.change.significant, *significant, "{name}");
            assert_eq!(c.interval_text(), *interval, "{name}");
        }
    }

    #[test]
    fn a_trial_that_did_not_hold_widens_the_bracket_down() {
        use crate::fixtures::{report, with_trials};
        let held = report(&[(1000, "PASS"), (2000, "PASS"), (3000, "TRIP")]);
        assert_eq!(Capacity::of(&held).bracket_text(), "[2000, 3000)");
        let mixed = with_trials(held, 2000, 2, 1);
        let c = Capacity::of(&mixed);
        assert_eq!(
            c.trials,
            Some(Trials {
                rps: 2000,
                runs: 2,
                held: 1
            })
        );
        assert_eq!(
            c.bracket_text(),
            "[1000, 3000)",
            "only 1000 held every time"
        );
    }
}
