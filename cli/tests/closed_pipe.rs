//! Output into a pipe nobody reads (`loadgen plugins list | head -1`): every
//! command ends quietly, exit 0 (or its own verdict's code), no panic.

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::{loadgen, quick_ramp, run_bounded, text};

/// `loadgen args` with stdout a pipe whose reader is already closed: every
/// write it makes fails with EPIPE.
fn into_closed_pipe(args: &[&str]) -> std::process::Output {
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    let mut cmd = loadgen(args);
    cmd.stdout(Stdio::from(writer));
    run_bounded(cmd, Duration::from_secs(60))
}

fn assert_quiet(args: &[&str], want_code: i32) {
    let out = into_closed_pipe(args);
    let stderr = text(&out.stderr);
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    assert!(!stderr.contains("error"), "{args:?}: {stderr}");
    assert_eq!(out.status.code(), Some(want_code), "{args:?}: {stderr}");
}

#[test]
fn commands_writing_into_a_closed_pipe_exit_quietly() {
    for args in [
        &["plugins", "list"][..],
        &["plugins", "info", "synthetic"],
        &["completions", "bash"],
        &["max-rps", "--help"],
    ] {
        assert_quiet(args, 0);
    }
}

#[test]
fn a_run_whose_table_nobody_reads_still_writes_its_report_and_keeps_its_code() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("run.json");
    let args = quick_ramp(&["--json", json.to_str().unwrap()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    // 1k and 2k pass, 4k trips: a step passed, exit 0.
    assert_quiet(&args, 0);
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&json).expect("the JSON report")).unwrap();
    assert_eq!(report["answer"]["max_rps"], 2000);
    let again = into_closed_pipe(&["report", json.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again.stderr));
    assert!(!text(&again.stderr).contains("panicked"));
}
