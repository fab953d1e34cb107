//! The PacerProxy: gives agent i of n the ops k ≡ i (mod n) of each step,
//! its times in the agent's clock, and sums the agents' tallies: during the
//! hold from their published summaries, after it by asking each.

use std::sync::Arc;

use loadgen_plugin_api::clock;
use ractor::{Actor, ActorProcessingErr, ActorRef};

use super::collect;
use crate::control::Control;
use crate::feed::Feed;
use crate::fleet::FleetMsg;
use crate::pacer::{PacerCounts, PacerMsg, Slice, StepTimes};
use crate::protocol::{Halt, Report, Step};

/// Read-only configuration.
pub struct PacerProxy {
    pub control: Control,
    pub fleet: ActorRef<FleetMsg>,
    /// The agents' per-second summaries: the tallies during a hold.
    pub feed: Arc<Feed>,
}

impl PacerProxy {
    async fn start(&self, times: StepTimes) {
        let answers = self
            .control
            .ask_all(|i, n, m| Step {
                times: StepTimes {
                    rps: times.rps,
                    start: m.to_agent(times.start),
                    hold_start: m.to_agent(times.hold_start),
                    stop: m.to_agent(times.stop),
                },
                slice: Slice {
                    index: i as u64,
                    of: n as u64,
                },
            })
            .await;
        collect(&self.fleet, answers);
    }
}

impl Actor for PacerProxy {
    type Msg = PacerMsg;
    type State = ();
    type Arguments = ();

    async fn pre_start(&self, _: ActorRef<PacerMsg>, _: ()) -> Result<(), ActorProcessingErr> {
        Ok(())
    }

    async fn handle(
        &self,
        _myself: ActorRef<PacerMsg>,
        message: PacerMsg,
        _state: &mut (),
    ) -> Result<(), ActorProcessingErr> {
        match message {
            // The coordinator paces the whole step: its slicing is the agents'.
            PacerMsg::Start(times) | PacerMsg::StartSlice(times, _) => self.start(times).await,
            PacerMsg::Halt => {
                self.feed.seconds().halt();
                let answers = self.control.ask_all(|_, _, _| Halt).await;
                collect(&self.fleet, answers);
            }
            // During the hold: what the agents published (no request).
            PacerMsg::Report(reply) if self.feed.seconds().in_hold(clock::now().0) => {
                let now = clock::now().0;
                self.feed.settle(now, &self.control.members()).await;
                let _ = reply.send(self.feed.seconds().counts());
            }
            // The step's end: asked, exact.
            PacerMsg::Report(reply) => {
                let answers = self.control.ask_all(|_, _, _| Report).await;
                let (counts, _) = collect(&self.fleet, answers);
                let mut total = PacerCounts::default();
                counts.iter().for_each(|c| total.add(c));
                let _ = reply.send(total);
            }
        }
        Ok(())
    }
}
