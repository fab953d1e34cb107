//! [`Exchange`]: the transport and the tally, shared by all ops; sends one
//! request and judges or keeps its answer.

use bytes::{Bytes, BytesMut};
use http::header::RETRY_AFTER;
use http::{HeaderMap, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use loadgen_plugin_api::sdk::bump;

use crate::client::{HttpClient, Transport};
use crate::h1;
use crate::pool::Http1Pool;
use crate::status::Failure;
use crate::Tally;

pub struct Exchange {
    pub transport: Transport,
    pub tally: Tally,
}

/// An answer read whole, for a setup step's captures.
pub struct Whole {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Exchange {
    /// Sends `request` on connection `client` (HTTP/2: clients round-robin
    /// by the op's key) and reads the answer to its end without keeping it.
    pub async fn status(
        &self,
        request: Request<Full<Bytes>>,
        client: usize,
    ) -> Result<StatusCode, Failure> {
        let (status, _) = self.send(request, client, false).await?;
        Ok(status)
    }

    /// Sends `request` and keeps its whole answer.
    pub async fn whole(&self, request: Request<Full<Bytes>>) -> Result<Whole, Failure> {
        let (status, kept) = self.send(request, 0, true).await?;
        let (headers, body) = kept.unwrap_or_default();
        Ok(Whole {
            status,
            headers,
            body,
        })
    }

    /// Sends a request serialized once (a template's) over the native
    /// client, reading the answer to its end.
    pub async fn status_of_wire(
        &self,
        pool: &h1::Pool,
        wire: &h1::Wire,
    ) -> Result<StatusCode, Failure> {
        let permit = pool.permit().await;
        bump(&self.tally.requests);
        let mut lease = pool.lease(permit).await.map_err(|e| e.failure())?;
        let response = lease
            .send(&wire.bytes, wire.head, false)
            .await
            .map_err(|e| e.failure())?;
        self.judged(&response)
    }

    /// Sends a request `render` writes into the connection's own buffers
    /// (the native client; e.g. a scenario call for one op), answering
    /// whether it is a HEAD; a rendered part HTTP does not allow (`Err`)
    /// fails as `Request`.
    pub async fn status_rendered(
        &self,
        pool: &h1::Pool,
        render: impl FnOnce(h1::Buffers<'_>) -> Result<bool, ()>,
    ) -> Result<StatusCode, Failure> {
        let permit = pool.permit().await;
        bump(&self.tally.requests);
        let mut lease = pool.lease(permit).await.map_err(|e| e.failure())?;
        let head = render(lease.buffers()).map_err(|()| Failure::Request)?;
        let response = lease
            .send_rendered(head, false)
            .await
            .map_err(|e| e.failure())?;
        self.judged(&response)
    }

    fn judged(&self, response: &h1::Response) -> Result<StatusCode, Failure> {
        if response.retry_after {
            bump(&self.tally.retry_after);
        }
        StatusCode::from_u16(response.status).map_err(|_| Failure::Request)
    }

    async fn send(
        &self,
        request: Request<Full<Bytes>>,
        client: usize,
        keep: bool,
    ) -> Result<(StatusCode, Option<(HeaderMap, Bytes)>), Failure> {
        match &self.transport {
            Transport::Native(pool) => {
                let wire = h1::Wire::encode(request);
                let permit = pool.permit().await;
                bump(&self.tally.requests);
                let mut lease = pool.lease(permit).await.map_err(|e| e.failure())?;
                let response = lease
                    .send(&wire.bytes, wire.head, keep)
                    .await
                    .map_err(|e| e.failure())?;
                let status = self.judged(&response)?;
                Ok((status, response.kept))
            }
            Transport::Http1(pool) => self.over_http1(pool, request, keep).await,
            Transport::Http2(clients) => {
                self.over_http2(&clients[client % clients.len()], request, keep)
                    .await
            }
        }
    }

    async fn over_http1(
        &self,
        pool: &Http1Pool,
        request: Request<Full<Bytes>>,
        keep: bool,
    ) -> Result<(StatusCode, Option<(HeaderMap, Bytes)>), Failure> {
        let permit = pool.permit().await;
        bump(&self.tally.requests);
        let mut lease = pool.lease(permit).await.map_err(|_| Failure::Connect)?;
        let response = lease.send(request).await.map_err(|e| e.failure())?;
        let answer = self.read(response, keep).await?;
        lease.reuse();
        Ok(answer)
    }

    async fn over_http2(
        &self,
        client: &HttpClient,
        request: Request<Full<Bytes>>,
        keep: bool,
    ) -> Result<(StatusCode, Option<(HeaderMap, Bytes)>), Failure> {
        bump(&self.tally.requests);
        let response = match client.request(request).await {
            Ok(response) => response,
            Err(e) if e.is_connect() => return Err(Failure::Connect),
            Err(_) => return Err(Failure::Request),
        };
        self.read(response, keep).await
    }

    /// The answer's status once its body is read to the end (`Body` if it
    /// broke off); with `keep`, its headers and body too.
    async fn read(
        &self,
        response: Response<Incoming>,
        keep: bool,
    ) -> Result<(StatusCode, Option<(HeaderMap, Bytes)>), Failure> {
        let status = response.status();
        if asks_to_back_off(&response) {
            bump(&self.tally.retry_after);
        }
        if keep {
            let (parts, body) = response.into_parts();
            let body = collect(body).await.map_err(|_| Failure::Body)?;
            return Ok((status, Some((parts.headers, body))));
        }
        drain(response).await.map_err(|_| Failure::Body)?;
        Ok((status, None))
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

async fn collect(mut body: Incoming) -> Result<Bytes, hyper::Error> {
    let mut out = BytesMut::new();
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame?.into_data() {
            out.extend_from_slice(&data);
        }
    }
    Ok(out.freeze())
}
