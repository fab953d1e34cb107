//! The HTTP client: hyper-util's pooled client over a rustls connector, with
//! the pool bounded to `connections`, and the one request at start that
//! proves the server is there.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};

use crate::config::HttpConfig;

pub type HttpClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// How long the request at start may take.
const PREFLIGHT_TIMEOUT: Duration = Duration::from_secs(5);

/// Clients to spread requests over. HTTP/1.1: one client whose pool keeps up
/// to `connections` idle connections (the caller bounds concurrent requests,
/// hence open connections). HTTP/2: a client per connection, since one
/// client multiplexes everything over a single connection per host.
pub fn build(config: &HttpConfig) -> Result<Vec<HttpClient>, String> {
    let count = if config.http2 { config.connections } else { 1 };
    (0..count).map(|_| build_one(config)).collect()
}

fn build_one(config: &HttpConfig) -> Result<HttpClient, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = HttpsConnectorBuilder::new();
    let builder = if config.insecure {
        let tls = ClientConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS setup: {e}"))?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider)))
            .with_no_client_auth();
        builder.with_tls_config(tls)
    } else {
        builder
            .with_provider_and_webpki_roots(provider)
            .map_err(|e| format!("TLS setup: {e}"))?
    };
    let builder = builder.https_or_http();
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    let connector = if config.http2 {
        builder.enable_http2().wrap_connector(http)
    } else {
        builder.enable_http1().wrap_connector(http)
    };
    Ok(Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(config.connections)
        .http2_only(config.http2)
        .build(connector))
}

/// One request before any load: a server that refuses connections (or
/// a certificate that is not trusted) is a configuration error, named here.
/// Any answer, whatever its status, proves the server is there.
pub async fn preflight(
    client: &HttpClient,
    request: http::Request<Full<Bytes>>,
    config: &HttpConfig,
) -> Result<(), String> {
    let exchange = async {
        let response = client.request(request).await?;
        let _ = response.into_body().collect().await;
        Ok::<_, hyper_util::client::legacy::Error>(())
    };
    match tokio::time::timeout(PREFLIGHT_TIMEOUT, exchange).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(format!(
            "cannot reach {} ({}): {}",
            config.shown_url(),
            config.address(),
            error_chain(&e)
        )),
        Err(_) => Err(format!(
            "no answer from {} ({}) within {PREFLIGHT_TIMEOUT:?}",
            config.shown_url(),
            config.address()
        )),
    }
}

/// An error and its causes on one line (hyper's own text is only the outermost).
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text.replace('\n', " ")
}

/// `insecure=true`: any certificate is accepted (signatures are still checked,
/// so the handshake itself is sound).
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
