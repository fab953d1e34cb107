//! The Agent: one `loadgen agent` process's side of the control plane.
//!
//! It announces itself (and again whenever a coordinator asks on
//! `<p>.discover`), heartbeats, and answers its coordinator's requests from a
//! local engine: the same Supervisor, Pacer, Collector and CounterScraper a
//! local run uses, over the workload the coordinator's `start` names. Time
//! requests are answered by the subscription task itself, so the round trip
//! the coordinator measures is not lengthened by a busy mailbox. After `stop`
//! (or a new `start`) the workload is shut down and the agent waits for the
//! next coordinator; it exits only on SIGINT/SIGTERM.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_nats::{Client, Message};
use futures::StreamExt;
use loadgen_plugin_api::clock;
use ractor::{Actor, ActorProcessingErr, ActorRef};
use serde::Serialize;

use super::allow::AllowTarget;
use super::protocol::{self, Announce, Heartbeat, PluginVersion, Request, Subjects};
use super::signing::{now_unix_ns, ControlKey, Gate};
use crate::plugin::LoadedPlugin;
use crate::supervisor::Restarted;

/// What `loadgen agent` was started with.
#[derive(Clone, Debug)]
pub struct AgentOptions {
    pub nats_url: String,
    pub name: String,
    pub prefix: String,
    /// The plugins this agent can run (loaded at start).
    pub plugins: Vec<LoadedPlugin>,
    /// Test hook: write each step's collector window here (JSON), so a test
    /// can merge the agents' histograms itself.
    pub dump_dir: Option<PathBuf>,
    /// `--control-key control.pub`: verify every request, sign every answer.
    /// `None`: any order is obeyed (said loudly at start).
    pub key: Option<Arc<ControlKey>>,
    /// `--allow-target`: where a started workload may send (empty: anywhere).
    pub allow: Vec<AllowTarget>,
}

pub enum AgentMsg {
    /// A coordinator's request (`<p>.agent.<name>.<cmd>`).
    Request(Message),
    /// Publish the announcement (on start and on `<p>.discover`).
    Announce,
    /// A local measuring actor was restarted: the step cannot be trusted.
    Restarted(Restarted),
}

mod session;
pub mod summary;

use session::{stop_session, Session};

/// Read-only configuration.
pub struct Agent {
    pub client: Client,
    pub subjects: Subjects,
    pub options: AgentOptions,
}

#[derive(Default)]
pub struct AgentState {
    session: Option<Session>,
}

/// Run an agent until `shutdown` resolves.
pub async fn serve(
    options: AgentOptions,
    shutdown: impl Future<Output = ()>,
) -> Result<(), String> {
    let client = loadgen_plugin_api::sdk::nats::connect_to(
        &options.nats_url,
        &format!("loadgen-agent-{}", options.name),
        |o| o,
    )
    .await?;
    let subjects = Subjects::new(&options.prefix);
    let name = options.name.clone();
    let mut requests = client
        .subscribe(subjects.requests(&name))
        .await
        .map_err(|e| format!("cannot subscribe: {e}"))?;
    let mut discover = client
        .subscribe(subjects.discover())
        .await
        .map_err(|e| format!("cannot subscribe: {e}"))?;
    let options_key = options.key.clone();
    let allow = options.allow.clone();
    let agent = Agent {
        client: client.clone(),
        subjects: subjects.clone(),
        options,
    };
    let (actor, handle) = Actor::spawn(None, agent, ())
        .await
        .map_err(|e| format!("agent failed to start: {e}"))?;
    let _ = actor.send_message(AgentMsg::Announce);

    let time_cmd = format!(".{}", protocol::Time::CMD);
    let (c, a) = (client.clone(), actor.clone());
    let mut gate = options_key.clone().map(Gate::new);
    let (agent_name, time_key) = (name.clone(), options_key.clone());
    let serving = async move {
        while let Some(msg) = requests.next().await {
            if let Some(gate) = gate.as_mut() {
                let admitted = gate.admit(
                    &msg.subject,
                    msg.headers.as_ref(),
                    &msg.payload,
                    now_unix_ns(),
                );
                if let Err(why) = admitted {
                    let cmd = msg.subject.rsplit('.').next().unwrap_or_default();
                    let line = format!("refused {cmd} request: {why}; nothing started");
                    eprintln!("agent {agent_name}: {line}");
                    if let Some(reply) = msg.reply {
                        let answer = body(Err::<(), String>(line));
                        publish(&c, Some(&gate.key), reply.to_string(), answer).await;
                    }
                    continue;
                }
            }
            if msg.subject.ends_with(&time_cmd) {
                if let Some(reply) = msg.reply {
                    let answer = body(Ok::<u64, String>(clock::now().0));
                    publish(&c, time_key.as_deref(), reply.to_string(), answer).await;
                }
            } else if a.send_message(AgentMsg::Request(msg)).is_err() {
                return;
            }
        }
    };
    let a = actor.clone();
    let announcing = async move {
        while discover.next().await.is_some() {
            let _ = a.send_message(AgentMsg::Announce);
        }
    };
    let (c, beat_subject) = (client.clone(), subjects.heartbeat(&name));
    let beat = body(Heartbeat { name: name.clone() });
    let heartbeating = async move {
        let mut every = tokio::time::interval(protocol::HEARTBEAT_EVERY);
        loop {
            every.tick().await;
            let _ = c.publish(beat_subject.clone(), beat.clone()).await;
        }
    };
    if options_key.is_none() {
        eprintln!(
            "WARNING: agent {name} accepts UNSIGNED orders: anyone who can publish on {}.> can make it \
             send load anywhere. Run it with --control-key control.pub (see `loadgen keygen`).",
            subjects.prefix
        );
    }
    if !allow.is_empty() {
        let list: Vec<String> = allow.iter().map(ToString::to_string).collect();
        eprintln!("agent {name}: sends load only to {}", list.join(", "));
    }
    eprintln!(
        "agent {name}: waiting for a coordinator on {}.*{}",
        subjects.prefix,
        if options_key.is_some() {
            " (signed orders only)"
        } else {
            ""
        }
    );
    tokio::select! {
        _ = serving => {}
        _ = announcing => {}
        _ = heartbeating => {}
        _ = shutdown => {}
    }
    actor.stop(None);
    let _ = handle.await;
    // Bounded: with the control NATS gone, a flush would wait for it forever.
    let _ = tokio::time::timeout(Duration::from_secs(2), client.flush()).await;
    Ok(())
}

/// Publish `payload`, signed when the agent has a key.
async fn publish(
    client: &Client,
    key: Option<&ControlKey>,
    subject: String,
    payload: bytes::Bytes,
) {
    let _ = match key {
        Some(key) => {
            let headers = key.sign(&subject, &payload, now_unix_ns());
            client.publish_with_headers(subject, headers, payload).await
        }
        None => client.publish(subject, payload).await,
    };
}

fn body<T: Serialize>(value: T) -> bytes::Bytes {
    serde_json::to_vec(&value).expect("bodies serialize").into()
}

fn parse<R: Request>(msg: &Message) -> Result<R, String> {
    serde_json::from_slice(&msg.payload).map_err(|e| format!("malformed {} request: {e}", R::CMD))
}

impl Agent {
    fn announcement(&self, state: &AgentState) -> Announce {
        Announce {
            name: self.options.name.clone(),
            host: host_name(),
            loadgen_version: env!("CARGO_PKG_VERSION").to_string(),
            plugin_api_version: loadgen_plugin_api::abi::INTERFACE_VERSION.to_string(),
            plugins: self
                .options
                .plugins
                .iter()
                .map(|p| PluginVersion {
                    name: p.description.name.clone(),
                    version: p.description.version.clone(),
                })
                .collect(),
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            busy: state.session.is_some(),
        }
    }

    /// The reply body to `msg` (a serialized `Result<Reply, String>`).
    async fn dispatch(
        &self,
        myself: &ActorRef<AgentMsg>,
        state: &mut AgentState,
        msg: &Message,
    ) -> bytes::Bytes {
        let cmd = msg.subject.rsplit('.').next().unwrap_or_default();
        match cmd {
            protocol::Start::CMD => body(match parse::<protocol::Start>(msg) {
                Ok(start) => self.start(myself, state, start).await,
                Err(e) => Err(e),
            }),
            protocol::Stop::CMD => {
                stop_session(state).await;
                body(Ok::<(), String>(()))
            }
            _ => match state.session.as_mut() {
                Some(session) => self.in_session(session, cmd, msg).await,
                None => body(Err::<(), String>(format!(
                    "agent {}: no workload started",
                    self.options.name
                ))),
            },
        }
    }
}

/// This machine's name (for the announcement).
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "unknown".into())
}

impl Actor for Agent {
    type Msg = AgentMsg;
    type State = AgentState;
    type Arguments = ();

    async fn pre_start(
        &self,
        _myself: ActorRef<AgentMsg>,
        _args: (),
    ) -> Result<AgentState, ActorProcessingErr> {
        Ok(AgentState::default())
    }

    async fn handle(
        &self,
        myself: ActorRef<AgentMsg>,
        message: AgentMsg,
        state: &mut AgentState,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            AgentMsg::Request(msg) => {
                let answer = self.dispatch(&myself, state, &msg).await;
                if let Some(reply) = msg.reply {
                    let key = self.options.key.as_deref();
                    publish(&self.client, key, reply.to_string(), answer).await;
                }
            }
            AgentMsg::Announce => {
                let announce = body(self.announcement(state));
                let key = self.options.key.as_deref();
                publish(&self.client, key, self.subjects.announce(), announce).await;
            }
            AgentMsg::Restarted(r) => {
                if let Some(session) = state.session.as_mut() {
                    session.children = r.children;
                    session.disrupted.get_or_insert(format!(
                        "agent {}: {} restarted during the step: {}",
                        self.options.name, r.child, r.reason
                    ));
                }
            }
        }
        Ok(())
    }

    async fn post_stop(
        &self,
        _myself: ActorRef<AgentMsg>,
        state: &mut AgentState,
    ) -> Result<(), ActorProcessingErr> {
        stop_session(state).await;
        Ok(())
    }
}
