//! `--journal` / `--resume`: a run killed mid-ramp continues from the next
//! step with the same flags, keeping the steps it had finished.

mod common;

use std::time::{Duration, Instant};

use common::{loadgen, run_bounded, text};

fn ramp(journal_flag: &str, journal: &str) -> Vec<String> {
    [
        "max-rps",
        "--plugin",
        "synthetic",
        "-o",
        "capacity=3000",
        "--steps",
        "1k,2k,4k",
        "--warmup",
        "300ms",
        "--hold",
        "1s",
        "--drain",
        "300ms",
        "--cooldown",
        "0s",
        journal_flag,
        journal,
    ]
    .map(String::from)
    .to_vec()
}

fn journal_lines(path: &std::path::Path) -> usize {
    std::fs::read_to_string(path).map_or(0, |t| t.lines().count())
}

#[test]
fn a_killed_run_resumes_from_the_next_step() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("run.journal");
    let journal_arg = journal.to_str().unwrap();

    let args = ramp("--journal", journal_arg);
    let mut child = loadgen(&args.iter().map(String::as_str).collect::<Vec<_>>())
        .spawn()
        .unwrap();
    // Header + the first step; then kill it hard, mid-second-step.
    let deadline = Instant::now() + Duration::from_secs(30);
    while journal_lines(&journal) < 2 {
        assert!(
            Instant::now() < deadline,
            "the first step never reached the journal"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(
        journal_lines(&journal),
        2,
        "killed before the second step finished"
    );

    let args = ramp("--resume", journal_arg);
    let out = run_bounded(
        loadgen(&args.iter().map(String::as_str).collect::<Vec<_>>()),
        Duration::from_secs(60),
    );
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    assert!(text(&out.stderr).contains("resuming after 1 finished steps"));
    assert!(stdout.contains("ANSWER: max RPS = 2000"), "{stdout}");
    assert!(
        stdout.contains("1000"),
        "the resumed step is reported: {stdout}"
    );
    assert!(
        journal_lines(&journal) >= 4,
        "header + 3 steps (+ any re-run)"
    );

    // The finished run cannot be resumed again, nor continued with other flags.
    let again = run_bounded(
        loadgen(&args.iter().map(String::as_str).collect::<Vec<_>>()),
        Duration::from_secs(30),
    );
    assert_eq!(again.status.code(), Some(2));
    assert!(
        text(&again.stderr).contains("already finished"),
        "{}",
        text(&again.stderr)
    );
}

#[test]
fn resuming_with_other_flags_or_overwriting_a_journal_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("run.journal");
    let journal_arg = journal.to_str().unwrap();
    std::fs::write(&journal, "").unwrap();
    let mut args = ramp("--journal", journal_arg);
    args[6] = "1k".into(); // one quick step
    let out = run_bounded(
        loadgen(&args.iter().map(String::as_str).collect::<Vec<_>>()),
        Duration::from_secs(30),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));

    let again = run_bounded(
        loadgen(&args.iter().map(String::as_str).collect::<Vec<_>>()),
        Duration::from_secs(30),
    );
    assert_eq!(again.status.code(), Some(2));
    assert!(text(&again.stderr).contains("already exists: continue that run with --resume"));

    let mut other = ramp("--resume", journal_arg);
    other[6] = "1k".into();
    other[10] = "2s".into(); // --hold
    let out = run_bounded(
        loadgen(&other.iter().map(String::as_str).collect::<Vec<_>>()),
        Duration::from_secs(30),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("error: --hold 2s differs from the journal's 1s ("),
        "{}",
        text(&out.stderr)
    );
}
