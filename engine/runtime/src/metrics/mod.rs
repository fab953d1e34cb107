//! The Metrics actor: loadgen's own Prometheus endpoint (`--metrics-addr`),
//! so a dashboard can follow an hours-long ramp while it runs.
//!
//! It keeps the [`Live`] figures, fed by the Reporter (which sees every step
//! event), and serves them over HTTP; each scrape asks the actor for the
//! text, so no state is shared. Stopping the actor closes the listener: the
//! endpoint lives exactly as long as the run.

mod live;
mod server;

use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
use tokio::task::JoinHandle;

pub use live::{FixedHistogram, Live, LATENCY_BUCKETS_MS};

use crate::report::per_second::SecondUpdate;
use loadgen_core::ramp::Phase;
use loadgen_core::verdict::VerdictKind;

pub enum MetricsMsg {
    StepStarted {
        probe: u32,
        rps: u64,
    },
    Phase(Phase),
    /// One second of hold: achieved rate, latency, failures, backlogs.
    Second(Box<SecondUpdate>),
    /// A step was judged.
    StepFinished(VerdictKind),
    /// The exposition text, for a scrape.
    Render(RpcReplyPort<String>),
}

/// No configuration: the listener comes as the argument.
pub struct Metrics;

pub struct MetricsState {
    live: Live,
    /// The HTTP server; aborted (closing the listener) when the actor stops.
    server: JoinHandle<()>,
}

impl Actor for Metrics {
    type Msg = MetricsMsg;
    type State = MetricsState;
    /// Bound by the caller, so a bad address is a usage error before any load.
    type Arguments = tokio::net::TcpListener;

    async fn pre_start(
        &self,
        myself: ActorRef<MetricsMsg>,
        listener: tokio::net::TcpListener,
    ) -> Result<MetricsState, ActorProcessingErr> {
        Ok(MetricsState {
            live: Live::new(),
            server: tokio::spawn(server::serve(listener, myself)),
        })
    }

    async fn post_stop(
        &self,
        _myself: ActorRef<MetricsMsg>,
        state: &mut MetricsState,
    ) -> Result<(), ActorProcessingErr> {
        state.server.abort();
        let _ = (&mut state.server).await;
        Ok(())
    }

    async fn handle(
        &self,
        _myself: ActorRef<MetricsMsg>,
        message: MetricsMsg,
        state: &mut MetricsState,
    ) -> Result<(), ActorProcessingErr> {
        let live = &mut state.live;
        match message {
            MetricsMsg::StepStarted { probe, rps } => live.step_started(probe, rps),
            MetricsMsg::Phase(phase) => live.phase = Some(phase),
            MetricsMsg::Second(update) => live.second(&update),
            MetricsMsg::StepFinished(verdict) => live.step_finished(verdict),
            MetricsMsg::Render(reply) => {
                let _ = reply.send(live.render());
            }
        }
        Ok(())
    }
}
