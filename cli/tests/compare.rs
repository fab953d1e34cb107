//! `loadgen compare` and `max-rps --baseline` on real runs of the synthetic
//! plugin: a capacity drop (3000 → 2600 ops/s) is significant and fails its
//! criterion with exit 3; two runs of one capacity with jitter are `~`; a
//! killed run's journal compares like its JSON report. Holds are 4 s: a rank
//! test over 3 seconds a side can never reach p < 0.05.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use common::{loadgen, run_bounded, text};
use serde_json::Value;

const LIMIT: Duration = Duration::from_secs(180);

/// A ladder on the synthetic plugin with 1 s warmups and 4 s holds, quiet.
fn ladder(capacity: u64, steps: &str, extra: &[&str]) -> Command {
    let capacity = format!("capacity={capacity}");
    let mut cmd = loadgen(&[
        "max-rps",
        "--plugin",
        "synthetic",
        "-o",
        &capacity,
        "--steps",
        steps,
        "--warmup",
        "1s",
        "--hold",
        "4s",
        "--drain",
        "300ms",
        "--cooldown",
        "0s",
        "--quiet",
    ]);
    cmd.args(extra);
    cmd
}

fn path(dir: &Path, name: &str) -> String {
    dir.join(name)
        .to_str()
        .expect("a UTF-8 temp path")
        .to_string()
}

fn read_json(path: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn compare(args: &[&str]) -> Output {
    let mut all = vec!["compare"];
    all.extend(args);
    run_bounded(loadgen(&all), Duration::from_secs(30))
}

fn assert_valid_junit(path: &str) {
    let xsd = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../compare/tests/fixtures/junit.xsd");
    let out = Command::new("xmllint")
        .args(["--noout", "--schema"])
        .arg(&xsd)
        .arg(path)
        .output()
        .expect("xmllint runs (Debian libxml2-utils; scripts/install-deps installs it)");
    assert!(
        out.status.success(),
        "{path} is not valid JUnit:\n{}\n{}",
        text(&out.stderr),
        std::fs::read_to_string(path).unwrap_or_default()
    );
}

fn schema_errors(report: &Value) -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/compare.schema.json");
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("a valid JSON Schema");
    validator
        .iter_errors(report)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

/// One line on stderr, exit 2.
fn assert_refused(out: &Output, words: &str) {
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(err.contains(words), "{err}");
}

#[test]
fn a_capacity_drop_is_significant_and_fails_its_criterion() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| path(dir.path(), name);
    let steps = "1k,2k,2400,2800,3200";
    let base = run_bounded(
        ladder(
            3000,
            steps,
            &[
                "--json",
                &p("base.json"),
                "--journal",
                &p("base.journal"),
                "--junit",
                &p("base.xml"),
                "--markdown",
                &p("base.md"),
            ],
        ),
        LIMIT,
    );
    assert_eq!(base.status.code(), Some(0), "{}", text(&base.stderr));
    // max-rps --junit alone: each step a case, the TRIP a failure.
    assert_valid_junit(&p("base.xml"));
    let junit = std::fs::read_to_string(p("base.xml")).unwrap();
    assert_eq!(junit.matches("<testcase ").count(), 5, "{junit}");
    assert_eq!(junit.matches(r#"type="TRIP""#).count(), 1, "{junit}");
    let md = std::fs::read_to_string(p("base.md")).unwrap();
    assert!(
        md.starts_with("### loadgen max-rps synthetic: max RPS = 2800"),
        "{md}"
    );

    // A baseline of another capacity is refused before any load starts.
    let started = Instant::now();
    let refused = run_bounded(
        ladder(2600, steps, &["--baseline", &p("base.json")]),
        Duration::from_secs(30),
    );
    assert_refused(&refused, "-o capacity 3000 vs 2600");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "refused up front"
    );

    // Run and compare in one command.
    let new = run_bounded(
        ladder(
            2600,
            steps,
            &[
                "--json",
                &p("new.json"),
                "--baseline",
                &p("base.json"),
                "--force",
                "--fail-on",
                "capacity < -5%",
                "--junit",
                &p("new.xml"),
                "--markdown",
                &p("new.md"),
            ],
        ),
        LIMIT,
    );
    let printed = text(&new.stdout);
    assert_eq!(
        new.status.code(),
        Some(3),
        "{printed}\n{}",
        text(&new.stderr)
    );
    assert!(printed.contains("ANSWER: max RPS = 2400"), "{printed}");
    assert!(printed.contains("  FAIL  capacity < -5%"), "{printed}");
    assert_valid_junit(&p("new.xml"));
    let junit = std::fs::read_to_string(p("new.xml")).unwrap();
    assert!(
        junit.contains(r#"<testsuite name="loadgen compare""#),
        "{junit}"
    );
    assert!(
        junit.contains(r#"<testsuite name="loadgen max-rps synthetic""#),
        "{junit}"
    );
    let md = std::fs::read_to_string(p("new.md")).unwrap();
    assert!(
        md.starts_with("### loadgen compare: ❌ 1 of 1 criteria failed"),
        "{md}"
    );
    assert!(
        md.contains("### loadgen max-rps synthetic: max RPS = 2400"),
        "{md}"
    );

    // The same from the two files.
    let refused = compare(&[&p("base.json"), &p("new.json")]);
    assert_refused(
        &refused,
        "the runs differ in -o capacity 3000 vs 2600: their capacities are not comparable",
    );
    let out = compare(&[
        &p("base.json"),
        &p("new.json"),
        "--force",
        "--fail-on",
        "capacity < -5%",
        "--fail-on",
        "p99 > +10%",
        "--json",
        &p("c.json"),
        "--junit",
        &p("c.xml"),
        "--markdown",
        &p("c.md"),
    ]);
    let printed = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{printed}\n{}",
        text(&out.stderr)
    );
    let c = read_json(&p("c.json"));
    assert_eq!(schema_errors(&c), Vec::<String>::new());
    let cap = &c["capacity"];
    assert_eq!(cap["base"]["answer"], 2800, "{printed}");
    assert_eq!(cap["new"]["answer"], 2400, "{printed}");
    assert_eq!(cap["change"]["significant"], true, "{printed}");
    assert!(cap["change"]["relative"].as_f64().unwrap() < -0.05);
    // Higher p99 at a rate both ran, and significant.
    let p99_up = c["rates"].as_array().unwrap().iter().any(|r| {
        r["series"].as_array().unwrap().iter().any(|s| {
            s["p99"]["significant"] == true && s["p99"]["relative"].as_f64().unwrap() > 0.10
        })
    });
    assert!(p99_up, "{printed}");
    assert_eq!(c["criteria"][0]["broken_at"][0]["at"], "capacity");
    assert_valid_junit(&p("c.xml"));
    assert!(std::fs::read_to_string(p("c.md"))
        .unwrap()
        .contains("| capacity (ops/s) | 2800 [2800, 3200), 1/1 trials held | 2400 [2400, 2800), 1/1 trials held |"));

    // The base run's journal reads as its JSON report.
    let from_journal = compare(&[
        &p("base.journal"),
        &p("new.json"),
        "--force",
        "--json",
        &p("cj.json"),
    ]);
    assert_eq!(
        from_journal.status.code(),
        Some(0),
        "no criteria, no failure"
    );
    let cj = read_json(&p("cj.json"));
    assert_eq!(cj["capacity"], c["capacity"]);
    assert_eq!(cj["rates"], c["rates"]);
}

#[test]
fn the_same_capacity_with_jitter_is_no_change() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| path(dir.path(), name);
    let run = |seed: &str, json: &str| {
        ladder(
            3000,
            "1k,2k,4k",
            &["-o", "capacity_jitter=0.05", "--seed", seed, "--json", json],
        )
        .spawn()
        .expect("loadgen starts")
    };
    let (a, b) = (run("1", &p("a.json")), run("2", &p("b.json")));
    for child in [a, b] {
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    }
    let out = compare(&[
        &p("a.json"),
        &p("b.json"),
        "--fail-on",
        "capacity < -5%",
        "--json",
        &p("c.json"),
    ]);
    let printed = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{printed}\n{}",
        text(&out.stderr)
    );
    assert!(
        printed.contains(
            "capacity: 2000 [2000, 4000), 1/1 trials held -> 2000 [2000, 4000), 1/1 trials held: ~"
        ),
        "{printed}"
    );
    assert!(printed.contains("  ok    capacity < -5%"), "{printed}");
    let c = read_json(&p("c.json"));
    assert_eq!(c["capacity"]["change"]["significant"], false);
    assert_eq!(
        c["differences"],
        serde_json::json!([]),
        "the seed may differ"
    );
}

#[test]
fn a_killed_runs_journal_compares_like_its_json() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| path(dir.path(), name);
    let steps = "1k,2k,4k";
    let finished = ladder(3000, steps, &["--json", &p("done.json")])
        .spawn()
        .expect("loadgen starts");
    let mut killed = ladder(
        3000,
        steps,
        &[
            "--json",
            &p("killed.json"),
            "--journal",
            &p("killed.journal"),
        ],
    )
    .spawn()
    .expect("loadgen starts");
    let deadline = Instant::now() + Duration::from_secs(60);
    let lines = || std::fs::read_to_string(p("killed.journal")).map_or(0, |t| t.lines().count());
    while lines() < 3 {
        assert!(
            Instant::now() < deadline,
            "two steps never reached the journal"
        );
        if killed.try_wait().unwrap().is_some() {
            panic!("the run ended before it could be interrupted");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: kill(2) on the child we spawned.
    unsafe { libc::kill(killed.id() as i32, libc::SIGINT) };
    let out = killed.wait_with_output().unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        text(&out.stderr)
    );
    let out = finished.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));

    let json = |from: &str, to: &str| {
        let out = compare(&[&p("done.json"), &p(from), "--json", &p(to)]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        read_json(&p(to))
    };
    let (a, b) = (
        json("killed.json", "a.json"),
        json("killed.journal", "b.json"),
    );
    assert_eq!(a["capacity"]["new"]["interrupted"], true);
    assert_eq!(a["capacity"], b["capacity"]);
    assert_eq!(a["rates"], b["rates"]);
    assert!(!a["rates"].as_array().unwrap().is_empty());
}

#[test]
fn bad_criteria_and_files_are_one_line_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let missing = path(dir.path(), "missing.json");
    let table: &[(&[&str], &str)] = &[
        (
            &["a.json", "b.json", "--fail-on", "latency > 5%"],
            "unknown metric 'latency' (one of: capacity, p50, p95, p99, error_rate, loss_rate, backlog_growth)",
        ),
        (
            &["a.json", "b.json", "--fail-on", "p99 > lots"],
            "'lots' is not a number",
        ),
        (&[&missing, &missing], "cannot read"),
    ];
    for (args, words) in table {
        assert_refused(&compare(args), words);
    }
    let out = run_bounded(
        ladder(3000, "1k", &["--fail-on", "capacity < -5%"]),
        Duration::from_secs(30),
    );
    assert_refused(&out, "--fail-on needs --baseline BASE.json");
}
