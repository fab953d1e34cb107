//! The PacerProxy: gives agent i of n the ops k ≡ i (mod n) of each step,
//! its times in the agent's clock, and sums the agents' tallies.

use ractor::{Actor, ActorProcessingErr, ActorRef};

use super::collect;
use crate::control::Control;
use crate::fleet::FleetMsg;
use crate::pacer::{PacerCounts, PacerMsg, Slice, StepTimes};
use crate::protocol::{Halt, Report, Step};

/// Read-only configuration.
pub struct PacerProxy {
    pub control: Control,
    pub fleet: ActorRef<FleetMsg>,
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
                let answers = self.control.ask_all(|_, _, _| Halt).await;
                collect(&self.fleet, answers);
            }
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
