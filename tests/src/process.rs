//! Child-process plumbing shared by [`crate::NatsServer`] and
//! [`crate::Testbed`]: spawn with output to a log file and a parent-death
//! signal, wait without blocking the runtime, stop by PID.

use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

use anyhow::Context as _;
use tokio::time::Instant;

/// Spawns `cmd` with stdout and stderr appended to `log`. The child gets
/// SIGKILL if the test process dies without running destructors, so no
/// server outlives a crashed test.
pub fn spawn(mut cmd: Command, log: &Path) -> anyhow::Result<Child> {
    let out = File::options()
        .create(true)
        .append(true)
        .open(log)
        .with_context(|| format!("opening {}", log.display()))?;
    let err = out.try_clone()?;
    cmd.stdin(Stdio::null()).stdout(out).stderr(err);
    // SAFETY: prctl is async-signal-safe and touches no memory of ours.
    unsafe {
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
    cmd.spawn()
        .with_context(|| format!("spawning {:?}", cmd.get_program()))
}

/// Sends `signal` to the child by its PID (only if it has not been reaped).
pub fn signal(child: &mut Child, signal: libc::c_int) {
    if matches!(child.try_wait(), Ok(None)) {
        // SAFETY: kill(2) on a PID we spawned and have not reaped yet.
        unsafe {
            libc::kill(child.id() as libc::pid_t, signal);
        }
    }
}

/// Waits up to `timeout` for the child to exit, polling so the async
/// runtime is never blocked.
pub async fn wait_exit(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        if Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// SIGKILL and reap, synchronously: for `Drop`.
pub fn kill_now(child: &mut Child) {
    child.kill().ok();
    child.wait().ok();
}

/// The last `lines` lines of a log file, for failure messages.
pub fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Finds an executable on `PATH`, then in the given extra directories.
pub fn find_executable(name: &str, extra: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(extra.iter().map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}
