//! history-service: answers `…msg.history` and `…msg.thread` requests
//! (core NATS request/reply, queue group `history-service`) from the seeded
//! history preset and what message-worker stored.

use std::sync::Arc;
use std::time::Duration;

use async_nats::{Client, Message};
use bytes::Bytes;
use futures::StreamExt;
use tokio::sync::watch;

use crate::knobs::{Knobs, Service};
use crate::metrics::{Fault, Outcome};
use crate::pages;
use crate::runner::Pool;
use crate::shared::Shared;
use crate::shutdown::stopped;
use crate::subjects::Endpoint;
use crate::throttle::Throttle;
use crate::wire::{self, HistoryRequest, ThreadRequest};

pub const QUEUE_GROUP: &str = "history-service";

/// The reply to one request, or the reason it is refused.
pub fn respond(shared: &Shared, subject: &str, payload: &[u8]) -> Result<Bytes, String> {
    let (account, room, endpoint) = shared
        .subjects
        .parse_history(subject)
        .ok_or_else(|| format!("unknown endpoint `{subject}`"))?;
    if !shared.may_read(account, room) {
        return Err(format!("user {account} is not a member of room {room}"));
    }
    let payload = if payload.iter().all(u8::is_ascii_whitespace) {
        &b"{}"[..]
    } else {
        payload
    };
    let malformed = |e: serde_json::Error| format!("malformed request: {e}");
    match endpoint {
        Endpoint::History => {
            let req: HistoryRequest = serde_json::from_slice(payload).map_err(malformed)?;
            Ok(pages::history(
                shared,
                room,
                req.before,
                pages::limit(req.limit)?,
            ))
        }
        Endpoint::Thread => {
            let req: ThreadRequest = serde_json::from_slice(payload).map_err(malformed)?;
            let thread_id = req
                .thread_message_id
                .filter(|t| !t.is_empty())
                .ok_or("threadMessageId is required")?;
            Ok(pages::thread(
                shared,
                room,
                &thread_id,
                pages::limit(req.limit)?,
            ))
        }
    }
}

async fn answer(shared: &Shared, client: &Client, msg: Message) -> Outcome {
    let Some(reply_to) = msg.reply else {
        tracing::debug!(subject = %msg.subject, "history request without reply subject");
        return Outcome::Rejected;
    };
    let (payload, outcome) = match respond(shared, msg.subject.as_str(), &msg.payload) {
        Ok(page) => (page, Outcome::Processed),
        Err(reason) => (wire::error_reply(&reason), Outcome::Rejected),
    };
    let faults = &shared.faults;
    let payload = if faults.roll(faults.drop_rate) {
        shared.metrics.fault(Service::History, Fault::Drop);
        return outcome;
    } else if faults.roll(faults.malformed_rate) {
        shared.metrics.fault(Service::History, Fault::Malformed);
        Bytes::from_static(wire::MALFORMED)
    } else {
        payload
    };
    match client.publish(reply_to, payload).await {
        Ok(()) => outcome,
        Err(e) => {
            tracing::debug!("history reply failed: {e}");
            Outcome::Failed
        }
    }
}

/// Serves until `shutdown` turns true, then unsubscribes and waits for the
/// requests in flight.
pub async fn run(
    shared: Arc<Shared>,
    client: Client,
    knobs: Knobs,
    mut shutdown: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let mut requests = client
        .queue_subscribe(shared.subjects.history_filter.clone(), QUEUE_GROUP.into())
        .await?;
    let pool = Pool::new(knobs.concurrency);
    let mut throttle = Throttle::new(knobs.rate, shared.config.stall, shared.origin);
    loop {
        tokio::select! {
            biased;
            _ = stopped(&mut shutdown) => break,
            _ = throttle.ready() => {}
        }
        let permit = tokio::select! {
            biased;
            _ = stopped(&mut shutdown) => break,
            permit = pool.permit() => permit,
        };
        let msg = tokio::select! {
            biased;
            _ = stopped(&mut shutdown) => break,
            msg = requests.next() => match msg {
                Some(msg) => msg,
                None => break,
            },
        };
        let (shared, client) = (shared.clone(), client.clone());
        tokio::spawn(async move {
            if !knobs.delay.is_zero() {
                tokio::time::sleep(knobs.delay).await;
            }
            let outcome = answer(&shared, &client, msg).await;
            shared.metrics.record(Service::History, outcome);
            drop(permit);
        });
    }
    requests.unsubscribe().await.ok();
    if !pool.drain(Duration::from_secs(3)).await {
        tracing::warn!("history requests still running at shutdown");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use clap::Parser;

    #[test]
    fn refusals_are_reasons_not_panics() {
        let s = Shared::new(Config::parse_from(["chat-testbed"]));
        let room = "room-0001";
        let member = s.history.account(s.history.members(1)[0]).to_string();
        let subject = |acct: &str, ep: &str| {
            format!("chat.user.{acct}.request.room.{room}.site-local.msg.{ep}")
        };
        assert!(respond(&s, &subject(&member, "history"), b"").is_ok());
        assert!(respond(&s, &subject(&member, "history"), br#"{"limit": 5}"#).is_ok());
        let err = respond(&s, &subject(&member, "history"), b"{nope").unwrap_err();
        assert!(err.starts_with("malformed request"), "{err}");
        assert!(respond(&s, &subject(&member, "history"), br#"{"limit": 0}"#).is_err());
        assert!(respond(&s, &subject(&member, "thread"), b"{}")
            .unwrap_err()
            .contains("threadMessageId"));
        let err = respond(&s, &subject("user-99999", "history"), b"{}").unwrap_err();
        assert_eq!(
            err,
            format!("user user-99999 is not a member of room {room}")
        );
        assert!(respond(&s, "chat.user.x.request.room.y.site-local.msg.edit", b"{}").is_err());
    }
}
