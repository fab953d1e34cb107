//! [`run`]: one whole `max-rps` run, from starting the workload to the outputs.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use ractor::{Actor, ActorRef, OutputPort};
use tokio::sync::oneshot;

use crate::clock::Monotonic;
use crate::collector::CollectorHandle;
use crate::config::RunConfig;
use crate::journal::Journal;
use crate::metrics::{Metrics, MetricsMsg};
use crate::pending::BacklogSource;
use crate::plugin::{LoadError, LoadedPlugin};
use crate::ramp::machine::StepMachine;
use crate::ramp::{RampArgs, RampController, RampMsg, RampOutcome};
use crate::report::outputs::ReportTargets;
use crate::report::{search_answer, AgentReport, RunReport, SearchReport, StepReport};
use crate::reporter::{LiveSender, Reporter, ReporterMsg};
use crate::search::{Bracket, Finished, Outcome, Probe, Search, Stop};
use crate::supervisor::Restarted;

mod generator;

pub use generator::{start_workload, stop_workload, Engine, Generator, RemoteLoad};

/// How long a plugin may take to shut down before the run stops waiting.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(10);
/// Bound on the questions the run asks its actors.
const ASK_TIMEOUT: Duration = Duration::from_secs(10);

/// Everything a run needs.
pub struct RunSpec {
    pub plugin: LoadedPlugin,
    /// Resolved ([`RunConfig::resolve`]): every rate named.
    pub config: RunConfig,
    /// Where finished steps are journaled (`--journal`, `--resume`).
    pub journal: Option<Journal>,
    /// The steps a resumed run had finished (from its journal).
    pub resumed: Vec<StepReport>,
    /// Print the table, the ANSWER and (unless quiet) progress.
    pub console: bool,
    /// Where the plugin's sink finds the collector (kept current across
    /// restarts). A test holding a clone can reach the live collector.
    pub collector: CollectorHandle,
    /// The live Prometheus endpoint's socket (`--metrics-addr`), bound by the
    /// caller; served while the run lasts.
    pub metrics: Option<std::net::TcpListener>,
    /// Where the load comes from if not a workload in this process: the
    /// distributed crate's fleet of `loadgen agent`s (`--agents N`).
    pub remote: Option<Box<dyn RemoteLoad>>,
    /// A live view (the CLI's terminal UI) told every progress event; the
    /// reporter then draws no progress of its own.
    pub live: Option<LiveSender>,
}

impl RunSpec {
    /// A fresh run of `config` (resolved): no journal, no console.
    pub fn new(plugin: LoadedPlugin, config: RunConfig) -> RunSpec {
        RunSpec {
            plugin,
            config,
            journal: None,
            resumed: Vec::new(),
            console: false,
            collector: CollectorHandle::default(),
            metrics: None,
            remote: None,
            live: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The workload would not start (bad option value, unreachable service):
    /// a configuration error.
    #[error(transparent)]
    Start(#[from] LoadError),
    /// Something the run needs is unreachable or misconfigured (e.g. NATS,
    /// an output path), found before any load.
    #[error("{0}")]
    Config(String),
    #[error("{0}")]
    Engine(String),
    #[error("{0}")]
    Output(String),
}

/// Start the workload, ramp, report. `cancel` resolving ends the run early
/// with the steps finished so far, marked interrupted.
pub async fn run(
    mut spec: RunSpec,
    cancel: impl Future<Output = ()> + Send,
) -> Result<RunReport, RunError> {
    let (search, upcoming) = resume_search(&spec.config, &spec.resumed)?;
    let collector = spec.collector.clone();
    let generator = generator::start(&spec, collector.clone()).await?;
    // The series are known now: `--slo-series` must name one of them, and
    // the plugin's own limits go under the user's, before any load.
    spec.config = match spec.config.clone().with_series(generator.series()) {
        Ok(config) => config,
        Err(e) => {
            generator.stop().await;
            return Err(RunError::Config(e));
        }
    };
    // Outputs are created once the workload has started (a refused start
    // leaves no empty files behind) and before the first step (a bad path is
    // refused before any load).
    let targets = match ReportTargets::open(&spec.config.outputs, spec.console) {
        Ok(targets) => targets,
        Err(e) => {
            generator.stop().await;
            return Err(RunError::Config(e));
        }
    };
    let journal = spec.journal.take();
    let metrics = match spec.metrics.take() {
        Some(listener) => Some(start_metrics(listener).await?),
        None => None,
    };
    let result = match backlog_source(generator.as_ref()).await {
        Ok(backlog) => {
            let machine = StepMachine::new(spec.config.clone(), search, upcoming);
            let parts = Parts {
                targets,
                journal,
                machine,
                generator: generator.as_ref(),
                collector,
                backlog,
                metrics: metrics.as_ref().map(|(actor, _)| actor.clone()),
            };
            ramp_and_report(&spec, parts, cancel).await
        }
        Err(e) => Err(RunError::Config(format!("backlog signal: {e}"))),
    };
    if let Some((actor, handle)) = metrics {
        // The endpoint closes with the run.
        actor.stop(None);
        let _ = handle.await;
    }
    generator.stop().await;
    result
}

async fn start_metrics(
    listener: std::net::TcpListener,
) -> Result<(ActorRef<MetricsMsg>, tokio::task::JoinHandle<()>), RunError> {
    let listener = listener
        .set_nonblocking(true)
        .and_then(|_| tokio::net::TcpListener::from_std(listener))
        .map_err(|e| RunError::Config(format!("--metrics-addr: {e}")))?;
    Actor::spawn(None, Metrics, listener)
        .await
        .map_err(|e| RunError::Engine(format!("metrics endpoint failed to start: {e}")))
}

/// Can `resumed` be continued under `config`? (A dry run of what [`run`]
/// does first: lets a caller refuse before it prints or opens anything.)
pub fn check_resume(config: &RunConfig, resumed: &[StepReport]) -> Result<(), String> {
    resume_search(config, resumed)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// The search, told the steps a killed run finished; its next probe is where
/// this run goes on. The one place a resumed run is replayed.
fn resume_search(config: &RunConfig, resumed: &[StepReport]) -> Result<(Search, Probe), RunError> {
    let mut search = config.search();
    let finished: Vec<Finished> = resumed.iter().map(StepReport::finished).collect();
    let next = search.resume(&finished).map_err(RunError::Config)?;
    if let (Probe::Done(_), false) = (&next, resumed.is_empty()) {
        return Err(RunError::Config(format!(
            "the journal's run already finished ({} steps): nothing to resume",
            resumed.len()
        )));
    }
    Ok((search, next))
}

/// The JetStream durables the workload feeds, if it names any.
async fn backlog_source(generator: &dyn Generator) -> Result<Option<Arc<BacklogSource>>, String> {
    let durables = generator.durables()?;
    if durables.is_empty() {
        return Ok(None);
    }
    let source = BacklogSource::from_env(durables).await?;
    // A signal that is broken before the first step would only make every
    // step INCONCLUSIVE: say so now, as a configuration error.
    source.read().await?;
    Ok(Some(Arc::new(source)))
}

/// What the ramp and the reporter are built from.
struct Parts<'a> {
    targets: ReportTargets,
    journal: Option<Journal>,
    machine: StepMachine,
    generator: &'a dyn Generator,
    collector: CollectorHandle,
    backlog: Option<Arc<BacklogSource>>,
    metrics: Option<ActorRef<MetricsMsg>>,
}

/// Run the ramp with the reporter beside it, until it finishes or `cancel`
/// fires, and write the report: the steps a dead ramp finished included.
async fn ramp_and_report(
    spec: &RunSpec,
    parts: Parts<'_>,
    cancel: impl Future<Output = ()> + Send,
) -> Result<RunReport, RunError> {
    let engine_err =
        |e: &dyn std::fmt::Display| RunError::Engine(format!("engine failed to start: {e}"));
    let reporter = Reporter {
        targets: parts.targets,
        metrics: parts.metrics,
        live: spec.live.clone(),
        slo: spec.config.slo.clone(),
    };
    let (reporter, reporter_handle) =
        Actor::spawn(None, reporter, (parts.journal, spec.resumed.clone()))
            .await
            .map_err(|e| engine_err(&e))?;
    let restarts = Arc::new(OutputPort::default());
    let engine = parts
        .generator
        .engine(spec, parts.collector, parts.backlog, &restarts)
        .await
        .map_err(|e| engine_err(&e))?;
    let (done_tx, done_rx) = oneshot::channel();
    let ramp = RampController {
        reporter: reporter.clone(),
        plugin: engine.series(),
        clock: Arc::new(Monotonic),
    };
    let args = RampArgs {
        machine: parts.machine,
        children: engine.children().clone(),
        resumed: spec.resumed.clone(),
        done: done_tx,
    };
    let ramp = start_ramp(ramp, args, engine.as_ref(), &restarts).await;
    let outcome = ramp_outcome(ramp.as_ref(), done_rx, cancel).await;
    engine.shutdown().await;

    // A ramp that died still leaves the steps it finished: write them.
    let failed = outcome.is_none();
    let outcome = match outcome {
        Some(outcome) => outcome,
        None => stopped_outcome(&reporter).await,
    };
    let report = run_report(spec, outcome, parts.generator.agents());
    let written = ractor::call!(reporter, |reply| ReporterMsg::RunFinished(
        Box::new(report.clone()),
        reply
    ))
    .map_err(|e| RunError::Engine(format!("reporter failed: {e}")))?;
    reporter.stop(None);
    let _ = reporter_handle.await;
    written.map_err(RunError::Output)?;
    if failed {
        return Err(RunError::Engine(
            "the ramp controller stopped without a result; the finished steps were written".into(),
        ));
    }
    Ok(report)
}

/// Spawn the ramp and subscribe it to the children's restarts; a restart
/// before it subscribed is told to it at once. `None`: it failed to start.
async fn start_ramp(
    ramp: RampController,
    args: RampArgs,
    engine: &dyn Engine,
    restarts: &OutputPort<Restarted>,
) -> Option<ActorRef<RampMsg>> {
    let first = args.children.clone();
    match Actor::spawn(None, ramp, args).await {
        Ok((ramp, _)) => {
            restarts.subscribe(ramp.clone(), |r| Some(RampMsg::ChildRestarted(r)));
            if let Some(now) = engine.children_now(&ramp, &first).await {
                let _ = ramp.send_message(RampMsg::ChildRestarted(Restarted {
                    child: loadgen_core::verdict::Child::Any,
                    reason: "restarted while the run started".into(),
                    children: now,
                }));
            }
            Some(ramp)
        }
        Err(e) => {
            tracing::error!("the ramp controller failed to start: {e}");
            None
        }
    }
}

/// The ramp's outcome: when it finishes, or after it was cancelled.
/// `None`: it never started, or died without one.
async fn ramp_outcome(
    ramp: Option<&ActorRef<RampMsg>>,
    mut done: oneshot::Receiver<RampOutcome>,
    cancel: impl Future<Output = ()> + Send,
) -> Option<RampOutcome> {
    let ramp = ramp?;
    tokio::select! {
        outcome = &mut done => outcome.ok(),
        _ = cancel => {
            let _ = ramp.send_message(RampMsg::Cancel);
            done.await.ok()
        }
    }
}

/// The run's report from the ramp's outcome.
fn run_report(spec: &RunSpec, outcome: RampOutcome, agents: Vec<AgentReport>) -> RunReport {
    let search = SearchReport {
        plan: spec.config.plan(),
        outcome: outcome.search,
    };
    RunReport {
        schema_version: crate::report::SCHEMA_VERSION,
        settings: spec.config.redacted(&spec.plugin.description),
        plugin_version: spec.plugin.description.version.clone(),
        answer: search_answer(&outcome.steps, &search),
        steps: outcome.steps,
        interrupted: outcome.interrupted,
        search: Some(search),
        agents,
    }
}

/// What a run whose ramp died has: the steps the reporter saw, interrupted.
async fn stopped_outcome(reporter: &ActorRef<ReporterMsg>) -> RampOutcome {
    let steps: Vec<StepReport> =
        ractor::call_t!(reporter, ReporterMsg::Steps, ASK_TIMEOUT.as_millis() as u64)
            .unwrap_or_default();
    RampOutcome {
        search: Outcome::bare(Bracket::default(), Stop::Interrupted, steps.len() as u32),
        steps,
        interrupted: true,
    }
}
