//! [`Control`]: the coordinator's side of the control plane — typed
//! request/reply to one agent or to all current members at once.

use std::sync::Arc;
use std::time::Duration;

use async_nats::Client;
use futures::future::join_all;
use futures::StreamExt;
use tokio::sync::watch;

use super::protocol::{Request, Subjects};
use super::signing::{now_unix_ns, ControlKey};

/// Bound on one control request (a step result included).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// One agent taking part in the run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    pub name: String,
    /// The agent's clock minus the coordinator's, ns (NTP-style, min RTT).
    pub offset_ns: i64,
}

impl Member {
    /// A coordinator time in this agent's clock.
    pub fn to_agent(&self, coordinator_ns: u64) -> u64 {
        coordinator_ns.saturating_add_signed(self.offset_ns)
    }

    /// A time in this agent's clock in the coordinator's.
    pub fn from_agent(&self, agent_ns: u64) -> u64 {
        agent_ns.saturating_add_signed(-self.offset_ns)
    }
}

/// A request's answer from one agent.
pub type Answer<T> = (String, Result<T, String>);

#[derive(Clone)]
pub struct Control {
    pub client: Client,
    pub subjects: Subjects,
    /// `--control-key`: requests signed, answers verified.
    pub key: Option<Arc<ControlKey>>,
    /// The agents taking part now (the Fleet removes lost ones).
    pub members: watch::Receiver<Vec<Member>>,
}

impl Control {
    /// Ask `agent`, bounded by [`REQUEST_TIMEOUT`].
    pub async fn ask<R: Request>(&self, agent: &str, request: &R) -> Result<R::Reply, String> {
        ask(
            &self.client,
            &self.subjects,
            self.key.as_deref(),
            agent,
            request,
            REQUEST_TIMEOUT,
        )
        .await
    }

    /// The members now.
    pub fn members(&self) -> Vec<Member> {
        self.members.borrow().clone()
    }

    /// Ask every member at once; `request(i, n, member)` builds each one's.
    pub async fn ask_all<R: Request>(
        &self,
        request: impl Fn(usize, usize, &Member) -> R,
    ) -> Vec<Answer<R::Reply>> {
        let members = self.members();
        let n = members.len();
        let asks = members.iter().enumerate().map(|(i, m)| {
            let r = request(i, n, m);
            async move { (m.name.clone(), self.ask(&m.name, &r).await) }
        });
        let began = std::time::Instant::now();
        let answers = join_all(asks).await;
        tracing::debug!(
            cmd = R::CMD,
            agents = n,
            us = began.elapsed().as_micros() as u64,
            "control round"
        );
        answers
    }
}

/// One typed request/reply on the control plane; with a `key`, the request
/// is signed and an answer not signed by the agents' key is refused.
pub async fn ask<R: Request>(
    client: &Client,
    subjects: &Subjects,
    key: Option<&ControlKey>,
    agent: &str,
    request: &R,
    timeout: Duration,
) -> Result<R::Reply, String> {
    let body = bytes::Bytes::from(serde_json::to_vec(request).expect("requests serialize"));
    let subject = subjects.request::<R>(agent);
    let failed = |e: &dyn std::fmt::Display| format!("{} request failed: {e}", R::CMD);
    let asked = async {
        let Some(key) = key else {
            return client.request(subject, body).await.map_err(|e| failed(&e));
        };
        // A signed request needs its answer's inbox in hand to verify it.
        let inbox = client.new_inbox();
        let mut answers = client
            .subscribe(inbox.clone())
            .await
            .map_err(|e| failed(&e))?;
        let headers = key.sign(&subject, &body, now_unix_ns());
        client
            .publish_with_reply_and_headers(subject, inbox, headers, body)
            .await
            .map_err(|e| failed(&e))?;
        match answers.next().await {
            Some(m) if m.status == Some(async_nats::StatusCode::NO_RESPONDERS) => {
                Err(failed(&"no responders"))
            }
            Some(m) => Ok(m),
            None => Err(failed(&"the connection closed")),
        }
    };
    let answer = tokio::time::timeout(timeout, asked)
        .await
        .map_err(|_| format!("no answer to {} in {timeout:?}", R::CMD))??;
    if let Some(key) = key {
        key.verify(&answer.subject, answer.headers.as_ref(), &answer.payload)
            .map_err(|why| format!("answer to {} refused: {why}", R::CMD))?;
    }
    let reply: Result<R::Reply, String> = serde_json::from_slice(&answer.payload)
        .map_err(|e| format!("malformed {} reply: {e}", R::CMD))?;
    reply
}

/// Split answers into the values and the first failure, named by agent.
pub fn gather<T>(answers: Vec<Answer<T>>) -> (Vec<T>, Option<(String, String)>) {
    let mut values = Vec::new();
    let mut failed = None;
    for (name, answer) in answers {
        match answer {
            Ok(v) => values.push(v),
            Err(e) => {
                failed.get_or_insert((name, e));
            }
        }
    }
    (values, failed)
}
