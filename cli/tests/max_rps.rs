//! `loadgen max-rps` end to end: the real binary, the real synthetic plugin.

mod common;

use std::time::Duration;

use common::{loadgen, run_bounded, text};

#[test]
fn ramp_finds_the_synthetic_capacity_and_writes_matching_csv_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("steps.csv");
    let json = dir.path().join("run.json");
    let cmd = loadgen(&[
        "max-rps",
        "--plugin",
        "synthetic",
        "-o",
        "capacity=3000",
        "--steps",
        "1k,2k,4k,8k",
        "--warmup",
        "1s",
        "--hold",
        "3s",
        "--cooldown",
        "0s",
        "--csv",
        csv.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
    ]);
    let out = run_bounded(cmd, Duration::from_secs(90));
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout:\n{stdout}\nstderr:\n{}",
        text(&out.stderr)
    );

    let verdicts: Vec<&str> = stdout
        .lines()
        .filter_map(|l| {
            ["PASS", "TRIP", "INCONCLUSIVE"]
                .into_iter()
                .find(|v| l.contains(&format!(" {v} ")))
        })
        .collect();
    assert_eq!(verdicts, ["PASS", "PASS", "TRIP"], "{stdout}");
    assert!(
        stdout.contains("ANSWER: max RPS = 2000 (plugin=synthetic)"),
        "{stdout}"
    );
    assert!(stdout.contains("Next limit: "), "{stdout}");

    let rows: Vec<csv::StringRecord> = csv::Reader::from_path(&csv)
        .unwrap()
        .records()
        .map(Result::unwrap)
        .collect();
    let csv_steps: Vec<(&str, &str)> = rows.iter().map(|r| (&r[1], &r[r.len() - 2])).collect();
    assert_eq!(
        csv_steps,
        [("1000", "PASS"), ("2000", "PASS"), ("4000", "TRIP")]
    );

    let run: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let json_steps: Vec<(u64, &str)> = run["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["target_rps"].as_u64().unwrap(),
                s["verdict"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(json_steps, [(1000, "PASS"), (2000, "PASS"), (4000, "TRIP")]);
    assert_eq!(run["answer"]["max_rps"], 2000);
    assert_eq!(run["interrupted"], false);
}

#[test]
fn no_step_passing_says_so_and_exits_1() {
    let cmd = loadgen(&[
        "max-rps",
        "--plugin",
        "synthetic",
        "-o",
        "capacity=500",
        "--steps",
        "1k,2k,4k,8k",
        "--warmup",
        "1s",
        "--hold",
        "3s",
        "--cooldown",
        "0s",
        "--quiet",
    ]);
    let out = run_bounded(cmd, Duration::from_secs(60));
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("ANSWER: no step passed (lowest step 1000 TRIP: "),
        "{stdout}"
    );
}

#[test]
fn sigint_prints_the_partial_report_marked_interrupted() {
    let mut cmd = loadgen(&[
        "max-rps",
        "--plugin",
        "synthetic",
        "-o",
        "capacity=100000",
        "--steps",
        "200,400,800",
        "--warmup",
        "200ms",
        "--hold",
        "1s",
        "--drain",
        "200ms",
        "--cooldown",
        "0s",
    ]);
    let child = cmd.spawn().unwrap();
    // The first step takes ≈1.5 s; interrupt during the second.
    std::thread::sleep(Duration::from_millis(2_200));
    // SAFETY: plain kill(2) on the child we just started.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let started = std::time::Instant::now();
    let out = child.wait_with_output().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?} to stop",
        started.elapsed()
    );
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("ANSWER: max RPS = 200 (plugin=synthetic, interrupted: partial results)"),
        "{stdout}"
    );
    assert!(
        !stdout.contains(" 800 "),
        "the third step never ran: {stdout}"
    );
    assert_eq!(out.status.code(), Some(0), "a step passed: {stdout}");
}
