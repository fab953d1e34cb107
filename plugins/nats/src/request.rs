//! `mode=request`: core request/reply; the reply ends the op.

use std::time::Duration;

use async_nats::client::RequestErrorKind;
use async_nats::{Message, Request};
use loadgen_plugin_api::sdk::{bump, Sent};

use crate::shared::{Failure, Shared};

/// The header a NATS micro service sets on an error reply.
const SERVICE_ERROR_CODE: &str = "Nats-Service-Error-Code";

/// Runs op `key` (started in the table) to its end.
pub async fn run(shared: &Shared, key: u64, sent: Sent) {
    bump(&shared.tally.sent);
    let result = match send(shared, shared.budget(sent)).await {
        Ok(reply) if is_service_error(&reply) => Err(Failure::ServiceError),
        Ok(_) => Ok(()),
        Err(RequestErrorKind::TimedOut) => return shared.expire(key),
        Err(RequestErrorKind::NoResponders) => Err(Failure::NoResponders),
        Err(_) => Err(Failure::Request),
    };
    shared.end(key, result);
}

async fn send(shared: &Shared, timeout: Duration) -> Result<Message, RequestErrorKind> {
    if timeout.is_zero() {
        return Err(RequestErrorKind::TimedOut);
    }
    let request = Request::new()
        .payload(shared.payload.clone())
        .headers(shared.headers.clone())
        .timeout(Some(timeout));
    shared
        .client
        .send_request(shared.subject.clone(), request)
        .await
        .map_err(|e| e.kind())
}

fn is_service_error(reply: &Message) -> bool {
    reply
        .headers
        .as_ref()
        .is_some_and(|h| h.get(SERVICE_ERROR_CODE).is_some())
}

/// One request before any load: nobody answering is a configuration error.
pub async fn preflight(shared: &Shared) -> Result<(), String> {
    const WAIT: Duration = Duration::from_secs(5);
    let subject = &shared.subject;
    match send(shared, WAIT).await {
        Ok(_) => Ok(()),
        Err(RequestErrorKind::NoResponders) => Err(format!(
            "no service answers requests on '{subject}' (no responders)"
        )),
        Err(RequestErrorKind::TimedOut) => Err(format!(
            "no reply to a request on '{subject}' within {WAIT:?}"
        )),
        Err(kind) => Err(format!("a request on '{subject}' failed: {kind:?}")),
    }
}
