//! The search against FIFO services that measure like the synthetic plugin:
//! goodput = min(rate, C), backlog growth = max(0, rate − C) per second, and
//! latency flat up to a knee, then growing with the queue.

use super::*;
use crate::report::StepReport;

const HOLD_S: f64 = 3.0;
const WARMUP_S: f64 = 1.0;
const P95_LIMIT_MS: f64 = 100.0;
const BASE_MS: f64 = 1.0;

/// A service: throughput `capacity`; latency flat up to `knee` (= capacity for
/// a FIFO queue), then the queueing delay of a backlog growing at `rate − knee`.
#[derive(Clone, Copy)]
struct Fifo {
    capacity: f64,
    knee: f64,
    /// `--slo-pending-growth`.
    gate: f64,
}

fn fifo(capacity: u64) -> Fifo {
    Fifo {
        capacity: capacity as f64,
        knee: capacity as f64,
        gate: 1000.0,
    }
}

impl Fifo {
    fn p95_ms(&self, rate: f64) -> f64 {
        let service_ms = 1000.0 / self.capacity;
        if rate <= self.knee {
            BASE_MS + service_ms
        } else {
            // The op at 95% of the hold waits behind the queue built so far.
            let waited_s = (rate - self.knee) / self.knee * (WARMUP_S + 0.95 * HOLD_S);
            BASE_MS + service_ms + waited_s * 1000.0
        }
    }

    fn measure(&self, step: Step) -> Measurement {
        let rate = step.rps as f64;
        let growth = (rate - self.capacity).max(0.0);
        let at = |t: f64| (growth * (WARMUP_S + t)).round() as i64;
        let readings = (0..=HOLD_S as u32)
            .map(|s| (s as f64, at(s as f64)))
            .collect();
        let p95 = self.p95_ms(rate);
        let held = growth * HOLD_S;
        let verdict = if p95 > P95_LIMIT_MS || held > self.gate {
            trip("over")
        } else {
            Verdict::Pass
        };
        Measurement {
            verdict,
            offered_rps: rate,
            goodput_rps: Some(rate.min(self.capacity)),
            backlogs: vec![BacklogTrace {
                name: "queue".into(),
                readings,
            }],
            margins: vec![
                Margin {
                    gate: "op p95".into(),
                    value: p95,
                    limit: P95_LIMIT_MS,
                },
                Margin {
                    gate: "queue pending".into(),
                    value: held,
                    limit: self.gate,
                },
            ],
        }
    }
}

fn precise(start: u64) -> Adaptive {
    Adaptive {
        precision: 0.01,
        ..Adaptive::new(start)
    }
}

fn search_probes(steps: &[Step]) -> usize {
    steps
        .iter()
        .filter(|s| s.chosen_by != ChosenBy::Confirm)
        .count()
}

#[test]
fn steady_capacities_are_found_within_one_percent_below_in_few_probes() {
    // (capacity, most probes before the confirmation)
    let table: &[(u64, usize)] = &[
        (300, 6),
        (450, 6),
        (1_234, 6),
        (4_500, 6),
        (5_100, 6),
        (8_300, 6),
        (20_000, 6),
        (37_000, 6),
        (50_000, 6),
        (77_777, 8),
        (128_001, 8),
        (200_000, 8),
    ];
    for &(c, most) in table {
        let model = fifo(c);
        let (steps, o) = drive_measured(search(precise(500)).confirm(1), |s| model.measure(s));
        let answer = o.bracket.pass.expect("an answer") as f64;
        let c = c as f64;
        assert!(
            (0.98 * c..=c).contains(&answer),
            "C={c}: answer {answer}, steps {steps:?}"
        );
        assert!(
            search_probes(&steps) <= most,
            "C={c}: {} probes: {:?}",
            search_probes(&steps),
            rates(&steps)
        );
        assert_eq!(o.stop, Stop::Converged, "C={c}");
        assert_eq!(
            o.trials.map(|t| (t.runs, t.held)),
            Some((2, 2)),
            "C={c}: the answer and its confirmation"
        );
        let last = steps.last().unwrap();
        assert_eq!(
            (last.chosen_by, last.rps as f64),
            (ChosenBy::Confirm, answer),
            "C={c}"
        );
    }
}

#[test]
fn an_overloaded_probe_measures_the_throughput_and_the_model_probes_it() {
    let model = fifo(37_000);
    let (steps, o) = drive_measured(search(precise(500)), |s| model.measure(s));
    // 90% of the precision below the measured throughput: 37,000 × 0.991.
    assert_eq!(rates(&steps), [500, 2000, 8000, 32_000, 128_000, 36_667]);
    use ChosenBy::*;
    assert_eq!(chosen(&steps), [Range, Range, Range, Range, Range, Model]);
    assert_eq!(steps[5].estimate, Some(37_000.0));
    assert_eq!(o.throughput_rps, Some(37_000.0));
    assert_eq!(o.bracket, bracket(Some(36_667), Some(128_000)));
}

#[test]
fn a_pass_above_capacity_within_the_gates_is_never_the_answer() {
    // C = 5100: 5125 grows the backlog by 75 over the hold, within the gate of
    // 1000, and its latency is well within the SLO: a PASS by the gates.
    let model = fifo(5_100);
    let m = model.measure(Step {
        probe: 0,
        rps: 5_125,
        attempt: 1,
        chosen_by: ChosenBy::Range,
        estimate: None,
    });
    assert_eq!(m.verdict, Verdict::Pass);
    let a = Assessment::of(&m);
    assert_eq!(
        (a.class, a.served_rps),
        (Class::AboveCapacity, Some(5_100.0))
    );

    let plan = Plan::Fixed {
        rates: vec![4_000, 5_000, 5_125, 6_000],
        stop_on_trip: true,
    };
    let (steps, o) = drive_measured(Search::new(plan), |s| model.measure(s));
    assert_eq!(
        rates(&steps),
        [4_000, 5_000, 5_125],
        "above capacity stops the ladder"
    );
    assert_eq!(o.bracket, bracket(Some(5_000), Some(5_125)));
    assert_eq!(o.stop, Stop::StoppedOnTrip { rps: 5_125 });
}

#[test]
fn a_latency_knee_far_below_the_throughput_still_converges_by_bisection() {
    // The throughput says 6000; latency breaks the SLO from 3000 on.
    let table: &[(f64, f64)] = &[(6_000.0, 3_000.0), (40_000.0, 9_000.0), (5_000.0, 700.0)];
    for &(capacity, knee) in table {
        let model = Fifo {
            capacity,
            knee,
            gate: 1000.0,
        };
        let (steps, o) = drive_measured(search(precise(500)), |s| model.measure(s));
        // The SLO's limit: where the queue behind the knee delays p95 to 100 ms.
        let slack_s = (P95_LIMIT_MS - BASE_MS - 1000.0 / capacity) / 1000.0;
        let limit = knee * (1.0 + slack_s / (WARMUP_S + 0.95 * HOLD_S));
        let answer = o.bracket.pass.expect("an answer") as f64;
        assert!(
            (0.98 * limit..=limit).contains(&answer),
            "knee {knee}: answer {answer}, limit {limit}: {:?}",
            rates(&steps)
        );
        assert_eq!(o.stop, Stop::Converged, "knee {knee}: {:?}", rates(&steps));
        assert!(
            steps.iter().any(|s| s.chosen_by == ChosenBy::Bisect),
            "the lying model is overruled: {:?}",
            chosen(&steps)
        );
        // Every probe after range finding lies strictly inside the bracket it splits.
        assert!(steps.len() <= 12, "knee {knee}: {:?}", rates(&steps));
    }
}

#[test]
fn the_margin_steers_range_finding_when_it_shrinks() {
    // Latency rises with the rate from the start (no flat part): the secant
    // through two passes predicts where it reaches the limit.
    let knee_model = |s: Step| {
        let rate = s.rps as f64;
        let p95 = rate / 100.0; // 100 ms at 10,000/s
        Measurement {
            verdict: if p95 > P95_LIMIT_MS {
                trip("op p95")
            } else {
                Verdict::Pass
            },
            offered_rps: rate,
            goodput_rps: Some(rate),
            backlogs: Vec::new(),
            margins: vec![Margin {
                gate: "op p95".into(),
                value: p95,
                limit: P95_LIMIT_MS,
            }],
        }
    };
    let (steps, o) = drive_measured(search(precise(2_000)), knee_model);
    // One pass: proportional growth says 10,000, capped at 4×: 8000; then the
    // estimate 10,000 itself.
    assert_eq!(rates(&steps)[..3], [2_000, 8_000, 10_000]);
    assert_eq!(steps[2].chosen_by, ChosenBy::Model);
    assert_eq!(o.bracket.pass, Some(10_000));
}

#[test]
fn resuming_replays_the_recorded_measurements() {
    // The journal carries each step's measurement: a resumed search sees the
    // throughput the overloaded probe measured and goes on exactly as before.
    let model = fifo(37_000);
    assert_resumes_after_any_prefix(
        || search(precise(500)).confirm(1),
        |s| model.measure(s),
        |s| {
            let m = model.measure(s);
            StepReport {
                search: Some(Box::new(StepSearch::new(
                    s.chosen_by,
                    s.estimate,
                    m.clone(),
                ))),
                ..journaled(s, m.verdict)
            }
        },
    );
}

#[test]
fn a_disturbed_probe_is_rerun_and_never_steers_the_search() {
    // Whichever probe the outage hits, its measurement (half the ops lost,
    // a goodput far under the rate) is INCONCLUSIVE: the search re-runs that
    // rate, the clean re-run decides, and the run is the undisturbed one.
    let model = fifo(4_500);
    let fresh = || search(precise(500)).confirm(1);
    let (calm, calm_outcome) = drive_measured(fresh(), |s| model.measure(s));
    for n in 0..calm.len() as u32 {
        let (steps, o) = drive_measured(fresh(), |s| {
            let clean = model.measure(s);
            if s.probe != n {
                return clean;
            }
            Measurement {
                verdict: Verdict::Inconclusive(Doubt::Disturbed {
                    summary: "connection lost: disconnected from NATS (at 1.5s into the step)"
                        .into(),
                }),
                goodput_rps: Some(s.rps as f64 / 2.0),
                ..clean
            }
        });
        let rerun = &steps[n as usize + 1];
        assert_eq!(
            (rerun.rps, rerun.attempt),
            (steps[n as usize].rps, 2),
            "probe {n} is re-run"
        );
        let mut undisturbed = steps.clone();
        undisturbed.remove(n as usize);
        assert_eq!(
            undisturbed.iter().map(|s| s.rps).collect::<Vec<_>>(),
            calm.iter().map(|s| s.rps).collect::<Vec<_>>(),
            "probe {n}: the same rates as the undisturbed search"
        );
        assert_eq!(o.bracket, calm_outcome.bracket, "probe {n}");
        assert_eq!(o.trials, calm_outcome.trials, "probe {n}");
    }
}
