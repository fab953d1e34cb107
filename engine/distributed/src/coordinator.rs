//! The coordinator's lifecycle of a distributed run: join the agents and
//! start their workloads (before any load), build the engine the ramp talks
//! to (the proxies, the fleet, the coordinator's own backlog poller), and
//! stop the agents' workloads at the end.

use std::sync::Arc;

use futures::future::{join_all, BoxFuture};
use ractor::{Actor, ActorRef, OutputPort};
use tokio::sync::watch;

use super::control::{ask, Control, REQUEST_TIMEOUT};
use super::feed::Feed;
use super::fleet::{Fleet, FleetArgs, FleetMsg};
use super::join::{join, FleetOptions, Joined};
use super::protocol::{self, Start};
use super::proxy;
use super::seconds::Seconds;
use crate::collector::CollectorHandle;
use crate::config::RunConfig;
use crate::pending::{BacklogSource, Durable};
use crate::plugin::{DeclaredSeries, LoadedPlugin};
use crate::ramp::{RampMsg, SeriesInUse};
use crate::report::AgentReport;
use crate::run::{Engine, Generator, RemoteLoad, RunSpec};
use crate::supervisor::{Children, Restarted};

/// Agents that joined and run the workload.
pub struct Coordinated {
    pub options: FleetOptions,
    pub joined: Joined,
    /// The durables the agents' workloads feed (read by the coordinator).
    pub durables: Vec<Durable>,
    /// The series the agents' workloads declared (the same on every agent).
    pub series: Vec<DeclaredSeries>,
    /// The run's per-second summaries, once its engine is built (for the
    /// agents' lateness in the report).
    feed: std::sync::Mutex<Option<Arc<Feed>>>,
}

/// What the ramp is given in a distributed run.
pub struct FleetEngine {
    pub children: Children,
    pub series: Arc<dyn SeriesInUse>,
    pub fleet: ActorRef<FleetMsg>,
}

impl FleetEngine {
    pub fn stop(&self) {
        self.fleet.stop(None);
        self.children.pacer.stop(None);
        self.children.collector.stop(None);
        self.children.counters.stop(None);
        self.children.pending.stop(None);
    }
}

/// Join `options.agents` agents and start the run's workload on each.
pub async fn start(
    options: &FleetOptions,
    plugin: &LoadedPlugin,
    config: &RunConfig,
) -> Result<Coordinated, String> {
    let joined = join(options, &plugin.description).await?;
    let start = Start {
        plugin: plugin.description.name.clone(),
        config: config.clone(),
    };
    let starts = joined.members.iter().map(|m| {
        let start = start.clone();
        let joined = &joined;
        async move {
            // A workload may take a while to connect to its service.
            let timeout = REQUEST_TIMEOUT * 3;
            let key = joined.key.as_deref();
            let started = ask(
                &joined.client,
                &joined.subjects,
                key,
                &m.name,
                &start,
                timeout,
            )
            .await;
            (m.name.clone(), started)
        }
    });
    let mut durables = Vec::new();
    let mut series: Option<Vec<DeclaredSeries>> = None;
    let mut failure = None;
    for (name, started) in join_all(starts).await {
        match started {
            Ok(started) => {
                durables.extend(
                    started
                        .durables
                        .into_iter()
                        .map(|(stream, durable)| Durable { stream, durable }),
                );
                match &series {
                    None => series = Some(started.series),
                    Some(first) if *first != started.series => {
                        failure.get_or_insert(format!(
                            "agent {name} declares the series {:?}, another agent {:?}: \
                             start every agent with the same plugin and options",
                            DeclaredSeries::names(&started.series),
                            DeclaredSeries::names(first)
                        ));
                    }
                    Some(_) => {}
                }
            }
            Err(e) => {
                failure.get_or_insert(format!("agent {name}: {e}"));
            }
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    durables.retain(|d: &Durable| seen.insert(d.key()));
    let coordinated = Coordinated {
        options: options.clone(),
        joined,
        durables,
        series: series.unwrap_or_default(),
        feed: Default::default(),
    };
    if let Some(e) = failure {
        coordinated.stop().await;
        return Err(e);
    }
    Ok(coordinated)
}

impl Coordinated {
    /// Stop every agent's workload (they go back to waiting).
    pub async fn stop(&self) {
        let j = &self.joined;
        let stops = j.members.iter().map(|m| {
            ask(
                &j.client,
                &j.subjects,
                j.key.as_deref(),
                &m.name,
                &protocol::Stop,
                REQUEST_TIMEOUT,
            )
        });
        join_all(stops).await;
        let _ = tokio::time::timeout(REQUEST_TIMEOUT, j.client.flush()).await;
    }

    /// The proxies, the fleet and the backlog poller the ramp will use.
    pub async fn engine(
        &self,
        series: Vec<String>,
        scrape_urls: Vec<String>,
        backlog: Option<Arc<BacklogSource>>,
    ) -> Result<FleetEngine, String> {
        let j = &self.joined;
        let (members_tx, members) = watch::channel(j.members.clone());
        let fleet = Fleet {
            client: j.client.clone(),
            subjects: j.subjects.clone(),
            min_agents: self.options.min_agents,
        };
        let (fleet, _) = Actor::spawn(
            None,
            fleet,
            FleetArgs {
                members: members_tx,
            },
        )
        .await
        .map_err(|e| e.to_string())?;
        let control = Control {
            client: j.client.clone(),
            subjects: j.subjects.clone(),
            key: j.key.clone(),
            members,
        };
        let feed = Feed::subscribe(
            &j.client,
            &j.subjects,
            j.key.clone(),
            Seconds::new(series.clone()),
        )
        .await?;
        let feed = Arc::new(feed);
        *self.feed.lock().unwrap_or_else(|e| e.into_inner()) = Some(Arc::clone(&feed));
        let proxies = proxy::spawn(
            control,
            fleet.clone(),
            series,
            scrape_urls,
            Arc::clone(&feed),
            backlog,
        )
        .await
        .map_err(|e| e.to_string())?;
        Ok(FleetEngine {
            children: Children {
                pacer: proxies.pacer,
                collector: proxies.collector,
                pending: proxies.pending,
                counters: proxies.counters,
            },
            series: Arc::new(proxies.series),
            fleet,
        })
    }
}

/// `--agents N`: the run's load comes from the agents these options join.
impl RemoteLoad for FleetOptions {
    fn start<'a>(&'a self, spec: &'a RunSpec) -> BoxFuture<'a, Result<Box<dyn Generator>, String>> {
        Box::pin(async move {
            let coordinated = start(self, &spec.plugin, &spec.config).await?;
            Ok(Box::new(coordinated) as Box<dyn Generator>)
        })
    }
}

impl Generator for Coordinated {
    fn series(&self) -> &[DeclaredSeries] {
        &self.series
    }

    fn durables(&self) -> Result<Vec<Durable>, String> {
        Ok(self.durables.clone())
    }

    fn engine<'a>(
        &'a self,
        spec: &'a RunSpec,
        _collector: CollectorHandle,
        backlog: Option<Arc<BacklogSource>>,
        _restarts: &'a Arc<OutputPort<Restarted>>,
    ) -> BoxFuture<'a, Result<Box<dyn Engine>, String>> {
        Box::pin(async move {
            let engine = Coordinated::engine(
                self,
                DeclaredSeries::names(&self.series),
                spec.config.scrape.clone(),
                backlog,
            )
            .await?;
            Ok(Box::new(engine) as Box<dyn Engine>)
        })
    }

    fn stop(self: Box<Self>) -> BoxFuture<'static, ()> {
        Box::pin(async move { Coordinated::stop(&self).await })
    }

    fn agents(&self) -> Vec<AgentReport> {
        let feed = self.feed.lock().unwrap_or_else(|e| e.into_inner());
        let late = feed.as_ref().map(|f| f.seconds().late().clone());
        let mut agents = self.joined.agents.clone();
        for a in &mut agents {
            a.late_seconds = late
                .as_ref()
                .and_then(|l| l.get(&a.name))
                .copied()
                .unwrap_or(0);
        }
        agents
    }
}

impl Engine for FleetEngine {
    fn children(&self) -> &Children {
        &self.children
    }

    fn series(&self) -> Arc<dyn SeriesInUse> {
        Arc::clone(&self.series)
    }

    fn children_now<'a>(
        &'a self,
        ramp: &'a ActorRef<RampMsg>,
        _first: &'a Children,
    ) -> BoxFuture<'a, Option<Children>> {
        let _ = self.fleet.send_message(FleetMsg::Watch(ramp.clone()));
        Box::pin(async { None })
    }

    fn shutdown(self: Box<Self>) -> BoxFuture<'static, ()> {
        FleetEngine::stop(&self);
        Box::pin(async {})
    }
}
