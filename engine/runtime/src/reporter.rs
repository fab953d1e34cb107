//! The Reporter: live progress while the run goes, the final outputs at its end.
//!
//! Progress goes to stderr (a bar on a terminal, one line per finished step
//! everywhere); the table and the ANSWER go to stdout; `--csv`/`--json`/
//! `--report` files are created before the first step (a bad path is refused
//! before any load) and written when the run finishes, interrupted or not.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use loadgen_core::ramp::Phase;
use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};

use crate::journal::Journal;
use crate::metrics::MetricsMsg;
use crate::report::outputs::{write_outputs, ReportTargets};
use crate::report::per_second::{SecondPoint, SecondUpdate};
use crate::report::{RunReport, StepReport};
use crate::search::ChosenBy;
use crate::verdict::{fmt_ms, Breach, Slo, Verdict};

/// The run as it goes, for a live view outside the engine (the CLI's
/// terminal UI): the figures the reporter itself shows, as data. Serde so a
/// run can be recorded and replayed (the TUI's tests).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum LiveEvent {
    /// The run's limits, once the plugin's series are known.
    Started {
        slo: Box<Slo>,
    },
    /// A step's warmup began.
    StepStarted {
        probe: u32,
        rps: u64,
        attempt: u32,
        chosen_by: ChosenBy,
        warmup: Duration,
        hold: Duration,
    },
    /// Hold began (elapsed 0), went on, or drain began.
    Phase {
        phase: Phase,
        elapsed: Duration,
        achieved_rps: f64,
    },
    /// One second of hold.
    Second(Box<SecondPoint>),
    StepFinished(Box<StepReport>),
}

/// Where a live view listens; a closed receiver is ignored.
pub type LiveSender = std::sync::mpsc::Sender<LiveEvent>;

pub enum ReporterMsg {
    StepStarted {
        probe: u32,
        rps: u64,
        attempt: u32,
        chosen_by: ChosenBy,
        /// Warmup.
        phase_len: Duration,
        hold_len: Duration,
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
    /// A live view (the terminal UI), told every event; while one is set
    /// the reporter draws nothing on stderr itself.
    pub live: Option<LiveSender>,
    /// The run's limits, for the per-second line.
    pub slo: Slo,
}

pub struct ReporterState {
    bar: ProgressBar,
    /// The step in progress: probe, rate and hold length.
    probe: u32,
    rps: u64,
    hold: Duration,
    journal: Option<Journal>,
    steps: Vec<StepReport>,
}

impl Reporter {
    fn tell_metrics(&self, msg: MetricsMsg) {
        if let Some(metrics) = &self.metrics {
            let _ = metrics.send_message(msg);
        }
    }

    fn tell_live(&self, event: impl FnOnce() -> LiveEvent) {
        if let Some(live) = &self.live {
            let _ = live.send(event());
        }
    }

    /// Plain lines on stderr: progress wanted, no bar (not a terminal) and no live view.
    fn plain_lines(&self, state: &ReporterState) -> bool {
        self.targets.progress && self.live.is_none() && state.bar.is_hidden()
    }
}

/// The per-second line on stderr when it is not a terminal: `key=value`
/// fields in a fixed order, one line per second of hold, for grep and awk.
/// e.g. `second probe=2 target=4000/s t=3/10s achieved=3990/s failures=0
/// op.p50=2.1ms op.p99=8.4ms/250ms backlog.q=7`.
pub fn second_line(probe: u32, rps: u64, hold: Duration, point: &SecondPoint, slo: &Slo) -> String {
    let mut line = format!(
        "second probe={probe} target={rps}/s t={:.0}/{}s achieved={:.0}/s failures={}",
        point.t_s,
        hold.as_secs(),
        point.achieved_rps,
        point.failures
    );
    for s in &point.series {
        let (_, p99_limit) = slo.limits(&s.name);
        line.push_str(&format!(
            " {name}.p50={p50} {name}.p99={p99}/{limit}",
            name = s.name,
            p50 = crate::report::ms_text(s.p50_ms),
            p99 = crate::report::ms_text(s.p99_ms),
            limit = fmt_ms(p99_limit),
        ));
    }
    for (name, value) in point.backlog.iter() {
        line.push_str(&format!(" backlog.{name}={value}"));
    }
    line
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
        let bar = if self.targets.progress && self.live.is_none() {
            ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr())
        } else {
            ProgressBar::hidden()
        };
        bar.set_style(ProgressStyle::with_template("{prefix:>12} {msg}").expect("valid template"));
        self.tell_live(|| LiveEvent::Started {
            slo: Box::new(self.slo.clone()),
        });
        // A resumed run's finished steps are the view's first rows.
        for step in &steps {
            self.tell_live(|| LiveEvent::StepFinished(Box::new(step.clone())));
        }
        Ok(ReporterState {
            bar,
            probe: 0,
            rps: 0,
            hold: Duration::ZERO,
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
                chosen_by,
                phase_len,
                hold_len,
            } => {
                state.probe = probe;
                state.rps = rps;
                state.hold = hold_len;
                self.tell_live(|| LiveEvent::StepStarted {
                    probe,
                    rps,
                    attempt,
                    chosen_by,
                    warmup: phase_len,
                    hold: hold_len,
                });
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
                self.tell_live(|| LiveEvent::Phase {
                    phase,
                    elapsed,
                    achieved_rps,
                });
                self.tell_metrics(MetricsMsg::Phase(phase));
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
            ReporterMsg::Second(update) => {
                if self.plain_lines(state) {
                    eprintln!(
                        "{}",
                        second_line(state.probe, state.rps, state.hold, &update.point, &self.slo)
                    );
                }
                self.tell_live(|| LiveEvent::Second(Box::new(update.point.clone())));
                self.tell_metrics(MetricsMsg::Second(update));
            }
            ReporterMsg::StepFinished(step) => {
                self.tell_live(|| LiveEvent::StepFinished(step.clone()));
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
                if self.targets.progress && self.live.is_none() {
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

    #[test]
    fn a_second_line_has_every_figure_as_key_value() {
        use crate::report::per_second::SeriesSecond;
        let point = SecondPoint {
            t_s: 3.0,
            achieved_rps: 3990.4,
            failures: 2,
            series: vec![SeriesSecond {
                name: "op".into(),
                count: 3990,
                p50_ms: 2.1,
                p99_ms: 8.4,
                service_p50_ms: 1.0,
                service_p99_ms: 4.0,
            }],
            backlog: std::collections::BTreeMap::from([("q".to_string(), 7)]).into(),
        };
        assert_eq!(
            second_line(2, 4000, Duration::from_secs(10), &point, &Slo::default()),
            "second probe=2 target=4000/s t=3/10s achieved=3990/s failures=2 \
             op.p50=2.1ms op.p99=8.4ms/250ms backlog.q=7"
        );
    }
}
