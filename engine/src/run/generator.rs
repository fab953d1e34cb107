//! Where a run's load comes from ([`Generator`]: a workload in this process,
//! or `loadgen agent`s) and the actors the ramp talks to for it ([`Engine`]:
//! the supervised pacer, collector, poller and scraper, or the fleet's
//! stand-ins for them).

use std::sync::Arc;

use ractor::{Actor, ActorRef, OutputPort};

use super::{RunError, RunSpec, ASK_TIMEOUT, SHUTDOWN_TIMEOUT};
use crate::collector::CollectorHandle;
use crate::config::RunConfig;
use crate::distributed::coordinator::{self, Coordinated, FleetEngine};
use crate::distributed::fleet::FleetMsg;
use crate::pending::{BacklogSource, Durable};
use crate::plugin::sink::HostSink;
use crate::plugin::{DeclaredSeries, LoadedPlugin, Workload};
use crate::ramp::{RampMsg, SeriesInUse};
use crate::supervisor::{Children, Restarted, Supervisor, SupervisorMsg};

/// Where the load comes from: this process's workload, or agents'.
pub(super) enum Generator {
    Local(Arc<Workload>),
    Fleet(Box<Coordinated>),
}

impl Generator {
    pub(super) async fn start(
        spec: &RunSpec,
        collector: CollectorHandle,
    ) -> Result<Generator, RunError> {
        Ok(match &spec.fleet {
            None => Generator::Local(start_workload(&spec.plugin, &spec.config, collector).await?),
            Some(options) => Generator::Fleet(Box::new(
                coordinator::start(options, &spec.plugin, &spec.config)
                    .await
                    .map_err(RunError::Config)?,
            )),
        })
    }

    pub(super) async fn stop(self) {
        match self {
            Generator::Local(workload) => stop_workload(workload).await,
            Generator::Fleet(coordinated) => coordinated.stop().await,
        }
    }

    /// The series the workload declared once started (every agent's, in a
    /// distributed run).
    pub(super) fn series(&self) -> &[DeclaredSeries] {
        match self {
            Generator::Local(workload) => &workload.series,
            Generator::Fleet(coordinated) => &coordinated.series,
        }
    }

    /// The JetStream durables the workload feeds, if it names any.
    pub(super) fn durables(&self) -> Result<Vec<Durable>, String> {
        match self {
            Generator::Local(workload) => Ok(workload
                .pending_targets()?
                .into_iter()
                .map(|t| Durable {
                    stream: t.stream.into_string(),
                    durable: t.durable.into_string(),
                })
                .collect()),
            Generator::Fleet(coordinated) => Ok(coordinated.durables.clone()),
        }
    }
}

/// Start `plugin`'s workload with `config`'s options; its samples go to `collector`.
pub(crate) async fn start_workload(
    plugin: &LoadedPlugin,
    config: &RunConfig,
    collector: CollectorHandle,
) -> Result<Arc<Workload>, RunError> {
    let (plugin, host, sink) = (
        plugin.clone(),
        config.host_config(),
        HostSink::new(collector),
    );
    // `start` blocks while the plugin connects: keep it off the async workers.
    tokio::task::spawn_blocking(move || Workload::start(&plugin, &host, sink))
        .await
        .map_err(|e| RunError::Engine(format!("plugin start panicked: {e}")))?
        .map_err(RunError::Start)
}

pub(crate) async fn stop_workload(workload: Arc<Workload>) {
    let stopping = tokio::task::spawn_blocking(move || workload.shutdown());
    match tokio::time::timeout(SHUTDOWN_TIMEOUT, stopping).await {
        Ok(Ok(Ok(()))) => {}
        Ok(Ok(Err(e))) => tracing::warn!("plugin shutdown failed: {e}"),
        Ok(Err(e)) => tracing::warn!("plugin shutdown panicked: {e}"),
        Err(_) => tracing::warn!("plugin did not shut down within {SHUTDOWN_TIMEOUT:?}"),
    }
}

/// The actors the ramp talks to, by where the load comes from.
pub(super) enum Engine {
    Local {
        children: Children,
        series: Arc<dyn SeriesInUse>,
        supervisor: ActorRef<SupervisorMsg>,
        supervisor_handle: tokio::task::JoinHandle<()>,
    },
    Fleet(FleetEngine),
}

impl Engine {
    /// The engine `generator` needs: a supervised local one, or the fleet's
    /// proxies. Restarts of local actors are announced on `restarts`.
    pub(super) async fn spawn(
        spec: &RunSpec,
        generator: &Generator,
        collector: CollectorHandle,
        backlog: Option<Arc<BacklogSource>>,
        restarts: &Arc<OutputPort<Restarted>>,
    ) -> Result<Engine, String> {
        Ok(match generator {
            Generator::Local(workload) => {
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
                Engine::Local {
                    children,
                    series: Arc::clone(workload) as Arc<dyn SeriesInUse>,
                    supervisor,
                    supervisor_handle,
                }
            }
            Generator::Fleet(coordinated) => Engine::Fleet(
                coordinated
                    .engine(
                        DeclaredSeries::names(&coordinated.series),
                        spec.config.scrape.clone(),
                        backlog,
                    )
                    .await?,
            ),
        })
    }

    pub(super) fn children(&self) -> &Children {
        match self {
            Engine::Local { children, .. } => children,
            Engine::Fleet(fleet) => &fleet.children,
        }
    }

    pub(super) fn series(&self) -> Arc<dyn SeriesInUse> {
        match self {
            Engine::Local { series, .. } => Arc::clone(series),
            Engine::Fleet(fleet) => Arc::clone(&fleet.series),
        }
    }

    /// Once the ramp runs: children restarted since `first` was read (a
    /// restart between the first answer and the ramp's subscription would
    /// be missed; later ones are announced), and the fleet's loss reports
    /// go to the ramp.
    pub(super) async fn children_now(
        &self,
        ramp: &ActorRef<RampMsg>,
        first: &Children,
    ) -> Option<Children> {
        match self {
            Engine::Local { supervisor, .. } => {
                let now = ractor::call_t!(
                    supervisor,
                    SupervisorMsg::Children,
                    ASK_TIMEOUT.as_millis() as u64
                );
                now.ok().filter(|now| !now.same_refs(first))
            }
            Engine::Fleet(fleet) => {
                let _ = fleet.fleet.send_message(FleetMsg::Watch(ramp.clone()));
                None
            }
        }
    }

    pub(super) async fn shutdown(self) {
        match self {
            Engine::Local {
                supervisor,
                supervisor_handle,
                ..
            } => {
                let _ = ractor::call_t!(supervisor, SupervisorMsg::Shutdown, 10_000);
                let _ = supervisor_handle.await;
            }
            Engine::Fleet(fleet) => fleet.stop(),
        }
    }
}
