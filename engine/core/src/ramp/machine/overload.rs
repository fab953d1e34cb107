//! When a probe may end its hold early: an adaptive range or model probe
//! that is clearly above capacity has already measured what the search needs
//! (the service's throughput); holding it longer only builds a queue the next
//! probe must wait out. Confirmations, bisection, re-probes and the fixed
//! ladder always hold in full: their verdicts decide the answer.
//!
//! Both signals must agree: the answers fell behind the ops released, and a
//! backlog (the service's queue) grew by as much. The search reads an
//! overloaded probe's throughput as offered − backlog growth; without a
//! backlog it would have only the goodput, and over the first second of an
//! overload that misses the answers the client gave up on (an HTTP FIFO
//! server answering 400/s showed 263/s), so such a probe holds in full.

use std::time::Duration;

use crate::backlog::Backlogs;
use crate::search::ChosenBy;
use crate::verdict::Breach;

/// Held at least this long before a probe may stop: one progress reading.
pub const MIN_HELD: Duration = Duration::from_secs(1);
/// Stop only when the service answered less than this share of the offered
/// ops, and a backlog grew by more than the rest (1 − this) of them.
pub const ANSWERED_SHARE: f64 = 0.8;

/// What the ramp read at a progress tick of the hold.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HoldProgress {
    /// When the pacer was read (ns); the backlogs right after it.
    pub at_ns: u64,
    /// Ops the pacer released since hold start (`None`: not read).
    pub accepted: Option<u64>,
    /// Answers (ok or error) completed since hold start, warmup ops included.
    pub answered: Option<u64>,
    /// Every backlog (`None`: not read).
    pub backlogs: Option<Backlogs>,
}

/// The probe in question.
#[derive(Clone, Copy, Debug)]
pub struct ProbeKind {
    pub adaptive: bool,
    pub chosen_by: ChosenBy,
    pub warmup: Duration,
    /// The SLO's p99 limit: answers that slow are still within the SLO.
    pub p99_limit: Duration,
}

/// A hold ended early: how long was held, and why (the step's TRIP reason).
/// The step's figures are the ones read at the stop, together: ops released
/// after the reading (until the halt) or answered after it are not the hold's.
#[derive(Clone, Debug, PartialEq)]
pub struct StoppedEarly {
    pub held: Duration,
    /// The step's first TRIP breach.
    pub breach: Breach,
    /// Ops released in the held part.
    pub accepted: u64,
    /// Answers completed per second of the held part.
    pub goodput_rps: f64,
    /// The backlogs at the stop (the hold's end values).
    pub backlogs: Option<Backlogs>,
}

/// Whether to end the hold now, `held` into it, given the backlogs at hold
/// start. Stops when the service answered under [`ANSWERED_SHARE`] of what
/// was offered, by more than the ops an answer as slow as the p99 limit keeps
/// waiting (beyond the warmup) — the ops in flight grew through the hold — and
/// a backlog grew since hold start by more than the unanswered share of the
/// ops released: the service falls ever further behind, and its queue shows by
/// how much.
pub fn stop_early(
    probe: ProbeKind,
    held: Duration,
    at_start: Option<&Backlogs>,
    progress: &HoldProgress,
) -> Option<StoppedEarly> {
    let may_stop = probe.adaptive && matches!(probe.chosen_by, ChosenBy::Range | ChosenBy::Model);
    let (Some(accepted), Some(answered)) = (progress.accepted, progress.answered) else {
        return None;
    };
    if !may_stop || held < MIN_HELD || accepted == 0 {
        return None;
    }
    let secs = held.as_secs_f64();
    let offered = accepted as f64 / secs;
    let slow_answers = offered * probe.p99_limit.saturating_sub(probe.warmup).as_secs_f64();
    if answered as f64 + slow_answers >= ANSWERED_SHARE * accepted as f64 {
        return None;
    }
    let (Some(start), Some(now)) = (at_start, progress.backlogs.as_ref()) else {
        return None;
    };
    let (queue, growth) = now
        .iter()
        .filter_map(|(name, value)| start.get(name).map(|s| (name, value - s)))
        .max_by_key(|(_, growth)| *growth)?;
    if (growth as f64) <= (1.0 - ANSWERED_SHARE) * accepted as f64 {
        return None;
    }
    let goodput_rps = answered as f64 / secs;
    Some(StoppedEarly {
        held,
        accepted,
        goodput_rps,
        backlogs: progress.backlogs.clone(),
        breach: Breach::StoppedEarly {
            held,
            goodput_rps,
            offered_rps: offered,
            answered_share: answered as f64 / accepted as f64,
            backlog: queue.clone(),
            growth,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    fn kind(adaptive: bool, chosen_by: ChosenBy, warmup_ms: u64) -> ProbeKind {
        ProbeKind {
            adaptive,
            chosen_by,
            warmup: Duration::from_millis(warmup_ms),
            p99_limit: Duration::from_millis(250),
        }
    }

    fn queue(value: i64) -> Backlogs {
        Backlogs::from([("queue".to_string(), value)])
    }

    /// A reading whose queue grew by what was not answered.
    fn read(accepted: u64, answered: u64) -> HoldProgress {
        grown(accepted, answered, accepted as i64 - answered as i64)
    }

    fn grown(accepted: u64, answered: u64, growth: i64) -> HoldProgress {
        HoldProgress {
            accepted: Some(accepted),
            answered: Some(answered),
            backlogs: Some(queue(1_000 + growth)),
            ..HoldProgress::default()
        }
    }

    fn stops(probe: ProbeKind, held_ms: u64, progress: &HoldProgress) -> Option<StoppedEarly> {
        stop_early(
            probe,
            Duration::from_millis(held_ms),
            Some(&queue(1_000)),
            progress,
        )
    }

    #[test]
    fn only_a_clearly_overloaded_range_or_model_probe_stops_after_a_second() {
        use ChosenBy::*;
        // (adaptive, chosen_by, warmup ms, held ms, accepted, answered, stops)
        let table = [
            // 128,000/s offered against C = 37,000: the overshoot stops.
            (true, Range, 1000, 1000, 128_000, 37_000, true),
            (true, Model, 1000, 1000, 128_000, 37_000, true),
            // Never a confirmation, a bisection, a re-probe, or the ladder.
            (true, Confirm, 1000, 1000, 128_000, 37_000, false),
            (true, Bisect, 1000, 1000, 128_000, 37_000, false),
            (true, Reprobe, 1000, 1000, 128_000, 37_000, false),
            (false, Range, 1000, 1000, 128_000, 37_000, false),
            // Not before a second of hold.
            (true, Range, 1000, 999, 128_000, 37_000, false),
            // Keeping up, or only a little short: hold on.
            (true, Range, 1000, 1000, 32_000, 32_000, false),
            (true, Range, 1000, 2000, 10_000, 8_100, false),
            (true, Range, 1000, 2000, 10_000, 7_900, true),
            // No warmup: 250 ms answers (the p99 limit) leave a quarter of a
            // second's ops waiting without any overload.
            (true, Range, 0, 1000, 1_000, 750, false),
            (true, Range, 0, 1000, 1_000, 550, false),
            (true, Range, 0, 1000, 1_000, 549, true),
            // Nothing offered yet.
            (true, Range, 1000, 1000, 0, 0, false),
        ];
        for (adaptive, chosen_by, warmup, held, accepted, answered, want) in table {
            let got = stops(
                kind(adaptive, chosen_by, warmup),
                held,
                &read(accepted, answered),
            );
            assert_eq!(
                got.is_some(),
                want,
                "{chosen_by:?} adaptive={adaptive} warmup={warmup} held={held} {answered}/{accepted}"
            );
        }
    }

    #[test]
    fn the_answers_falling_behind_are_not_enough_a_backlog_must_grow_as_much() {
        let probe = kind(true, ChosenBy::Range, 1000);
        // (queue growth of 10,000 released, 5,000 answered; stops)
        for (growth, want) in [(5_000, true), (2_001, true), (1_999, false), (0, false)] {
            let got = stops(probe, 1000, &grown(10_000, 5_000, growth));
            assert_eq!(got.is_some(), want, "growth {growth}");
        }
        // No backlog at all (an HTTP server): the goodput alone is not enough.
        let no_backlog = HoldProgress {
            backlogs: None,
            ..read(10_000, 5_000)
        };
        assert_eq!(stops(probe, 1000, &no_backlog), None);
        let at_start_unread = stop_early(probe, S, None, &read(10_000, 5_000));
        assert_eq!(at_start_unread, None);
        // Another backlog than the one read at hold start says nothing.
        let other = HoldProgress {
            backlogs: Some(Backlogs::from([("other".to_string(), 99_999)])),
            ..read(10_000, 5_000)
        };
        assert_eq!(stops(probe, 1000, &other), None);
    }

    #[test]
    fn an_unread_progress_never_stops() {
        let probe = kind(true, ChosenBy::Range, 1000);
        for progress in [
            HoldProgress::default(),
            HoldProgress {
                accepted: None,
                ..read(128_000, 0)
            },
            HoldProgress {
                answered: None,
                ..read(128_000, 0)
            },
        ] {
            assert_eq!(stops(probe, 2000, &progress), None);
        }
    }

    #[test]
    fn it_reports_the_held_time_the_goodput_and_why() {
        let stopped = stops(
            kind(true, ChosenBy::Range, 1000),
            1020,
            &grown(130_560, 37_740, 92_000),
        )
        .expect("overloaded");
        assert_eq!(stopped.held, Duration::from_millis(1020));
        assert_eq!(stopped.accepted, 130_560);
        assert_eq!(stopped.backlogs, Some(queue(93_000)));
        assert!((stopped.goodput_rps - 37_000.0).abs() < 1.0);
        assert_eq!(
            stopped.breach.to_string(),
            "stopped early after 1.0s: the service answered 37000/s of 128000/s offered (29%), \
             queue +92000 since hold start"
        );
    }
}
