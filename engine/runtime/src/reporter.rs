//! The Reporter: live progress while the run goes, the final outputs at its end.
//!
//! Progress goes to stderr (a bar on a terminal, one line per finished step
//! everywhere); the table and the ANSWER go to stdout; `--csv`/`--json`/
//! `--report` files are created before the first step (a bad path is refused
//! before any load) and written when the run finishes, interrupted or not.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};

use crate::config::Outputs;
use crate::journal::Journal;
use crate::metrics::{LivePhase, MetricsMsg};
use crate::report::per_second::SecondUpdate;
use crate::report::{console, csv, html, json, RunReport, StepReport};
use crate::verdict::{fmt_ms, Breach, Verdict};

/// Where the run's results go.
#[derive(Debug, Default)]
pub struct ReportTargets {
    /// Print the table and ANSWER to stdout.
    pub console: bool,
    /// Show live progress on stderr.
    pub progress: bool,
    pub csv: Option<OutputFile>,
    pub json: Option<OutputFile>,
    /// The HTML page with the latency-vs-load chart.
    pub html: Option<OutputFile>,
}

impl ReportTargets {
    /// Create every output file now, so a missing directory or a read-only
    /// path is refused before the first step, not after a long run.
    pub fn open(outputs: &Outputs, console: bool) -> Result<ReportTargets, String> {
        let open = |path: &Option<PathBuf>| path.as_deref().map(OutputFile::create).transpose();
        Ok(ReportTargets {
            console,
            progress: console && !outputs.quiet,
            csv: open(&outputs.csv)?,
            json: open(&outputs.json)?,
            html: open(&outputs.report)?,
        })
    }
}

/// An output file, created (truncated) up front and written at the end.
#[derive(Debug)]
pub struct OutputFile {
    path: PathBuf,
    file: File,
}

impl OutputFile {
    pub fn create(path: &Path) -> Result<OutputFile, String> {
        let file =
            File::create(path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
        Ok(OutputFile {
            path: path.to_path_buf(),
            file,
        })
    }

    fn write(
        &self,
        render: impl FnOnce(&mut BufWriter<&File>) -> Result<(), String>,
    ) -> Result<(), String> {
        let mut w = BufWriter::new(&self.file);
        render(&mut w)?;
        w.flush()
            .map_err(|e| format!("cannot write {}: {e}", self.path.display()))
    }
}

/// What the ramp is doing, for the progress line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Hold,
    Drain,
}

impl Phase {
    fn label(self) -> &'static str {
        match self {
            Phase::Hold => "hold",
            Phase::Drain => "drain",
        }
    }
}

pub enum ReporterMsg {
    StepStarted {
        probe: u32,
        rps: u64,
        attempt: u32,
        phase_len: Duration,
    },
    Progress {
        phase: Phase,
        elapsed: Duration,
        achieved_rps: f64,
        p99: Option<Duration>,
    },
    /// One second of hold (the per-second series), for the live metrics.
    Second(Box<SecondUpdate>),
    StepFinished(Box<StepReport>),
    /// Every step reported so far (resumed ones included): what a run that
    /// must stop early still writes.
    Steps(RpcReplyPort<Vec<StepReport>>),
    /// Write the final outputs; replies with the first write error, if any.
    RunFinished(Box<RunReport>, RpcReplyPort<Result<(), String>>),
}

pub struct Reporter {
    pub targets: ReportTargets,
    /// The live endpoint (`--metrics-addr`), told every step event.
    pub metrics: Option<ActorRef<MetricsMsg>>,
}

pub struct ReporterState {
    bar: ProgressBar,
    rps: u64,
    journal: Option<Journal>,
    steps: Vec<StepReport>,
}

impl Reporter {
    fn tell_metrics(&self, msg: MetricsMsg) {
        if let Some(metrics) = &self.metrics {
            let _ = metrics.send_message(msg);
        }
    }
}

/// Print and write `report` where `targets` say (also `loadgen report`).
pub fn write_outputs(targets: &ReportTargets, report: &RunReport) -> Result<(), String> {
    if targets.console {
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        match console::print_report(&mut out, report, console_width()) {
            // The reader is gone (`| head`): what it did not read was not wanted.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
            other => other.map_err(|e| format!("cannot print the report: {e}"))?,
        }
    }
    if let Some(out) = &targets.csv {
        out.write(|w| csv::write_csv(w, report).map_err(|e| e.to_string()))?;
    }
    if let Some(out) = &targets.json {
        out.write(|w| json::write_json(w, report).map_err(|e| e.to_string()))?;
    }
    if let Some(out) = &targets.html {
        out.write(|w| html::write_html(w, report).map_err(|e| e.to_string()))?;
    }
    Ok(())
}

/// The terminal's width when stdout is one; [`console::DEFAULT_WIDTH`] for
/// a file or a pipe.
fn console_width() -> u16 {
    ::console::Term::stdout()
        .size_checked()
        .map_or(console::DEFAULT_WIDTH, |(_rows, cols)| cols)
}

fn step_line(step: &StepReport) -> String {
    let latency: Vec<String> = step
        .series
        .iter()
        .filter(|s| s.count > 0)
        .map(|s| format!("{} p99 {}", s.name, crate::report::ms_text(s.p99_ms)))
        .collect();
    let mut line = format!(
        "step {} rps: {} (achieved {:.0}/s{}{})",
        step.target_rps,
        step.verdict.label(),
        step.achieved_rps,
        if latency.is_empty() { "" } else { ", " },
        latency.join(", ")
    );
    // The reasons in full go once, in the Why block under the final table.
    let tags = why_tags(&step.verdict);
    if !tags.is_empty() {
        line.push_str(&format!(": {}", tags.join(", ")));
    }
    line
}

/// What broke, in a few words each (`E1 p99`, `err`, `backlog S/d`).
fn why_tags(verdict: &Verdict) -> Vec<String> {
    let mut tags: Vec<String> = match verdict {
        Verdict::Pass => Vec::new(),
        Verdict::Trip(breaches) => breaches
            .iter()
            .map(|b| match (b, b.subject()) {
                (Breach::Latency { .. } | Breach::NoSamples { .. }, Some(series)) => {
                    format!("{series} {}", b.short())
                }
                (_, Some(subject)) => format!("{} {subject}", b.short()),
                (_, None) => b.short().to_string(),
            })
            .collect(),
        Verdict::Inconclusive(doubt) => vec![doubt.short().to_string()],
    };
    tags.dedup();
    tags
}

impl Actor for Reporter {
    type Msg = ReporterMsg;
    type State = ReporterState;
    /// The run journal, if `--journal`/`--resume`, and the resumed steps.
    type Arguments = (Option<Journal>, Vec<StepReport>);

    async fn pre_start(
        &self,
        _myself: ActorRef<ReporterMsg>,
        (journal, steps): (Option<Journal>, Vec<StepReport>),
    ) -> Result<ReporterState, ActorProcessingErr> {
        let bar = if self.targets.progress {
            ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr())
        } else {
            ProgressBar::hidden()
        };
        bar.set_style(ProgressStyle::with_template("{prefix:>12} {msg}").expect("valid template"));
        Ok(ReporterState {
            bar,
            rps: 0,
            journal,
            steps,
        })
    }

    async fn handle(
        &self,
        _myself: ActorRef<ReporterMsg>,
        message: ReporterMsg,
        state: &mut ReporterState,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            ReporterMsg::StepStarted {
                probe,
                rps,
                attempt,
                phase_len,
            } => {
                state.rps = rps;
                self.tell_metrics(MetricsMsg::StepStarted { probe, rps });
                let again = if attempt > 1 { " (re-run)" } else { "" };
                state.bar.set_prefix(format!("#{probe} {rps}/s"));
                state.bar.set_message(format!(
                    "warmup {}{again}",
                    humantime::format_duration(phase_len)
                ));
            }
            ReporterMsg::Progress {
                phase,
                elapsed,
                achieved_rps,
                p99,
            } => {
                self.tell_metrics(MetricsMsg::Phase(match phase {
                    Phase::Hold => LivePhase::Hold,
                    Phase::Drain => LivePhase::Drain,
                }));
                let p99 = p99
                    .map(|d| format!(", p99 {}", fmt_ms(d)))
                    .unwrap_or_default();
                state.bar.set_message(match phase {
                    Phase::Drain => "drain: waiting for stragglers".to_string(),
                    _ => format!(
                        "{} {:.0}s, achieved {achieved_rps:.0}/s{p99}",
                        phase.label(),
                        elapsed.as_secs_f64()
                    ),
                });
            }
            ReporterMsg::Second(update) => self.tell_metrics(MetricsMsg::Second(update)),
            ReporterMsg::StepFinished(step) => {
                self.tell_metrics(MetricsMsg::StepFinished(step.verdict.kind()));
                if let Some(journal) = state.journal.as_mut() {
                    if let Err(e) = journal.record(&step) {
                        // Keep measuring: the run's own outputs still come at the end.
                        tracing::error!("{e}; journaling stops");
                        state.journal = None;
                    }
                }
                let line = step_line(&step);
                state.steps.push(*step);
                if self.targets.progress {
                    // Above the bar on a terminal; a plain line elsewhere.
                    if state.bar.is_hidden() {
                        eprintln!("{line}");
                    } else {
                        state.bar.println(line);
                    }
                }
            }
            ReporterMsg::Steps(reply) => {
                let _ = reply.send(state.steps.clone());
            }
            ReporterMsg::RunFinished(report, reply) => {
                state.bar.finish_and_clear();
                let _ = reply.send(write_outputs(&self.targets, &report));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixtures::step;

    #[test]
    fn step_lines_say_rate_verdict_and_why() {
        // The reasons in full are printed once, under the final table.
        assert_eq!(
            step_line(&step(4000, "TRIP")),
            "step 4000 rps: TRIP (achieved 3996/s, op p99 180ms): op p95"
        );
        assert_eq!(
            step_line(&step(4000, "INCONCLUSIVE")),
            "step 4000 rps: INCONCLUSIVE (achieved 3996/s, op p99 3.2ms): no ops"
        );
    }
}
