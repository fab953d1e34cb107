//! TLS for plugins that dial a server themselves (feature `tls`): how the
//! server's certificate is trusted, from the usual `ca_file`/`insecure`
//! options, and the rustls client configuration for it. One implementation so
//! `http`, `grpc` and third-party plugins refuse and accept the same servers.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

/// How the server's certificate is checked (https only).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Trust {
    /// The public web roots (webpki-roots).
    WebRoots,
    /// The CAs in this PEM file.
    CaFile(PathBuf),
    /// Any certificate (`insecure=true`).
    Anything,
}

impl Trust {
    /// From the options `ca_file` and `insecure`: `None` for a plain
    /// (non-TLS) URL, where either option is a mistake.
    pub fn from_options(
        https: bool,
        ca_file: &str,
        insecure: bool,
    ) -> Result<Option<Trust>, String> {
        let ca_file = ca_file.trim();
        if !https {
            if !ca_file.is_empty() || insecure {
                return Err("options 'ca_file' and 'insecure' need an https:// url".into());
            }
            return Ok(None);
        }
        Ok(Some(match (ca_file.is_empty(), insecure) {
            (true, false) => Trust::WebRoots,
            (false, false) => Trust::CaFile(PathBuf::from(ca_file)),
            (true, true) => Trust::Anything,
            (false, true) => {
                return Err("options 'ca_file' and 'insecure' exclude each other".into())
            }
        }))
    }
}

/// The rustls client configuration (ring, TLS 1.2 and 1.3, no client
/// certificate) that trusts what `trust` says; ALPN is left to the caller.
/// Errors name the option (`ca_file`) and the file.
pub fn client_config(trust: &Trust) -> Result<ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup: {e}"))?;
    Ok(match trust {
        Trust::Anything => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider)))
            .with_no_client_auth(),
        Trust::WebRoots => {
            let roots = RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            builder.with_root_certificates(roots).with_no_client_auth()
        }
        Trust::CaFile(path) => builder
            .with_root_certificates(ca_roots(path)?)
            .with_no_client_auth(),
    })
}

/// The server name a certificate is checked against (brackets of an IPv6
/// literal removed).
pub fn server_name(host: &str) -> Result<ServerName<'static>, String> {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    ServerName::try_from(host.to_string())
        .map_err(|e| format!("option 'url': '{host}' is not a TLS server name ({e})"))
}

fn ca_roots(path: &Path) -> Result<RootCertStore, String> {
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
    Ok(roots)
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
        let algorithms = &self.0.signature_verification_algorithms;
        verify_tls12_signature(message, cert, dss, algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.0.signature_verification_algorithms;
        verify_tls13_signature(message, cert, dss, algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trust_from_options() {
        let table: &[(bool, &str, bool, Result<Option<Trust>, &str>)] = &[
            (false, "", false, Ok(None)),
            (true, "", false, Ok(Some(Trust::WebRoots))),
            (
                true,
                " ca.pem ",
                false,
                Ok(Some(Trust::CaFile("ca.pem".into()))),
            ),
            (true, "", true, Ok(Some(Trust::Anything))),
            (
                false,
                "ca.pem",
                false,
                Err("options 'ca_file' and 'insecure' need an https:// url"),
            ),
            (
                false,
                "",
                true,
                Err("options 'ca_file' and 'insecure' need an https:// url"),
            ),
            (
                true,
                "ca.pem",
                true,
                Err("options 'ca_file' and 'insecure' exclude each other"),
            ),
        ];
        for (https, ca_file, insecure, want) in table {
            let got = Trust::from_options(*https, ca_file, *insecure);
            assert_eq!(
                got,
                want.clone().map_err(String::from),
                "{https} {ca_file:?} {insecure}"
            );
        }
    }

    #[test]
    fn a_ca_file_without_certificates_is_refused_naming_the_option() {
        let dir = std::env::temp_dir().join(format!("loadgen-tls-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let err = client_config(&Trust::CaFile(empty.clone())).unwrap_err();
        assert!(
            err.starts_with("option 'ca_file': no usable PEM certificate in"),
            "{err}"
        );
        let missing = dir.join("missing.pem");
        let err = client_config(&Trust::CaFile(missing)).unwrap_err();
        assert!(err.starts_with("option 'ca_file': cannot read"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(client_config(&Trust::Anything).is_ok());
        assert!(client_config(&Trust::WebRoots).is_ok());
    }

    #[test]
    fn server_names() {
        assert!(server_name("example.com").is_ok());
        assert!(server_name("[::1]").is_ok());
        assert!(server_name("127.0.0.1").is_ok());
        assert!(server_name("bad host").is_err());
    }
}
