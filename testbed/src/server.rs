//! [`serve`]: wires the services together and owns their lifecycle.
//!
//! Shutdown fans out through one `watch` channel: every intake loop stops
//! taking work, waits (bounded) for its handlers in flight, and returns;
//! then each connection is flushed so the last acks and replies reach the
//! server. The whole sequence is bounded to stay under 5 s.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use async_nats::{jetstream, Client};
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::broadcast::Broadcast;
use crate::config::Config;
use crate::gatekeeper::Gatekeeper;
use crate::history;
use crate::info::{self, Info};
use crate::knobs::Service;
use crate::metrics;
use crate::replay::replay;
use crate::runner;
use crate::setup::{self, Durable, BROADCAST_DURABLE, GATEKEEPER_DURABLE, WORKER_DURABLE};
use crate::shared::Shared;
use crate::worker::Worker;

/// How long services get to finish in-flight work after the stop signal.
const STOP_GRACE: Duration = Duration::from_millis(3500);
/// How long the final flush of each connection may take.
const FLUSH_GRACE: Duration = Duration::from_millis(800);

/// Runs the testbed until `shutdown` completes (or a service fails).
pub async fn serve(config: Config, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
    let shared = Arc::new(Shared::new(config));
    log_start(&shared);
    let url = shared.config.nats_url.clone();
    let admin = connect(&url, "admin").await?;
    let js = jetstream::new(admin.clone());
    setup::ensure_streams(&js, &shared.subjects, shared.config.stream_max_age()).await?;
    let durables = durables(&shared);
    for d in &durables {
        setup::durable(&js, d).await?;
    }
    let replayed = replay(&js, &shared).await?;
    if replayed > 0 {
        tracing::info!(
            "restored {replayed} stored messages from {}",
            shared.subjects.canonical_stream
        );
    }

    let (stop, stopped) = watch::channel(false);
    let mut tasks = JoinSet::new();
    let metrics_addr = match shared.config.metrics_addr {
        Some(addr) => {
            let listener = metrics::bind(addr).await?;
            let bound = listener.local_addr()?;
            tasks.spawn(ok(metrics::serve_metrics(
                listener,
                shared.metrics.clone(),
                stopped.clone(),
            )));
            Some(bound)
        }
        None => None,
    };
    let [gatekeeper_d, worker_d, broadcast_d] = durables;
    let mut clients = vec![admin.clone()];
    let client = connect(&url, "gatekeeper").await?;
    clients.push(client.clone());
    let handler = Arc::new(Gatekeeper::new(
        shared.clone(),
        jetstream::new(client.clone()),
        client,
    ));
    let knobs = shared.config.knobs(Service::Gatekeeper);
    tasks.spawn(ok(runner::run(
        handler,
        js.clone(),
        gatekeeper_d,
        knobs,
        shared.clone(),
        stopped.clone(),
    )));

    let handler = Arc::new(Worker::new(shared.clone()));
    let client = connect(&url, "worker").await?;
    clients.push(client.clone());
    let knobs = shared.config.knobs(Service::Worker);
    tasks.spawn(ok(runner::run(
        handler,
        jetstream::new(client),
        worker_d,
        knobs,
        shared.clone(),
        stopped.clone(),
    )));

    let client = connect(&url, "broadcast").await?;
    clients.push(client.clone());
    let handler = Arc::new(Broadcast::new(shared.clone(), client.clone()));
    let knobs = shared.config.knobs(Service::Broadcast);
    tasks.spawn(ok(runner::run(
        handler,
        jetstream::new(client),
        broadcast_d,
        knobs,
        shared.clone(),
        stopped.clone(),
    )));

    let client = connect(&url, "history").await?;
    clients.push(client.clone());
    let knobs = shared.config.knobs(Service::History);
    tasks.spawn(history::run(shared.clone(), client, knobs, stopped.clone()));

    let info = Info::new(&shared, metrics_addr);
    tasks.spawn(info::run(admin.clone(), info, stopped.clone()));
    if let Some(addr) = metrics_addr {
        tracing::info!("metrics on http://{addr}/metrics");
    }
    tracing::info!("chat-testbed ready");

    let failure = tokio::select! {
        () = shutdown => None,
        Some(done) = tasks.join_next() => Some(done),
    };
    tracing::info!("shutting down");
    stop.send(true).ok();
    let drained = tokio::time::timeout(STOP_GRACE, async {
        while let Some(done) = tasks.join_next().await {
            report(done);
        }
    })
    .await;
    if drained.is_err() {
        tracing::warn!("services did not stop within {STOP_GRACE:?}; abandoning them");
        tasks.abort_all();
    }
    for client in &clients {
        if tokio::time::timeout(FLUSH_GRACE, client.flush())
            .await
            .is_err()
        {
            tracing::warn!("final flush timed out");
        }
    }
    let processed = Service::ALL
        .map(|s| format!("{s}={}", shared.metrics.processed(s)))
        .join(" ");
    tracing::info!(
        "stopped; processed {processed}; {} messages stored",
        shared.store.len()
    );
    match failure {
        Some(done) => {
            Err(report(done).unwrap_or_else(|| anyhow::anyhow!("a service stopped unexpectedly")))
        }
        None => Ok(()),
    }
}

fn durables(shared: &Shared) -> [Durable; 3] {
    let s = &shared.subjects;
    [
        Durable {
            stream: s.messages_stream.clone(),
            name: GATEKEEPER_DURABLE,
        },
        Durable {
            stream: s.canonical_stream.clone(),
            name: WORKER_DURABLE,
        },
        Durable {
            stream: s.canonical_stream.clone(),
            name: BROADCAST_DURABLE,
        },
    ]
}

/// One connection per service, so a busy service's socket never delays
/// another's acks; named so `nats-server` connection lists are readable.
async fn connect(url: &str, role: &str) -> anyhow::Result<Client> {
    async_nats::ConnectOptions::new()
        .name(format!("chat-testbed/{role}"))
        .connection_timeout(Duration::from_secs(5))
        .connect(url)
        .await
        .with_context(|| format!("connecting to NATS at {url}"))
}

async fn ok(service: impl Future<Output = ()>) -> anyhow::Result<()> {
    service.await;
    Ok(())
}

/// Logs a finished task; returns its error, if any.
fn report(done: Result<anyhow::Result<()>, tokio::task::JoinError>) -> Option<anyhow::Error> {
    let err = match done {
        Ok(Ok(())) => return None,
        Ok(Err(e)) => e,
        Err(e) => anyhow::anyhow!("service task panicked: {e}"),
    };
    tracing::error!("{err:#}");
    Some(err)
}

fn log_start(shared: &Shared) {
    let c = &shared.config;
    tracing::info!(
        preset = %c.preset,
        seed = c.seed,
        site = %c.site_id,
        history_preset = %c.history_preset,
        fixtures_id = %shared.fixtures.id(),
        history_fixtures_id = %shared.history.id(),
        nats_url = %c.nats_url,
        "chat-testbed starting"
    );
    for s in Service::ALL {
        tracing::info!("knobs {s}: {}", c.knobs(s));
    }
    let stall = c.stall.map_or("none".to_string(), |s| s.to_string());
    tracing::info!(
        "faults: error_rate={} drop_rate={} malformed_rate={} stall={stall}",
        c.error_rate,
        c.drop_rate,
        c.malformed_rate
    );
}
