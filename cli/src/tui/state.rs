//! What the live view shows, as a pure struct updated by the reporter's
//! [`LiveEvent`]s and read by the renderer: the figures are the engine's,
//! this only keeps the ones on screen and derives the search bracket and the
//! time left. The clock is an argument (time since the run started).

use std::collections::BTreeMap;
use std::time::Duration;

use loadgen_core::config::Phases;
use loadgen_core::ramp::Phase;
use loadgen_core::report::per_second::SecondPoint;
use loadgen_core::report::StepReport;
use loadgen_core::search::{ChosenBy, Plan};
use loadgen_core::verdict::Slo;
use loadgen_runtime::reporter::LiveEvent;

/// Seconds of latency the "last seconds" figures cover.
pub const RECENT_SECONDS: usize = 5;

/// The step in progress.
#[derive(Clone, Debug, PartialEq)]
pub struct Current {
    pub probe: u32,
    pub rps: u64,
    pub attempt: u32,
    pub chosen_by: ChosenBy,
    pub warmup: Duration,
    pub hold: Duration,
    pub phase: Phase,
    /// When the phase began (run clock).
    pub phase_since: Duration,
    /// The hold's seconds so far.
    pub seconds: Vec<SecondPoint>,
}

/// Everything the live view shows.
#[derive(Clone, Debug)]
pub struct LiveState {
    pub plan: Plan,
    pub phases: Phases,
    /// Known once the plugin's series are (the `Started` event).
    pub slo: Option<Slo>,
    pub current: Option<Current>,
    pub steps: Vec<StepReport>,
    /// A quit was asked (`q`, Ctrl-C): the run is stopping.
    pub stopping: bool,
}

/// One series' latency over the last seconds of hold, ms.
#[derive(Clone, Debug, PartialEq)]
pub struct RecentLatency {
    pub series: String,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub p99_limit_ms: f64,
}

impl LiveState {
    pub fn new(plan: Plan, phases: Phases) -> LiveState {
        LiveState {
            plan,
            phases,
            slo: None,
            current: None,
            steps: Vec::new(),
            stopping: false,
        }
    }

    /// Take one event seen at `now`.
    pub fn on(&mut self, event: LiveEvent, now: Duration) {
        match event {
            LiveEvent::Started { slo } => self.slo = Some(*slo),
            LiveEvent::StepStarted {
                probe,
                rps,
                attempt,
                chosen_by,
                warmup,
                hold,
            } => {
                self.current = Some(Current {
                    probe,
                    rps,
                    attempt,
                    chosen_by,
                    warmup,
                    hold,
                    phase: Phase::Warmup,
                    phase_since: now,
                    seconds: Vec::new(),
                })
            }
            LiveEvent::Phase { phase, elapsed, .. } => {
                if let Some(c) = self.current.as_mut() {
                    if phase != c.phase {
                        c.phase = phase;
                        c.phase_since = now.saturating_sub(elapsed);
                    }
                }
            }
            LiveEvent::Second(point) => {
                if let Some(c) = self.current.as_mut() {
                    c.seconds.push(*point);
                }
            }
            LiveEvent::StepFinished(step) => {
                self.steps.push(*step);
                self.current = None;
            }
        }
    }

    /// The phase in progress and its time left (drain: its longest).
    pub fn phase_left(&self, now: Duration) -> Option<(Phase, Duration)> {
        let c = self.current.as_ref()?;
        let length = match c.phase {
            Phase::Warmup => c.warmup,
            Phase::Hold => c.hold,
            Phase::Drain => self.phases.drain,
            Phase::BetweenSteps => self.phases.cooldown,
        };
        let spent = now.saturating_sub(c.phase_since);
        Some((c.phase, length.saturating_sub(spent)))
    }

    /// The achieved rate of the last second of hold.
    pub fn achieved_rps(&self) -> Option<f64> {
        self.current
            .as_ref()
            .and_then(|c| c.seconds.last())
            .map(|p| p.achieved_rps)
    }

    /// Per series, the worst p50/p99 of the last [`RECENT_SECONDS`] seconds
    /// with answers, and its p99 limit.
    pub fn recent_latency(&self) -> Vec<RecentLatency> {
        let Some(c) = self.current.as_ref() else {
            return Vec::new();
        };
        let from = c.seconds.len().saturating_sub(RECENT_SECONDS);
        let mut by_series: BTreeMap<&str, (f64, f64)> = BTreeMap::new();
        for point in &c.seconds[from..] {
            for s in point.series.iter().filter(|s| s.count > 0) {
                let worst = by_series.entry(&s.name).or_insert((0.0, 0.0));
                worst.0 = worst.0.max(s.p50_ms);
                worst.1 = worst.1.max(s.p99_ms);
            }
        }
        by_series
            .into_iter()
            .map(|(series, (p50_ms, p99_ms))| RecentLatency {
                series: series.to_string(),
                p50_ms,
                p99_ms,
                p99_limit_ms: self.p99_limit_ms(series),
            })
            .collect()
    }

    /// The p99 limit of `series`, ms (the default SLO's until `Started`).
    pub fn p99_limit_ms(&self, series: &str) -> f64 {
        let slo = self.slo.clone().unwrap_or_default();
        slo.limits(series).1.as_secs_f64() * 1000.0
    }

    /// Failures of the hold so far, and those of the last second.
    pub fn hold_failures(&self) -> (u64, u64) {
        let Some(c) = self.current.as_ref() else {
            return (0, 0);
        };
        let total = c.seconds.iter().map(|p| p.failures).sum();
        (total, c.seconds.last().map_or(0, |p| p.failures))
    }

    /// The last finished step's failures by reason: failed and lost ops,
    /// then, if any failed, the plugin's counters that moved (where the
    /// failures came from; a clean step's counters are not errors).
    pub fn last_step_errors(&self) -> Vec<(String, u64)> {
        let Some(step) = self.steps.last() else {
            return Vec::new();
        };
        let mut reasons = vec![
            ("failed".to_string(), step.failed),
            ("lost".to_string(), step.lost),
        ];
        if step.failed + step.lost > 0 {
            reasons.extend(step.counters.iter().map(|(k, v)| (k.clone(), *v)));
        }
        reasons.retain(|(_, n)| *n > 0);
        reasons
    }

    /// Every backlog at the last second of hold, by name.
    pub fn backlogs(&self) -> Vec<(String, i64)> {
        self.current
            .as_ref()
            .and_then(|c| c.seconds.last())
            .map(|p| p.backlog.iter().map(|(k, v)| (k.clone(), *v)).collect())
            .unwrap_or_default()
    }

    /// The search's bracket so far: the highest PASS below the lowest TRIP
    /// above it.
    pub fn bracket(&self) -> (Option<u64>, Option<u64>) {
        let rates = |verdict: &'static str| {
            self.steps
                .iter()
                .filter(move |s| s.verdict.label() == verdict)
                .map(|s| s.target_rps)
        };
        let lo = rates("PASS").max();
        let hi = rates("TRIP").filter(|r| lo.is_none_or(|lo| *r > lo)).min();
        (lo, hi)
    }

    /// The run's time left: the step in progress, then the steps still to
    /// come, each warmup + hold + drain + cooldown. Adaptive: the bisections
    /// to `precision` once the bracket is closed, else `max_steps`' rest.
    pub fn run_left(&self, now: Duration) -> Duration {
        let p = &self.phases;
        let step = p.warmup + p.hold + p.drain + p.cooldown;
        let in_progress = match (self.current.as_ref(), self.phase_left(now)) {
            (Some(_), Some((phase, left))) => {
                left + match phase {
                    Phase::Warmup => p.hold + p.drain + p.cooldown,
                    Phase::Hold => p.drain + p.cooldown,
                    Phase::Drain => p.cooldown,
                    Phase::BetweenSteps => Duration::ZERO,
                }
            }
            _ => Duration::ZERO,
        };
        let started = self.steps.len() as u32 + u32::from(self.current.is_some());
        let to_come = match &self.plan {
            Plan::Fixed {
                rates,
                stop_on_trip,
            } => {
                let tripped = self.steps.iter().any(|s| s.verdict.label() == "TRIP");
                if *stop_on_trip && tripped {
                    0
                } else {
                    (rates.len() as u32).saturating_sub(started)
                }
            }
            Plan::Adaptive(a) => {
                let budget = a.max_steps.saturating_sub(started);
                match self.bracket() {
                    (Some(lo), Some(hi)) => {
                        let span = (hi - lo) as f64 / (lo as f64 * a.precision).max(1.0);
                        // Halvings to precision, and the answer's confirmation.
                        let halvings = span.max(1.0).log2().ceil() as u32;
                        (halvings + 1).min(budget + 1)
                    }
                    _ => budget,
                }
            }
        };
        in_progress + step * to_come
    }
}

/// Why the search chose a rate, in a few words.
pub fn chosen_by_text(chosen_by: ChosenBy) -> &'static str {
    match chosen_by {
        ChosenBy::Range => "range finding (start or growth)",
        ChosenBy::Model => "the model's capacity estimate",
        ChosenBy::Bisect => "bisecting the bracket",
        ChosenBy::Reprobe => "re-run: verdicts contradict",
        ChosenBy::Confirm => "confirming the answer",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use loadgen_core::report::fixtures::step;
    use loadgen_core::report::per_second::SeriesSecond;
    use loadgen_core::search::Adaptive;

    const S: fn(u64) -> Duration = Duration::from_secs;

    fn phases() -> Phases {
        Phases {
            warmup: S(2),
            hold: S(10),
            drain: S(1),
            cooldown: S(1),
        }
    }

    fn started(probe: u32, rps: u64) -> LiveEvent {
        LiveEvent::StepStarted {
            probe,
            rps,
            attempt: 1,
            chosen_by: ChosenBy::Range,
            warmup: S(2),
            hold: S(10),
        }
    }

    fn second(t: f64, p99: f64, failures: u64) -> LiveEvent {
        LiveEvent::Second(Box::new(SecondPoint {
            t_s: t,
            achieved_rps: 990.0,
            failures,
            series: vec![SeriesSecond {
                name: "op".into(),
                count: 990,
                p50_ms: p99 / 4.0,
                p99_ms: p99,
                service_p50_ms: 0.0,
                service_p99_ms: 0.0,
            }],
            backlog: BTreeMap::from([("q".to_string(), t as i64 * 3)]).into(),
        }))
    }

    fn hold(elapsed: u64) -> LiveEvent {
        LiveEvent::Phase {
            phase: Phase::Hold,
            elapsed: S(elapsed),
            achieved_rps: 0.0,
        }
    }

    #[test]
    fn events_move_the_step_through_its_phases() {
        let mut s = LiveState::new(Plan::Adaptive(Adaptive::new(500)), phases());
        let table: Vec<(LiveEvent, u64, Option<(Phase, Duration)>)> = vec![
            (started(0, 1000), 0, Some((Phase::Warmup, S(2)))),
            (hold(0), 2, Some((Phase::Hold, S(10)))),
            // A later progress report does not restart the hold.
            (hold(3), 5, Some((Phase::Hold, S(7)))),
            (
                LiveEvent::Phase {
                    phase: Phase::Drain,
                    elapsed: Duration::ZERO,
                    achieved_rps: 0.0,
                },
                12,
                Some((Phase::Drain, S(1))),
            ),
            (
                LiveEvent::StepFinished(Box::new(step(1000, "PASS"))),
                13,
                None,
            ),
        ];
        for (event, at, want) in table {
            let shown = format!("{event:?}");
            s.on(event, S(at));
            assert_eq!(s.phase_left(S(at)), want, "after {shown}");
        }
        assert_eq!(s.steps.len(), 1);
    }

    #[test]
    fn recent_latency_is_the_worst_of_the_last_seconds_against_the_limit() {
        let mut s = LiveState::new(Plan::Adaptive(Adaptive::new(500)), phases());
        s.on(
            LiveEvent::Started {
                slo: Box::new(Slo::default()),
            },
            S(0),
        );
        s.on(started(0, 1000), S(0));
        // 300 ms is older than the last 5 seconds: not "recent".
        for (t, p99) in [
            (1.0, 300.0),
            (2.0, 8.0),
            (3.0, 12.0),
            (4.0, 9.0),
            (5.0, 10.0),
            (6.0, 7.0),
        ] {
            s.on(second(t, p99, 1), S(2 + t as u64));
        }
        assert_eq!(
            s.recent_latency(),
            vec![RecentLatency {
                series: "op".into(),
                p50_ms: 3.0,
                p99_ms: 12.0,
                p99_limit_ms: 250.0,
            }]
        );
        assert_eq!(s.hold_failures(), (6, 1));
        assert_eq!(s.backlogs(), vec![("q".to_string(), 18)]);
        assert_eq!(s.achieved_rps(), Some(990.0));
    }

    #[test]
    fn the_bracket_is_the_highest_pass_and_the_lowest_trip_above_it() {
        let table: &[(&[(u64, &str)], (Option<u64>, Option<u64>))] = &[
            (&[], (None, None)),
            (&[(500, "PASS"), (2000, "PASS")], (Some(2000), None)),
            (
                &[
                    (500, "PASS"),
                    (8000, "TRIP"),
                    (2000, "PASS"),
                    (4000, "TRIP"),
                ],
                (Some(2000), Some(4000)),
            ),
            (
                &[(4000, "TRIP"), (3000, "INCONCLUSIVE")],
                (None, Some(4000)),
            ),
        ];
        for (steps, want) in table {
            let mut s = LiveState::new(Plan::Adaptive(Adaptive::new(500)), phases());
            s.steps = steps.iter().map(|(r, v)| step(*r, v)).collect();
            assert_eq!(s.bracket(), *want, "{steps:?}");
        }
    }

    #[test]
    fn time_left_counts_the_steps_to_come() {
        let fixed = |rates: Vec<u64>, stop_on_trip| Plan::Fixed {
            rates,
            stop_on_trip,
        };
        let tight = Plan::Adaptive(Adaptive {
            max_steps: 12,
            precision: 0.02,
            ..Adaptive::new(500)
        });
        // (plan, finished steps, one in warmup since 0, expected left at 1 s)
        let table: Vec<(Plan, Vec<(u64, &str)>, bool, u64)> = vec![
            // Warmup 1 s left + hold 10 + drain 1 + cooldown 1, then two steps of 14.
            (fixed(vec![1, 2, 3], false), vec![], true, 13 + 28),
            (fixed(vec![1, 2, 3], true), vec![(1, "TRIP")], false, 0),
            (
                fixed(vec![1, 2, 3], false),
                vec![(1, "PASS"), (2, "PASS"), (3, "PASS")],
                false,
                0,
            ),
            // Bracket 1000..1020 is within 2 %: only the confirmation is left.
            (
                tight.clone(),
                vec![(1000, "PASS"), (1020, "TRIP")],
                false,
                14,
            ),
            // 1000..2000 to 2 %: 50 widths, 6 halvings, then the confirmation.
            (
                tight.clone(),
                vec![(1000, "PASS"), (2000, "TRIP")],
                false,
                7 * 14,
            ),
            // No TRIP yet: the budget of probes left.
            (tight, vec![(500, "PASS")], false, 11 * 14),
        ];
        for (plan, steps, in_progress, want) in table {
            let mut s = LiveState::new(plan.clone(), phases());
            s.steps = steps.iter().map(|(r, v)| step(*r, v)).collect();
            if in_progress {
                s.on(started(0, 1), S(0));
            }
            assert_eq!(s.run_left(S(1)), S(want), "{plan:?} {steps:?}");
        }
    }

    #[test]
    fn errors_by_reason_name_counters_only_when_ops_failed() {
        let with = |failed: u64, lost: u64| {
            let mut report = step(1000, "PASS");
            report.failed = failed;
            report.lost = lost;
            report.counters = BTreeMap::from([
                ("attempted".to_string(), 3000),
                ("timeout".to_string(), failed),
            ]);
            report
        };
        let table: Vec<(StepReport, Vec<(&str, u64)>)> = vec![
            (with(0, 0), vec![]),
            (with(0, 4), vec![("lost", 4), ("attempted", 3000)]),
            (
                with(7, 0),
                vec![("failed", 7), ("attempted", 3000), ("timeout", 7)],
            ),
        ];
        for (report, want) in table {
            let mut s = LiveState::new(Plan::Adaptive(Adaptive::new(500)), phases());
            s.on(LiveEvent::StepFinished(Box::new(report)), S(1));
            let want: Vec<(String, u64)> = want.into_iter().map(|(k, v)| (k.into(), v)).collect();
            assert_eq!(s.last_step_errors(), want);
        }
    }
}
