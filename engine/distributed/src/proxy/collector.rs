//! The CollectorProxy: each agent's hold window (its clock), and the
//! agents' windows merged exactly — histograms added, counts summed — into
//! the figures a local collector would give for the union of the samples.
//! During the hold the figures come from the agents' published summaries
//! ([`Feed`]); the step's result is asked of every agent once, after the
//! hold, merged exactly, and serves both the verdict's snapshot and the
//! report's histograms.

use std::sync::Arc;

use loadgen_plugin_api::clock;
use ractor::{Actor, ActorProcessingErr, ActorRef};
use tokio::sync::watch;

use super::collect;
use crate::collector::{CollectorMsg, CollectorStats, SeriesParts};
use crate::control::Control;
use crate::disturbance::Disturbance;
use crate::feed::Feed;
use crate::fleet::FleetMsg;
use crate::protocol::{merge_series, Disturbances, Parts, Window};
use crate::report::per_second::SeriesInterval;

/// Read-only configuration.
pub struct CollectorProxy {
    pub control: Control,
    pub fleet: ActorRef<FleetMsg>,
    /// The plugin's series names, in `Sample::series` order.
    pub series: Vec<String>,
    /// Where the series in use (or why a step result is missing) go.
    pub in_use: watch::Sender<Result<Vec<u16>, String>>,
    /// The agents' per-second summaries.
    pub feed: Arc<Feed>,
}

impl CollectorProxy {
    /// The agents' windows merged; a missing or broken one makes the step's
    /// "series in use" an error naming the agent (so it is INCONCLUSIVE).
    async fn parts(&self, step_end: bool) -> Vec<SeriesParts> {
        let answers = self.control.ask_all(|_, _, _| Parts { step_end }).await;
        let (answers, mut failure) = collect(&self.fleet, answers);
        let mut in_use: Vec<u16> = Vec::new();
        let mut windows = Vec::new();
        for answer in answers {
            match answer.in_use {
                Ok(series) => in_use.extend(series),
                Err(e) => {
                    failure.get_or_insert(e);
                }
            }
            let decoded: Result<Vec<_>, String> =
                answer.series.into_iter().map(|s| s.into_parts()).collect();
            match decoded {
                Ok(parts) => windows.push(parts),
                Err(e) => {
                    failure.get_or_insert(e);
                }
            }
        }
        let merged = merge_series(&self.series, windows).unwrap_or_else(|e| {
            failure.get_or_insert(e);
            self.series.iter().map(|n| SeriesParts::empty(n)).collect()
        });
        in_use.sort_unstable();
        in_use.dedup();
        let _ = self.in_use.send(match failure {
            Some(e) => Err(e),
            None => Ok(in_use),
        });
        merged
    }

    /// Every agent's disturbances, in the coordinator's clock and named by
    /// agent, in time order. An agent that does not answer is the Fleet's
    /// business (its loss marks the step).
    async fn disturbances(&self) -> Vec<Disturbance> {
        let members = self.control.members();
        let answers = self.control.ask_all(|_, _, _| Disturbances).await;
        let mut all: Vec<Disturbance> = answers
            .into_iter()
            .filter_map(|(name, answer)| {
                let member = members.iter().find(|m| m.name == name)?;
                let reported = answer.ok()?;
                Some(reported.into_iter().map(move |d| Disturbance {
                    at_ns: member.from_agent(d.at_ns),
                    reason: format!("agent {name}: {}", d.reason),
                }))
            })
            .flatten()
            .collect();
        all.sort_by_key(|d| d.at_ns);
        all
    }

    /// What the agents published since the last interval, once each
    /// agent's summary due now is in (or it is late).
    async fn intervals(&self) -> Vec<SeriesInterval> {
        self.feed
            .settle(clock::now().0, &self.control.members())
            .await;
        self.feed.seconds().take_interval()
    }
}

impl Actor for CollectorProxy {
    type Msg = CollectorMsg;
    /// The step's merged result, asked once after its hold (the verdict's
    /// snapshot) and kept for its report's histograms.
    type State = Option<Vec<SeriesParts>>;
    type Arguments = ();

    async fn pre_start(
        &self,
        _: ActorRef<CollectorMsg>,
        _: (),
    ) -> Result<Self::State, ActorProcessingErr> {
        Ok(None)
    }

    async fn handle(
        &self,
        _myself: ActorRef<CollectorMsg>,
        message: CollectorMsg,
        result: &mut Option<Vec<SeriesParts>>,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            // Samples and disturbances stay on the agents.
            CollectorMsg::Samples(_) | CollectorMsg::Disturbed(_) => {}
            CollectorMsg::Disturbances(reply) => {
                let _ = reply.send(self.disturbances().await);
            }
            CollectorMsg::Window {
                hold_start,
                hold_end,
            } => {
                *result = None;
                let members = self.control.members();
                self.feed.seconds().begin(hold_start, hold_end, &members);
                let answers = self
                    .control
                    .ask_all(|_, _, m| Window {
                        hold_start: m.to_agent(hold_start),
                        hold_end: m.to_agent(hold_end),
                    })
                    .await;
                collect(&self.fleet, answers);
            }
            CollectorMsg::Snapshot(reply) if self.feed.seconds().in_hold(clock::now().0) => {
                let now = clock::now().0;
                self.feed.settle(now, &self.control.members()).await;
                let _ = reply.send(self.feed.seconds().stats());
            }
            CollectorMsg::Snapshot(reply) => {
                let merged = self.parts(true).await;
                let series = merged.iter().map(|p| p.stats()).collect();
                *result = Some(merged);
                let _ = reply.send(CollectorStats { series });
            }
            CollectorMsg::Histograms(reply) => {
                let merged = match result.take() {
                    Some(merged) => merged,
                    None => self.parts(true).await,
                };
                let _ = reply.send(merged.iter().map(|p| p.serialized()).collect());
            }
            CollectorMsg::Parts(reply) => {
                let _ = reply.send(self.parts(false).await);
            }
            CollectorMsg::Interval(reply) => {
                let _ = reply.send(self.intervals().await);
            }
            CollectorMsg::InjectFailure(why) => return Err(why.into()),
        }
        Ok(())
    }
}
