//! Contradicting verdicts and confirmations: the answer is never decided by
//! one contradicted probe.

use super::*;

fn ladder(rates: &[u64]) -> Plan {
    Plan::Fixed {
        rates: rates.to_vec(),
        stop_on_trip: false,
    }
}

/// Judge by `capacity`, except that run `n` (0-based) gets `verdict`.
fn disturbed(c: u64, n: u32, verdict: Verdict) -> impl FnMut(Step) -> Verdict {
    let mut service = capacity(c);
    move |s| {
        if s.probe == n {
            verdict.clone()
        } else {
            service(s)
        }
    }
}

#[test]
fn the_ladder_names_an_odd_trip_and_reruns_it_once() {
    // A nats-server restart in the first step: TRIP, PASS, PASS.
    let restart = trip("error rate 12.000% > 0.100%");
    let table: &[(&str, Verdict, Bracket)] = &[
        (
            "the re-run passes: the TRIP was noise",
            Verdict::Pass,
            bracket(Some(400), None),
        ),
        (
            // 200 trips twice: it stands, the PASSes above it are luck.
            "the re-run trips too: the TRIP stands",
            restart.clone(),
            bracket(None, Some(200)),
        ),
    ];
    for (name, rerun, want) in table {
        let judge = |s: Step| match s.probe {
            0 => restart.clone(),
            2 => rerun.clone(),
            _ => Verdict::Pass,
        };
        let (steps, o) = drive(Search::new(ladder(&[200, 300, 400])), judge);
        assert_eq!(rates(&steps), [200, 300, 200, 400], "{name}");
        assert_eq!(steps[2].chosen_by, ChosenBy::Reprobe, "{name}");
        assert_eq!(o.bracket, *want, "{name}");
        assert_eq!(
            o.contradictions,
            [Contradiction {
                trip_rps: 200,
                pass_rps: 300
            }],
            "{name}"
        );
        assert_eq!(o.stop, Stop::LadderDone, "{name}");
    }
}

#[test]
fn a_monotonic_ladder_has_no_contradictions() {
    let (steps, o) = drive(Search::new(ladder(&[200, 300, 400])), capacity(300));
    assert_eq!(rates(&steps), [200, 300, 400]);
    assert!(o.contradictions.is_empty());
    assert_eq!(o.trials.map(|t| (t.rps, t.runs, t.held)), Some((300, 1, 1)));
}

#[test]
fn a_tie_is_a_pass_only_when_its_neighbours_agree() {
    let v = |pass, high| rate::Votes { pass, high };
    let table: &[(&str, &[(u64, rate::Votes)], &[(u64, bool)])] = &[
        (
            "clear pass above",
            &[(200, v(1, 1)), (300, v(1, 0))],
            &[(200, false), (300, false)],
        ),
        (
            "nothing above: too high",
            &[(200, v(1, 0)), (300, v(1, 1))],
            &[(200, false), (300, true)],
        ),
        (
            "a clear trip below",
            &[(100, v(0, 2)), (200, v(1, 1)), (300, v(1, 0))],
            &[(100, true), (200, true), (300, false)],
        ),
        ("majority", &[(200, v(2, 1))], &[(200, false)]),
    ];
    for (name, votes, want) in table {
        let votes = votes.iter().copied().collect();
        let got: Vec<(u64, bool)> = rate::decided(&votes).into_iter().collect();
        assert_eq!(got, *want, "{name}");
    }
}

#[test]
fn a_failed_confirmation_is_reprobed_and_the_majority_decides() {
    // C = 4500 by verdict only: the search converges on 4500 (11 probes).
    // The confirmation (probe 11) trips; the re-probe (12) passes: 2 of 3 held.
    let a = Adaptive {
        growth: 2.0,
        ..Adaptive::new(500)
    };
    let (steps, o) = drive(
        search(a).confirm(1),
        disturbed(4_500, 11, trip("op p95=120ms > 100ms")),
    );
    assert_eq!(rates(&steps)[11..], [4_500, 4_500]);
    assert_eq!(chosen(&steps)[11..], [ChosenBy::Confirm, ChosenBy::Reprobe]);
    assert_eq!(o.bracket, bracket(Some(4_500), Some(4_562)));
    assert_eq!(o.stop, Stop::Converged);
    assert_eq!(
        o.trials,
        Some(Trials {
            rps: 4_500,
            runs: 3,
            held: 2
        })
    );
    let c = o.confirm.unwrap();
    assert_eq!((c.rps, c.runs, c.held, c.probes), (4_500, 1, 0, vec![11]));
    assert_eq!(
        o.contradictions,
        [Contradiction {
            trip_rps: 4_500,
            pass_rps: 4_500
        }]
    );
}

#[test]
fn an_answer_its_trials_reject_falls_and_the_search_goes_on_below() {
    // The service really holds 4400: 4500 passed once by luck, then its
    // confirmation and re-probe trip. The search resumes below and confirms
    // the new answer.
    let a = Adaptive {
        growth: 2.0,
        max_steps: 20,
        ..Adaptive::new(500)
    };
    let judge = |s: Step| {
        if s.rps == 4_500 && s.chosen_by != ChosenBy::Bisect {
            trip("op p95=120ms > 100ms")
        } else {
            capacity(4_500)(s)
        }
    };
    let (steps, o) = drive(search(a).confirm(1), |s| {
        if s.rps > 4_400 && s.rps < 4_500 {
            trip("op p95=120ms > 100ms")
        } else {
            judge(s)
        }
    });
    assert_eq!(
        chosen(&steps)[11..13],
        [ChosenBy::Confirm, ChosenBy::Reprobe]
    );
    let answer = o.bracket.pass.unwrap();
    assert!((4_400 * 98 / 100..4_500).contains(&answer), "{o:?}");
    let last = steps.last().unwrap();
    assert_eq!((last.chosen_by, last.rps), (ChosenBy::Confirm, answer));
    assert_eq!(o.confirm.map(|c| (c.rps, c.held)), Some((answer, 1)));
    assert_eq!(o.trials.map(|t| (t.runs, t.held)), Some((2, 2)));
}

#[test]
fn confirm_zero_skips_the_confirmation() {
    let (steps, o) = drive(search(Adaptive::new(500)), capacity(4_500));
    assert!(steps.iter().all(|s| s.chosen_by != ChosenBy::Confirm));
    assert_eq!((o.confirm, o.trials.map(|t| t.runs)), (None, Some(1)));
}
