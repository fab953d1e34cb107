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

    // Every step in the table, CSV and JSON alike: (rate, verdict), re-runs included.
    let table: Vec<(u64, String)> = stdout
        .lines()
        .filter_map(|l| {
            let verdict = ["PASS", "TRIP", "INCONCLUSIVE"]
                .into_iter()
                .find(|v| l.contains(&format!(" {v} ")))?;
            let rate = l.split_whitespace().find_map(|w| w.parse::<u64>().ok())?;
            Some((rate, verdict.to_string()))
        })
        .collect();
    assert!(
        stdout.contains("ANSWER: max RPS = 2000 (plugin=synthetic)"),
        "{stdout}"
    );
    assert!(stdout.contains("Next limit: "), "{stdout}");

    let csv_rows: Vec<(u64, String)> = csv::Reader::from_path(&csv)
        .unwrap()
        .records()
        .map(Result::unwrap)
        .map(|r| (r[1].parse().unwrap(), r[r.len() - 2].to_string()))
        .collect();
    assert_eq!(csv_rows, table);

    let run: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let json_rows: Vec<(u64, String)> = run["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["target_rps"].as_u64().unwrap(),
                s["verdict"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(json_rows, table);

    // A step the busy machine stalled comes out INCONCLUSIVE and is re-run;
    // each rate's last verdict is what the answer rests on.
    let mut last: Vec<(u64, String)> = Vec::new();
    for (rate, verdict) in table {
        match last.last_mut() {
            Some((r, v)) if *r == rate => *v = verdict,
            _ => last.push((rate, verdict)),
        }
    }
    let last: Vec<(u64, &str)> = last.iter().map(|(r, v)| (*r, v.as_str())).collect();
    assert_eq!(
        last,
        [(1000, "PASS"), (2000, "PASS"), (4000, "TRIP")],
        "{stdout}"
    );
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
    let mut child = cmd.spawn().unwrap();
    // Interrupt as soon as the first rate has passed (the second is running).
    let stderr = child.stderr.take().unwrap();
    let (lines_tx, lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufRead::lines(std::io::BufReader::new(stderr)).map_while(Result::ok) {
            let _ = lines_tx.send(line);
        }
    });
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) if line.starts_with("step 200 rps: PASS") => break,
            Ok(_) => {}
            Err(_) => {
                let _ = child.kill();
                panic!("step 200 never passed within 30 s");
            }
        }
    }
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
