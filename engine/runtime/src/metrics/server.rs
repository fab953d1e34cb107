//! The HTTP side of `--metrics-addr`: hyper's HTTP/1 server answering every
//! GET with the Metrics actor's current text.

use std::convert::Infallible;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use ractor::rpc::CallResult;
use ractor::ActorRef;
use tokio::task::JoinSet;

use super::MetricsMsg;

const RENDER_TIMEOUT: Duration = Duration::from_secs(5);
const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Accept and answer until aborted; aborting drops the listener and every
/// open connection with it.
pub(super) async fn serve(listener: tokio::net::TcpListener, metrics: ActorRef<MetricsMsg>) {
    let mut connections = JoinSet::new();
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                tracing::warn!("metrics endpoint: accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        // Reap finished connections so the set stays small.
        while connections.try_join_next().is_some() {}
        let metrics = metrics.clone();
        connections.spawn(async move {
            let service = hyper::service::service_fn(move |req| answer(req, metrics.clone()));
            if let Err(e) = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!("metrics endpoint: connection failed: {e}");
            }
        });
    }
}

async fn answer(
    _req: Request<Incoming>,
    metrics: ActorRef<MetricsMsg>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let response = match metrics.call(MetricsMsg::Render, Some(RENDER_TIMEOUT)).await {
        Ok(CallResult::Success(text)) => Response::builder()
            .header(hyper::header::CONTENT_TYPE, CONTENT_TYPE)
            .body(Full::new(Bytes::from(text))),
        _ => Response::builder()
            .status(hyper::StatusCode::SERVICE_UNAVAILABLE)
            .body(Full::new(Bytes::from_static(b"the run is ending\n"))),
    };
    Ok(response.expect("a valid response"))
}
