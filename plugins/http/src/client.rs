//! The HTTP transport: plain http:// HTTP/1.1 over loadgen's own client
//! ([`h1::Pool`], the default), or over hyper's connections in a pool of our
//! own ([`Http1Pool`], https and `client=hyper`); HTTP/2 over hyper-util's
//! client (one multiplexed connection per client); hyper's over a rustls
//! connector. And the one request at start that proves the server is there.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use loadgen_plugin_api::sdk::error_chain;

use crate::config::HttpConfig;
use crate::h1;
use crate::pool::{Http1Pool, SendError};
use crate::tls::{connector, Connector};

pub type HttpClient = Client<Connector, Full<Bytes>>;

/// How requests reach the server.
pub enum Transport {
    /// loadgen's own HTTP/1.1 client: plain http://, one request per
    /// connection at a time, written and read by the op itself.
    Native(h1::Pool),
    /// Keep-alive connections, one request each at a time.
    Http1(Http1Pool),
    /// Clients to spread requests over (see [`build`]).
    Http2(Vec<HttpClient>),
}

/// How long the request at start may take.
const PREFLIGHT_TIMEOUT: Duration = Duration::from_secs(5);

/// HTTP/1.1: a pool of at most `connections` connections. HTTP/2: a client
/// per connection, since one client multiplexes everything over a single
/// connection per host.
pub fn build(config: &HttpConfig) -> Result<Transport, String> {
    if config.native() {
        return Ok(Transport::Native(h1::Pool::new(
            config.address(),
            config.connections,
        )));
    }
    if !config.http2 {
        let connector = connector(config)?;
        let pool = Http1Pool::new(connector, config.uri.clone(), config.connections);
        return Ok(Transport::Http1(pool));
    }
    let clients = (0..config.connections)
        .map(|_| {
            let connector = connector(config)?;
            Ok(Client::builder(TokioExecutor::new())
                .pool_max_idle_per_host(config.connections)
                .http2_only(true)
                .build(connector))
        })
        .collect::<Result<_, String>>()?;
    Ok(Transport::Http2(clients))
}

/// One request before any load: a server that refuses connections (or
/// a certificate that is not trusted) is a configuration error, named here.
/// Any answer, whatever its status, proves the server is there.
pub async fn preflight(
    transport: &Transport,
    request: http::Request<Full<Bytes>>,
    config: &HttpConfig,
) -> Result<(), String> {
    let exchange = async {
        let response = match transport {
            Transport::Native(pool) => {
                let wire = h1::Wire::encode(request);
                let mut lease = pool.lease(pool.permit().await).await?;
                lease.send(&wire.bytes, wire.head, false).await?;
                return Ok(());
            }
            Transport::Http1(pool) => {
                let mut lease = pool.lease(pool.permit().await).await?;
                lease.send(request).await.map_err(SendError::into_cause)?
            }
            Transport::Http2(clients) => clients[0].request(request).await?,
        };
        let _ = response.into_body().collect().await;
        Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
    };
    match tokio::time::timeout(PREFLIGHT_TIMEOUT, exchange).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(format!(
            "cannot reach {} ({}): {}",
            config.shown_url(),
            config.address(),
            error_chain(&*e)
        )),
        Err(_) => Err(format!(
            "no answer from {} ({}) within {PREFLIGHT_TIMEOUT:?}",
            config.shown_url(),
            config.address()
        )),
    }
}
