//! [`Feed`]: the coordinator's subscription to the agents' per-second
//! summaries, merged into [`Seconds`] as they arrive. A reading in the hold
//! waits (at most [`LATE_AFTER`]) for the summaries due by then, so every
//! agent's second lands in the same point; one that does not come in time
//! is marked late and joins the next point when it does.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_nats::Client;
use futures::StreamExt;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::control::Member;
use crate::protocol::{Subjects, Summary};
use crate::seconds::Seconds;
use crate::signing::ControlKey;

/// How long a reading waits for a due summary before its agent is late.
pub const LATE_AFTER: Duration = Duration::from_millis(200);

/// The merged summaries and their subscription (ended on drop).
pub struct Feed {
    seconds: Arc<Mutex<Seconds>>,
    arrived: Arc<Notify>,
    task: JoinHandle<()>,
}

impl Drop for Feed {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Feed {
    /// Subscribe to every agent's summaries; with a `key`, an unsigned or
    /// wrongly signed one is dropped (its agent then shows as late).
    pub async fn subscribe(
        client: &Client,
        subjects: &Subjects,
        key: Option<Arc<ControlKey>>,
        seconds: Seconds,
    ) -> Result<Feed, String> {
        let mut summaries = client
            .subscribe(subjects.summaries())
            .await
            .map_err(|e| format!("cannot subscribe to summaries: {e}"))?;
        let seconds = Arc::new(Mutex::new(seconds));
        let arrived = Arc::new(Notify::new());
        let (s, a) = (Arc::clone(&seconds), Arc::clone(&arrived));
        let task = tokio::spawn(async move {
            while let Some(msg) = summaries.next().await {
                if let Some(key) = &key {
                    if let Err(why) = key.verify(&msg.subject, msg.headers.as_ref(), &msg.payload) {
                        tracing::warn!(subject = %msg.subject, "summary refused: {why}");
                        continue;
                    }
                }
                let summary = match serde_json::from_slice::<Summary>(&msg.payload) {
                    Ok(summary) if msg.subject.ends_with(&format!(".{}", summary.name)) => summary,
                    Ok(_) => continue,
                    Err(e) => {
                        tracing::warn!(subject = %msg.subject, "malformed summary: {e}");
                        continue;
                    }
                };
                let taken = lock(&s).arrive(summary);
                match taken {
                    Ok(true) => a.notify_waiters(),
                    Ok(false) => {}
                    Err(e) => tracing::warn!(subject = %msg.subject, "summary refused: {e}"),
                }
            }
        });
        Ok(Feed {
            seconds,
            arrived,
            task,
        })
    }

    /// The merged state now.
    pub fn seconds(&self) -> MutexGuard<'_, Seconds> {
        lock(&self.seconds)
    }

    /// Wait until every member's summary due at `now` is in, or [`LATE_AFTER`]
    /// has passed: those still missing are late for that second. Agents no
    /// longer `members` (lost) are forgotten first.
    pub async fn settle(&self, now: u64, members: &[Member]) {
        self.seconds().retain(members);
        let deadline = tokio::time::Instant::now() + LATE_AFTER;
        loop {
            let arrived = self.arrived.notified();
            tokio::pin!(arrived);
            arrived.as_mut().enable();
            if self.seconds().awaited(now).is_empty() {
                return;
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                let late = self.seconds().mark_late(now);
                if !late.is_empty() {
                    tracing::info!(
                        agents = %late.join(", "),
                        "late: no summary within {}ms",
                        LATE_AFTER.as_millis()
                    );
                }
                return;
            }
        }
    }
}

fn lock(seconds: &Mutex<Seconds>) -> MutexGuard<'_, Seconds> {
    seconds.lock().unwrap_or_else(|e| e.into_inner())
}
