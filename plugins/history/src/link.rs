//! The NATS connection: connecting (`NATS_URL`, `NATS_CREDS_FILE`), the
//! requests themselves, and the `testbed.info` fixtures check.

use std::sync::Arc;
use std::time::Duration;

use async_nats::{Client, Event, RequestErrorKind};
use bytes::Bytes;
use chat_fixtures::HistoryFixtures;
use loadgen_plugin_api::sdk::nats::ConnectionWatch;
use serde::Deserialize;

use crate::ops::{SendError, Transport};
use crate::tally::{bump, Tally};

/// A real deployment has no `testbed.info` responder: no answer this soon
/// means "not a testbed".
const INFO_TIMEOUT: Duration = Duration::from_secs(1);

/// Connect (see `sdk::nats::connect`); slow-consumer drops are counted.
/// Requests have no client-side timeout: every op bounds its own wait. A lost
/// connection is reported to the host (`watch`).
pub async fn connect(tally: Arc<Tally>, watch: ConnectionWatch) -> Result<Client, String> {
    loadgen_plugin_api::sdk::nats::connect("loadgen-history", |options| {
        options
            .subscription_capacity(1 << 20)
            .request_timeout(None)
            .event_callback(move |event| {
                watch.on_event(&event);
                let tally = Arc::clone(&tally);
                async move {
                    if let Event::SlowConsumer(_) = event {
                        bump(&tally.slow_consumer);
                    }
                }
            })
    })
    .await
}

/// Core NATS request/reply; replies arrive on the client's one shared inbox
/// subscription.
impl Transport for Client {
    async fn request(&self, subject: String, payload: Bytes) -> Result<Bytes, SendError> {
        match Client::request(self, subject, payload).await {
            Ok(reply) => Ok(reply.payload),
            Err(e) => Err(match e.kind() {
                RequestErrorKind::NoResponders => SendError::NoResponders,
                RequestErrorKind::TimedOut => SendError::TimedOut,
                _ => SendError::Failed,
            }),
        }
    }
}

/// The history half of chat-testbed's `testbed.info` reply.
#[derive(Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TestbedInfo {
    pub history_preset: String,
    pub seed: u64,
    pub site: String,
    pub history_fixtures_id: String,
}

/// Refuse to run against a chat-testbed seeded with other history fixtures.
pub async fn check_testbed(
    client: &Client,
    fixtures: &HistoryFixtures,
    site: &str,
) -> Result<(), String> {
    let answer =
        tokio::time::timeout(INFO_TIMEOUT, client.request("testbed.info", Bytes::new())).await;
    let Ok(Ok(reply)) = answer else {
        return Ok(()); // no responder: not a testbed
    };
    // A testbed too old to report its history fixtures cannot be checked.
    match serde_json::from_slice::<TestbedInfo>(&reply.payload) {
        Ok(info) => compare(&info, fixtures, site),
        Err(_) => Ok(()),
    }
}

pub fn compare(info: &TestbedInfo, fixtures: &HistoryFixtures, site: &str) -> Result<(), String> {
    if info.history_fixtures_id == fixtures.id() {
        return Ok(());
    }
    let (preset, seed) = (fixtures.preset().name(), fixtures.seed());
    Err(format!(
        "chat-testbed serves history preset {} seed {} site {}, but this run uses history preset {preset} \
         seed {seed} site {site}: pass --preset {} --seed {} (and SITE_ID={}), or restart the testbed with \
         --history-preset {preset} --seed {seed}",
        info.history_preset, info.seed, info.site, info.history_preset, info.seed, info.site,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chat_fixtures::HistoryPreset;

    #[test]
    fn other_history_fixtures_are_refused_naming_both() {
        let ours = HistoryFixtures::build(HistoryPreset::Small, 42, "site-local");
        let theirs = HistoryFixtures::build(HistoryPreset::Medium, 7, "site-local");
        let info = |f: &HistoryFixtures| TestbedInfo {
            history_preset: f.preset().name().into(),
            seed: f.seed(),
            site: "site-local".into(),
            history_fixtures_id: f.id().into(),
        };
        assert_eq!(compare(&info(&ours), &ours, "site-local"), Ok(()));
        let err = compare(&info(&theirs), &ours, "site-local").unwrap_err();
        assert_eq!(
            err,
            "chat-testbed serves history preset history-medium seed 7 site site-local, but this run uses \
             history preset history-small seed 42 site site-local: pass --preset history-medium --seed 7 \
             (and SITE_ID=site-local), or restart the testbed with --history-preset history-small --seed 42"
        );
    }

    #[test]
    fn the_testbeds_reply_is_read_by_its_field_names() {
        let json = br#"{"service":"chat-testbed","preset":"medium","seed":3,"site":"s","historyPreset":"history-large",
            "fixturesId":"x","historyFixturesId":"history-large:3:s:00","metricsAddr":null,"knobs":{}}"#;
        let info: TestbedInfo = serde_json::from_slice(json).unwrap();
        assert_eq!(
            info,
            TestbedInfo {
                history_preset: "history-large".into(),
                seed: 3,
                site: "s".into(),
                history_fixtures_id: "history-large:3:s:00".into()
            }
        );
    }
}
