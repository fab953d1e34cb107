//! The `testbed.info` responder: tells a plugin which fixtures this testbed
//! serves, so it can refuse a preset/seed mismatch before sending into a
//! wall of "not subscribed" errors. A real deployment has no responder.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use async_nats::Client;
use bytes::Bytes;
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::knobs::Service;
use crate::shared::Shared;
use crate::shutdown::stopped;
use crate::subjects::INFO;

/// The `testbed.info` reply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Info {
    pub service: String,
    pub version: String,
    pub preset: String,
    pub seed: u64,
    pub site: String,
    pub history_preset: String,
    /// [`chat_fixtures::fixtures_id`] of (preset, seed, site).
    pub fixtures_id: String,
    /// [`chat_fixtures::history_fixtures_id`] of (history preset, seed, site).
    pub history_fixtures_id: String,
    /// Where the Prometheus counters are served, if anywhere.
    pub metrics_addr: Option<SocketAddr>,
    /// Knobs per service, as logged at start.
    pub knobs: BTreeMap<String, String>,
}

impl Info {
    pub fn new(shared: &Shared, metrics_addr: Option<SocketAddr>) -> Self {
        let c = &shared.config;
        Info {
            service: "chat-testbed".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            preset: c.preset.to_string(),
            seed: c.seed,
            site: c.site_id.clone(),
            history_preset: c.history_preset.to_string(),
            fixtures_id: shared.fixtures.id().to_string(),
            history_fixtures_id: shared.history.id().to_string(),
            metrics_addr,
            knobs: Service::ALL
                .iter()
                .map(|&s| (s.name().to_string(), c.knobs(s).to_string()))
                .collect(),
        }
    }
}

/// Answers `testbed.info` until shutdown.
pub async fn run(
    client: Client,
    info: Info,
    mut shutdown: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let reply = Bytes::from(serde_json::to_vec(&info)?);
    let mut requests = client.subscribe(INFO).await?;
    loop {
        tokio::select! {
            _ = stopped(&mut shutdown) => break,
            msg = requests.next() => match msg {
                Some(msg) => {
                    if let Some(to) = msg.reply {
                        client.publish(to, reply.clone()).await.ok();
                    }
                }
                None => break,
            },
        }
    }
    requests.unsubscribe().await.ok();
    Ok(())
}
