//! [`Loadgen`]: the real `loadgen` binary as a child process, under a hard
//! timeout, with its exit code, stdout and stderr captured and its `--json`
//! report parsed back into the engine's own serde type ([`RunReport`]), so a
//! change of the JSON shape fails here rather than in a user's script.
//!
//! ```no_run
//! # async fn demo(nats: &loadgen_e2e::NatsServer) -> anyhow::Result<()> {
//! use loadgen_e2e::loadgen::Loadgen;
//! let out = Loadgen::max_rps(nats, "messages")
//!     .args(["--steps", "500", "--warmup", "1s", "--hold", "3s"])
//!     .json()
//!     .run()
//!     .await?;
//! out.assert_no_panic();
//! assert_eq!(out.report()?.answer.max_rps, Some(500));
//! # Ok(()) }
//! ```

use std::ffi::{OsStr, OsString};
use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::Context as _;
use tempfile::TempDir;
use tokio::sync::mpsc;
use tokio::time::Instant;

pub use loadgen_core::report::{RunReport, StepReport};

use crate::{process, NatsServer};

/// Unless told otherwise, a run is killed after this long.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);
/// After a timeout: SIGTERM (loadgen prints what it has), then SIGKILL.
const TERM_GRACE: Duration = Duration::from_secs(3);

/// Environment a developer's shell may carry that would change a run.
const SCRUBBED_ENV: [&str; 6] = [
    "NATS_URL",
    "NATS_MONITORING_URL",
    "NATS_CREDS_FILE",
    "SITE_ID",
    "LOADGEN_PLUGIN_PATH",
    "RUST_LOG",
];

/// A `loadgen` invocation being put together: `NATS_URL` points at the
/// test's server, plugins come from the same target dir as the binary, and
/// nothing else is inherited from the caller's loadgen-related environment.
pub struct Loadgen {
    args: Vec<OsString>,
    env: Vec<(OsString, OsString)>,
    timeout: Duration,
    json: bool,
}

impl Loadgen {
    /// `loadgen ARGS…` against `nats`.
    pub fn new(nats: &NatsServer) -> Self {
        let mut env: Vec<(OsString, OsString)> = vec![("NATS_URL".into(), nats.url().into())];
        if let Some(tls) = nats.tls() {
            env.extend(tls.env().map(|(k, v)| (k.into(), v.into())));
        }
        Loadgen {
            args: Vec::new(),
            env,
            timeout: DEFAULT_TIMEOUT,
            json: false,
        }
    }

    /// `loadgen ARGS…` with no NATS server: for workloads that do not speak
    /// NATS (`http`). `NATS_URL` is still scrubbed from the caller's environment.
    pub fn standalone() -> Self {
        Loadgen {
            args: Vec::new(),
            env: Vec::new(),
            timeout: DEFAULT_TIMEOUT,
            json: false,
        }
    }

    /// One quick step (warmup 1 s, hold 3 s, no cooldown, JSON report) of
    /// `loadgen max-rps --plugin PLUGIN --steps RATE` against `nats`: the shape
    /// of every fault test; add what differs with [`Self::args`].
    pub fn one_step(nats: &NatsServer, plugin: &str, rate: &str) -> Self {
        Self::max_rps(nats, plugin)
            .args(["--steps", rate, "--warmup", "1s", "--hold", "3s"])
            .args(["--cooldown", "0s", "--quiet"])
            .json()
            .timeout(Duration::from_secs(90))
    }

    /// Short phases for capacity tests: warmup 1 s, `hold`, `drain`, quiet,
    /// JSON report.
    pub fn short_phases(self, hold: &str, drain: &str) -> Self {
        self.args([
            "--warmup", "1s", "--hold", hold, "--drain", drain, "--quiet",
        ])
        .json()
    }

    /// The SLO of the capacity tests: tight (p95 50 ms, p99 100 ms), so a rate a
    /// few percent over a FIFO server's capacity trips within a 2 s hold. Other
    /// tests keep the default SLO (p95 100 ms, p99 250 ms): wider margins on a busy box.
    pub fn tight_slo(self) -> Self {
        self.args(["--slo-p95", "50ms", "--slo-p99", "100ms"])
    }

    /// The adaptive search of the capacity tests: from `start_rps`, with a
    /// cooldown in which the queue a probe far over capacity leaves in the
    /// service drains, under a bound long enough for ~10 probes.
    pub fn adaptive_search(self, start_rps: u32) -> Self {
        self.args([
            "--search",
            "adaptive",
            "--start-rps",
            &start_rps.to_string(),
        ])
        .args(["--cooldown", "2s"])
        .timeout(Duration::from_secs(230))
    }

    /// `loadgen max-rps --plugin PLUGIN` against `nats`.
    pub fn max_rps(nats: &NatsServer, plugin: &str) -> Self {
        Self::new(nats).args(["max-rps", "--plugin", plugin])
    }

    /// `loadgen agent --nats URL --name NAME ARGS…` on `nats` (control
    /// plane), started and waiting for a coordinator. Killed on drop.
    pub async fn agent(nats: &NatsServer, name: &str, args: &[&str]) -> anyhow::Result<Running> {
        let mut agent = Self::new(nats)
            .args(["agent", "--nats", &nats.url(), "--name", name])
            .args(args)
            .timeout(Duration::from_secs(300))
            .spawn()?;
        agent
            .wait_for_stderr("the agent waiting", Duration::from_secs(20), |l| {
                l.contains("waiting for a coordinator")
            })
            .await?;
        Ok(agent)
    }

    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    /// Sets an environment variable (after the defaults, so it can override
    /// `NATS_URL`).
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.env
            .push((key.as_ref().to_owned(), value.as_ref().to_owned()));
        self
    }

    /// Write `--json` to a temp file and parse it into [`RunOutput::report`].
    pub fn json(mut self) -> Self {
        self.json = true;
        self
    }

    /// The hard bound: past it the process is stopped and the run is an error.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Runs to completion (or to the timeout).
    pub async fn run(self) -> anyhow::Result<RunOutput> {
        self.spawn()?.finish().await
    }

    /// Starts the process, for tests that act on it while it runs
    /// ([`Running::wait_for_stderr`]).
    pub fn spawn(self) -> anyhow::Result<Running> {
        let bin_dir = bin_dir()?;
        let binary = bin_dir.join("loadgen");
        anyhow::ensure!(
            binary.is_file(),
            "{} not found; run `cargo build --workspace` first",
            binary.display()
        );
        let dir = tempfile::Builder::new()
            .prefix("loadgen-e2e-run-")
            .tempdir()?;
        let json_path = self.json.then(|| dir.path().join("report.json"));

        let mut cmd = Command::new(&binary);
        cmd.args(&self.args);
        if let Some(path) = &json_path {
            cmd.arg("--json").arg(path);
        }
        for key in SCRUBBED_ENV {
            cmd.env_remove(key);
        }
        cmd.env("LOADGEN_PLUGIN_PATH", &bin_dir)
            // The user's plugin directory: empty, so a developer's installed
            // plugins never take part (a test may point it elsewhere).
            .env("XDG_DATA_HOME", dir.path())
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // SAFETY: prctl is async-signal-safe and touches no memory of ours.
        unsafe {
            cmd.pre_exec(|| {
                // No loadgen outlives a test process that died without destructors.
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let mut child = cmd
            .spawn()
            .with_context(|| format!("spawning {}", binary.display()))?;
        let (lines_tx, lines) = mpsc::unbounded_channel();
        let stdout = child.stdout.take().context("stdout piped")?;
        let stderr = child.stderr.take().context("stderr piped")?;
        let stdout = std::thread::spawn(move || read_all(stdout));
        let stderr = std::thread::spawn(move || read_lines(stderr, lines_tx));
        Ok(Running {
            command: describe(&self.args),
            child: Some(child),
            started: Instant::now(),
            deadline: Instant::now() + self.timeout,
            timeout: self.timeout,
            stdout: Some(stdout),
            stderr: Some(stderr),
            lines,
            json_path,
            _dir: dir,
        })
    }
}

/// A `loadgen` process in flight. Killed by PID on drop (panics included).
pub struct Running {
    command: String,
    /// `None` once reaped.
    child: Option<Child>,
    started: Instant,
    deadline: Instant,
    timeout: Duration,
    /// Reader threads; each returns all it read at EOF.
    stdout: Option<JoinHandle<String>>,
    stderr: Option<JoinHandle<String>>,
    /// stderr, line by line, as it is written.
    lines: mpsc::UnboundedReceiver<String>,
    json_path: Option<PathBuf>,
    /// Holds the `--json` file and the working directory.
    _dir: TempDir,
}

impl Running {
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Waits (within `timeout` and the run's own bound) for a stderr line
    /// matching `pred` and returns it; lines before it are skipped here but
    /// still appear in [`RunOutput::stderr`].
    pub async fn wait_for_stderr(
        &mut self,
        what: &str,
        timeout: Duration,
        pred: impl Fn(&str) -> bool,
    ) -> anyhow::Result<String> {
        let until = self.deadline.min(Instant::now() + timeout);
        loop {
            match tokio::time::timeout_at(until, self.lines.recv()).await {
                Ok(Some(line)) if pred(&line) => return Ok(line),
                Ok(Some(_)) => {}
                Ok(None) => anyhow::bail!("{}: exited before {what}", self.command),
                Err(_) => anyhow::bail!("{}: no {what} on stderr in time", self.command),
            }
        }
    }

    /// Waits for the exit, up to the run's hard bound; past it the process
    /// gets SIGTERM, then SIGKILL, and the result is an error carrying the
    /// output so far.
    pub async fn finish(mut self) -> anyhow::Result<RunOutput> {
        let mut child = self.child.take().context("already finished")?;
        let left = self.deadline.saturating_duration_since(Instant::now());
        let status = process::wait_exit(&mut child, left).await;
        if status.is_none() {
            // loadgen prints what finished on SIGTERM; SIGKILL if it does not stop.
            process::signal(&mut child, libc::SIGTERM);
            if process::wait_exit(&mut child, TERM_GRACE).await.is_none() {
                process::kill_now(&mut child);
            }
        }
        let elapsed = self.started.elapsed();
        let stdout = join(self.stdout.take()).await;
        let stderr = join(self.stderr.take()).await;
        let Some(status) = status else {
            anyhow::bail!(
                "{} did not finish within {:?}; stdout:\n{stdout}\nstderr:\n{}",
                self.command,
                self.timeout,
                tail(&stderr, 30)
            );
        };
        let report = match &self.json_path {
            Some(path) if path.exists() => Some(
                read_report(path)
                    .with_context(|| format!("{}: stderr:\n{}", self.command, tail(&stderr, 30)))?,
            ),
            _ => None,
        };
        Ok(RunOutput {
            command: std::mem::take(&mut self.command),
            status,
            elapsed,
            stdout,
            stderr,
            report,
        })
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            process::kill_now(&mut child);
        }
    }
}

/// What a finished run left behind.
#[derive(Debug)]
pub struct RunOutput {
    /// The command line, for messages.
    pub command: String,
    pub status: ExitStatus,
    pub elapsed: Duration,
    pub stdout: String,
    pub stderr: String,
    /// The `--json` report, when asked for and written.
    pub report: Option<RunReport>,
}

impl RunOutput {
    /// The exit code; `None` if a signal ended the process.
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }

    /// The parsed `--json` report; an error with the output if there is none.
    pub fn report(&self) -> anyhow::Result<&RunReport> {
        self.report
            .as_ref()
            .with_context(|| format!("no JSON report; {self}"))
    }

    /// The report's steps (empty without a report).
    pub fn steps(&self) -> &[StepReport] {
        self.report.as_ref().map_or(&[], |r| r.steps.as_slice())
    }

    /// Each rate's final step, in order: an INCONCLUSIVE step followed by its
    /// re-run is left out (a busy 2-core box may stall a step; the re-run is
    /// the verdict that counts, as the ANSWER does).
    pub fn final_steps(&self) -> Vec<&StepReport> {
        let steps = self.steps();
        steps
            .iter()
            .enumerate()
            .filter(|(i, s)| {
                steps
                    .get(i + 1)
                    .is_none_or(|next| next.target_rps != s.target_rps)
            })
            .map(|(_, s)| s)
            .collect()
    }

    /// `(target_rps, verdict)` of [`Self::final_steps`].
    pub fn final_verdicts(&self) -> Vec<(u64, &str)> {
        self.final_steps()
            .into_iter()
            .map(|s| (s.target_rps, s.verdict.label()))
            .collect()
    }

    /// stderr lines starting with `error:`.
    pub fn error_lines(&self) -> Vec<&str> {
        self.stderr
            .lines()
            .filter(|l| l.starts_with("error:"))
            .collect()
    }

    /// The `ANSWER: …` line of stdout.
    pub fn answer_line(&self) -> Option<&str> {
        self.stdout.lines().find(|l| l.starts_with("ANSWER:"))
    }

    /// The only `error:` line of a run refused before any load: exit 2, one
    /// line, no step run (and no panic).
    pub fn refused_line(&self) -> &str {
        self.assert_no_panic();
        assert_eq!(self.code(), Some(2), "a configuration error: {self}");
        let errors = self.error_lines();
        let [line] = errors.as_slice() else {
            panic!("one error line expected; {self}")
        };
        assert!(self.answer_line().is_none(), "no step ran: {self}");
        line
    }

    /// The final verdict of each step, in order, and the ANSWER (and no panic).
    pub fn assert_ladder(&self, verdicts: &[(u64, &str)], max_rps: u64) -> anyhow::Result<()> {
        self.assert_no_panic();
        assert_eq!(self.final_verdicts(), verdicts, "{self}");
        assert_eq!(self.report()?.answer.max_rps, Some(max_rps), "{self}");
        Ok(())
    }

    /// The ANSWER lies within [0.95, 1.02] × `capacity` (and no panic).
    pub fn assert_answer_near(&self, capacity: u32) -> anyhow::Result<()> {
        self.assert_no_panic();
        let answer = self.report()?.answer.max_rps.unwrap_or(0) as f64;
        let (low, high) = (0.95 * capacity as f64, 1.02 * capacity as f64);
        assert!(
            (low..=high).contains(&answer),
            "answer {answer} outside [{low}, {high}]; {self}"
        );
        Ok(())
    }

    /// The run's only step, which must have TRIPped with a reason starting
    /// with `reason` (and no panic, exit 1: nothing passed).
    pub fn tripped_step(&self, reason: &str) -> &StepReport {
        self.assert_no_panic();
        assert_eq!(self.code(), Some(1), "no step passed; {self}");
        let [step] = self.steps() else {
            panic!("one step expected; {self}")
        };
        assert_eq!(step.verdict.label(), "TRIP", "{self}");
        assert!(
            step.reasons().iter().any(|r| r.starts_with(reason)),
            "a reason starting {reason:?} expected: {:?}",
            step.reasons()
        );
        step
    }

    /// No panic: not 101, not killed by a signal, no "panicked" on stderr.
    pub fn assert_no_panic(&self) {
        assert!(
            !self.stderr.contains("panicked"),
            "a panic was reported; {self}"
        );
        assert_ne!(self.code(), Some(101), "exit 101 (panic); {self}");
        assert!(
            self.status.signal().is_none(),
            "ended by signal {:?}; {self}",
            self.status.signal()
        );
    }
}

/// The command, its status and both outputs: for assertion messages.
impl std::fmt::Display for RunOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "`{}` ended with {} after {:.1?}\n--- stdout ---\n{}\n--- stderr (last 30 lines) ---\n{}",
            self.command,
            self.status,
            self.elapsed,
            self.stdout,
            tail(&self.stderr, 30)
        )
    }
}

/// Where `loadgen` and the plugins it loads are: `<target>/debug`, the
/// target dir being `CARGO_TARGET_DIR` or `<workspace>/target`.
pub fn bin_dir() -> anyhow::Result<PathBuf> {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .context("workspace root")?;
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| workspace.join("target"), PathBuf::from);
    let target = if target.is_relative() {
        workspace.join(target)
    } else {
        target
    };
    Ok(target.join("debug"))
}

fn read_report(path: &Path) -> anyhow::Result<RunReport> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| {
        format!(
            "{} does not parse as the engine's RunReport:\n{text}",
            path.display()
        )
    })
}

fn read_all(mut from: impl Read) -> String {
    let mut raw = Vec::new();
    from.read_to_end(&mut raw).ok();
    String::from_utf8_lossy(&raw).into_owned()
}

/// Collects every line, and forwards each as it comes (while anyone listens).
fn read_lines(from: impl Read, tx: mpsc::UnboundedSender<String>) -> String {
    let mut all = String::new();
    for line in BufReader::new(from).lines() {
        let Ok(line) = line else { break };
        all.push_str(&line);
        all.push('\n');
        let _ = tx.send(line);
    }
    all
}

/// A reader thread's text, waited for off the async runtime.
async fn join(reader: Option<JoinHandle<String>>) -> String {
    let Some(reader) = reader else {
        return String::new();
    };
    tokio::task::spawn_blocking(move || reader.join().unwrap_or_default())
        .await
        .unwrap_or_default()
}

fn describe(args: &[OsString]) -> String {
    let args: Vec<_> = args.iter().map(|a| a.to_string_lossy()).collect();
    format!("loadgen {}", args.join(" "))
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
