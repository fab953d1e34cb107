//! The HTTP/2 channels calls go over: `connections` tonic channels, each one
//! connection, connected at start so an unreachable server or a TLS failure
//! is a configuration error before any load. TLS is rustls of our own
//! (a CA file, the web roots, or `insecure=true`), under tonic's channel.

use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::TokioIo;
use loadgen_plugin_api::sdk::error_chain;
use loadgen_plugin_api::sdk::tls::{client_config, server_name, Trust};
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tonic::transport::{Channel, Endpoint};

use crate::config::GrpcConfig;

/// How long connecting (TCP and TLS) may take at start.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The channels, connected. Errors name the server and why.
pub async fn connect(config: &GrpcConfig) -> Result<Vec<Channel>, String> {
    let endpoint = endpoint(config)?;
    let tls = match &config.tls {
        Some(trust) => Some(tls_connector(trust)?),
        None => None,
    };
    let mut channels = Vec::with_capacity(config.connections);
    for _ in 0..config.connections {
        let connected = match &tls {
            None => endpoint.connect().await,
            Some(tls) => {
                let connector = TlsDialer {
                    tls: tls.clone(),
                    address: config.address(),
                    server_name: server_name(config.host())?,
                };
                endpoint
                    .connect_with_connector(tower::service_fn(move |_| connector.clone().dial()))
                    .await
            }
        };
        let channel = connected.map_err(|e| {
            format!(
                "cannot reach {} ({}): {}",
                config.shown_url(),
                config.address(),
                error_chain(&e)
            )
        })?;
        channels.push(channel);
    }
    Ok(channels)
}

fn endpoint(config: &GrpcConfig) -> Result<Endpoint, String> {
    // tonic's own connector refuses an https:// endpoint without its TLS
    // feature; ours dials TLS itself, so the endpoint says http:// and the
    // requests carry the real origin.
    let plain = format!("http://{}", config.address());
    let endpoint = Endpoint::from_shared(plain)
        .map_err(|e| format!("option 'url': {} ({e})", config.shown_url()))?
        .origin(config.uri.clone())
        .connect_timeout(CONNECT_TIMEOUT)
        .tcp_nodelay(true);
    Ok(endpoint)
}

fn tls_connector(trust: &Trust) -> Result<TlsConnector, String> {
    let mut config = client_config(trust)?;
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(TlsConnector::from(Arc::new(config)))
}

/// Opens one TLS connection for a channel (and again when it reconnects).
#[derive(Clone)]
struct TlsDialer {
    tls: TlsConnector,
    address: String,
    server_name: ServerName<'static>,
}

type TlsStream = tokio_rustls::client::TlsStream<TcpStream>;

impl TlsDialer {
    async fn dial(self) -> std::io::Result<TokioIo<TlsStream>> {
        let tcp = TcpStream::connect(&self.address).await?;
        tcp.set_nodelay(true)?;
        let stream = self.tls.connect(self.server_name, tcp).await?;
        Ok(TokioIo::new(stream))
    }
}
