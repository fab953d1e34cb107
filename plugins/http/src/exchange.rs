//! [`Exchange`]: everything one op needs, shared by all ops; `run` takes one
//! op from its send to its end in the in-flight table (which records its one
//! sample, and the Timeout or Lost if it comes to that).

use std::sync::Arc;
use std::time::Duration;

use crate::client::{HttpClient, Transport};
use crate::pool::Http1Pool;
use crate::status::{ExpectStatus, Failure};
use crate::template::RequestTemplate;
use crate::Tally;
use http::header::RETRY_AFTER;
use http::{Response, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use loadgen_plugin_api::sdk::{bump, clock, Answer, InFlight, Sent};

pub struct Exchange {
    pub transport: Transport,
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
        let answer = match &self.transport {
            Transport::Http1(pool) => self.over_http1(pool).await,
            Transport::Http2(clients) => self.over_http2(&clients[client % clients.len()]).await,
        };
        match answer {
            Ok(status) => self.expect.check(status),
            Err(failure) => Some(failure),
        }
    }

    async fn over_http1(&self, pool: &Http1Pool) -> Result<StatusCode, Failure> {
        let permit = pool.permit().await;
        bump(&self.tally.requests);
        let mut lease = pool.lease(permit).await.map_err(|_| Failure::Connect)?;
        let response = lease
            .send(self.template.request())
            .await
            .map_err(|e| e.failure())?;
        let status = self.read(response).await?;
        lease.reuse();
        Ok(status)
    }

    async fn over_http2(&self, client: &HttpClient) -> Result<StatusCode, Failure> {
        bump(&self.tally.requests);
        let response = match client.request(self.template.request()).await {
            Ok(response) => response,
            Err(e) if e.is_connect() => return Err(Failure::Connect),
            Err(_) => return Err(Failure::Request),
        };
        self.read(response).await
    }

    /// The answer's status once its body is read to the end (`Body` if it
    /// broke off).
    async fn read(&self, response: Response<Incoming>) -> Result<StatusCode, Failure> {
        let status = response.status();
        if asks_to_back_off(&response) {
            bump(&self.tally.retry_after);
        }
        drain(response).await.map_err(|_| Failure::Body)?;
        Ok(status)
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
