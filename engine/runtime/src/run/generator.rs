//! Where a run's load comes from ([`Generator`]: a workload in this process,
//! or a fleet of agents the distributed crate drives) and the actors the ramp
//! talks to for it ([`Engine`]: the supervised pacer, collector, poller and
//! scraper, or the fleet's stand-ins for them). The runtime names only these
//! traits; the fleet implements them.

use std::sync::Arc;

use futures::future::BoxFuture;
use ractor::{Actor, ActorRef, OutputPort};

use super::{RunError, RunSpec, ASK_TIMEOUT, SHUTDOWN_TIMEOUT};
use crate::collector::CollectorHandle;
use crate::config::RunConfig;
use crate::pending::{BacklogSource, Durable};
use crate::plugin::{host_config, DeclaredSeries, LoadedPlugin, Workload};
use crate::ramp::{RampMsg, SeriesInUse};
use crate::sink::HostSink;
use crate::supervisor::{Children, Restarted, Supervisor, SupervisorMsg};

/// Starts a run's load somewhere other than this process (`--agents N`).
pub trait RemoteLoad: Send + Sync {
    /// Start the workload of `spec`'s plugin and config there.
    fn start<'a>(&'a self, spec: &'a RunSpec) -> BoxFuture<'a, Result<Box<dyn Generator>, String>>;
}

/// Where the load comes from: this process's workload, or agents'.
pub trait Generator: Send + Sync {
    /// The series the workload declared once started (every agent's, for a
    /// fleet): the run's series.
    fn series(&self) -> &[DeclaredSeries];

    /// The JetStream durables the workload feeds, if it names any.
    fn durables(&self) -> Result<Vec<Durable>, String>;

    /// The actors the ramp talks to. Restarts of local actors are announced
    /// on `restarts`.
    fn engine<'a>(
        &'a self,
        spec: &'a RunSpec,
        collector: CollectorHandle,
        backlog: Option<Arc<BacklogSource>>,
        restarts: &'a Arc<OutputPort<Restarted>>,
    ) -> BoxFuture<'a, Result<Box<dyn Engine>, String>>;

    /// Stop the workload.
    fn stop(self: Box<Self>) -> BoxFuture<'static, ()>;

    /// A fleet's agents for the report (none for a local run).
    fn agents(&self) -> Vec<crate::report::AgentReport> {
        Vec::new()
    }
}

/// The actors the ramp talks to, wherever the load comes from.
pub trait Engine: Send + Sync {
    fn children(&self) -> &Children;

    fn series(&self) -> Arc<dyn SeriesInUse>;

    /// Once the ramp runs: children restarted since `first` was read (a
    /// restart between the first answer and the ramp's subscription would
    /// be missed; later ones are announced), or, for a fleet, its loss
    /// reports sent to the ramp from now on.
    fn children_now<'a>(
        &'a self,
        ramp: &'a ActorRef<RampMsg>,
        first: &'a Children,
    ) -> BoxFuture<'a, Option<Children>>;

    fn shutdown(self: Box<Self>) -> BoxFuture<'static, ()>;
}

/// Start the run's generator: `spec.remote`'s, or this process's workload.
pub(super) async fn start(
    spec: &RunSpec,
    collector: CollectorHandle,
) -> Result<Box<dyn Generator>, RunError> {
    Ok(match &spec.remote {
        None => Box::new(Local(
            start_workload(&spec.plugin, &spec.config, collector).await?,
        )),
        Some(remote) => remote.start(spec).await.map_err(RunError::Config)?,
    })
}

/// The workload in this process.
struct Local(Arc<Workload>);

impl Generator for Local {
    fn series(&self) -> &[DeclaredSeries] {
        &self.0.series
    }

    fn durables(&self) -> Result<Vec<Durable>, String> {
        Ok(self
            .0
            .pending_targets()?
            .into_iter()
            .map(|t| Durable {
                stream: t.stream.into_string(),
                durable: t.durable.into_string(),
            })
            .collect())
    }

    fn engine<'a>(
        &'a self,
        spec: &'a RunSpec,
        collector: CollectorHandle,
        backlog: Option<Arc<BacklogSource>>,
        restarts: &'a Arc<OutputPort<Restarted>>,
    ) -> BoxFuture<'a, Result<Box<dyn Engine>, String>> {
        Box::pin(async move {
            let workload = &self.0;
            let supervisor = Supervisor {
                workload: Arc::clone(workload),
                pacer_window: spec.config.pacer_window(),
                collector,
                backlog,
                scrape_urls: spec.config.scrape.clone(),
                restarts: Arc::clone(restarts),
            };
            let (supervisor, supervisor_handle) = Actor::spawn(None, supervisor, ())
                .await
                .map_err(|e| e.to_string())?;
            let children = ractor::call_t!(
                supervisor,
                SupervisorMsg::Children,
                ASK_TIMEOUT.as_millis() as u64
            )
            .map_err(|e| e.to_string())?;
            Ok(Box::new(LocalEngine {
                children,
                series: Arc::clone(workload) as Arc<dyn SeriesInUse>,
                supervisor,
                supervisor_handle,
            }) as Box<dyn Engine>)
        })
    }

    fn stop(self: Box<Self>) -> BoxFuture<'static, ()> {
        Box::pin(stop_workload(self.0))
    }
}

/// Start `plugin`'s workload with `config`'s options; its samples go to `collector`.
pub async fn start_workload(
    plugin: &LoadedPlugin,
    config: &RunConfig,
    collector: CollectorHandle,
) -> Result<Arc<Workload>, RunError> {
    let (plugin, host, sink) = (
        plugin.clone(),
        host_config(config),
        HostSink::new(collector),
    );
    // `start` blocks while the plugin connects: keep it off the async workers.
    tokio::task::spawn_blocking(move || Workload::start(&plugin, &host, sink))
        .await
        .map_err(|e| RunError::Engine(format!("plugin start panicked: {e}")))?
        .map_err(RunError::Start)
}

pub async fn stop_workload(workload: Arc<Workload>) {
    let stopping = tokio::task::spawn_blocking(move || workload.shutdown());
    match tokio::time::timeout(SHUTDOWN_TIMEOUT, stopping).await {
        Ok(Ok(Ok(()))) => {}
        Ok(Ok(Err(e))) => tracing::warn!("plugin shutdown failed: {e}"),
        Ok(Err(e)) => tracing::warn!("plugin shutdown panicked: {e}"),
        Err(_) => tracing::warn!("plugin did not shut down within {SHUTDOWN_TIMEOUT:?}"),
    }
}

/// The supervised local actors.
struct LocalEngine {
    children: Children,
    series: Arc<dyn SeriesInUse>,
    supervisor: ActorRef<SupervisorMsg>,
    supervisor_handle: tokio::task::JoinHandle<()>,
}

impl Engine for LocalEngine {
    fn children(&self) -> &Children {
        &self.children
    }

    fn series(&self) -> Arc<dyn SeriesInUse> {
        Arc::clone(&self.series)
    }

    fn children_now<'a>(
        &'a self,
        _ramp: &'a ActorRef<RampMsg>,
        first: &'a Children,
    ) -> BoxFuture<'a, Option<Children>> {
        Box::pin(async move {
            let now = ractor::call_t!(
                self.supervisor,
                SupervisorMsg::Children,
                ASK_TIMEOUT.as_millis() as u64
            );
            now.ok().filter(|now| !now.same_refs(first))
        })
    }

    fn shutdown(self: Box<Self>) -> BoxFuture<'static, ()> {
        Box::pin(async move {
            let _ = ractor::call_t!(self.supervisor, SupervisorMsg::Shutdown, 10_000);
            let _ = self.supervisor_handle.await;
        })
    }
}
