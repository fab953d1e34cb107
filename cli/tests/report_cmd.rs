//! `loadgen report RUN.json|JOURNAL`: a run re-rendered from its files prints
//! the table and ANSWER the run printed (or, killed, would have printed).

mod common;

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use common::{loadgen, quick_ramp, run_bounded, text};

fn ramp(extra: &[&str]) -> Vec<String> {
    let mut args = quick_ramp(&["--quiet"]);
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

fn report(input: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["report", input.to_str().unwrap()];
    args.extend(extra);
    run_bounded(loadgen(&args), Duration::from_secs(30))
}

fn journal_lines(path: &Path) -> usize {
    std::fs::read_to_string(path).map_or(0, |t| t.lines().count())
}

#[test]
fn a_finished_run_re_renders_from_its_json_and_its_journal() {
    let dir = tempfile::tempdir().unwrap();
    let (journal, json) = (dir.path().join("run.journal"), dir.path().join("run.json"));
    let args = ramp(&[
        "--journal",
        journal.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
    ]);
    let run = run_bounded(
        loadgen(&args.iter().map(String::as_str).collect::<Vec<_>>()),
        Duration::from_secs(60),
    );
    let printed = text(&run.stdout);
    assert!(printed.contains("ANSWER: max RPS = "), "{printed}");

    for input in [&journal, &json] {
        let html = dir.path().join("again.html");
        let csv = dir.path().join("again.csv");
        let again = report(
            input,
            &[
                "--html",
                html.to_str().unwrap(),
                "--csv",
                csv.to_str().unwrap(),
            ],
        );
        assert_eq!(text(&again.stdout), printed, "from {}", input.display());
        assert_eq!(again.status.code(), run.status.code());
        let page = std::fs::read_to_string(&html).unwrap();
        assert!(page.contains("id=\"step-table\""));
        assert!(std::fs::read_to_string(&csv).unwrap().lines().count() > 1);
    }
}

#[test]
fn a_killed_runs_journal_prints_the_table_the_run_would_have() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("run.journal");
    let args = ramp(&["--journal", journal.to_str().unwrap()]);
    let child = loadgen(&args.iter().map(String::as_str).collect::<Vec<_>>())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while journal_lines(&journal) < 2 {
        assert!(Instant::now() < deadline, "no step reached the journal");
        std::thread::sleep(Duration::from_millis(20));
    }
    // Stopped mid-ramp: the run prints what finished, marked interrupted.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let run = child.wait_with_output().unwrap();
    let printed = text(&run.stdout);
    assert!(
        printed.contains("interrupted: partial results"),
        "{printed}"
    );

    let again = report(&journal, &[]);
    assert_eq!(text(&again.stdout), printed);

    // Killed hard mid-write: a torn last line changes nothing.
    std::fs::OpenOptions::new()
        .append(true)
        .open(&journal)
        .unwrap()
        .write_all(br#"{"kind":"step","probe":7,"targ"#)
        .unwrap();
    let again = report(&journal, &[]);
    assert_eq!(text(&again.stdout), printed);
    assert_eq!(again.status.code(), run.status.code());
}

#[test]
fn a_file_that_is_no_run_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let notes = dir.path().join("notes.txt");
    std::fs::write(&notes, "hello\n").unwrap();
    let out = report(&notes, &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("is neither a loadgen JSON report"), "{err}");
}
