//! [`run`]: one whole `max-rps` run, from starting the workload to the outputs.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use loadgen_plugin_api::abi::HostConfig;
use ractor::Actor;
use tokio::sync::oneshot;

use crate::journal::Journal;
use crate::pending::{BacklogSource, Durable};
use crate::plugin::sink::HostSink;
use crate::plugin::{LoadError, LoadedPlugin, Workload};
use crate::ramp::{RampArgs, RampConfig, RampController, RampMsg};
use crate::report::{search_answer, RunReport, RunSettings, SearchReport};
use crate::reporter::{ReportTargets, Reporter, ReporterMsg};

/// How long a plugin may take to shut down before the run stops waiting.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(10);

/// Everything a run needs.
pub struct RunSpec {
    pub plugin: LoadedPlugin,
    pub host: HostConfig,
    pub ramp: RampConfig,
    pub settings: RunSettings,
    pub outputs: ReportTargets,
    /// Where finished steps are journaled (`--journal`, `--resume`).
    pub journal: Option<Journal>,
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The workload would not start (bad option value, unreachable service):
    /// a configuration error.
    #[error(transparent)]
    Start(#[from] LoadError),
    /// Something the run needs is unreachable or misconfigured (e.g. NATS).
    #[error("{0}")]
    Config(String),
    #[error("{0}")]
    Engine(String),
    #[error("{0}")]
    Output(String),
}

/// Distinguishes the collectors of runs sharing a process (tests).
static RUNS: AtomicU64 = AtomicU64::new(0);

/// Start the workload, ramp, report. `cancel` resolving ends the run early
/// with the steps finished so far, marked interrupted.
pub async fn run(
    mut spec: RunSpec,
    cancel: impl Future<Output = ()> + Send,
) -> Result<RunReport, RunError> {
    let collector_name = format!(
        "loadgen-collector-{}-{}",
        std::process::id(),
        RUNS.fetch_add(1, Ordering::Relaxed)
    );
    let workload = start_workload(&spec.plugin, &spec.host, &collector_name).await?;
    let journal = spec.journal.take();
    let result = match backlog_source(&workload).await {
        Ok(backlog) => {
            ramp_and_report(
                &spec,
                journal,
                Arc::clone(&workload),
                collector_name,
                backlog,
                cancel,
            )
            .await
        }
        Err(e) => Err(RunError::Config(format!("backlog signal: {e}"))),
    };
    stop_workload(workload).await;
    result
}

async fn start_workload(
    plugin: &LoadedPlugin,
    host: &HostConfig,
    collector_name: &str,
) -> Result<Arc<Workload>, RunError> {
    let (plugin, host, sink) = (
        plugin.clone(),
        host.clone(),
        HostSink::new(collector_name.to_string()),
    );
    // `start` blocks while the plugin connects: keep it off the async workers.
    tokio::task::spawn_blocking(move || Workload::start(&plugin, &host, sink))
        .await
        .map_err(|e| RunError::Engine(format!("plugin start panicked: {e}")))?
        .map_err(RunError::Start)
}

async fn stop_workload(workload: Arc<Workload>) {
    let stopping = tokio::task::spawn_blocking(move || workload.shutdown());
    match tokio::time::timeout(SHUTDOWN_TIMEOUT, stopping).await {
        Ok(Ok(Ok(()))) => {}
        Ok(Ok(Err(e))) => tracing::warn!("plugin shutdown failed: {e}"),
        Ok(Err(e)) => tracing::warn!("plugin shutdown panicked: {e}"),
        Err(_) => tracing::warn!("plugin did not shut down within {SHUTDOWN_TIMEOUT:?}"),
    }
}

/// The JetStream durables the workload feeds, if it names any.
async fn backlog_source(workload: &Workload) -> Result<Option<Arc<BacklogSource>>, String> {
    let durables: Vec<Durable> = workload
        .pending_targets()?
        .into_iter()
        .map(|t| Durable {
            stream: t.stream.into_string(),
            durable: t.durable.into_string(),
        })
        .collect();
    if durables.is_empty() {
        return Ok(None);
    }
    let source = BacklogSource::from_env(durables).await?;
    // A signal that is broken before the first step would only make every
    // step INCONCLUSIVE: say so now, as a configuration error.
    source.read().await?;
    Ok(Some(Arc::new(source)))
}

async fn ramp_and_report(
    spec: &RunSpec,
    journal: Option<Journal>,
    workload: Arc<Workload>,
    collector_name: String,
    backlog: Option<Arc<BacklogSource>>,
    cancel: impl Future<Output = ()> + Send,
) -> Result<RunReport, RunError> {
    let engine_err =
        |e: &dyn std::fmt::Display| RunError::Engine(format!("engine failed to start: {e}"));
    let reporter = Reporter {
        targets: spec.outputs.clone(),
    };
    let (reporter, reporter_handle) = Actor::spawn(None, reporter, journal)
        .await
        .map_err(|e| engine_err(&e))?;
    let (done_tx, mut done_rx) = oneshot::channel();
    let ramp = RampController {
        config: spec.ramp.clone(),
        workload,
        collector_name,
        reporter: reporter.clone(),
        backlog,
    };
    let (ramp, _) = Actor::spawn(None, ramp, RampArgs { done: done_tx })
        .await
        .map_err(|e| engine_err(&e))?;

    let outcome = tokio::select! {
        outcome = &mut done_rx => outcome,
        _ = cancel => {
            let _ = ramp.send_message(RampMsg::Cancel);
            done_rx.await
        }
    }
    .map_err(|_| RunError::Engine("the ramp controller stopped without a result".into()))?;

    let search = SearchReport {
        plan: spec.ramp.plan.clone(),
        outcome: outcome.search,
    };
    let report = RunReport {
        settings: spec.settings.clone(),
        answer: search_answer(&outcome.steps, &search),
        steps: outcome.steps,
        interrupted: outcome.interrupted,
        search: Some(search),
    };
    let written = ractor::call!(reporter, |reply| ReporterMsg::RunFinished(
        Box::new(report.clone()),
        reply
    ))
    .map_err(|e| RunError::Engine(format!("reporter failed: {e}")))?;
    reporter.stop(None);
    let _ = reporter_handle.await;
    written.map_err(RunError::Output)?;
    Ok(report)
}
