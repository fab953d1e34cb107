//! The Fleet: which agents take part in a distributed run now.
//!
//! It listens to the agents' heartbeats; an agent silent for
//! [`HEARTBEAT_LOST_AFTER`], or one a proxy found unanswering, is lost: it
//! leaves the membership (the proxies re-split the rate over the others
//! from the next step), the step in progress is marked with "agent X lost"
//! (so it is INCONCLUSIVE, never judged from part of the load), and when
//! fewer than `--min-agents` remain the run is stopped and reports what it
//! measured.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use futures::StreamExt;
use ractor::{Actor, ActorProcessingErr, ActorRef};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::control::Member;
use super::protocol::{Heartbeat, Subjects, HEARTBEAT_LOST_AFTER};
use crate::ramp::RampMsg;

/// How often silence is checked for.
const CHECK_EVERY: Duration = Duration::from_millis(250);

pub enum FleetMsg {
    /// `agent` is alive.
    Beat(String),
    /// Look for silent agents.
    Check,
    /// A proxy got no answer from `name`.
    Lost { name: String, why: String },
    /// Tell this ramp about lost agents.
    Watch(ActorRef<RampMsg>),
}

/// Read-only configuration.
pub struct Fleet {
    pub client: async_nats::Client,
    pub subjects: Subjects,
    pub min_agents: usize,
}

pub struct FleetArgs {
    pub members: watch::Sender<Vec<Member>>,
}

pub struct FleetState {
    members: watch::Sender<Vec<Member>>,
    last_beat: HashMap<String, Instant>,
    ramp: Option<ActorRef<RampMsg>>,
    heartbeats: JoinHandle<()>,
    stopping: bool,
}

impl Fleet {
    fn lose(&self, state: &mut FleetState, name: &str, why: &str) {
        let mut gone = false;
        state.members.send_modify(|members| {
            let before = members.len();
            members.retain(|m| m.name != name);
            gone = members.len() < before;
        });
        if !gone {
            return;
        }
        let left = state.members.borrow().len();
        eprintln!("agent {name} lost ({why}); {left} agents remain");
        if let Some(ramp) = &state.ramp {
            let _ = ramp.send_message(RampMsg::Disrupted(format!("agent {name} lost: {why}")));
            if left < self.min_agents && !state.stopping {
                state.stopping = true;
                eprintln!(
                    "fewer than --min-agents {} agents remain: stopping with the steps measured",
                    self.min_agents
                );
                let _ = ramp.send_message(RampMsg::Cancel);
            }
        }
    }
}

impl Actor for Fleet {
    type Msg = FleetMsg;
    type State = FleetState;
    type Arguments = FleetArgs;

    async fn pre_start(
        &self,
        myself: ActorRef<FleetMsg>,
        args: FleetArgs,
    ) -> Result<FleetState, ActorProcessingErr> {
        let mut beats = self.client.subscribe(self.subjects.heartbeats()).await?;
        let me = myself.clone();
        let heartbeats = tokio::spawn(async move {
            while let Some(msg) = beats.next().await {
                if let Ok(beat) = serde_json::from_slice::<Heartbeat>(&msg.payload) {
                    if me.send_message(FleetMsg::Beat(beat.name)).is_err() {
                        return;
                    }
                }
            }
        });
        myself.send_interval(CHECK_EVERY, || FleetMsg::Check);
        let now = Instant::now();
        let last_beat = args
            .members
            .borrow()
            .iter()
            .map(|m| (m.name.clone(), now))
            .collect();
        Ok(FleetState {
            members: args.members,
            last_beat,
            ramp: None,
            heartbeats,
            stopping: false,
        })
    }

    async fn handle(
        &self,
        _myself: ActorRef<FleetMsg>,
        message: FleetMsg,
        state: &mut FleetState,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            FleetMsg::Beat(name) => {
                if let Some(at) = state.last_beat.get_mut(&name) {
                    *at = Instant::now();
                }
            }
            FleetMsg::Check => {
                let members: Vec<String> = state
                    .members
                    .borrow()
                    .iter()
                    .map(|m| m.name.clone())
                    .collect();
                for name in members {
                    let silent = state.last_beat.get(&name).map(Instant::elapsed);
                    if let Some(silent) = silent.filter(|s| *s > HEARTBEAT_LOST_AFTER) {
                        let why = format!("no heartbeat for {}ms", silent.as_millis());
                        self.lose(state, &name, &why);
                    }
                }
            }
            FleetMsg::Lost { name, why } => self.lose(state, &name, &why),
            FleetMsg::Watch(ramp) => state.ramp = Some(ramp),
        }
        Ok(())
    }

    async fn post_stop(
        &self,
        _myself: ActorRef<FleetMsg>,
        state: &mut FleetState,
    ) -> Result<(), ActorProcessingErr> {
        state.heartbeats.abort();
        Ok(())
    }
}
