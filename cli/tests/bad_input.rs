//! Bad input: one line on stderr, exit 2, never a panic trace.

mod common;

use std::time::Duration;

use common::{loadgen, plugin_dir, run_bounded, text};

/// Run with these extra args; assert exit 2 and a single `error:` line containing `want`.
fn refused(args: &[&str], want: &str) {
    let out = run_bounded(loadgen(args), Duration::from_secs(30));
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(
        stderr.contains(want),
        "{args:?}: {stderr:?} should contain {want:?}"
    );
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    let error_lines = stderr.lines().filter(|l| l.starts_with("error")).count();
    assert_eq!(error_lines, 1, "{args:?}: {stderr}");
}

fn max_rps(extra: &[&str]) -> Vec<String> {
    let mut args = vec![
        "max-rps",
        "--plugin",
        "synthetic",
        "--warmup",
        "0s",
        "--hold",
        "1s",
        "--quiet",
    ];
    args.extend_from_slice(extra);
    args.into_iter().map(String::from).collect()
}

fn refused_run(extra: &[&str], want: &str) {
    let args = max_rps(extra);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    refused(&args, want);
}

#[test]
fn unknown_plugin_lists_where_it_looked() {
    let out = run_bounded(
        loadgen(&["max-rps", "--plugin", "nosuch"]),
        Duration::from_secs(30),
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("error: unknown plugin 'nosuch': no libloadgen_plugin_nosuch.so in "),
        "{stderr}"
    );
    assert!(
        stderr.contains(&plugin_dir().display().to_string()),
        "{stderr}"
    );
    assert!(stderr.contains("target/debug"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

#[test]
fn a_file_that_is_not_a_plugin_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let text_file = dir.path().join("libloadgen_plugin_fake.so");
    std::fs::write(&text_file, "hello").unwrap();
    refused(
        &["max-rps", "--plugin", text_file.to_str().unwrap()],
        "is not a loadgen plugin",
    );
    // A real shared library that is not a loadgen plugin.
    let libc = [
        "/lib/x86_64-linux-gnu/libm.so.6",
        "/usr/lib/x86_64-linux-gnu/libm.so.6",
    ]
    .into_iter()
    .find(|p| std::path::Path::new(p).exists());
    if let Some(lib) = libc {
        refused(
            &["max-rps", "--plugin", lib],
            "exports no loadgen root module",
        );
    }
}

/// Run `max-rps --plugin synthetic` (quick phases, progress on) with `extra`:
/// exit 2 with exactly one line on stderr — the error — so no step ran.
fn refused_before_load(extra: &[&str], want: &str) {
    let mut args = vec!["max-rps"];
    let given = |flag: &str| {
        extra
            .iter()
            .any(|a| *a == flag || a.starts_with(&format!("{flag}=")))
    };
    let adaptive = extra.contains(&"adaptive");
    for (flag, value) in [
        ("--plugin", "synthetic"),
        ("--steps", "100"),
        ("--warmup", "0s"),
        ("--hold", "1s"),
        ("--cooldown", "0s"),
    ] {
        let left_to_the_search = adaptive && flag == "--steps";
        if !(given(flag) || left_to_the_search) {
            args.extend([flag, value]);
        }
    }
    args.extend_from_slice(extra);
    let out = run_bounded(loadgen(&args), Duration::from_secs(30));
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{extra:?}: {stderr}");
    assert!(stderr.starts_with("error: "), "{extra:?}: {stderr}");
    assert!(
        stderr.contains(want),
        "{extra:?}: {stderr:?} should contain {want:?}"
    );
    assert_eq!(stderr.lines().count(), 1, "{extra:?}: {stderr}");
    assert!(
        text(&out.stdout).is_empty(),
        "{extra:?}: no table, no ANSWER"
    );
}

#[test]
fn bad_plugin_flags_are_refused_before_any_load() {
    let table: &[(&[&str], &str)] = &[
        (&["-o", "capacity"], "expected KEY=VALUE, got 'capacity'"),
        (
            &["-o", "capcity=10"],
            "unknown option 'capcity' for plugin synthetic (valid: ",
        ),
        (
            &["-o", "capacity=abc"],
            "option 'capacity': 'abc' is not a whole number",
        ),
        (&["--preset", "medium"], "plugin synthetic has no presets"),
        (&["--seed=-1"], "invalid value '-1' for '--seed <SEED>'"),
        (&["--plugin", "nosuch"], "unknown plugin 'nosuch'"),
    ];
    for (args, want) in table {
        refused_before_load(args, want);
    }
}

#[test]
fn bad_rates_and_search_flags_are_refused_before_any_load() {
    let table: &[(&[&str], &str)] = &[
        (
            &["--steps", "1e30"],
            "step '1e30' is above the highest rate loadgen paces, 100000000 ops/s",
        ),
        (&["--steps", "1k,100000001"], "is above the highest rate"),
        (
            &["--steps", "2k,1k"],
            "steps must be strictly ascending: 2000 then 1000",
        ),
        (&["--steps", "0"], "step '0' must be > 0"),
        (&["--steps=-5"], "step '-5' must be > 0"),
        (&["--steps", "abc"], "step 'abc' is not a rate"),
        (&["--steps", "1.5"], "step '1.5' is not a rate"),
        (&["--steps", ""], "empty step list"),
        (
            &["--search", "binary"],
            "invalid value 'binary' for '--search <HOW>'",
        ),
        (
            &["--start-rps", "500"],
            "--start-rps only applies to --search adaptive",
        ),
        (
            &["--search", "adaptive", "--steps", "1k"],
            "--steps and --search adaptive conflict",
        ),
        (&["--growth", "1"], "must be > 1"),
        (&["--precision", "1"], "must be > 0 and < 1"),
        (&["--max-steps", "0"], "must be > 0"),
        (&["--confirm=-1"], "invalid value '-1' for '--confirm <N>'"),
    ];
    for (args, want) in table {
        refused_before_load(args, want);
    }
    let adaptive = |extra: &[&str], want: &str| {
        let mut args = vec!["max-rps", "--plugin", "synthetic", "--search", "adaptive"];
        args.extend_from_slice(extra);
        refused(&args, want);
    };
    adaptive(&["--max-rps", "200M"], "'200M' is not a rate");
    adaptive(&["--max-rps", "100000001"], "is above the highest rate");
    adaptive(
        &["--start-rps", "5k", "--max-rps", "1k"],
        "--start-rps 5000 is above --max-rps 1000",
    );
}

#[test]
fn bad_phases_are_refused_before_any_load() {
    let table: &[(&[&str], &str)] = &[
        (
            &["--hold", "0s"],
            "invalid value '0s' for '--hold <HOLD>': must be > 0",
        ),
        (
            &["--drain", "0"],
            "invalid value '0' for '--drain <DRAIN>': must be > 0",
        ),
        (&["--hold=-1s"], "'-1s' is not a duration"),
        (&["--warmup", "soon"], "'soon' is not a duration"),
        (&["--cooldown", "5"], "'5' is not a duration"),
    ];
    for (args, want) in table {
        refused_before_load(args, want);
    }
}

#[test]
fn bad_slo_flags_are_refused_before_any_load() {
    let table: &[(&[&str], &str)] = &[
        (&["--slo-p95", "0"], "must be > 0"),
        (&["--slo-p99", "0ms"], "must be > 0"),
        (&["--slo-error-rate", "0"], "must be > 0 and <= 1"),
        (&["--slo-error-rate", "1.5"], "must be > 0 and <= 1"),
        (&["--slo-loss-rate=-0.1"], "must be > 0 and <= 1"),
        (&["--slo-pending-growth", "0"], "must be > 0"),
        (&["--rate-tolerance", "1"], "must be > 0 and < 1"),
        (&["--scrape", "ftp://x"], "'ftp://x' is not an http:// URL"),
        (
            &["--slo-counter", "x <= 1"],
            "--slo-counter needs --scrape URL",
        ),
        (
            &[
                "--scrape",
                "http://127.0.0.1:1/m",
                "--slo-counter",
                "x{a=\"1\"} junk <= 1",
            ],
            "no comparison",
        ),
    ];
    for (args, want) in table {
        refused_before_load(args, want);
    }
}

#[test]
fn unwritable_outputs_are_refused_before_any_load() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no/such/dir");
    let at = |name: &str| missing.join(name).to_str().unwrap().to_string();
    let existing = dir.path().join("old.journal");
    std::fs::write(&existing, "{}\n").unwrap();
    let table: Vec<(Vec<String>, &str)> = vec![
        (vec!["--csv".into(), at("a.csv")], "cannot create "),
        (vec!["--json".into(), at("a.json")], "cannot create "),
        (vec!["--report".into(), at("a.html")], "cannot create "),
        (
            vec!["--journal".into(), at("a.journal")],
            "cannot create journal ",
        ),
        (
            vec!["--journal".into(), existing.to_str().unwrap().into()],
            "already exists: continue that run with --resume",
        ),
    ];
    for (args, want) in &table {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        refused_before_load(&args, want);
    }
}

#[test]
fn bad_config_files_are_refused_before_any_load() {
    let dir = tempfile::tempdir().unwrap();
    let file = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_string()
    };
    let table = [
        (file("a.toml", "hodl = '1s'"), "unknown key 'hodl' in "),
        (
            file("b.toml", "hold = 'soon'"),
            "b.toml: invalid value 'soon' for '--hold <HOLD>'",
        ),
        (
            file("c.toml", "steps = '1e30'"),
            "is above the highest rate",
        ),
        (
            file("d.toml", "[options]\ncapcity = 1"),
            "unknown option 'capcity'",
        ),
        (file("e.toml", "hold = "), "is not valid TOML"),
        (
            dir.path().join("none.toml").to_str().unwrap().to_string(),
            "cannot read ",
        ),
    ];
    for (path, want) in &table {
        refused_before_load(&["--config", path], want);
    }
}

#[test]
fn unknown_option_lists_the_valid_keys() {
    refused_run(
        &["-o", "capcity=10"],
        "unknown option 'capcity' for plugin synthetic (valid: capacity, base_latency, error_rate, stall_every, stall_for, max_in_flight, capacity_jitter, mix, worker_threads, fire_ahead)",
    );
    refused_run(&["--preset", "medium"], "plugin synthetic has no presets");
}

#[test]
fn bad_option_value_names_the_option() {
    refused_run(
        &["-o", "capacity=abc"],
        "option 'capacity': 'abc' is not a whole number",
    );
    refused_run(
        &["-o", "error_rate=2"],
        "option 'error_rate' must be between 0 and 1",
    );
}
