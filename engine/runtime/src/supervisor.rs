//! The Supervisor: owns the measuring actors and restarts a failed one
//! (one-for-one). Each restart is announced on its [`OutputPort`] with the
//! new set of refs: the RampController subscribes, keeps the refs, and judges
//! the affected step INCONCLUSIVE and re-runs it rather than judge it from
//! partial data (messages in a dead actor's mailbox are lost even though
//! their `send` succeeded). The plugin's sink reaches the collector through
//! a [`CollectorHandle`] swapped here on restart.
//!
//! It knows nothing of the ramp: whoever starts it subscribes to the port.

use std::sync::Arc;
use std::time::Duration;

use ractor::{
    Actor, ActorCell, ActorProcessingErr, ActorRef, OutputPort, RpcReplyPort, SpawnErr,
    SupervisionEvent,
};

use loadgen_core::verdict::Child;

use crate::collector::{Collector, CollectorHandle, CollectorMsg};
use crate::counters::{CounterMsg, CounterScraper};
use crate::pacer::{Pacer, PacerMsg};
use crate::pending::{BacklogSource, PendingMsg, PendingPoller};
use crate::plugin::Workload;

/// The current refs of the supervised actors (they change on restart).
#[derive(Clone)]
pub struct Children {
    pub pacer: ActorRef<PacerMsg>,
    pub collector: ActorRef<CollectorMsg>,
    pub pending: ActorRef<PendingMsg>,
    pub counters: ActorRef<CounterMsg>,
}

impl Children {
    /// Are these the same actors (no restart in between)?
    pub fn same_refs(&self, other: &Children) -> bool {
        self.pacer.get_id() == other.pacer.get_id()
            && self.collector.get_id() == other.collector.get_id()
            && self.pending.get_id() == other.pending.get_id()
            && self.counters.get_id() == other.counters.get_id()
    }
}

/// A child was restarted: which, why, and the refs to use from now on.
#[derive(Clone)]
pub struct Restarted {
    pub child: Child,
    pub reason: String,
    pub children: Children,
}

pub enum SupervisorMsg {
    Children(RpcReplyPort<Children>),
    /// Stop every child (running their `post_stop`), then the supervisor.
    Shutdown(RpcReplyPort<()>),
}

/// Read-only configuration: what the children need, and whom to tell about restarts.
pub struct Supervisor {
    pub workload: Arc<Workload>,
    /// The pacer's shortest gap between wake-ups (from the run's SLO).
    pub pacer_window: Duration,
    /// Where the plugin's sink finds the collector; set on every (re)start.
    pub collector: CollectorHandle,
    /// Where the JetStream durables are read, if the workload names any.
    pub backlog: Option<Arc<BacklogSource>>,
    /// Prometheus endpoints the counter scraper reads (`--scrape`).
    pub scrape_urls: Vec<String>,
    /// Every restart is announced here.
    pub restarts: Arc<OutputPort<Restarted>>,
}

pub struct SupervisorState {
    children: Children,
    /// Set once shutdown begins, so children stopping then are not restarted.
    stopping: bool,
}

impl Supervisor {
    async fn spawn_pacer(&self, sup: ActorCell) -> Result<ActorRef<PacerMsg>, SpawnErr> {
        let pacer = Pacer {
            workload: Arc::clone(&self.workload),
            window: self.pacer_window,
        };
        Ok(Actor::spawn_linked(None, pacer, (), sup).await?.0)
    }

    async fn spawn_collector(&self, sup: ActorCell) -> Result<ActorRef<CollectorMsg>, SpawnErr> {
        let collector = Collector {
            series: self.workload.series.clone(),
        };
        let (actor, _) = Actor::spawn_linked(None, collector, (), sup).await?;
        self.collector.set(actor.clone());
        Ok(actor)
    }

    async fn spawn_pending(&self, sup: ActorCell) -> Result<ActorRef<PendingMsg>, SpawnErr> {
        let poller = PendingPoller {
            workload: Some(Arc::clone(&self.workload)),
            durables: self.backlog.clone(),
        };
        Ok(Actor::spawn_linked(None, poller, (), sup).await?.0)
    }

    async fn spawn_counters(&self, sup: ActorCell) -> Result<ActorRef<CounterMsg>, SpawnErr> {
        let scraper = CounterScraper {
            workload: Arc::clone(&self.workload),
            scrape_urls: self.scrape_urls.clone(),
        };
        Ok(Actor::spawn_linked(None, scraper, (), sup).await?.0)
    }

    fn which(children: &Children, cell: &ActorCell) -> Option<Child> {
        let id = cell.get_id();
        [
            (children.pacer.get_id(), Child::Pacer),
            (children.collector.get_id(), Child::Collector),
            (children.pending.get_id(), Child::PendingPoller),
            (children.counters.get_id(), Child::CounterScraper),
        ]
        .into_iter()
        .find(|(child_id, _)| *child_id == id)
        .map(|(_, child)| child)
    }

    async fn restart(
        &self,
        myself: &ActorRef<SupervisorMsg>,
        state: &mut SupervisorState,
        cell: ActorCell,
        reason: String,
    ) -> Result<(), ActorProcessingErr> {
        let Some(child) = Self::which(&state.children, &cell) else {
            return Ok(());
        };
        tracing::warn!("{} failed ({reason}); restarting it", child);
        let sup = myself.get_cell();
        match child {
            Child::Pacer => state.children.pacer = self.spawn_pacer(sup).await?,
            Child::Collector => state.children.collector = self.spawn_collector(sup).await?,
            Child::PendingPoller => state.children.pending = self.spawn_pending(sup).await?,
            Child::CounterScraper => state.children.counters = self.spawn_counters(sup).await?,
            // `which` always names the one that failed.
            Child::Any => return Ok(()),
        }
        self.restarts.send(Restarted {
            child,
            reason,
            children: state.children.clone(),
        });
        Ok(())
    }
}

impl Actor for Supervisor {
    type Msg = SupervisorMsg;
    type State = SupervisorState;
    type Arguments = ();

    async fn pre_start(
        &self,
        myself: ActorRef<SupervisorMsg>,
        _args: (),
    ) -> Result<SupervisorState, ActorProcessingErr> {
        let sup = myself.get_cell();
        let children = Children {
            pacer: self.spawn_pacer(sup.clone()).await?,
            collector: self.spawn_collector(sup.clone()).await?,
            pending: self.spawn_pending(sup.clone()).await?,
            counters: self.spawn_counters(sup).await?,
        };
        Ok(SupervisorState {
            children,
            stopping: false,
        })
    }

    async fn handle(
        &self,
        myself: ActorRef<SupervisorMsg>,
        message: SupervisorMsg,
        state: &mut SupervisorState,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            SupervisorMsg::Children(reply) => {
                let _ = reply.send(state.children.clone());
            }
            SupervisorMsg::Shutdown(reply) => {
                state.stopping = true;
                myself
                    .stop_children_and_wait(None, Some(Duration::from_secs(5)))
                    .await;
                let _ = reply.send(());
                myself.stop(None);
            }
        }
        Ok(())
    }

    /// Overridden: ractor's default stops the supervisor when any child exits.
    async fn handle_supervisor_evt(
        &self,
        myself: ActorRef<SupervisorMsg>,
        event: SupervisionEvent,
        state: &mut SupervisorState,
    ) -> Result<(), ActorProcessingErr> {
        if state.stopping {
            return Ok(());
        }
        match event {
            SupervisionEvent::ActorFailed(cell, err) => {
                self.restart(&myself, state, cell, err.to_string()).await?
            }
            SupervisionEvent::ActorTerminated(cell, _, reason) => {
                let reason = reason.unwrap_or_else(|| "stopped".to_string());
                self.restart(&myself, state, cell, reason).await?
            }
            _ => {}
        }
        Ok(())
    }
}
