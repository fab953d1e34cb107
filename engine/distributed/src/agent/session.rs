//! A coordinator's session on an agent: the workload it started, the local
//! engine measuring it, and the requests answered from that engine.

use std::sync::Arc;

use async_nats::Message;
use ractor::{Actor, ActorRef, OutputPort};

use super::summary::{publish_hold, Publisher};
use super::{body, parse, Agent, AgentMsg, AgentState};
use crate::allow::check_targets;
use crate::collector::{CollectorHandle, CollectorMsg};
use crate::counters::CounterMsg;
use crate::pacer::PacerMsg;
use crate::pending::PendingMsg;
use crate::plugin::{host_config, Workload};
use crate::protocol::{self, Request, Started, WireParts, WireSeries};
use crate::ramp::ask;
use crate::run::{start_workload, stop_workload};
use crate::supervisor::{Children, Supervisor, SupervisorMsg};

/// The workload a coordinator started, and the engine measuring it.
pub(super) struct Session {
    workload: Arc<Workload>,
    supervisor: ActorRef<SupervisorMsg>,
    pub(super) children: Children,
    /// Set when a local actor restarted during the current step.
    pub(super) disrupted: Option<String>,
    /// Windows dumped so far (test hook).
    dumped: u32,
    /// Publishes the current hold's per-second summaries.
    summaries: Option<tokio::task::JoinHandle<()>>,
}

impl Agent {
    pub(super) async fn start(
        &self,
        myself: &ActorRef<AgentMsg>,
        state: &mut AgentState,
        start: protocol::Start,
    ) -> Result<Started, String> {
        stop_session(state).await;
        let name = &self.options.name;
        let plugin = self
            .options
            .plugins
            .iter()
            .find(|p| p.description.name == start.plugin)
            .ok_or_else(|| format!("agent {name} cannot load plugin {}", start.plugin))?;
        if !self.options.allow.is_empty() {
            let targets = plugin.targets(&host_config(&start.config))?;
            if let Err(why) = check_targets(&self.options.allow, &start.plugin, targets.as_deref())
            {
                eprintln!("agent {name}: refused start: {why}; nothing started");
                return Err(format!("refused: {why}; nothing started"));
            }
        }
        let collector = CollectorHandle::default();
        let workload = start_workload(plugin, &start.config, collector.clone())
            .await
            .map_err(|e| format!("agent {name}: {e}"))?;
        let restarts = Arc::new(OutputPort::default());
        restarts.subscribe(myself.clone(), |r| Some(AgentMsg::Restarted(r)));
        let supervisor = Supervisor {
            workload: Arc::clone(&workload),
            pacer_window: start.config.pacer_window(),
            collector,
            backlog: None,
            scrape_urls: Vec::new(),
            restarts,
        };
        let started = async {
            let (supervisor, _) = Actor::spawn(None, supervisor, ())
                .await
                .map_err(|e| e.to_string())?;
            let children = ask(&supervisor, "supervisor", SupervisorMsg::Children).await?;
            Ok::<_, String>((supervisor, children))
        };
        let (supervisor, children) = match started.await {
            Ok(started) => started,
            Err(e) => {
                stop_workload(workload).await;
                return Err(format!("agent {name}: engine failed to start: {e}"));
            }
        };
        let durables = workload
            .pending_targets()
            .unwrap_or_default()
            .into_iter()
            .map(|t| (t.stream.into_string(), t.durable.into_string()))
            .collect();
        let series = workload.series.clone();
        state.session = Some(Session {
            workload,
            supervisor,
            children,
            disrupted: None,
            dumped: 0,
            summaries: None,
        });
        Ok(Started { durables, series })
    }

    pub(super) async fn in_session(
        &self,
        session: &mut Session,
        cmd: &str,
        msg: &Message,
    ) -> bytes::Bytes {
        let c = &session.children;
        match cmd {
            protocol::Window::CMD => body(parse::<protocol::Window>(msg).map(|w| {
                session.disrupted = None;
                let _ = c.collector.send_message(CollectorMsg::Window {
                    hold_start: w.hold_start,
                    hold_end: w.hold_end,
                });
                let publisher = Publisher {
                    client: self.client.clone(),
                    key: self.options.key.clone(),
                    subject: self.subjects.summary(&self.options.name),
                    name: self.options.name.clone(),
                };
                let hold = publish_hold(publisher, c.clone(), w.hold_start, w.hold_end);
                if let Some(previous) = session.summaries.replace(tokio::spawn(hold)) {
                    previous.abort();
                }
            })),
            protocol::Step::CMD => body(parse::<protocol::Step>(msg).map(|s| {
                let _ = c.pacer.send_message(PacerMsg::StartSlice(s.times, s.slice));
            })),
            protocol::Halt::CMD => {
                let _ = c.pacer.send_message(PacerMsg::Halt);
                body(Ok::<(), String>(()))
            }
            protocol::Report::CMD => body(ask(&c.pacer, "pacer", PacerMsg::Report).await),
            protocol::Parts::CMD => {
                let step_end = parse::<protocol::Parts>(msg).is_ok_and(|p| p.step_end);
                body(self.parts(session, step_end).await)
            }
            protocol::Gauges::CMD => body(
                ask(&c.pending, "backlog reading", PendingMsg::Read)
                    .await
                    .and_then(|r| r),
            ),
            protocol::Disturbances::CMD => {
                body(ask(&c.collector, "collector", CollectorMsg::Disturbances).await)
            }
            protocol::Counters::CMD => body(
                ask(&c.counters, "counters", CounterMsg::Snapshot)
                    .await
                    .and_then(|r| r)
                    .map(|s| s.plugin),
            ),
            other => body(Err::<(), String>(format!("unknown request {other:?}"))),
        }
    }

    async fn parts(&self, session: &mut Session, step_end: bool) -> Result<WireParts, String> {
        let parts = ask(
            &session.children.collector,
            "collector",
            CollectorMsg::Parts,
        )
        .await?;
        let series: Vec<WireSeries> = parts.iter().map(WireSeries::from_parts).collect();
        if let (Some(dir), true) = (&self.options.dump_dir, step_end) {
            session.dumped += 1;
            let path = dir.join(format!("{}-{}.json", self.options.name, session.dumped));
            let _ = std::fs::write(path, serde_json::to_vec(&series).unwrap_or_default());
        }
        let in_use = match &session.disrupted {
            Some(why) => Err(why.clone()),
            None => session.workload.series_in_use(),
        };
        Ok(WireParts { series, in_use })
    }
}

pub(super) async fn stop_session(state: &mut AgentState) {
    if let Some(session) = state.session.take() {
        if let Some(task) = &session.summaries {
            task.abort();
        }
        let _ = ractor::call_t!(session.supervisor, SupervisorMsg::Shutdown, 10_000);
        stop_workload(session.workload).await;
    }
}
