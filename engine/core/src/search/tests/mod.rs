//! The search against model services. This file: verdict-only services (a
//! rate passes iff it is at most the capacity) and scripted verdicts for
//! re-runs, confirmations and the load box — the plain grow-and-bisect the
//! search falls back to when a step says no more than its verdict.
//! `model.rs`: FIFO services that measure like the synthetic plugin.
//! `noise.rs`: contradicting verdicts and confirmations.

use super::*;
use crate::report::StepReport;
use crate::verdict::{Breach, Doubt};

mod model;
mod noise;

pub(super) fn trip(why: &str) -> Verdict {
    Verdict::Trip(vec![Breach::Text {
        text: why.to_string(),
    }])
}

pub(super) fn load_box() -> Verdict {
    Verdict::Inconclusive(Doubt::Text {
        text: "achieved 900/s < 95% of 1000/s: emit underrun 100 ops".into(),
    })
}

/// A service that sustains exactly `c` ops/s.
pub(super) fn capacity(c: u64) -> impl FnMut(Step) -> Verdict {
    move |s| {
        if s.rps <= c {
            Verdict::Pass
        } else {
            trip("queue pending +3000 > +50")
        }
    }
}

/// Run the search to the end, measuring each step with `measure`.
pub(super) fn drive_measured(
    mut search: Search,
    mut measure: impl FnMut(Step) -> Measurement,
) -> (Vec<Step>, Outcome) {
    let mut steps: Vec<Step> = Vec::new();
    let mut last = None;
    loop {
        match search.next(last.as_ref()) {
            Probe::Run(step) => {
                assert_eq!(
                    step.probe as usize,
                    steps.len(),
                    "probe numbers run 0, 1, …"
                );
                steps.push(step);
                assert!(steps.len() < 200, "the search does not end: {steps:?}");
                last = Some(measure(step));
            }
            Probe::Done(outcome) => return (steps, outcome),
        }
    }
}

/// Run the search to the end, judging each step with `judge` (verdict only).
pub(super) fn drive(
    search: Search,
    mut judge: impl FnMut(Step) -> Verdict,
) -> (Vec<Step>, Outcome) {
    drive_measured(search, |s| Measurement::verdict_only(judge(s)))
}

pub(super) fn rates(steps: &[Step]) -> Vec<u64> {
    steps.iter().map(|s| s.rps).collect()
}

pub(super) fn chosen(steps: &[Step]) -> Vec<ChosenBy> {
    steps.iter().map(|s| s.chosen_by).collect()
}

/// The old doubling search: verdict-only steps leave the model nothing to go on.
fn adaptive(start: u64) -> Adaptive {
    Adaptive {
        growth: 2.0,
        ..Adaptive::new(start)
    }
}

pub(super) fn search(a: Adaptive) -> Search {
    Search::new(Plan::Adaptive(a))
}

pub(super) fn bracket(pass: Option<u64>, trip: Option<u64>) -> Bracket {
    Bracket { pass, trip }
}

#[test]
fn range_finding_grows_from_the_start_rate_until_the_first_trip() {
    let table: &[(&str, u64, f64, u64, &[u64])] = &[
        ("doubling", 500, 2.0, 4500, &[500, 1000, 2000, 4000, 8000]),
        ("x1.5, whole rates", 500, 1.5, 1200, &[500, 750, 1125, 1688]),
        ("x10", 100, 10.0, 4500, &[100, 1000, 10000]),
        ("tiny growth still moves", 2, 1.01, 3, &[2, 3, 4]),
    ];
    for (name, start, growth, cap, want) in table {
        let a = Adaptive {
            growth: *growth,
            ..adaptive(*start)
        };
        let (steps, _) = drive(search(a), capacity(*cap));
        assert_eq!(&rates(&steps)[..want.len()], *want, "{name}");
    }
}

#[test]
fn bisection_converges_on_the_capacity_within_the_precision() {
    // (capacity, start, precision): the bracket holds the capacity and is narrow enough.
    let table: &[(u64, u64, f64)] = &[
        (1234, 500, 0.02),
        (4500, 500, 0.02),
        (9000, 500, 0.02),
        (3000, 1000, 0.02),
        (4410, 1000, 0.05),
        (777, 500, 0.002),
    ];
    for &(cap, start, precision) in table {
        let a = Adaptive {
            precision,
            max_steps: 100,
            ..adaptive(start)
        };
        let (steps, o) = drive(search(a), capacity(cap));
        let (pass, trip) = (o.bracket.pass.unwrap(), o.bracket.trip.unwrap());
        assert_eq!(o.stop, Stop::Converged, "{cap}");
        assert!(pass <= cap && cap < trip, "{cap}: [{pass}, {trip}]");
        assert!(o.bracket.width().unwrap() <= precision, "{cap}: {o:?}");
        assert_eq!(o.probes as usize, steps.len(), "{cap}");
        // Bisection probes lie strictly inside the bracket they split.
        for s in &steps {
            assert!(s.attempt == 1, "{cap}: {s:?}");
        }
    }
}

#[test]
fn bisection_probes_are_the_midpoints() {
    let (steps, o) = drive(search(adaptive(500)), capacity(4500));
    assert_eq!(
        rates(&steps),
        [500, 1000, 2000, 4000, 8000, 6000, 5000, 4500, 4750, 4625, 4562]
    );
    assert_eq!(o.bracket, bracket(Some(4500), Some(4562)));
    assert_eq!(o.stop, Stop::Converged);
    assert_eq!(o.probes, 11);
}

#[test]
fn a_one_rate_wide_bracket_is_converged_whatever_the_precision() {
    let a = Adaptive {
        precision: 0.0001,
        max_steps: 100,
        ..adaptive(1)
    };
    let (steps, o) = drive(search(a), capacity(3));
    assert_eq!(rates(&steps), [1, 2, 4, 3]);
    assert_eq!(
        (o.bracket, o.stop),
        (bracket(Some(3), Some(4)), Stop::Converged)
    );
}

#[test]
fn max_steps_stops_the_search_with_the_bracket_it_has() {
    let table: &[(&str, u64, u32, Bracket)] = &[
        // 500 … 32000 pass, 64000 trips (8), then 48000, 40000, 36000, 38000.
        (
            "wide range",
            37_000,
            12,
            bracket(Some(36_000), Some(38_000)),
        ),
        ("before any trip", 1_000_000, 3, bracket(Some(2000), None)),
        ("one probe", 1_000_000, 1, bracket(Some(500), None)),
    ];
    for (name, cap, max_steps, want) in table {
        let a = Adaptive {
            max_steps: *max_steps,
            ..adaptive(500)
        };
        let (steps, o) = drive(search(a), capacity(*cap));
        assert_eq!(steps.len() as u32, *max_steps, "{name}");
        assert_eq!(
            o.stop,
            Stop::MaxSteps {
                max_steps: *max_steps
            },
            "{name}"
        );
        assert_eq!(o.bracket, *want, "{name}");
    }
}

#[test]
fn max_rps_caps_range_finding() {
    let table: &[(&str, u64, u64, &[u64], Stop, Bracket)] = &[
        (
            "everything passes up to the cap",
            1_000_000,
            3000,
            &[500, 1000, 2000, 3000],
            Stop::MaxRps { max_rps: 3000 },
            bracket(Some(3000), None),
        ),
        (
            "the cap trips: bisect below it",
            2500,
            3000,
            &[500, 1000, 2000, 3000, 2500, 2750, 2625, 2562, 2531],
            Stop::Converged,
            bracket(Some(2500), Some(2531)),
        ),
        (
            "start above the cap",
            1_000_000,
            400,
            &[500],
            Stop::MaxRps { max_rps: 400 },
            bracket(Some(500), None),
        ),
    ];
    for (name, cap, max_rps, want_rates, want_stop, want_bracket) in table {
        let a = Adaptive {
            max_rps: Some(*max_rps),
            ..adaptive(500)
        };
        let (steps, o) = drive(search(a), capacity(*cap));
        assert_eq!(rates(&steps), *want_rates, "{name}");
        assert_eq!((&o.stop, o.bracket), (want_stop, *want_bracket), "{name}");
    }
}

#[test]
fn inconclusive_is_rerun_once_then_the_load_box_is_the_limit() {
    // 500 … 4000 pass; 8000 is INCONCLUSIVE on both attempts.
    let judge = |s: Step| {
        if s.rps >= 8000 {
            load_box()
        } else {
            Verdict::Pass
        }
    };
    let (steps, o) = drive(search(adaptive(500)), judge);
    assert_eq!(rates(&steps), [500, 1000, 2000, 4000, 8000, 8000]);
    assert_eq!(
        steps[4..].iter().map(|s| s.attempt).collect::<Vec<_>>(),
        [1, 2]
    );
    assert_eq!(
        o.stop,
        Stop::LoadBoxLimit {
            rps: 8000,
            reason: "achieved 900/s < 95% of 1000/s: emit underrun 100 ops".into()
        }
    );
    // Never read as a PASS: the answer stays at the last real PASS.
    assert_eq!(o.bracket, bracket(Some(4000), None));
    assert_eq!(o.probes, 6, "re-runs count against --max-steps");
}

#[test]
fn inconclusive_then_a_verdict_carries_on() {
    let mut seen_8000 = 0;
    let judge = |s: Step| {
        if s.rps == 8000 {
            seen_8000 += 1;
            if seen_8000 == 1 {
                return load_box();
            }
        }
        capacity(4500)(s)
    };
    let (steps, o) = drive(search(adaptive(500)), judge);
    assert_eq!(
        rates(&steps)[..7],
        [500, 1000, 2000, 4000, 8000, 8000, 6000]
    );
    assert_eq!(o.stop, Stop::Converged);
    assert_eq!(o.bracket, bracket(Some(4500), Some(4562)));
}

#[test]
fn inconclusive_with_retries_off_stops_at_once_and_during_bisection_keeps_the_bracket() {
    let judge = |s: Step| {
        if s.rps == 6000 {
            load_box()
        } else {
            capacity(4500)(s)
        }
    };
    let (steps, o) = drive(search(adaptive(500)).retry_inconclusive(0), judge);
    assert_eq!(rates(&steps), [500, 1000, 2000, 4000, 8000, 6000]);
    assert!(
        matches!(o.stop, Stop::LoadBoxLimit { rps: 6000, .. }),
        "{o:?}"
    );
    assert_eq!(o.bracket, bracket(Some(4000), Some(8000)));
}

#[test]
fn an_inconclusive_start_is_no_answer() {
    let (steps, o) = drive(search(adaptive(500)).confirm(2), |_| load_box());
    assert_eq!(rates(&steps), [500, 500]);
    assert!(
        matches!(o.stop, Stop::LoadBoxLimit { rps: 500, .. }),
        "{o:?}"
    );
    assert_eq!((o.bracket, o.confirm), (bracket(None, None), None));
}

#[test]
fn confirm_follows_any_stop_with_an_answer() {
    let a = Adaptive {
        max_steps: 3,
        ..adaptive(500)
    };
    let (steps, o) = drive(search(a).confirm(2), capacity(1_000_000));
    assert_eq!(rates(&steps), [500, 1000, 2000, 2000, 2000]);
    assert_eq!(o.stop, Stop::MaxSteps { max_steps: 3 });
    assert_eq!(o.confirm.map(|c| (c.runs, c.held)), Some((2, 2)));
}

#[test]
fn fixed_ladder_runs_its_rates_in_order() {
    let fixed = |stop_on_trip| Plan::Fixed {
        rates: vec![1000, 2000, 4000, 8000],
        stop_on_trip,
    };
    let table: &[(&str, bool, u64, &[u64], Stop, Bracket)] = &[
        (
            "stop on trip",
            true,
            3000,
            &[1000, 2000, 4000],
            Stop::StoppedOnTrip { rps: 4000 },
            bracket(Some(2000), Some(4000)),
        ),
        (
            "keep going",
            false,
            3000,
            &[1000, 2000, 4000, 8000],
            Stop::LadderDone,
            bracket(Some(2000), Some(4000)),
        ),
        (
            "every rung passes",
            true,
            10_000,
            &[1000, 2000, 4000, 8000],
            Stop::LadderDone,
            bracket(Some(8000), None),
        ),
    ];
    for (name, stop_on_trip, cap, want_rates, want_stop, want_bracket) in table {
        let (steps, o) = drive(Search::new(fixed(*stop_on_trip)), capacity(*cap));
        assert_eq!(rates(&steps), *want_rates, "{name}");
        assert_eq!((&o.stop, o.bracket), (want_stop, *want_bracket), "{name}");
    }
}

#[test]
fn fixed_ladder_reruns_an_inconclusive_rung_then_moves_on() {
    let plan = Plan::Fixed {
        rates: vec![1000, 2000, 4000],
        stop_on_trip: true,
    };
    let judge = |s: Step| {
        if s.rps == 2000 {
            load_box()
        } else {
            Verdict::Pass
        }
    };
    let (steps, o) = drive(Search::new(plan), judge);
    assert_eq!(rates(&steps), [1000, 2000, 2000, 4000]);
    assert_eq!(
        steps.iter().map(|s| s.attempt).collect::<Vec<_>>(),
        [1, 1, 2, 1]
    );
    assert_eq!(
        (o.stop, o.bracket),
        (Stop::LadderDone, bracket(Some(4000), None))
    );
}

#[test]
fn a_pass_above_a_trip_is_luck_not_capacity() {
    let plan = Plan::Fixed {
        rates: vec![1000, 2000, 4000],
        stop_on_trip: false,
    };
    let judge = |s: Step| {
        if s.rps == 2000 {
            trip("op p95=120ms > 100ms")
        } else {
            Verdict::Pass
        }
    };
    let (_, o) = drive(Search::new(plan), judge);
    assert_eq!(o.bracket, bracket(Some(1000), Some(2000)));
}

#[test]
fn an_empty_ladder_is_done_at_once() {
    let plan = Plan::Fixed {
        rates: vec![],
        stop_on_trip: true,
    };
    let (steps, o) = drive(Search::new(plan), capacity(1));
    assert!(steps.is_empty());
    assert_eq!((o.stop, o.probes), (Stop::LadderDone, 0));
}

#[test]
fn interrupting_reports_the_bracket_so_far() {
    let mut s = search(adaptive(500));
    let mut judge = capacity(4500);
    let mut last = None;
    for _ in 0..6 {
        let Probe::Run(step) = s.next(last.as_ref()) else {
            panic!("ended early")
        };
        last = Some(Measurement::verdict_only(judge(step)));
    }
    // Probe 5 (6000) is running when the run is cancelled.
    let o = s.interrupted();
    assert_eq!(o.stop, Stop::Interrupted);
    assert_eq!(o.bracket, bracket(Some(4000), Some(8000)));
    assert_eq!(o.probes, 6);
}

#[test]
fn a_trip_at_the_start_rate_searches_below_it() {
    let (steps, o) = drive(search(adaptive(500)), capacity(300));
    assert_eq!(rates(&steps)[..3], [500, 250, 375]);
    assert_eq!(
        chosen(&steps)[..3],
        [ChosenBy::Range, ChosenBy::Range, ChosenBy::Bisect]
    );
    let (pass, trip) = (o.bracket.pass.unwrap(), o.bracket.trip.unwrap());
    assert!(pass <= 300 && 300 < trip, "{o:?}");
    assert_eq!(o.stop, Stop::Converged);
}

#[test]
fn a_service_that_fails_at_any_rate_has_no_answer() {
    let a = Adaptive {
        max_steps: 20,
        ..adaptive(500)
    };
    let (steps, o) = drive(search(a).confirm(3), |_| trip("op p95=120ms > 100ms"));
    assert_eq!(rates(&steps), [500, 250, 125, 62, 31, 15, 7, 3, 1]);
    assert_eq!(o.stop, Stop::TripAtStart { rps: 1 });
    assert_eq!(o.bracket, bracket(None, Some(1)));
    assert_eq!((o.confirm, o.trials), (None, None), "nothing to confirm");
}

#[test]
fn done_stays_done() {
    let a = Adaptive {
        max_steps: 1,
        ..adaptive(500)
    };
    let mut s = search(a);
    let Probe::Run(_) = s.next(None) else {
        panic!()
    };
    let first = s.next(Some(&Measurement::verdict_only(trip("x"))));
    assert!(matches!(first, Probe::Done(_)));
    assert_eq!(s.next(None), first);
}

#[test]
fn the_outcome_serializes_with_its_reason() {
    let o = Outcome {
        bracket: bracket(Some(4410), Some(4500)),
        stop: Stop::LoadBoxLimit {
            rps: 4500,
            reason: "emit underrun".into(),
        },
        probes: 9,
        confirm: None,
        throughput_rps: Some(4450.0),
        trials: Some(Trials {
            rps: 4410,
            runs: 2,
            held: 2,
        }),
        contradictions: vec![Contradiction {
            trip_rps: 200,
            pass_rps: 300,
        }],
    };
    let json = serde_json::to_value(&o).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "bracket": {"pass": 4410, "trip": 4500},
            "stop": {"why": "load_box_limit", "rps": 4500, "reason": "emit underrun"},
            "probes": 9,
            "confirm": null,
            "throughput_rps": 4450.0,
            "trials": {"rps": 4410, "runs": 2, "held": 2},
            "contradictions": [{"trip_rps": 200, "pass_rps": 300}],
        })
    );
    let back: Outcome = serde_json::from_value(json).unwrap();
    assert_eq!(back, o);
    let plan = serde_json::to_value(Plan::Adaptive(adaptive(500))).unwrap();
    assert_eq!(plan["kind"], "adaptive");
    assert_eq!(plan["start_rps"], 500);
    assert_eq!(
        serde_json::to_value(ChosenBy::Reprobe).unwrap(),
        serde_json::json!("reprobe")
    );
}

/// A journal's step for `step` judged `verdict`.
pub(super) fn journaled(step: Step, verdict: Verdict) -> StepReport {
    let mut report = crate::report::fixtures::step(step.rps, "PASS");
    report.probe = step.probe;
    report.attempt = step.attempt;
    report.verdict = verdict;
    report
}

/// Kill the run after every prefix of its steps, resume a fresh search from
/// the journal of that prefix: it must run exactly the rest, to the same outcome.
pub(super) fn assert_resumes_after_any_prefix(
    new: impl Fn() -> Search,
    measure: impl Fn(Step) -> Measurement,
    journal: impl Fn(Step) -> StepReport,
) {
    let (all, outcome) = drive_measured(new(), &measure);
    for killed_after in 0..all.len() {
        let finished: Vec<StepReport> = all[..killed_after].iter().map(|&s| journal(s)).collect();
        let mut resumed = new();
        let finished: Vec<_> = finished.iter().map(StepReport::finished).collect();
        let mut next = resumed.resume(&finished).unwrap();
        let mut rest = Vec::new();
        while let Probe::Run(step) = next {
            rest.push(step);
            next = resumed.next(Some(&measure(step)));
        }
        assert_eq!(rest, all[killed_after..], "killed after {killed_after}");
        assert_eq!(
            next,
            Probe::Done(outcome.clone()),
            "killed after {killed_after}"
        );
    }
}

#[test]
fn resuming_after_any_prefix_continues_exactly_like_the_uninterrupted_search() {
    // A service of capacity 3300 with one flaky (INCONCLUSIVE) first attempt at 2000.
    let judge = |s: Step| match (s.rps, s.attempt) {
        (2000, 1) => load_box(),
        _ => capacity(3300)(s),
    };
    assert_resumes_after_any_prefix(
        || search(adaptive(500)).retry_inconclusive(1).confirm(1),
        |s| Measurement::verdict_only(judge(s)),
        |s| journaled(s, judge(s)),
    );
}

#[test]
fn a_journal_that_is_not_this_searchs_history_is_refused() {
    let step = Step {
        probe: 0,
        rps: 700,
        attempt: 1,
        chosen_by: ChosenBy::Range,
        estimate: None,
    };
    let err = search(adaptive(500))
        .resume(&[journaled(step, Verdict::Pass).finished()])
        .unwrap_err();
    assert_eq!(
        err,
        "the journal's step 0 (700 ops/s) is not what this run's search would run next"
    );
}
