//! The live terminal view, end to end: `loadgen max-rps` under a pseudo-
//! terminal (script(1), util-linux), `q` pressed in the second step's hold:
//! the run stops like SIGINT (report written, marked interrupted, the
//! finished step kept), and the terminal is restored (alternate screen left,
//! cursor shown) before the table is printed.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use loadgen_e2e::loadgen::{bin_dir, RunReport};

/// Everything here is bounded: the run is killed after this long.
const BOUND: Duration = Duration::from_secs(90);

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// How the test stops the run in the second step's hold.
#[derive(Clone, Copy, Debug)]
enum Stop {
    /// `q` typed on the terminal.
    Key,
    /// `kill -TERM` to loadgen.
    Term,
}

/// What a stopped run left: its exit status, the bytes the terminal got,
/// the report, and how long it took to stop.
struct Stopped {
    code: Option<i32>,
    screen: Vec<u8>,
    report: RunReport,
    stopped_in: Duration,
}

/// loadgen's pid: the only child of script(1) (the shell `exec`s it).
fn only_child(pid: u32) -> Option<i32> {
    let children = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).ok()?;
    children.split_whitespace().next()?.parse().ok()
}

fn run_and_stop(stop: Stop) -> Stopped {
    if Command::new("script").arg("--version").output().is_err() {
        panic!("script(1) from util-linux is needed (bsdutils on Debian)");
    }
    let bin = bin_dir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("run.json");
    let journal = dir.path().join("run.journal");
    let loadgen = format!(
        "{} max-rps --plugin synthetic --steps 100,200 --warmup 1s --hold 4s --drain 1s \
         --cooldown 0s --json {} --journal {}",
        shell_quote(&bin.join("loadgen").display().to_string()),
        shell_quote(&json.display().to_string()),
        shell_quote(&journal.display().to_string()),
    );
    let mut child = Command::new("script")
        .args(["-q", "-e", "-f", "-c"])
        .arg(format!("stty rows 30 cols 100; exec {loadgen}"))
        .arg("/dev/null")
        .env("LOADGEN_PLUGIN_PATH", &bin)
        .env("XDG_DATA_HOME", dir.path())
        .env("TERM", "xterm-256color")
        .env_remove("RUST_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut all = Vec::new();
        let _ = stdout.read_to_end(&mut all);
        all
    });

    // The journal has its header and the first step: the second step is
    // warming up (1 s); two seconds on, it is in its 4 s hold.
    let start = Instant::now();
    let steps_journaled = || {
        std::fs::read_to_string(&journal)
            .map(|t| t.lines().count().saturating_sub(1))
            .unwrap_or(0)
    };
    while steps_journaled() < 1 {
        assert!(start.elapsed() < BOUND, "the first step never finished");
        assert!(child.try_wait().unwrap().is_none(), "loadgen ended early");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(2000));
    let pressed = Instant::now();
    match stop {
        Stop::Key => child.stdin.as_mut().unwrap().write_all(b"q").unwrap(),
        Stop::Term => {
            let loadgen = only_child(child.id()).expect("loadgen runs under script");
            // SAFETY: a plain kill(2) of the process this test started.
            assert_eq!(unsafe { libc::kill(loadgen, libc::SIGTERM) }, 0);
        }
    }

    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > BOUND {
            let _ = child.kill();
            panic!("loadgen did not stop after {stop:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stopped_in = pressed.elapsed();
    drop(child.stdin.take());
    let screen = reader.join().unwrap();
    let report = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    Stopped {
        code: status.code(),
        screen,
        report,
        stopped_in,
    }
}

fn assert_stopped_and_restored(stop: Stop) {
    let run = run_and_stop(stop);
    let screen = &run.screen;
    let text = String::from_utf8_lossy(screen);
    // Stopped in the hold, not at its natural end (4 s hold, 1 s drain).
    assert!(
        run.stopped_in < Duration::from_secs(3),
        "{:?}\n{text}",
        run.stopped_in
    );
    assert_eq!(run.code, Some(0), "a step passed\n{text}");
    assert!(run.report.interrupted, "the report says interrupted");
    let rates: Vec<(u64, &str)> = run
        .report
        .steps
        .iter()
        .map(|s| (s.target_rps, s.verdict.label()))
        .collect();
    assert_eq!(rates, vec![(100, "PASS")], "the finished step is kept");

    // The view was on the alternate screen, and left it; the cursor is shown.
    let find_last = |needle: &[u8]| screen.windows(needle.len()).rposition(|w| w == needle);
    let entered = find_last(b"\x1b[?1049h").expect("the alternate screen was entered");
    let left = find_last(b"\x1b[?1049l").expect("the alternate screen was left");
    assert!(left > entered);
    let shown = find_last(b"\x1b[?25h").expect("the cursor is shown");
    let hidden = find_last(b"\x1b[?25l").unwrap_or(0);
    assert!(shown > hidden, "the cursor is shown at the end");
    assert!(text.contains("q / Ctrl-C"), "the view was drawn\n{text}");
    // The table and ANSWER come after it, on the normal screen.
    let after = String::from_utf8_lossy(&screen[left..]);
    assert!(after.contains("ANSWER"), "{after}");
    assert!(after.contains("interrupted"), "{after}");
}

#[test]
fn q_mid_hold_stops_the_run_writes_the_report_and_restores_the_terminal() {
    assert_stopped_and_restored(Stop::Key);
}

#[test]
fn kill_term_mid_hold_restores_the_terminal_too() {
    assert_stopped_and_restored(Stop::Term);
}

/// Not a terminal: no view, one `key=value` line per second of hold on
/// stderr, with the same figures (target, achieved, latency against the SLO,
/// failures, backlog).
#[tokio::test]
async fn a_pipe_gets_one_greppable_line_per_second_of_hold() {
    let out = loadgen_e2e::loadgen::Loadgen::standalone()
        .args(["max-rps", "--plugin", "synthetic", "--steps", "100"])
        .args([
            "--warmup",
            "1s",
            "--hold",
            "3s",
            "--drain",
            "1s",
            "--cooldown",
            "0s",
        ])
        .timeout(BOUND)
        .run()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", out.stderr);
    assert!(
        !out.stderr.contains('\x1b') && !out.stdout.contains('\x1b'),
        "no view on a pipe"
    );
    let seconds: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("second "))
        .collect();
    assert!((3..=4).contains(&seconds.len()), "{}", out.stderr);
    let first = seconds[0];
    for field in [
        "probe=0 ",
        "target=100/s ",
        "t=1/3s ",
        "failures=0 ",
        "/250ms",
    ] {
        assert!(first.contains(field), "{field} in {first}");
    }
    let achieved: f64 = first
        .split(' ')
        .find_map(|f| f.strip_prefix("achieved="))
        .and_then(|v| v.strip_suffix("/s"))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("achieved=N/s in {first}"));
    assert!((50.0..=150.0).contains(&achieved), "{first}");
    assert!(first.contains(".p99="), "{first}");
}
