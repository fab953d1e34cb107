//! Table tests of the model: every expected time is computed by hand from the
//! definition (service k of a busy period ends k/C after it began).

use super::*;
use loadgen_plugin_api::sdk::Outcome;

const MS: u64 = 1_000_000;
const SEC: u64 = 1_000_000_000;
/// Workload start: an arbitrary CLOCK_MONOTONIC-like time.
const T0: u64 = 5_000 * SEC;

fn server(config: Config) -> Server {
    Server::new(config, 42, T0)
}

/// Defaults, but no base latency and the given capacity.
fn bare(capacity: u64) -> Config {
    Config {
        capacity,
        base_latency_ns: 0,
        ..Config::default()
    }
}

/// Fire `n` ops at one instant (intended = sent = `at`).
fn burst(s: &mut Server, at: u64, n: usize) -> Vec<Sample> {
    (0..n)
        .map(|_| s.arrive(at, at).expect("admitted"))
        .collect()
}

#[test]
fn below_capacity_latency_is_base_latency_plus_one_service_time() {
    // (capacity, base latency, gap between arrivals, latency)
    let table = [
        (1000, MS, 2 * MS, 2 * MS),
        (1000, 0, 5 * MS, MS),
        // 1e9/3000 = 333_333.3 ns, rounded up when it leaves the model.
        (3000, 0, MS, 333_334),
        (7, 5 * MS, SEC, 142_857_143 + 5 * MS),
        (1_000_000, 250_000, 10_000, 1_000 + 250_000),
    ];
    for (capacity, base, gap, latency) in table {
        let mut s = server(Config {
            capacity,
            base_latency_ns: base,
            ..Config::default()
        });
        for i in 0..100 {
            let at = T0 + i * gap;
            let sample = s.arrive(at, at).unwrap();
            assert_eq!(sample.outcome, Outcome::Ok);
            assert_eq!(sample.sent, MonoNanos(at));
            assert_eq!(
                sample.done.since(sample.intended),
                latency,
                "C={capacity} op {i}"
            );
        }
    }
}

#[test]
fn a_burst_completes_at_exact_one_over_c_spacing() {
    for (capacity, n) in [
        (3000u64, 6000usize),
        (7, 20),
        (1000, 1000),
        (1_000_000, 1_100_000),
    ] {
        let mut s = server(bare(capacity));
        let samples = burst(&mut s, T0, n);
        for (i, sample) in samples.iter().enumerate() {
            let k = i as u128 + 1;
            let exact_end = (k * SEC as u128).div_ceil(capacity as u128) as u64;
            assert_eq!(
                sample.done,
                MonoNanos(T0 + exact_end),
                "C={capacity} op {k}"
            );
        }
        // No drift: exactly C ops complete per second of busy time.
        let first_second = samples.iter().filter(|x| x.done.0 <= T0 + SEC).count();
        assert_eq!(first_second as u64, capacity.min(n as u64), "C={capacity}");
    }
}

#[test]
fn above_capacity_queue_and_latency_grow_linearly() {
    // (offered ops/s, capacity, ops in the system after 1 s)
    let table = [
        (4000u64, 3000u64, 1000usize),
        (2000, 1000, 1000),
        (1000, 1000, 0),
        (500, 1000, 0),
    ];
    for (offered, capacity, queued) in table {
        let mut s = server(bare(capacity));
        let gap = SEC / offered;
        let mut latencies = Vec::new();
        for i in 0..offered {
            let at = T0 + i * gap;
            latencies.push(s.arrive(at, at).unwrap().done.since(MonoNanos(at)));
        }
        assert_eq!(s.in_system(T0 + SEC), queued, "{offered}/s at C={capacity}");
        if offered > capacity {
            // The server never idles: op i ends (i+1)/C after T0, so its
            // latency grows by 1/C − 1/offered per op.
            for (i, latency) in latencies.iter().enumerate() {
                let end = ((i as u128 + 1) * SEC as u128).div_ceil(capacity as u128) as u64;
                assert_eq!(
                    *latency,
                    end - i as u64 * gap,
                    "{offered}/s at C={capacity} op {i}"
                );
            }
        }
    }
}

#[test]
fn the_queue_counts_base_latency_until_done() {
    let mut s = server(Config {
        capacity: 1000,
        base_latency_ns: 10 * MS,
        ..Config::default()
    });
    burst(&mut s, T0, 5);
    // Op k is done at k ms + 10 ms.
    let table = [
        (0, 5),
        (10 * MS, 5),
        (11 * MS, 4),
        (13 * MS, 2),
        (15 * MS, 0),
    ];
    for (after, in_system) in table {
        assert_eq!(s.in_system(T0 + after), in_system, "at +{after}ns");
    }
}

#[test]
fn a_stall_pushes_service_past_it() {
    // Stall k ≥ 1 is [k·every, k·every + for) from T0; none at the start.
    // (capacity, every, for, arrival offset, done offset)
    let table = [
        (1000, 100 * MS, 20 * MS, 10 * MS, 11 * MS),
        (1000, 100 * MS, 20 * MS, 50 * MS, 51 * MS),
        (1000, 100 * MS, 20 * MS, 99 * MS, 100 * MS),
        // Preempted half way: 0.5 ms before the stall, 0.5 ms after it.
        (1000, 100 * MS, 20 * MS, 99_500_000, 120_500_000),
        (1000, 100 * MS, 20 * MS, 110 * MS, 121 * MS),
        (1000, 100 * MS, 20 * MS, 205 * MS, 221 * MS),
        (1000, 100 * MS, 20 * MS, 220 * MS, 221 * MS),
        // A 1 s service crossing 12 stalls: 100 ms, 11 windows of 80 ms, 20 ms.
        (1, 100 * MS, 20 * MS, 0, 1240 * MS),
    ];
    for (capacity, every, pause, arrival, done) in table {
        let mut s = server(Config {
            stall_every_ns: every,
            stall_for_ns: pause,
            ..bare(capacity)
        });
        let sample = s.arrive(T0 + arrival, T0 + arrival).unwrap();
        assert_eq!(
            sample.done,
            MonoNanos(T0 + done),
            "C={capacity} arrival +{arrival}"
        );
    }
}

#[test]
fn a_burst_through_a_stall_resumes_after_it() {
    let mut s = server(Config {
        stall_every_ns: 100 * MS,
        stall_for_ns: 20 * MS,
        ..bare(1000)
    });
    let samples = burst(&mut s, T0, 200);
    for (i, sample) in samples.iter().enumerate() {
        let k = i as u64 + 1;
        // Stalls at [100, 120) and [200, 220) ms: op 180 ends as the second begins.
        let stalled = match k {
            ..=100 => 0,
            101..=180 => 20,
            _ => 40,
        };
        let want = (k + stalled) * MS;
        assert_eq!(sample.done, MonoNanos(T0 + want), "op {k}");
    }
    assert_eq!(
        s.in_system(T0 + 110 * MS),
        100,
        "nothing completes during the stall"
    );
}

#[test]
fn error_rate_fails_that_fraction_of_ops() {
    const N: u64 = 100_000;
    for rate in [0.0, 0.001, 0.1, 0.5, 1.0] {
        let mut s = server(Config {
            error_rate: rate,
            ..bare(1_000_000_000)
        });
        let errors = burst(&mut s, T0, N as usize)
            .iter()
            .filter(|x| x.outcome == Outcome::Error)
            .inspect(|x| assert_eq!(x.reason, REASON_SYNTHETIC.index()))
            .count() as f64;
        // Four binomial standard deviations (the seed is fixed, so this is
        // about the generator's quality, not about flakiness).
        let sd = (N as f64 * rate * (1.0 - rate)).sqrt();
        let want = N as f64 * rate;
        assert!(
            (errors - want).abs() <= 4.0 * sd,
            "rate {rate}: {errors} errors in {N}"
        );
        assert_eq!(s.counts().errors, errors as u64);
    }
}

#[test]
fn the_error_pattern_repeats_for_a_seed() {
    let pattern = |seed| {
        let mut s = Server::new(
            Config {
                error_rate: 0.5,
                ..bare(1000)
            },
            seed,
            T0,
        );
        (0..64)
            .map(|_| s.arrive(T0, T0).unwrap().outcome == Outcome::Error)
            .collect::<Vec<_>>()
    };
    assert_eq!(pattern(7), pattern(7));
    assert_ne!(pattern(7), pattern(8));
}

#[test]
fn max_in_flight_refuses_arrivals_beyond_the_bound() {
    // (bound, burst, admitted)
    let table = [
        (0u64, 10usize, 10usize),
        (3, 10, 3),
        (1, 1, 1),
        (10, 10, 10),
    ];
    for (bound, n, admitted) in table {
        let mut s = server(Config {
            max_in_flight: bound,
            ..bare(1000)
        });
        let got = (0..n).filter(|_| s.arrive(T0, T0).is_some()).count();
        assert_eq!(got, admitted, "bound {bound}");
        let c = s.counts();
        assert_eq!(
            (c.attempted, c.saturated),
            (admitted as u64, (n - admitted) as u64)
        );
    }
    // Room opens as ops finish: the first of 3 is done at +1 ms.
    let mut s = server(Config {
        max_in_flight: 3,
        ..bare(1000)
    });
    burst(&mut s, T0, 3);
    assert!(s.arrive(T0 + MS - 1, T0 + MS - 1).is_none());
    assert!(s.arrive(T0 + MS, T0 + MS).is_some());
}

#[test]
fn ops_answered_after_the_loss_timeout_are_lost_at_the_deadline() {
    let loss = 50 * MS;
    let mut s = server(Config {
        loss_timeout_ns: loss,
        ..bare(1000)
    });
    let samples = burst(&mut s, T0, 100);
    for (i, sample) in samples.iter().enumerate() {
        let k = i as u64 + 1;
        // Exactly at the deadline is still an answer.
        let (outcome, done) = if k <= 50 {
            (Outcome::Ok, k * MS)
        } else {
            (Outcome::Lost, loss)
        };
        assert_eq!(
            (sample.outcome, sample.done),
            (outcome, MonoNanos(T0 + done)),
            "op {k}"
        );
    }
    assert_eq!(s.counts().lost, 50);
    // Lost ops still occupy the server until their real end.
    assert_eq!(s.in_system(T0 + 60 * MS), 40);

    // An op released long after it was due is lost at once, not when served.
    let mut s = server(Config {
        loss_timeout_ns: loss,
        ..bare(1000)
    });
    let late = s.arrive(T0, T0 + 100 * MS).unwrap();
    assert_eq!(
        (late.outcome, late.done),
        (Outcome::Lost, MonoNanos(T0 + loss))
    );

    // No deadline (0): nothing is ever lost.
    let mut s = server(bare(1000));
    assert!(burst(&mut s, T0, 100)
        .iter()
        .all(|x| x.outcome == Outcome::Ok));
}

#[test]
fn done_times_never_decrease_in_fifo_order() {
    // The completion queue relies on it; mix loss, errors and stalls.
    let mut s = server(Config {
        capacity: 3000,
        base_latency_ns: MS,
        error_rate: 0.3,
        stall_every_ns: 50 * MS,
        stall_for_ns: 10 * MS,
        loss_timeout_ns: 40 * MS,
        ..Config::default()
    });
    let mut last = 0;
    for i in 0..20_000 {
        let at = T0 + i * 100_000; // 10k/s offered
        let done = s.arrive(at, at).unwrap().done.0;
        assert!(done >= last, "op {i}: {done} < {last}");
        last = done;
    }
}

#[test]
fn capacity_jitter_varies_each_seconds_capacity_within_the_bound_and_repeats_per_seed() {
    // A burst far above capacity keeps the server busy; count the ops done in
    // each whole second.
    let per_second = |seed: u64, jitter: f64| {
        let mut s = Server::new(
            Config {
                capacity_jitter: jitter,
                ..bare(1000)
            },
            seed,
            T0,
        );
        let done: Vec<u64> = burst(&mut s, T0, 20_000).iter().map(|x| x.done.0).collect();
        (0..15)
            .map(|k| {
                let (from, to) = (T0 + k * SEC, T0 + (k + 1) * SEC);
                done.iter().filter(|&&d| d > from && d <= to).count() as f64
            })
            .collect::<Vec<f64>>()
    };
    let exact = per_second(42, 0.0);
    assert!(exact.iter().all(|&n| n == 1000.0), "{exact:?}");
    let jittered = per_second(42, 0.05);
    // An op straddling a second boundary may land on either side.
    assert!(
        jittered.iter().all(|&n| (948.0..=1052.0).contains(&n)),
        "{jittered:?}"
    );
    assert!(
        jittered.iter().any(|&n| (n - 1000.0).abs() > 10.0),
        "the capacity moves: {jittered:?}"
    );
    assert_eq!(
        jittered,
        per_second(42, 0.05),
        "the same seed, the same seconds"
    );
    assert_ne!(jittered, per_second(7, 0.05), "another seed, other seconds");
}

#[test]
fn a_mix_holds_the_queue_for_each_kind_s_cost() {
    // read:9:1,write:1:5 at C=1000: one round of 10 ops is 9·1 ms + 5 ms of
    // service, so a burst of 10 ends 14 ms after it began, and the write
    // (dealt mid-round, sixth) ends at 5·1 + 5 = 10 ms.
    let mix = crate::mix::Mix::parse("read:9:1,write:1:5").unwrap();
    let mut s = server(Config { mix, ..bare(1000) });
    let samples = burst(&mut s, T0, 10);
    let series: Vec<u16> = samples.iter().map(|x| x.series).collect();
    assert_eq!(series, [0, 0, 0, 0, 0, 1, 0, 0, 0, 0]);
    let done: Vec<u64> = samples
        .iter()
        .map(|x| x.done.since(MonoNanos(T0)))
        .collect();
    assert_eq!(done[5], 10 * MS);
    assert_eq!(done[9], 14 * MS);
}
