//! The coordinator's lifecycle of a distributed run: join the agents and
//! start their workloads (before any load), build the engine the ramp talks
//! to (the proxies, the fleet, the coordinator's own backlog poller), and
//! stop the agents' workloads at the end.

use std::sync::Arc;

use futures::future::join_all;
use ractor::{Actor, ActorRef};
use tokio::sync::watch;

use super::control::{ask, Control, REQUEST_TIMEOUT};
use super::fleet::{Fleet, FleetArgs, FleetMsg};
use super::join::{join, FleetOptions, Joined};
use super::protocol::{self, Start};
use super::proxy;
use crate::config::RunConfig;
use crate::pending::{BacklogSource, Durable, PendingPoller};
use crate::plugin::{DeclaredSeries, LoadedPlugin};
use crate::ramp::SeriesInUse;
use crate::supervisor::Children;

/// Agents that joined and run the workload.
pub struct Coordinated {
    pub options: FleetOptions,
    pub joined: Joined,
    /// The durables the agents' workloads feed (read by the coordinator).
    pub durables: Vec<Durable>,
    /// The series the agents' workloads declared (the same on every agent).
    pub series: Vec<DeclaredSeries>,
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
            let started = ask(&joined.client, &joined.subjects, &m.name, &start, timeout).await;
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
            members,
        };
        let proxies = proxy::spawn(control, fleet.clone(), series, scrape_urls)
            .await
            .map_err(|e| e.to_string())?;
        let poller = PendingPoller {
            workload: None,
            durables: backlog,
        };
        let (pending, _) = Actor::spawn(None, poller, ())
            .await
            .map_err(|e| e.to_string())?;
        Ok(FleetEngine {
            children: Children {
                pacer: proxies.pacer,
                collector: proxies.collector,
                pending,
                counters: proxies.counters,
            },
            series: Arc::new(proxies.series),
            fleet,
        })
    }
}
