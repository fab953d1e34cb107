//! [`Exchange`]: everything one op needs, shared by all ops; `run` takes one
//! op from its send to its end in the in-flight table (which records its one
//! sample, and the Timeout or Lost if it comes to that).

use std::sync::Arc;
use std::time::Duration;

use http::header::RETRY_AFTER;
use http::{Response, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use loadgen_plugin_api::sdk::{bump, clock, Answer, InFlight, Sent};
use tokio::sync::Semaphore;

use crate::client::HttpClient;
use crate::status::{ExpectStatus, Failure};
use crate::template::RequestTemplate;
use crate::Tally;

pub struct Exchange {
    pub clients: Vec<HttpClient>,
    /// HTTP/1.1: one permit per connection, so at most `connections` are open.
    pub connection_permits: Option<Semaphore>,
    pub template: RequestTemplate,
    pub expect: ExpectStatus,
    pub table: Arc<InFlight<u64>>,
    pub tally: Tally,
}

impl Exchange {
    /// Runs op `key` (already started in the table) to its end. Keys spread
    /// ops over the HTTP/2 clients round-robin.
    pub async fn run(&self, key: u64, sent: Sent) {
        let client = key as usize;
        let (deadline, _) = self.table.deadline(sent);
        let budget = Duration::from_nanos(deadline.since(clock::now()));
        match tokio::time::timeout(budget, self.exchange(client)).await {
            Ok(failure) => {
                let answer = failure.map_or(Answer::Ok, |f| Answer::Error(f.reason()));
                // `false`: the deadline passed meanwhile and the op ended there.
                if self.table.complete(&key, answer, clock::now()) {
                    if let Some(failure) = failure {
                        bump(self.tally.failure(failure));
                    }
                }
            }
            Err(_) => {
                self.table.expire_key(&key, clock::now());
            }
        }
    }

    /// `None` when the answer was expected and read whole.
    async fn exchange(&self, client: usize) -> Option<Failure> {
        let _connection = match &self.connection_permits {
            Some(permits) => Some(permits.acquire().await.ok()?),
            None => None,
        };
        let client = &self.clients[client % self.clients.len()];
        bump(&self.tally.requests);
        let response = match client.request(self.template.request()).await {
            Ok(response) => response,
            Err(e) if e.is_connect() => return Some(Failure::Connect),
            Err(_) => return Some(Failure::Request),
        };
        let status = response.status();
        if asks_to_back_off(&response) {
            bump(&self.tally.retry_after);
        }
        if drain(response).await.is_err() {
            return Some(Failure::Body);
        }
        self.expect.check(status)
    }
}

fn asks_to_back_off(response: &Response<Incoming>) -> bool {
    matches!(
        response.status(),
        StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE
    ) && response.headers().contains_key(RETRY_AFTER)
}

/// Reads the body to its end without keeping it (the connection is reused
/// only once its body is consumed).
async fn drain(response: Response<Incoming>) -> Result<(), hyper::Error> {
    let mut body = response.into_body();
    while let Some(frame) = body.frame().await {
        frame?;
    }
    Ok(())
}
