//! The HTTP/2 channels calls go over: `connections` tonic channels, each one
//! connection, connected at start so an unreachable server or a TLS failure
//! is a configuration error before any load. TLS is rustls of our own
//! (a CA file, the web roots, or `insecure=true`), under tonic's channel.

use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::TokioIo;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tonic::transport::{Channel, Endpoint};

use crate::config::{GrpcConfig, Trust};

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

fn server_name(host: &str) -> Result<ServerName<'static>, String> {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    ServerName::try_from(host.to_string())
        .map_err(|e| format!("option 'url': '{host}' is not a TLS server name ({e})"))
}

fn tls_connector(trust: &Trust) -> Result<TlsConnector, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup: {e}"))?;
    let mut config = match trust {
        Trust::Anything => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider)))
            .with_no_client_auth(),
        Trust::WebRoots => {
            let roots = RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            builder.with_root_certificates(roots).with_no_client_auth()
        }
        Trust::CaFile(path) => {
            let shown = path.display();
            let cannot =
                |e: &dyn std::fmt::Display| format!("option 'ca_file': cannot read '{shown}': {e}");
            let certificates: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
                .map_err(|e| cannot(&e))?
                .collect::<Result<_, _>>()
                .map_err(|e| cannot(&e))?;
            let mut roots = RootCertStore::empty();
            let (added, _) = roots.add_parsable_certificates(certificates);
            if added == 0 {
                return Err(format!(
                    "option 'ca_file': no usable PEM certificate in '{shown}'"
                ));
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        }
    };
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

/// An error and its causes on one line (tonic's own text is only the outermost).
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
