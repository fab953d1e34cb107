//! `loadgen plugins list` and `loadgen plugins info NAME`.

mod common;

use std::time::Duration;

use common::{loadgen, run_bounded, text};

#[test]
fn list_shows_every_plugin_found_once() {
    let out = run_bounded(loadgen(&["plugins", "list"]), Duration::from_secs(30));
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    for name in ["echo", "synthetic"] {
        let rows = stdout
            .lines()
            .filter(|l| l.starts_with(&format!("{name} ")))
            .count();
        assert_eq!(rows, 1, "{name} listed once: {stdout}");
    }
}

#[test]
fn info_lists_series_default_steps_and_options() {
    let out = run_bounded(
        loadgen(&["plugins", "info", "synthetic"]),
        Duration::from_secs(30),
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.starts_with("synthetic "), "{stdout}");
    assert!(stdout.contains("series:        op"), "{stdout}");
    assert!(
        stdout.contains("default steps: 1k,2k,5k,10k,20k"),
        "{stdout}"
    );
    for option in [
        "capacity",
        "base_latency",
        "error_rate",
        "stall_every",
        "stall_for",
        "max_in_flight",
        "worker_threads",
    ] {
        assert!(
            stdout.lines().any(|l| l.trim_start().starts_with(option)),
            "{option}: {stdout}"
        );
    }
    assert!(stdout.contains("[1000]"), "defaults are shown: {stdout}");
    assert!(stdout.contains("error reasons: synthetic"), "{stdout}");
    for counter in ["attempted", "errors", "lost", "saturated"] {
        assert!(
            stdout
                .lines()
                .any(|l| l.trim_start().starts_with(&format!("{counter} "))),
            "counter {counter}: {stdout}"
        );
    }

    let out = run_bounded(
        loadgen(&["plugins", "info", "nosuch"]),
        Duration::from_secs(30),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).starts_with("error: unknown plugin 'nosuch'"));
}
