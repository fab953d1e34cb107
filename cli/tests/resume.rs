//! `--journal` / `--resume`: a run killed mid-ramp continues from the next
//! step with `--resume PATH` alone (the journal holds its configuration),
//! keeping the steps it had finished; journals that cannot be continued are
//! refused with one line.

mod common;

use std::time::{Duration, Instant};

use common::{loadgen, run_bounded, text};

fn journal_lines(path: &std::path::Path) -> usize {
    std::fs::read_to_string(path).map_or(0, |t| t.lines().count())
}

/// Five steps against a capacity of 3000: four pass, 5k trips.
fn five_steps(extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = [
        "max-rps",
        "--plugin",
        "synthetic",
        "-o",
        "capacity=3000",
        "--steps",
        "500,1k,1.5k,2k,5k",
        "--warmup",
        "300ms",
        "--hold",
        "1s",
        "--drain",
        "300ms",
        "--cooldown",
        "0s",
    ]
    .map(String::from)
    .to_vec();
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

fn strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

fn answer_line(stdout: &str) -> String {
    stdout
        .lines()
        .find(|l| l.starts_with("ANSWER:"))
        .unwrap_or_default()
        .to_string()
}

#[test]
fn kill_9_in_step_3_of_5_then_resume_alone_gives_all_5_steps_and_the_same_answer() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("run.journal");
    let json = dir.path().join("run.json");
    let args = five_steps(&[
        "--journal",
        journal.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
        "--quiet",
    ]);
    let mut child = loadgen(&strs(&args)).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while journal_lines(&journal) < 3 {
        assert!(
            Instant::now() < deadline,
            "two steps never reached the journal"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL, mid-step 3
    child.wait().unwrap();
    assert_eq!(journal_lines(&journal), 3, "header + steps 1 and 2");
    let journaled: Vec<serde_json::Value> = std::fs::read_to_string(&journal)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();

    let resumed = run_bounded(
        loadgen(&["max-rps", "--resume", journal.to_str().unwrap()]),
        Duration::from_secs(90),
    );
    let stdout = text(&resumed.stdout);
    assert_eq!(
        resumed.status.code(),
        Some(0),
        "{stdout}\n{}",
        text(&resumed.stderr)
    );
    assert!(text(&resumed.stderr).contains("resuming after 2 finished steps"));
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let steps = report["steps"].as_array().unwrap();
    let rates: Vec<u64> = steps
        .iter()
        .map(|s| s["target_rps"].as_u64().unwrap())
        .collect();
    let finals: Vec<u64> = rates.iter().copied().fold(Vec::new(), |mut v, r| {
        if v.last() != Some(&r) {
            v.push(r)
        }
        v
    });
    assert_eq!(finals, [500, 1000, 1500, 2000, 5000], "{rates:?}");
    for (i, old) in journaled.iter().enumerate() {
        let mut old = old.clone();
        old.as_object_mut().unwrap().remove("kind");
        assert_eq!(
            &steps[i], &old,
            "step {i} comes from the journal, not re-run"
        );
    }
    assert_eq!(report["settings"]["hold"], "1s", "the journal's settings");

    let fresh = run_bounded(
        loadgen(&strs(&five_steps(&["--quiet"]))),
        Duration::from_secs(90),
    );
    assert_eq!(answer_line(&stdout), answer_line(&text(&fresh.stdout)));
    assert!(
        answer_line(&stdout).starts_with("ANSWER: max RPS = 2000"),
        "{stdout}"
    );
}

#[test]
fn journals_that_cannot_be_resumed_are_refused_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("run.journal");
    let one_step: Vec<String> = five_steps(&[])
        .into_iter()
        .map(|a| {
            if a == "500,1k,1.5k,2k,5k" {
                "500".into()
            } else {
                a
            }
        })
        .collect();
    let _ = std::fs::remove_file(&journal);
    let mut args = one_step.clone();
    args.extend([
        "--journal".into(),
        journal.to_str().unwrap().into(),
        "--quiet".into(),
    ]);
    let out = run_bounded(loadgen(&strs(&args)), Duration::from_secs(60));
    // Finished either way (a busy box may leave the step INCONCLUSIVE): exit 0 or 1.
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        text(&out.stderr)
    );
    let header = std::fs::read_to_string(&journal)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_string();

    let file = |name: &str, body: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, body).unwrap();
        path.to_str().unwrap().to_string()
    };
    let other_plugin = file(
        "other.journal",
        &(header.replace("\"synthetic\"", "\"echo\"") + "\n"),
    );
    let unfinished = file("unfinished.journal", &(header.clone() + "\n"));
    let j = journal.to_str().unwrap().to_string();
    let table: Vec<(Vec<String>, &str)> = vec![
        (vec![file("empty.journal", "")], "is empty"),
        (
            vec![file("garbage.journal", "hello\n")],
            "is not a loadgen journal (line 1",
        ),
        (
            vec![file(
                "corrupt.journal",
                &format!("{header}\n{{\"kind\":\"step\"}}\n"),
            )],
            "line 2 is corrupt",
        ),
        (vec![j.clone()], "already finished"),
        (
            vec![other_plugin.clone()],
            "unknown option 'capacity' for plugin echo (valid: worker_threads)",
        ),
        (
            vec![unfinished.clone(), "--plugin".into(), "echo".into()],
            "is a run of plugin synthetic, not echo",
        ),
        (
            vec![unfinished.clone(), "--hold".into(), "2s".into()],
            "--hold 2s differs from the journal's 1s",
        ),
        (
            vec![unfinished.clone(), "--steps".into(), "1k".into()],
            "--steps 1000 differs from the journal's 500",
        ),
        (
            vec![dir.path().join("none").to_str().unwrap().into()],
            "cannot read journal",
        ),
    ];
    for (rest, want) in table {
        let mut args = vec!["max-rps".to_string(), "--resume".into()];
        args.extend(rest);
        let out = run_bounded(loadgen(&strs(&args)), Duration::from_secs(30));
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains(want),
            "{args:?}: {stderr:?} should contain {want:?}"
        );
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
    }
}
