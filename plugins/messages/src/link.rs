//! The NATS connection, and the checks made before the first step: is this a
//! chat-testbed with other fixtures, and does the server know our senders?

use std::sync::Arc;
use std::time::Duration;

use async_nats::{Client, Event};
use bytes::Bytes;
use chat_fixtures::{Fixtures, Rng};
use futures::StreamExt;
use loadgen_plugin_api::sdk::nats::ConnectionWatch;
use serde::Deserialize;

use crate::ids;
use crate::tally::{bump, Tally};
use crate::wire::{self, Reply};

/// A real deployment has no `testbed.info` responder: no answer this soon
/// means "not a testbed".
const INFO_TIMEOUT: Duration = Duration::from_secs(1);
const PREFLIGHT_SENDS: u64 = 3;
const PREFLIGHT_TIMEOUT: Duration = Duration::from_secs(3);

/// Connect (see `sdk::nats::connect`); slow-consumer drops are counted, and a
/// lost connection is reported to the host (`watch`).
pub async fn connect(tally: Arc<Tally>, watch: ConnectionWatch) -> Result<Client, String> {
    loadgen_plugin_api::sdk::nats::connect("loadgen-messages", |options| {
        options
            .subscription_capacity(1 << 20)
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

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TestbedInfo {
    preset: String,
    seed: u64,
    site: String,
    fixtures_id: String,
}

/// Refuse to run against a chat-testbed seeded with other fixtures.
pub async fn check_testbed(client: &Client, fixtures: &Fixtures) -> Result<(), String> {
    let answer =
        tokio::time::timeout(INFO_TIMEOUT, client.request("testbed.info", Bytes::new())).await;
    let Ok(Ok(reply)) = answer else {
        return Ok(()); // no responder: not a testbed
    };
    let Ok(info) = serde_json::from_slice::<TestbedInfo>(&reply.payload) else {
        return Ok(());
    };
    if info.fixtures_id == fixtures.id() {
        return Ok(());
    }
    Err(format!(
        "chat-testbed serves preset {} seed {} site {}, but this run uses preset {} seed {} site {}: \
         pass --preset {} --seed {} (and SITE_ID={}), or restart the testbed with this run's",
        info.preset,
        info.seed,
        info.site,
        fixtures.preset().name(),
        fixtures.seed(),
        fixtures.site(),
        info.preset,
        info.seed,
        info.site
    ))
}

/// Send a few real messages as fixture members; if most are rejected as
/// "not subscribed", the server's fixtures differ from ours: stop now
/// rather than ramp into a wall of errors.
pub async fn preflight(
    client: &Client,
    fixtures: &Fixtures,
    nonce: u32,
    site: &str,
) -> Result<(), String> {
    let mut rejections = Vec::new();
    let mut answered = 0;
    for i in 0..PREFLIGHT_SENDS {
        // Sequence numbers far above the run's, so receivers ignore these.
        let seq = (1 << 47) + i;
        let mut rng = Rng::new(chat_fixtures::hash(&[fixtures.seed(), seq]));
        let pick = fixtures.pick_send(&mut rng);
        let account = fixtures.account(pick.user);
        let request_id = ids::request_id(nonce, seq);
        let mut replies = client
            .subscribe(format!("chat.user.{account}.response.{request_id}"))
            .await
            .map_err(|e| format!("cannot subscribe: {e}"))?;
        client
            .flush()
            .await
            .map_err(|e| format!("cannot flush: {e}"))?;
        let body = serde_json::to_vec(&wire::SendMessageRequest {
            id: &ids::message_id(nonce, seq),
            content: &fixtures.content(&mut rng, pick),
            request_id: &request_id,
            thread_parent_message_id: None,
        })
        .map_err(|e| e.to_string())?;
        let subject = format!(
            "chat.user.{account}.room.{}.{site}.msg.send",
            fixtures.room_id(pick.room)
        );
        client
            .publish(subject, body.into())
            .await
            .map_err(|e| format!("cannot publish: {e}"))?;
        if let Ok(Some(reply)) = tokio::time::timeout(PREFLIGHT_TIMEOUT, replies.next()).await {
            answered += 1;
            if let Reply::Rejected(reason) = wire::parse_reply(&reply.payload) {
                if reason.contains("not subscribed") {
                    rejections.push(reason);
                }
            }
        }
        let _ = replies.unsubscribe().await;
    }
    if answered == 0 {
        return Err(format!(
            "none of {PREFLIGHT_SENDS} trial sends was answered within {PREFLIGHT_TIMEOUT:?}: \
             is the message-gatekeeper of site {site} running?"
        ));
    }
    if rejections.len() as u64 * 2 > PREFLIGHT_SENDS {
        return Err(format!(
            "{} of {PREFLIGHT_SENDS} trial sends were rejected as not subscribed (\"{}\"): the server's \
             fixtures are not seeded, or were seeded with another preset/seed than this run's \
             (preset {} seed {})",
            rejections.len(),
            rejections[0],
            fixtures.preset().name(),
            fixtures.seed()
        ));
    }
    Ok(())
}
