//! The step lifecycle, driven by a simulated controller: timers fire at
//! their times on a virtual clock, questions are answered by a scripted
//! world. No actor, no sleep.

use std::collections::BTreeMap;
use std::time::Duration;

use super::*;
use crate::collector::{CollectorStats, SeriesStats};
use crate::pacer::PacerCounts;
use crate::report::fixtures::settings;
use crate::verdict::{SeriesLatency, Verdict};

const MS: u64 = 1_000_000;
const T0: u64 = 1_000 * MS;

fn config() -> RunConfig {
    let mut c = settings(vec![100, 200]);
    c.phases = crate::config::Phases {
        warmup: Duration::from_millis(500),
        hold: Duration::from_millis(2500),
        drain: Duration::from_millis(200),
        cooldown: Duration::from_millis(300),
    };
    c
}

fn machine(c: &RunConfig) -> StepMachine {
    let mut search = Search::new(c.plan()).retry_inconclusive(c.rates.retry_inconclusive);
    let first = search.next(None);
    StepMachine::new(c.clone(), search, first)
}

/// How the scripted children answer.
#[derive(Default)]
struct World {
    hold_start_backlogs: Option<String>,
    pacer: Option<String>,
    /// Restart a child when this many commands have run.
    restart_at: Option<usize>,
    /// A backlog `queue` growing by this much per second of the hold.
    backlog_per_sec: i64,
    /// Disturbances the plugin reports: (activation, 1-based; ms from that
    /// step's start, negative = before it, delivered once it began). A
    /// disturbed step also loses every op, as a real outage would.
    disturbances: Vec<(u32, i64)>,
    /// The service answers at most this many ops/s (unbounded if `None`).
    capacity: Option<u64>,
}

const LOST: &str = "connection lost: disconnected from NATS";

fn healthy(rps: u64) -> Measured {
    Measured {
        counts: Ok(PacerCounts {
            accepted: rps * 5 / 2,
            ..PacerCounts::default()
        }),
        end_counters: Ok(Default::default()),
        stats: Ok(CollectorStats {
            series: vec![SeriesStats {
                latency: SeriesLatency {
                    name: "op".into(),
                    count: rps,
                    p50: Duration::from_millis(1),
                    p95: Duration::from_millis(2),
                    p99: Duration::from_millis(3),
                    max: Duration::from_millis(4),
                },
                service_p99: Duration::from_millis(1),
                errors: 0,
                timeouts: 0,
                lost: 0,
                answered_in_hold: rps * 5 / 2,
            }],
        }),
        in_use: Ok(vec![0]),
        disturbances: Ok(Vec::new()),
    }
}

/// What the simulated controller did, with the virtual time in ms since T0.
#[derive(Default)]
struct Run {
    log: Vec<(u64, String)>,
    steps: Vec<StepReport>,
    finished: Option<(Outcome, bool)>,
    hold_start: Option<u64>,
}

/// Execute the machine's commands against `world` until it finishes (or
/// `stop_after` commands ran), advancing the clock timer by timer.
fn simulate(m: &mut StepMachine, world: &World, stop_after: usize) -> Run {
    let mut run = Run::default();
    let mut now = T0;
    let mut timers: BTreeMap<(u64, u64), (u64, Timer)> = BTreeMap::new();
    let mut events = vec![Event::Begin {
        idle: Ok(Backlogs::default()),
    }];
    let mut rps = 0;
    let mut executed = 0;
    let (mut activation, mut step_start) = (0u32, 0u64);
    // When the pacer was halted in this step (a hold stopped early).
    let mut halted_at: Option<u64> = None;
    let answered_rps = |rps: u64| world.capacity.map_or(rps, |c| c.min(rps));
    let has_queue = world.backlog_per_sec != 0 || world.capacity.is_some();
    let queue_per_sec = |rps: u64| {
        world
            .capacity
            .map_or(world.backlog_per_sec, |c| rps.saturating_sub(c) as i64)
    };
    loop {
        while let Some(event) = events.pop() {
            for command in m.on(event, now) {
                executed += 1;
                if world.restart_at == Some(executed) {
                    events.push(Event::ChildRestarted {
                        child: crate::verdict::Child::Collector,
                        reason: "boom".into(),
                    });
                }
                let t = (now - T0) / MS;
                let name = match &command {
                    Command::Activate { times, .. } => {
                        rps = times.rps;
                        activation += 1;
                        step_start = times.start;
                        halted_at = None;
                        run.hold_start = Some(times.hold_start);
                        format!("activate {}", times.rps)
                    }
                    Command::Arm { .. } => String::new(),
                    Command::ReadHoldStart { seq } => {
                        events.push(Event::HoldStartRead {
                            seq: *seq,
                            counters: Ok(Default::default()),
                            backlogs: match &world.hold_start_backlogs {
                                Some(why) => Err(why.clone()),
                                None if has_queue => Ok(Backlogs::from([("queue".to_string(), 0)])),
                                None => Ok(Backlogs::default()),
                            },
                        });
                        "hold start".into()
                    }
                    Command::ReadHoldEnd { seq } => {
                        let change = has_queue.then(|| BacklogChange {
                            name: "queue".into(),
                            start: 0,
                            end: queue_per_sec(rps) * 5 / 2,
                            unacked: None,
                        });
                        events.push(Event::HoldEndRead {
                            seq: *seq,
                            changes: Ok(change.into_iter().collect()),
                        });
                        "hold end".into()
                    }
                    Command::Measure { seq } => {
                        let mut measured = healthy(rps);
                        if let Some(halt) = halted_at {
                            let held_ms = (halt - run.hold_start.unwrap()) / MS;
                            let counts = measured.counts.as_mut().unwrap();
                            counts.accepted = rps * held_ms / 1000;
                        }
                        if let Some(why) = &world.pacer {
                            measured.counts = Err(why.clone());
                        }
                        let reported: Vec<_> = world
                            .disturbances
                            .iter()
                            .filter(|(a, _)| *a == activation)
                            .map(|(_, ms)| crate::disturbance::Disturbance {
                                at_ns: step_start.saturating_add_signed(ms * MS as i64),
                                reason: LOST.into(),
                            })
                            .collect();
                        if reported.iter().any(|d| d.at_ns >= step_start) {
                            let stats = measured.stats.as_mut().unwrap();
                            stats.series[0].lost = rps * 5 / 2;
                            stats.series[0].latency.count = 0;
                        }
                        measured.disturbances = Ok(reported);
                        events.push(Event::Measured {
                            seq: *seq,
                            measured,
                        });
                        "measure".into()
                    }
                    Command::Progress { seq, hold_start_ns } => {
                        let held_ms = (now - hold_start_ns) / MS;
                        let secs = (held_ms / 1000) as i64;
                        let backlogs: Backlogs = has_queue
                            .then(|| ("queue".to_string(), queue_per_sec(rps) * secs))
                            .into_iter()
                            .collect();
                        events.push(Event::HoldProgress {
                            seq: *seq,
                            progress: HoldProgress {
                                at_ns: now,
                                accepted: Some(rps * held_ms / 1000),
                                answered: Some(answered_rps(rps) * held_ms / 1000),
                                backlogs: Some(backlogs),
                            },
                        });
                        "progress".into()
                    }
                    Command::Draining => "drain".into(),
                    Command::StepFinished(step) => {
                        run.steps.push(step.clone());
                        format!("{} {}", step.target_rps, step.verdict.label())
                    }
                    Command::ReadBacklogs => {
                        events.push(Event::Backlogs(Ok(Backlogs::default())));
                        "settle".into()
                    }
                    Command::HaltPacer => {
                        halted_at = Some(now);
                        "halt".into()
                    }
                    Command::Finish {
                        outcome,
                        interrupted,
                    } => {
                        run.finished = Some((outcome.clone(), *interrupted));
                        "finish".into()
                    }
                };
                if let Command::Arm { at_ns, seq, timer } = command {
                    timers.insert((at_ns, executed as u64), (seq, timer));
                }
                if !name.is_empty() {
                    run.log.push((t, name));
                }
            }
        }
        if run.finished.is_some() || executed >= stop_after {
            return run;
        }
        let Some(((at, _), (seq, timer))) = timers.pop_first() else {
            return run;
        };
        now = now.max(at);
        events.push(Event::Timer { seq, timer });
    }
}

fn names(run: &Run) -> Vec<String> {
    run.log
        .iter()
        .filter(|(_, n)| n != "progress")
        .map(|(_, n)| n.clone())
        .collect()
}

#[test]
fn phases_run_in_order_at_their_times() {
    let c = config();
    let mut m = machine(&c);
    let run = simulate(&mut m, &World::default(), usize::MAX);
    assert_eq!(
        names(&run),
        [
            "activate 100",
            "hold start",
            "hold end",
            "drain",
            "measure",
            "100 PASS",
            "settle",
            "activate 200",
            "hold start",
            "hold end",
            "drain",
            "measure",
            "200 PASS",
            "finish"
        ]
    );
    let at = |name: &str| run.log.iter().find(|(_, n)| n == name).unwrap().0;
    // start lead 2 ms, warmup 500 ms, hold 2.5 s, drain 200 ms + 100 ms grace.
    assert_eq!(at("hold start"), 502);
    assert_eq!(at("hold end"), 3002);
    assert_eq!(at("measure"), 3302);
    // Cooldown 300 ms, then the settle reading.
    assert_eq!(at("settle"), 3602);
    let progress: Vec<u64> = run
        .log
        .iter()
        .filter(|(_, n)| n == "progress")
        .map(|(t, _)| *t)
        .take(2)
        .collect();
    assert_eq!(progress, [1502, 2502], "each second of the hold, not after");
    assert_eq!(run.finished.as_ref().map(|f| f.1), Some(false));
    assert!(m.is_finished());
}

#[test]
fn a_stale_timer_is_ignored() {
    let c = config();
    let mut m = machine(&c);
    let _ = m.on(
        Event::Begin {
            idle: Ok(Backlogs::default()),
        },
        T0,
    );
    // Step 1 (seq 1) is in its warmup; a timer of another sequence does nothing.
    for timer in [
        Timer::HoldStart,
        Timer::HoldEnd,
        Timer::DrainEnd,
        Timer::CooldownEnd,
    ] {
        assert_eq!(m.on(Event::Timer { seq: 0, timer }, T0 + 600 * MS), []);
        assert_eq!(m.on(Event::Timer { seq: 2, timer }, T0 + 600 * MS), []);
    }
    // An answer for another step is ignored too.
    let stale = m.on(
        Event::HoldEndRead {
            seq: 7,
            changes: Ok(Vec::new()),
        },
        T0,
    );
    assert_eq!(stale, []);
    assert_eq!(
        m.on(
            Event::Timer {
                seq: 1,
                timer: Timer::HoldStart
            },
            T0 + 502 * MS
        ),
        [Command::ReadHoldStart { seq: 1 }]
    );
}

#[test]
fn cancel_mid_hold_halts_the_pacer_drops_the_step_and_ends() {
    let c = config();
    let mut m = machine(&c);
    let _ = m.on(
        Event::Begin {
            idle: Ok(Backlogs::default()),
        },
        T0,
    );
    let _ = m.on(
        Event::HoldStartRead {
            seq: 1,
            counters: Ok(Default::default()),
            backlogs: Ok(Backlogs::default()),
        },
        T0 + 502 * MS,
    );
    let commands = m.on(Event::Cancel, T0 + 900 * MS);
    assert_eq!(commands.len(), 2);
    assert_eq!(commands[0], Command::HaltPacer);
    let Command::Finish {
        outcome,
        interrupted: true,
    } = &commands[1]
    else {
        panic!("{commands:?}")
    };
    assert_eq!(outcome.stop, crate::search::Stop::Interrupted);
    let later = m.on(
        Event::Timer {
            seq: 1,
            timer: Timer::HoldEnd,
        },
        T0 + 3002 * MS,
    );
    assert_eq!(later, [], "nothing runs after the end");
}

#[test]
fn broken_signals_make_the_step_inconclusive_and_it_is_rerun() {
    let table: &[(&str, World, &str)] = &[
        (
            "a failed hold-start snapshot",
            World {
                hold_start_backlogs: Some("consumer info: timed out".into()),
                ..World::default()
            },
            "backlog signal unavailable: consumer info: timed out",
        ),
        (
            "an unanswered question",
            World {
                pacer: Some("pacer report: no answer in 10s".into()),
                ..World::default()
            },
            "pacer unavailable: pacer report: no answer in 10s",
        ),
        (
            "a child restarted mid-step",
            World {
                restart_at: Some(3),
                ..World::default()
            },
            "collector restarted during the step: boom",
        ),
    ];
    for (name, world, reason) in table {
        let c = config();
        let mut m = machine(&c);
        let run = simulate(&mut m, world, 20);
        let first = &run.steps[0];
        assert_eq!(
            (first.verdict.label(), first.verdict.reasons()),
            ("INCONCLUSIVE", vec![reason.to_string()]),
            "{name}"
        );
        assert!(
            names(&run).contains(&"activate 100".to_string())
                && names(&run).iter().filter(|n| *n == "activate 100").count() == 2,
            "{name}: re-run once, the run goes on: {:?}",
            names(&run)
        );
    }
}

#[test]
fn a_backlog_rising_through_the_hold_makes_a_passing_step_too_high() {
    // `queue` grows 40/s: +100 over the hold, within the gate of 1000, so the
    // step PASSes; the mid-hold readings show the trend, so the search
    // knows the rate is above what the service serves and stops the ladder.
    let c = config();
    let mut m = machine(&c);
    let world = World {
        backlog_per_sec: 40,
        ..World::default()
    };
    let run = simulate(&mut m, &world, usize::MAX);
    assert_eq!(run.steps.len(), 1, "{:?}", names(&run));
    let step = &run.steps[0];
    assert_eq!(step.verdict, Verdict::Pass);
    let record = step.search.as_ref().expect("the search's record");
    assert_eq!(record.chosen_by, crate::search::ChosenBy::Range);
    let readings = &record.measurement.backlogs[0].readings;
    assert_eq!(
        readings.iter().map(|r| r.1).collect::<Vec<_>>(),
        [0, 40, 80, 100],
        "hold start, each second, hold end"
    );
    assert_eq!(record.assessment.class, crate::search::Class::AboveCapacity);
    assert_eq!(record.measurement.goodput_rps, Some(100.0));
    let (outcome, _) = run.finished.unwrap();
    assert_eq!(outcome.bracket.trip, Some(100));
    assert_eq!(outcome.bracket.pass, None);
}

#[test]
fn a_disturbed_step_is_inconclusive_never_a_trip_and_its_clean_rerun_decides() {
    let verdicts = |world: &World| {
        let c = config();
        let mut m = machine(&c);
        let run = simulate(&mut m, world, usize::MAX);
        let (outcome, _) = run.finished.expect("the run ends");
        let steps: Vec<(u64, u32, Verdict)> = run
            .steps
            .iter()
            .map(|s| (s.target_rps, s.attempt, s.verdict.clone()))
            .collect();
        (steps, outcome.bracket.pass)
    };
    let inconclusive = |at: &str| {
        Verdict::Inconclusive(crate::verdict::Doubt::Disturbed {
            summary: format!("{LOST} (at {at} into the step)"),
        })
    };
    let table: Vec<(&str, Vec<(u32, i64)>, Vec<(u64, u32, Verdict)>)> = vec![
        (
            "undisturbed",
            vec![],
            vec![(100, 1, Verdict::Pass), (200, 1, Verdict::Pass)],
        ),
        (
            "in the first hold: re-run, the clean re-run decides",
            vec![(1, 1500)],
            vec![
                (100, 1, inconclusive("1.5s")),
                (100, 2, Verdict::Pass),
                (200, 1, Verdict::Pass),
            ],
        ),
        (
            "in the warmup",
            vec![(2, 100)],
            vec![
                (100, 1, Verdict::Pass),
                (200, 1, inconclusive("0.1s")),
                (200, 2, Verdict::Pass),
            ],
        ),
        (
            // Drain ends 3.3 s after the start; the verdict comes then.
            "in the drain",
            vec![(1, 3200)],
            vec![
                (100, 1, inconclusive("3.2s")),
                (100, 2, Verdict::Pass),
                (200, 1, Verdict::Pass),
            ],
        ),
        (
            "before the step began: not this step's",
            vec![(1, -50)],
            vec![(100, 1, Verdict::Pass), (200, 1, Verdict::Pass)],
        ),
        (
            "the re-run disturbed too: the ladder moves on",
            vec![(1, 1000), (2, 2000)],
            vec![
                (100, 1, inconclusive("1.0s")),
                (100, 2, inconclusive("2.0s")),
                (200, 1, Verdict::Pass),
            ],
        ),
    ];
    for (case, disturbances, want) in table {
        let world = World {
            disturbances,
            ..World::default()
        };
        let (steps, answer) = verdicts(&world);
        assert_eq!(steps, want, "{case}");
        assert_eq!(
            answer,
            Some(200),
            "{case}: the answer of an undisturbed run"
        );
    }
}

fn adaptive(c: &mut RunConfig) {
    c.rates.search = crate::config::SearchKind::Adaptive;
    c.rates.start_rps = Some(100);
    c.rates.growth = Some(4.0);
    c.rates.precision = Some(0.01);
    c.rates.max_steps = Some(12);
    c.rates.confirm = Some(1);
}

#[test]
fn an_overloaded_range_probe_stops_after_a_second_and_trips_with_what_it_held() {
    // C = 250: range finding offers 400, the service answers 250/s and its
    // queue grows by the rest (150/s).
    let mut c = config();
    adaptive(&mut c);
    let mut m = machine(&c);
    let world = World {
        capacity: Some(250),
        ..World::default()
    };
    let run = simulate(&mut m, &world, usize::MAX);
    let steps: Vec<_> = run
        .steps
        .iter()
        .map(|s| (s.target_rps, s.verdict.label()))
        .collect();
    assert_eq!(steps[..3], [(100, "PASS"), (400, "TRIP"), (247, "PASS")]);
    assert!(steps[2..].iter().all(|&(rps, v)| rps <= 250 && v == "PASS"));
    let over = &run.steps[1];
    let reasons = over.verdict.reasons();
    assert!(
        reasons[0].starts_with("stopped early after 1.0s: the service answered 250/s of 400/s"),
        "{reasons:?}"
    );
    let record = over.search.as_ref().unwrap();
    assert_eq!(record.stopped_early_s, Some(1.0));
    assert_eq!(record.measurement.goodput_rps, Some(250.0));
    assert_eq!(
        record.measurement.offered_rps, 400.0,
        "offered over what was held"
    );
    // The pacer halts at the stop, the hold ends there and the drain follows.
    let second: Vec<_> = run
        .log
        .iter()
        .skip_while(|(_, n)| n != "activate 400")
        .take_while(|(_, n)| n != "400 TRIP")
        .filter(|(_, n)| n != "progress")
        .cloned()
        .collect();
    let start = second[0].0;
    let times: Vec<_> = second
        .iter()
        .map(|(t, n)| (t - start, n.as_str()))
        .collect();
    assert_eq!(
        times,
        [
            (0, "activate 400"),
            (502, "hold start"),
            (1502, "halt"),
            (1502, "hold end"),
            (1502, "drain"),
            (1802, "measure"),
        ]
    );
    // Probes that keep up hold in full.
    for step in run.steps.iter().filter(|s| s.target_rps != 400) {
        assert_eq!(step.search.as_ref().unwrap().stopped_early_s, None);
    }
}

#[test]
fn the_fixed_ladder_never_stops_early() {
    let mut c = config();
    c.rates.steps = Some("100,400".parse().unwrap());
    let mut m = machine(&c);
    let world = World {
        capacity: Some(250),
        ..World::default()
    };
    let run = simulate(&mut m, &world, usize::MAX);
    assert!(
        !names(&run).contains(&"halt".to_string()),
        "{:?}",
        names(&run)
    );
    assert_eq!(run.steps.len(), 2);
    assert!(run
        .steps
        .iter()
        .all(|s| s.search.as_ref().unwrap().stopped_early_s.is_none()));
}
