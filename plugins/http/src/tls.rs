//! The connector both transports dial through: TCP, then rustls for https.

use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use loadgen_plugin_api::sdk::tls::client_config;

use crate::config::HttpConfig;

pub type Connector = HttpsConnector<HttpConnector>;

/// TCP (no delay), then TLS for https (ALPN: h2 or http/1.1 as configured).
pub fn connector(config: &HttpConfig) -> Result<Connector, String> {
    let tls = client_config(&config.trust)?;
    let builder = HttpsConnectorBuilder::new().with_tls_config(tls);
    let builder = builder.https_or_http();
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    Ok(if config.http2 {
        builder.enable_http2().wrap_connector(http)
    } else {
        builder.enable_http1().wrap_connector(http)
    })
}
