//! [`Testbed`]: the real `chat-testbed` binary as a child process.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus};
use std::time::Duration;

use anyhow::Context as _;
use chat_testbed::Info;
use tempfile::TempDir;

use crate::{process, NatsServer};

const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// A running `chat-testbed`, pointed at a [`NatsServer`]. Killed by PID on
/// drop (its log is printed if the test is panicking).
pub struct Testbed {
    child: Option<Child>,
    info: Info,
    /// Holds the log file; deleted on drop.
    dir: TempDir,
}

impl Testbed {
    /// Starts the testbed with `args` on top of `--nats-url` (and
    /// `--metrics-addr 127.0.0.1:0` unless `args` names one), then waits
    /// until it answers `testbed.info`.
    pub async fn start(nats: &NatsServer, args: &[&str]) -> anyhow::Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("loadgen-e2e-testbed-")
            .tempdir()?;
        let mut cmd = Command::new(binary()?);
        cmd.args(["--nats-url", &nats.url()])
            .env("RUST_LOG", "info")
            .env_remove("SITE_ID");
        if !args.iter().any(|a| a.starts_with("--metrics-addr")) {
            cmd.args(["--metrics-addr", "127.0.0.1:0"]);
        }
        cmd.args(args);
        let log = dir.path().join("chat-testbed.log");
        let mut child = process::spawn(cmd, &log)?;
        let client = nats.client().await?;
        let probe = ready(&mut child, &client).await;
        match probe {
            Ok(info) => Ok(Testbed {
                child: Some(child),
                info,
                dir,
            }),
            Err(e) => {
                process::kill_now(&mut child);
                anyhow::bail!("{e:#}; log:\n{}", process::tail(&log, 30))
            }
        }
    }

    /// What the testbed reported on `testbed.info`.
    pub fn info(&self) -> &Info {
        &self.info
    }

    /// `http://…/metrics` when metrics are served.
    pub fn metrics_url(&self) -> Option<String> {
        self.info
            .metrics_addr
            .map(|a| format!("http://{a}/metrics"))
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// The testbed's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// SIGTERM, then waits up to `timeout` for the exit; an error (and a
    /// SIGKILL) if it takes longer.
    pub async fn stop_within(&mut self, timeout: Duration) -> anyhow::Result<ExitStatus> {
        let mut child = self.child.take().context("testbed already stopped")?;
        process::signal(&mut child, libc::SIGTERM);
        match process::wait_exit(&mut child, timeout).await {
            Some(status) => Ok(status),
            None => {
                process::kill_now(&mut child);
                anyhow::bail!(
                    "chat-testbed did not exit within {timeout:?} of SIGTERM; log:\n{}",
                    process::tail(&self.log_path(), 30)
                )
            }
        }
    }

    /// SIGTERM and wait (10 s bound).
    pub async fn stop(&mut self) -> anyhow::Result<ExitStatus> {
        self.stop_within(Duration::from_secs(10)).await
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("chat-testbed.log")
    }
}

impl Drop for Testbed {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "--- chat-testbed log (last 30 lines) ---\n{}",
                process::tail(&self.log_path(), 30)
            );
        }
        if let Some(mut child) = self.child.take() {
            process::kill_now(&mut child);
        }
    }
}

/// Asks `testbed.info` until it answers, the child exits, or time is up.
async fn ready(child: &mut Child, client: &async_nats::Client) -> anyhow::Result<Info> {
    let deadline = tokio::time::Instant::now() + READY_TIMEOUT;
    while tokio::time::Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            anyhow::bail!("chat-testbed exited during start: {status}");
        }
        let ask = client.request(chat_testbed::INFO_SUBJECT, "".into());
        match tokio::time::timeout(Duration::from_millis(500), ask).await {
            Ok(Ok(msg)) => {
                return serde_json::from_slice(&msg.payload).context("testbed.info reply")
            }
            _ => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
    anyhow::bail!("chat-testbed did not answer testbed.info within {READY_TIMEOUT:?}")
}

/// The `chat-testbed` binary in the cargo target dir (`CARGO_TARGET_DIR`
/// or `<workspace>/target`), debug or release, whichever is newer.
pub fn binary() -> anyhow::Result<PathBuf> {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .context("workspace root")?
        .to_path_buf();
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| workspace.join("target"), PathBuf::from);
    let target = if target.is_relative() {
        workspace.join(target)
    } else {
        target
    };
    let candidates = ["debug", "release"].map(|profile| target.join(profile).join("chat-testbed"));
    let newest = candidates
        .iter()
        .filter_map(|p| Some((p.metadata().ok()?.modified().ok()?, p.clone())))
        .max()
        .map(|(_, p)| p);
    let found = newest.with_context(|| {
        format!(
            "chat-testbed binary not found (looked for {}); run `cargo build --workspace` (or `cargo build -p chat-testbed`) first",
            candidates.map(|p| p.display().to_string()).join(", ")
        )
    })?;
    warn_if_stale(&found, &workspace);
    Ok(found)
}

/// A binary older than its sources tests yesterday's code; say so (the
/// harness cannot build it: cargo holds the build lock while tests run).
fn warn_if_stale(binary: &Path, workspace: &Path) {
    fn newest_source(dir: &Path) -> Option<std::time::SystemTime> {
        std::fs::read_dir(dir)
            .ok()?
            .flatten()
            .filter_map(|e| {
                let path = e.path();
                if path.is_dir() {
                    newest_source(&path)
                } else {
                    e.metadata().ok()?.modified().ok()
                }
            })
            .max()
    }
    let built = binary.metadata().and_then(|m| m.modified()).ok();
    let sources = ["testbed/src", "fixtures/src"]
        .iter()
        .filter_map(|d| newest_source(&workspace.join(d)))
        .max();
    if let (Some(built), Some(sources)) = (built, sources) {
        if sources > built {
            eprintln!(
                "warning: {} is older than its sources; run `cargo build -p chat-testbed`",
                binary.display()
            );
        }
    }
}
