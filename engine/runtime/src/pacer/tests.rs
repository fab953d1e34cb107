//! The pacer's arithmetic: intended times, wake-ups, burst bound, underrun.

use std::time::Duration;

use loadgen_plugin_api::abi::{Batch, MonoNanos};

use super::schedule::AHEAD_MAX;
use super::schedule::AHEAD_MIN;

use super::schedule::batch_window;
use super::*;

const MS: u64 = 1_000_000;

/// 1000 ops/s: one op per ms, burst = 8 ops. Warmup 100ms, hold 1s.
fn thousand_per_sec() -> Schedule {
    Schedule::new(StepTimes {
        rps: 1000,
        start: 1_000 * MS,
        hold_start: 1_100 * MS,
        stop: 2_100 * MS,
    })
}

fn released(r: &Release) -> u64 {
    r.batches.iter().map(|b| b.count as u64).sum()
}

#[test]
fn intended_times_are_absolute() {
    let s = Schedule::new(StepTimes {
        rps: 3,
        start: 0,
        hold_start: 0,
        stop: 10_000 * MS,
    });
    // 10⁹/3 does not divide: op k is at floor(k·10⁹/3), no drift over many ops.
    assert_eq!(s.intended(0), 0);
    assert_eq!(s.intended(1), 333_333_333);
    assert_eq!(s.intended(3), 1_000_000_000);
    assert_eq!(s.intended(3_000), 1_000_000_000_000);
}

#[test]
fn wakeups_release_what_is_due_and_count_underrun_past_the_burst() {
    // (wake-up offsets from start in ms, ops released at the last, underrun at the last)
    let table: &[(&str, &[u64], u64, u64)] = &[
        ("on time: op 0 at start", &[0], 1, 0),
        ("each 1ms tick releases one op", &[0, 1, 2], 1, 0),
        ("3 ticks late releases every missed op", &[0, 4], 4, 0),
        ("exactly the burst bound: no underrun", &[0, 8], 8, 0),
        (
            "20 ticks late: 8 ticks' worth released, rest underrun",
            &[0, 20],
            8,
            12,
        ),
        ("before start nothing is due", &[], 0, 0),
    ];
    for (name, wakeups, want_released, want_underrun) in table {
        let mut s = thousand_per_sec();
        let mut last = Release::default();
        for w in *wakeups {
            last = s.release(1_000 * MS + w * MS);
        }
        assert_eq!(released(&last), *want_released, "{name}: released");
        assert_eq!(last.underrun, *want_underrun, "{name}: underrun");
    }
}

#[test]
fn a_late_release_keeps_the_newest_ops_and_their_schedule() {
    let mut s = thousand_per_sec();
    s.release(1_000 * MS);
    let r = s.release(1_020 * MS);
    // Ops 1..=12 skipped; 13..=20 released with their own intended times.
    assert_eq!(r.batches.len(), 1);
    let b = r.batches[0];
    assert_eq!(b.first_op, 13);
    assert_eq!(b.first_intended, MonoNanos(1_013 * MS));
    assert_eq!(b.interval_ns, MS);
    assert_eq!(b.count, 8);
}

#[test]
fn batches_split_at_hold_start_and_underrun_is_attributed() {
    let mut s = thousand_per_sec();
    s.release(1_095 * MS); // ops 0..=95 (burst-limited: 88..=95 released)
    let r = s.release(1_103 * MS); // ops 96..=103: 96..=99 warmup, 100..=103 hold
    assert_eq!(r.batches.len(), 2);
    assert_eq!((r.batches[0].first_op, r.batches[0].count), (96, 4));
    assert_eq!((r.batches[1].first_op, r.batches[1].count), (100, 4));
    assert!(!s.is_hold_batch(&r.batches[0]));
    assert!(s.is_hold_batch(&r.batches[1]));

    // A stall across hold start: ops 104..=189 due, 8 released, 78 skipped (all hold ops).
    let r = s.release(1_189 * MS);
    assert_eq!((r.underrun, r.underrun_in_hold), (78, 78));

    let mut s = thousand_per_sec();
    s.release(1_000 * MS);
    // 1..=109 due; 1..=101 skipped, of which 100 and 101 are hold ops.
    let r = s.release(1_109 * MS);
    assert_eq!((r.underrun, r.underrun_in_hold), (101, 2));
}

/// Every op handed ahead, from `Start` to the end, by pacer wake-ups at
/// `next_hand_ahead`: (batches, pacer wake-ups).
fn hand_everything_ahead(s: &mut Schedule) -> (Vec<Batch>, u64) {
    let (mut batches, mut wakes, mut last_wake) = (Vec::new(), 0, 0);
    let mut now = s.intended(0) - 30 * MS;
    while let Some(wake) = s.next_hand_ahead(last_wake) {
        now = now.max(wake);
        wakes += 1;
        let r = s.release_ahead(now, now + AHEAD_MAX.as_nanos() as u64, &mut last_wake);
        assert_eq!(r.underrun, 0);
        batches.extend(r.batches);
    }
    (batches, wakes)
}

#[test]
fn handing_ahead_groups_ops_as_the_wakeups_would_and_wakes_every_25ms() {
    // (rps, batch window µs, ops per batch, pacer wake-ups over 1.1 s)
    let table: &[(u64, u64, u32, u64)] = &[
        (1_000, 100, 1, 45),
        (10_000, 100, 1, 45),
        (100_000, 100, 10, 45),
        (1_000_000, 1_000, 1_000, 45),
    ];
    for &(rps, window_us, per_batch, wakes_about) in table {
        let mut s = Schedule::new(StepTimes {
            rps,
            start: 1_000 * MS,
            hold_start: 1_100 * MS,
            stop: 2_100 * MS,
        })
        .min_window(Duration::from_micros(window_us));
        let (batches, wakes) = hand_everything_ahead(&mut s);
        let ops: u64 = batches.iter().map(|b| b.count as u64).sum();
        assert_eq!(
            ops,
            rps * 11 / 10,
            "{rps}: every op of warmup and hold, once"
        );
        let mut next_op = 0;
        for b in &batches {
            assert_eq!(b.first_op, next_op, "{rps}: in order, none twice");
            next_op += b.count as u64;
            assert!(b.count <= per_batch, "{rps}: {b:?}");
            assert!(
                !(b.first_op < s.hold_first() && b.first_op + b.count as u64 > s.hold_first()),
                "{rps}: a batch straddles hold start: {b:?}"
            );
        }
        assert!(
            wakes.abs_diff(wakes_about) <= 2,
            "{rps}: {wakes} pacer wake-ups, want ≈{wakes_about}"
        );
    }
}

#[test]
fn handing_ahead_late_counts_underrun_and_hands_the_newest() {
    let mut s = thousand_per_sec();
    let mut last_wake = 0;
    // The pacer first gets to the step 20 ms into it: of ops 0..=20 due,
    // all but the newest burst (8) are skipped; 13..=20 and the next 50 ms
    // are handed.
    let r = s.release_ahead(1_020 * MS, 1_070 * MS, &mut last_wake);
    assert_eq!((r.underrun, r.underrun_in_hold), (13, 0));
    assert_eq!(r.batches.first().map(|b| b.first_op), Some(13));
    assert_eq!(r.batches.last().map(|b| b.first_op), Some(70));
    assert_eq!(
        s.next_hand_ahead(last_wake),
        Some(1_071 * MS - AHEAD_MIN.as_nanos() as u64)
    );
}

#[test]
fn nothing_is_due_at_or_after_stop() {
    let mut s = thousand_per_sec();
    assert_eq!(s.hold_ops(), 1000);
    let mut total = 0;
    for ms in 0..=1_200 {
        total += released(&s.release(1_000 * MS + ms * MS));
    }
    assert_eq!(total, 1_100, "100 warmup + 1000 hold ops");
    assert!(s.finished());
}

#[test]
fn high_rates_batch_many_ops_per_tick() {
    let mut s = Schedule::new(StepTimes {
        rps: 100_000,
        start: 0,
        hold_start: 0,
        stop: 1_000 * MS,
    });
    let r = s.release(MS - 1);
    assert_eq!(released(&r), 100, "ops 0..=99 due within the first ms");
    assert_eq!(r.batches[0].interval_ns, 10_000);
}

#[test]
fn the_batch_window_is_fixed_up_to_the_window_rate_then_grows_with_it() {
    let table: &[(u64, u64)] = &[
        // (rps, window µs)
        (1, 50),
        (1_000, 50),
        (100_000, 50),
        (200_000, 50),
        (1_000_000, 250),
        (4_000_000, 1_000),
    ];
    for &(rps, want_us) in table {
        assert_eq!(batch_window(rps).as_micros() as u64, want_us, "{rps} ops/s");
    }
}

#[test]
fn the_slo_window_is_a_thousandth_of_the_tightest_slo_within_bounds() {
    let ms = std::time::Duration::from_millis;
    // (p95, p99, window µs)
    let table: &[(u64, u64, u64)] = &[
        (100, 250, 100), // the defaults
        (250, 100, 100),
        (10, 20, 50),                  // never under MIN_WINDOW
        (3_600_000, 3_600_000, 1_000), // never over MAX_SLO_WINDOW
        (500, 500, 500),
    ];
    for &(p95, p99, want_us) in table {
        assert_eq!(
            slo_window(ms(p95), ms(p99)).as_micros() as u64,
            want_us,
            "{p95} {p99}"
        );
    }
}

#[test]
fn a_wider_window_batches_ops_that_would_each_wake_the_pacer() {
    // 20k ops/s: one op per 50 µs; a 250 µs window releases 5 per wake-up.
    let window = std::time::Duration::from_micros(250);
    let mut s = Schedule::new(StepTimes {
        rps: 20_000,
        start: 10 * MS,
        hold_start: 10 * MS,
        stop: 1_000 * MS,
    })
    .min_window(window);
    let first = s.next_wake(0).unwrap();
    assert_eq!(first, 10 * MS, "the first op wakes the pacer at its time");
    assert_eq!(released(&s.release(first)), 1);
    let next = s.next_wake(first).unwrap();
    assert_eq!(
        next,
        10 * MS + 250_000,
        "the next wake-up is one window later"
    );
    assert_eq!(released(&s.release(next)), 5);
    // A narrower window than the rate's own never narrows it.
    let wide = Schedule::new(StepTimes {
        rps: 4_000_000,
        start: 0,
        hold_start: 0,
        stop: MS,
    })
    .min_window(std::time::Duration::from_micros(50));
    assert_eq!(wide.next_wake(1).unwrap(), 1 + MS);
}

#[test]
fn wakeups_come_at_each_op_at_low_rates_and_per_window_at_high_rates() {
    const US: u64 = 1_000;
    // (rps, last wake-up offset from start in µs or None before the first, ops already released, want offset µs)
    let table: &[(&str, u64, Option<u64>, u64, Option<u64>)] = &[
        ("first op wakes at start", 1_000, None, 0, Some(0)),
        (
            "1k/s: each op at its own time",
            1_000,
            Some(0),
            1,
            Some(1_000),
        ),
        (
            "1k/s: a late wake-up does not delay the next op",
            1_000,
            Some(300),
            1,
            Some(1_000),
        ),
        (
            "10k/s: each op at its own time",
            10_000,
            Some(0),
            1,
            Some(100),
        ),
        (
            "100k/s: one window after the last wake-up",
            100_000,
            Some(0),
            1,
            Some(50),
        ),
        ("1M/s: a 250 µs window", 1_000_000, Some(10), 11, Some(260)),
        (
            "all released: no more wake-ups",
            1_000,
            Some(999_000),
            1_000,
            None,
        ),
    ];
    for &(name, rps, last, released_ops, want) in table {
        let start = 1_000 * MS;
        let mut s = Schedule::new(StepTimes {
            rps,
            start,
            hold_start: start,
            stop: start + 1_000 * MS,
        });
        if released_ops > 0 {
            s.release(s.intended(released_ops - 1));
        }
        let last_wake = last.map_or(0, |us| start + us * US);
        let got = s.next_wake(last_wake).map(|t| (t - start) / US);
        assert_eq!(got, want, "{name}");
    }
}

#[test]
fn releasing_at_every_wakeup_keeps_each_op_within_one_window_of_its_time() {
    // Drive the schedule as the thread does, waking exactly on time.
    for rps in [1_000, 10_000, 100_000, 1_000_000] {
        let mut s = Schedule::new(StepTimes {
            rps,
            start: 1_000 * MS,
            hold_start: 1_000 * MS,
            stop: 1_100 * MS,
        });
        let window = batch_window(rps).as_nanos() as u64;
        let (mut last, mut released, mut worst_late) = (0, 0, 0);
        while let Some(wake) = s.next_wake(last) {
            let r = s.release(wake);
            assert_eq!(r.underrun, 0);
            for b in &r.batches {
                worst_late = worst_late.max(wake - b.first_intended.0);
                released += b.count as u64;
            }
            last = wake;
        }
        assert_eq!(released, rps / 10, "{rps} ops/s: every op of 100 ms");
        assert!(worst_late < window, "{rps} ops/s: {worst_late} ns late");
    }
}

#[test]
fn a_batch_larger_than_u32_is_split_never_truncated() {
    // Far above what the CLI accepts (100M ops/s): the arithmetic still holds.
    let rps = 10_000_000_000_000;
    let mut s = Schedule::new(StepTimes {
        rps,
        start: 0,
        hold_start: 0,
        stop: 1_000 * MS,
    });
    let r = s.release(MS - 1);
    assert_eq!(released(&r), rps / 1_000, "every op due in the first ms");
    assert!(r.batches.len() > 1);
    assert!(r.batches.iter().all(|b| b.count > 0));
    for pair in r.batches.windows(2) {
        assert_eq!(pair[1].first_op, pair[0].first_op + pair[0].count as u64);
    }
}

/// Every op time a schedule releases when woken each millisecond from start
/// to stop (each op's own intended time, so batching cannot blur it).
fn released_times(mut s: Schedule, times: StepTimes) -> Vec<u64> {
    let mut out = Vec::new();
    let mut now = times.start;
    while !s.finished() {
        for b in s.release(now).batches {
            out.extend((0..b.count as u64).map(|m| s.intended(b.first_op + m)));
        }
        now += MS;
    }
    out
}

#[test]
fn the_slices_of_a_step_together_are_exactly_its_schedule() {
    // (rps, agents): rates that divide by the agent count and rates that do not.
    let table: &[(u64, u64)] = &[
        (1000, 1),
        (1000, 3),
        (999, 3),
        (7, 3),
        (200, 8),
        (12_345, 4),
    ];
    for &(rps, of) in table {
        let times = StepTimes {
            rps,
            start: 1_000 * MS,
            hold_start: 1_250 * MS,
            stop: 2_500 * MS,
        };
        let whole = released_times(Schedule::new(times), times);
        let mut union = Vec::new();
        let mut sizes = Vec::new();
        for index in 0..of {
            let part = released_times(Schedule::sliced(times, Slice { index, of }), times);
            sizes.push(part.len());
            union.extend(part);
        }
        union.sort_unstable();
        assert_eq!(union, whole, "{rps}/s over {of} agents");
        let (lo, hi) = (sizes.iter().min().unwrap(), sizes.iter().max().unwrap());
        assert!(hi - lo <= 1, "{rps}/s over {of}: slices {sizes:?}");
        // The hold splits the same way: the slices' hold ops add up.
        let hold: u64 = (0..of)
            .map(|index| Schedule::sliced(times, Slice { index, of }).hold_ops())
            .sum();
        assert_eq!(hold, Schedule::new(times).hold_ops(), "{rps}/s over {of}");
    }
}

#[test]
fn op_k_belongs_to_agent_k_mod_n() {
    for (k, of, owner) in [(0, 3, 0), (1, 3, 1), (5, 3, 2), (6, 3, 0), (9, 1, 0)] {
        assert_eq!(Slice::owner(k, of), owner);
        let slice = Slice { index: owner, of };
        assert_eq!(slice.global(slice.ops_among(k)), k, "op {k} of {of}");
    }
}
