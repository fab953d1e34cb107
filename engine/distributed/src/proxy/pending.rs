//! The PendingProxy: every backlog of a distributed run — the JetStream
//! durables the workload feeds (read by the coordinator itself, as a local
//! run's poller does) and the gauges each agent's plugin measures, summed by
//! name across agents: during a hold (and at its end) from the agents'
//! summaries, between steps by asking each agent.

use std::collections::BTreeMap;
use std::sync::Arc;

use loadgen_plugin_api::clock;
use ractor::{Actor, ActorProcessingErr, ActorRef};

use super::collect;
use crate::control::Control;
use crate::feed::Feed;
use crate::fleet::FleetMsg;
use crate::pending::{changes, troughs, BacklogLevel, BacklogLevels, BacklogSource, PendingMsg};
use crate::protocol::Gauges;
use loadgen_core::backlog::Backlogs;

/// Durable reads per hold boundary (the lowest wins; see the local poller).
const BOUNDARY_READS: usize = 5;

/// Read-only configuration.
pub struct PendingProxy {
    pub control: Control,
    pub fleet: ActorRef<FleetMsg>,
    pub feed: Arc<Feed>,
    pub durables: Option<Arc<BacklogSource>>,
}

#[derive(Default)]
pub struct PendingProxyState {
    start: Option<BacklogLevels>,
}

impl PendingProxy {
    /// The agents' gauges summed: from their summaries while they cover
    /// `now`, else asked.
    async fn gauges(&self) -> Result<BTreeMap<String, i64>, String> {
        let now = clock::now().0;
        if self.feed.seconds().covers(now) {
            self.feed.settle(now, &self.control.members()).await;
            return Ok(self.feed.seconds().gauges());
        }
        let answers = self.control.ask_all(|_, _, _| Gauges).await;
        let (values, failure) = collect(&self.fleet, answers);
        if let Some(failure) = failure {
            return Err(failure);
        }
        let mut sum = BTreeMap::new();
        for gauges in values {
            for (name, v) in gauges {
                *sum.entry(name).or_insert(0) += v;
            }
        }
        Ok(sum)
    }

    async fn read(&self, reads: usize) -> Result<BacklogLevels, String> {
        let mut levels: BacklogLevels = self
            .gauges()
            .await?
            .into_iter()
            .map(|(name, v)| (name, BacklogLevel::gauge(v)))
            .collect();
        if let Some(durables) = &self.durables {
            let mut readings = Vec::with_capacity(reads);
            for i in 0..reads {
                if i > 0 {
                    tokio::time::sleep(std::time::Duration::from_millis(1)).await;
                }
                readings.push(durables.read().await?);
            }
            levels.extend(troughs(&readings));
        }
        Ok(levels)
    }
}

fn totals(levels: BacklogLevels) -> Backlogs {
    levels.into_iter().map(|(k, l)| (k, l.total)).collect()
}

impl Actor for PendingProxy {
    type Msg = PendingMsg;
    type State = PendingProxyState;
    type Arguments = ();

    async fn pre_start(
        &self,
        _: ActorRef<PendingMsg>,
        _: (),
    ) -> Result<PendingProxyState, ActorProcessingErr> {
        Ok(PendingProxyState::default())
    }

    async fn handle(
        &self,
        _myself: ActorRef<PendingMsg>,
        message: PendingMsg,
        state: &mut PendingProxyState,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            PendingMsg::Begin(reply) => {
                let read = self.read(BOUNDARY_READS).await;
                state.start = read.as_ref().ok().cloned();
                let _ = reply.send(read.map(totals));
            }
            PendingMsg::Read(reply) => {
                let _ = reply.send(self.read(1).await.map(totals));
            }
            PendingMsg::End(reply) => {
                let result = match (state.start.take(), self.read(BOUNDARY_READS).await) {
                    (None, _) => Err("no hold-start reading".to_string()),
                    (Some(_), Err(e)) => Err(e),
                    (Some(start), Ok(end)) => changes(&start, &end),
                };
                let _ = reply.send(result);
            }
        }
        Ok(())
    }
}
