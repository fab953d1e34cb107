//! Running the real `loadgen` binary against the real plugin libraries.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The workspace's debug target dir, where `cargo build --workspace` puts the plugins.
pub fn plugin_dir() -> PathBuf {
    let dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"))
        .join("debug");
    for plugin in ["synthetic", "echo"] {
        let lib = dir.join(format!("libloadgen_plugin_{plugin}.so"));
        assert!(
            lib.is_file(),
            "{} is missing: run `cargo build --workspace` before the tests",
            lib.display()
        );
    }
    dir
}

/// `loadgen` with the plugin path set and no terminal progress.
pub fn loadgen(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_loadgen"));
    cmd.args(args)
        .env("LOADGEN_PLUGIN_PATH", plugin_dir())
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// Run to completion, killing the process if it outlives `limit`.
pub fn run_bounded(mut cmd: Command, limit: Duration) -> Output {
    let mut child = cmd.spawn().expect("loadgen starts");
    let deadline = Instant::now() + limit;
    loop {
        if child.try_wait().expect("wait works").is_some() {
            return child.wait_with_output().expect("output is readable");
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().expect("output is readable");
            panic!(
                "loadgen ran longer than {limit:?}\nstdout:\n{}\nstderr:\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `max-rps` on the synthetic plugin (capacity 3000) over 1k,2k,4k with short
/// phases (the 4k step trips), then `extra`. Index 6 is the steps, 10 the hold.
pub fn quick_ramp(extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = [
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
    ]
    .map(String::from)
    .to_vec();
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

/// `max-rps --search adaptive --start-rps 500` on the synthetic plugin with
/// `capacity`, warmup 1 s, no cooldown, a backlog gate of 50, quiet, the JSON
/// report to `json`; then `extra` (hold, drain, plugin options …).
pub fn adaptive_synthetic(capacity: u64, json: &std::path::Path, extra: &[&str]) -> Command {
    let capacity = format!("capacity={capacity}");
    let mut cmd = loadgen(&[
        "max-rps",
        "--plugin",
        "synthetic",
        "-o",
        &capacity,
        "--search",
        "adaptive",
        "--start-rps",
        "500",
        "--warmup",
        "1s",
        "--cooldown",
        "0s",
        "--slo-pending-growth",
        "50",
        "--quiet",
        "--json",
        json.to_str().expect("a UTF-8 temp path"),
    ]);
    cmd.args(extra);
    cmd
}
