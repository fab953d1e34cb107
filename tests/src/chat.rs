//! [`ChatClient`]: the client side of PROTOCOL.md for tests — a plain
//! async-nats connection, the subjects, and request helpers that subscribe
//! and flush before publishing so no reply is lost.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::Context as _;
use async_nats::{Client, Subscriber};
use chat_fixtures::Rng;
use futures::StreamExt;
use serde_json::{json, Value};

use crate::NatsServer;

/// How long a test waits for any single reply.
pub const REPLY_TIMEOUT: Duration = Duration::from_secs(5);

/// A chat client on one connection, for one site.
#[derive(Clone)]
pub struct ChatClient {
    pub client: Client,
    pub site: String,
}

impl ChatClient {
    pub async fn connect(nats: &NatsServer) -> anyhow::Result<Self> {
        Ok(ChatClient {
            client: nats.client().await?,
            site: "site-local".into(),
        })
    }

    pub fn send_subject(&self, account: &str, room: &str) -> String {
        format!("chat.user.{account}.room.{room}.{}.msg.send", self.site)
    }

    pub fn request_subject(&self, account: &str, room: &str, endpoint: &str) -> String {
        format!(
            "chat.user.{account}.request.room.{room}.{}.msg.{endpoint}",
            self.site
        )
    }

    /// Subscribes to a subject and makes sure the server has the interest
    /// before anything is published.
    pub async fn subscribe(&self, subject: String) -> anyhow::Result<Subscriber> {
        let sub = self.client.subscribe(subject).await?;
        self.client.flush().await?;
        Ok(sub)
    }

    /// Frontdoor send of a raw payload; returns the gatekeeper's reply on
    /// `chat.user.{account}.response.{request_id}`.
    pub async fn send_raw(
        &self,
        account: &str,
        room: &str,
        request_id: &str,
        payload: Vec<u8>,
    ) -> anyhow::Result<Value> {
        let mut replies = self
            .subscribe(format!("chat.user.{account}.response.{request_id}"))
            .await?;
        self.client
            .publish(self.send_subject(account, room), payload.into())
            .await?;
        self.client.flush().await?;
        let reply = next(&mut replies, REPLY_TIMEOUT)
            .await
            .context("gatekeeper reply")?;
        serde_json::from_slice(&reply.payload)
            .with_context(|| format!("reply is not JSON: {:?}", reply.payload))
    }

    /// Frontdoor send of a well-formed SendMessageRequest; returns the reply.
    pub async fn send(
        &self,
        account: &str,
        room: &str,
        id: &str,
        content: &str,
        thread_parent: Option<&str>,
    ) -> anyhow::Result<Value> {
        let request_id = new_request_id();
        let mut body = json!({"id": id, "content": content, "requestId": request_id});
        if let Some(parent) = thread_parent {
            body["threadParentMessageId"] = json!(parent);
        }
        self.send_raw(account, room, &request_id, serde_json::to_vec(&body)?)
            .await
    }

    /// Core request to the history service; returns the parsed reply.
    pub async fn request(
        &self,
        account: &str,
        room: &str,
        endpoint: &str,
        body: Value,
    ) -> anyhow::Result<Value> {
        let subject = self.request_subject(account, room, endpoint);
        let ask = self
            .client
            .request(subject, serde_json::to_vec(&body)?.into());
        let reply = tokio::time::timeout(REPLY_TIMEOUT, ask)
            .await
            .context("history reply timed out")??;
        serde_json::from_slice(&reply.payload)
            .with_context(|| format!("reply is not JSON: {:?}", reply.payload))
    }

    pub async fn history(
        &self,
        account: &str,
        room: &str,
        before: Option<i64>,
        limit: u32,
    ) -> anyhow::Result<Value> {
        let mut body = json!({"limit": limit});
        if let Some(b) = before {
            body["before"] = json!(b);
        }
        self.request(account, room, "history", body).await
    }

    pub async fn thread(
        &self,
        account: &str,
        room: &str,
        thread_id: &str,
        limit: u32,
    ) -> anyhow::Result<Value> {
        self.request(
            account,
            room,
            "thread",
            json!({"threadMessageId": thread_id, "limit": limit}),
        )
        .await
    }
}

/// The next message on a subscription, or an error after `timeout`.
pub async fn next(sub: &mut Subscriber, timeout: Duration) -> anyhow::Result<async_nats::Message> {
    tokio::time::timeout(timeout, sub.next())
        .await
        .with_context(|| format!("no message within {timeout:?}"))?
        .context("subscription closed")
}

/// The ids of a history/thread reply's `messages`.
pub fn message_ids(reply: &Value) -> Vec<String> {
    reply["messages"]
        .as_array()
        .map(|ms| {
            ms.iter()
                .filter_map(|m| m["id"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// A fresh random UUID (v4 layout) for `requestId`.
pub fn new_request_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let mut rng = Rng::new(
        nanos ^ (COUNTER.fetch_add(1, Ordering::Relaxed) << 48) ^ u64::from(std::process::id()),
    );
    let (a, b) = (rng.next_u64(), rng.next_u64());
    let b = (b & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000;
    let a = (a & 0xFFFF_FFFF_FFFF_0FFF) | 0x4000;
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xFFFF,
        a & 0xFFFF,
        b >> 48,
        b & 0xFFFF_FFFF_FFFF
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn request_ids_are_distinct_uuids() {
        let (a, b) = (super::new_request_id(), super::new_request_id());
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
    }
}
