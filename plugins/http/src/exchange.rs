//! [`Exchange`]: everything one op needs, shared by all ops; `run` is one
//! op from intended time to its single sample.

use std::time::Duration;

use http::header::RETRY_AFTER;
use http::{Response, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use loadgen_plugin_api::sdk::{bump, clock, MonoNanos, Outcome, Recorder, Sample};
use tokio::sync::Semaphore;

use crate::client::HttpClient;
use crate::status::{ExpectStatus, Failure};
use crate::template::RequestTemplate;
use crate::Tally;

const SERIES: u16 = 0;

/// When an unanswered op is given up, counted from its intended time.
#[derive(Clone, Copy, Debug)]
pub enum GiveUp {
    /// The user's `timeout`: the op is a Timeout (a failure).
    Timeout(Duration),
    /// The engine's loss deadline: the op is Lost.
    Lost(Duration),
}

pub struct Exchange {
    pub clients: Vec<HttpClient>,
    /// HTTP/1.1: one permit per connection, so at most `connections` are open.
    pub connection_permits: Option<Semaphore>,
    pub template: RequestTemplate,
    pub expect: ExpectStatus,
    pub give_up: GiveUp,
    pub recorder: Recorder,
    pub tally: Tally,
}

impl Exchange {
    /// Runs one op to its one sample.
    pub async fn run(&self, intended: MonoNanos, client: usize) {
        let (after, outcome) = match self.give_up {
            GiveUp::Timeout(d) => (d, Outcome::Timeout),
            GiveUp::Lost(d) => (d, Outcome::Lost),
        };
        let deadline = tokio_instant(intended.add_ns(after.as_nanos() as u64));
        let mut sent = None;
        let result = tokio::time::timeout_at(deadline, self.exchange(client, &mut sent)).await;
        let done = clock::now();
        let sent = sent.unwrap_or(done);
        let sample = match result {
            Ok(None) => Sample::ok(SERIES, intended, sent, done),
            Ok(Some(failure)) => {
                bump(self.tally.failure(failure));
                Sample::failed(
                    SERIES,
                    Outcome::Error,
                    failure.index(),
                    intended,
                    sent,
                    done,
                )
            }
            Err(_) => {
                if outcome == Outcome::Timeout {
                    bump(&self.tally.timeout);
                }
                Sample::failed(SERIES, outcome, 0, intended, sent, done)
            }
        };
        self.recorder.record(sample);
    }

    /// `None` when the answer was expected and read whole.
    async fn exchange(&self, client: usize, sent: &mut Option<MonoNanos>) -> Option<Failure> {
        let _connection = match &self.connection_permits {
            Some(permits) => Some(permits.acquire().await.ok()?),
            None => None,
        };
        let client = &self.clients[client % self.clients.len()];
        let request = self.template.request();
        *sent = Some(clock::now());
        bump(&self.tally.requests);
        let response = match client.request(request).await {
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

/// A `CLOCK_MONOTONIC` time as a tokio instant (both read the same clock).
fn tokio_instant(at: MonoNanos) -> tokio::time::Instant {
    let now = clock::now();
    let now_tokio = tokio::time::Instant::now();
    if at.0 >= now.0 {
        now_tokio + Duration::from_nanos(at.0 - now.0)
    } else {
        now_tokio
            .checked_sub(Duration::from_nanos(now.0 - at.0))
            .unwrap_or(now_tokio)
    }
}
