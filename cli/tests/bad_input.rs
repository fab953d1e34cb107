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

#[test]
fn bad_steps_are_refused() {
    refused_run(
        &["--steps", "2k,1k"],
        "steps must be strictly ascending: 2000 then 1000",
    );
    refused_run(&["--steps", "0"], "step '0' must be > 0");
    refused_run(&["--steps", "abc"], "step 'abc' is not a rate");
    refused_run(&["--steps", ""], "empty step list");
}

#[test]
fn non_positive_slo_is_refused() {
    refused_run(&["--slo-p95", "0"], "must be > 0");
    refused_run(&["--slo-error-rate", "0"], "must be > 0");
}

#[test]
fn unknown_option_lists_the_valid_keys() {
    refused_run(
        &["-o", "capcity=10"],
        "unknown option 'capcity' for plugin synthetic (valid: capacity, base_latency, error_rate, stall_every, stall_for, max_in_flight, worker_threads)",
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
