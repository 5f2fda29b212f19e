//! TLS for https targets: the rustls client configuration, built once per run from the
//! scenario's [`Trust`], and what a failed handshake counts as.
//!
//! The connection drives a `rustls::ClientConnection` over its own `TcpStream` (see
//! `connection.rs`), on the same readiness loop as plain HTTP, rather than wrapping the
//! stream in tokio-rustls: the plain path keeps its exact code, and TLS costs only
//! what rustls itself costs.
//!
//! Choices, made here once for every connection of the run:
//! - Crypto from `ring`: it builds with a C compiler alone, where aws-lc-rs wants cmake.
//! - Roots: the system's (`rustls-native-certs`, which reads the OpenSSL store, e.g.
//!   /etc/ssl/certs), plus the PEM text of `--cacert`. A machine without a store still
//!   runs: every certificate not chaining to an extra root is then an unknown issuer.
//! - `insecure` accepts any certificate but still checks the handshake's signatures,
//!   so the server must hold the key of the certificate it shows.
//! - ALPN offers only `http/1.1`, the one protocol the engine speaks.
//! - SNI carries the target's name; rustls sends none for an IP address, as RFC 6066
//!   asks, and checks the certificate against the address instead.
//! - Session resumption is rustls's default (an in-memory cache shared by the run's
//!   workers), as a browser resumes: a reconnect costs an abbreviated handshake.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use scenario::{Target, Trust};

use crate::recorder::ErrorKind;

/// What every TLS connection of a run shares: the configuration and the name the
/// certificate must carry.
#[derive(Debug, Clone)]
pub struct Tls {
    pub(crate) config: Arc<ClientConfig>,
    pub(crate) name: ServerName<'static>,
}

/// Why the TLS settings of a run cannot be built; the run does not start.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum TrustError {
    /// An extra root is not PEM, or holds no certificate.
    #[error("extra root {index}: {reason}")]
    Pem { index: usize, reason: String },
    /// An extra root's certificate is not one a root can be (not X.509, no CA key).
    #[error("extra root {index}: not a usable root certificate: {reason}")]
    Root { index: usize, reason: String },
    /// The target's host is neither a DNS name nor an IP address.
    #[error("{0:?} is not a name a certificate can be checked against")]
    Name(String),
    #[error("the TLS settings cannot be built: {0}")]
    Config(String),
}

impl Tls {
    /// The run's TLS settings for `target`, or `None` for plain HTTP.
    pub fn for_target(target: &Target, trust: &Trust) -> Result<Option<Tls>, TrustError> {
        if !target.tls {
            return Ok(None);
        }
        let name = ServerName::try_from(target.host.clone())
            .map_err(|_| TrustError::Name(target.host.clone()))?;
        Ok(Some(Tls {
            config: client_config(trust)?,
            name,
        }))
    }
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The client configuration for `trust`.
pub fn client_config(trust: &Trust) -> Result<Arc<ClientConfig>, TrustError> {
    let provider = provider();
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| TrustError::Config(e.to_string()))?;
    let mut config = if trust.insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
            .with_no_client_auth()
    } else {
        let mut roots = RootCertStore::empty();
        // Certificates the store cannot read are skipped, as curl and browsers do; an
        // unreadable store leaves the extra roots alone.
        let native = rustls_native_certs::load_native_certs();
        roots.add_parsable_certificates(native.certs);
        for (index, root) in extra_roots(&trust.extra_roots_pem)? {
            roots.add(root).map_err(|e| TrustError::Root {
                index,
                reason: e.to_string(),
            })?;
        }
        builder.with_root_certificates(roots).with_no_client_auth()
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Every certificate of the extra roots, numbered from 1 by the PEM text it came from.
fn extra_roots(pems: &[String]) -> Result<Vec<(usize, CertificateDer<'static>)>, TrustError> {
    let mut out = Vec::new();
    for (i, pem) in pems.iter().enumerate() {
        let index = i + 1;
        let before = out.len();
        for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
            let cert = cert.map_err(|e| TrustError::Pem {
                index,
                reason: e.to_string(),
            })?;
            out.push((index, cert));
        }
        if out.len() == before {
            return Err(TrustError::Pem {
                index,
                reason: "no certificate in it".into(),
            });
        }
    }
    Ok(out)
}

/// Checks the PEM text of a `--cacert` file the way a run will use it, before the run:
/// the number of certificates, or why none can be a root.
pub fn check_roots(pem: &str) -> Result<usize, TrustError> {
    let roots = extra_roots(std::slice::from_ref(&pem.to_string()))?;
    let mut store = RootCertStore::empty();
    for (index, root) in &roots {
        store.add(root.clone()).map_err(|e| TrustError::Root {
            index: *index,
            reason: e.to_string(),
        })?;
    }
    Ok(roots.len())
}

/// The kind a failed handshake counts as: a certificate refused, or anything else.
pub(crate) fn classify(e: &rustls::Error) -> ErrorKind {
    match e {
        rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented => {
            ErrorKind::TlsCertificate
        }
        _ => ErrorKind::TlsHandshake,
    }
}

/// `--insecure`: any certificate is accepted, but the handshake's signatures are checked
/// with the provider's algorithms, so the peer holds the key it presents.
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extra_roots_that_are_not_certificates_are_named() {
        assert_eq!(
            check_roots("hello").unwrap_err(),
            TrustError::Pem {
                index: 1,
                reason: "no certificate in it".into()
            }
        );
        let bad = "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n";
        assert!(matches!(
            check_roots(bad),
            Err(TrustError::Pem { index: 1, .. })
        ));
        let ca = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        assert_eq!(check_roots(&ca.cert.pem()), Ok(1));
    }

    #[test]
    fn a_plain_target_has_no_tls_and_an_https_one_its_name() {
        let mut target = Target {
            host: "localhost".into(),
            port: 443,
            tls: false,
        };
        assert!(Tls::for_target(&target, &Trust::default())
            .unwrap()
            .is_none());
        target.tls = true;
        let tls = Tls::for_target(&target, &Trust::default())
            .unwrap()
            .unwrap();
        assert_eq!(tls.name, ServerName::try_from("localhost").unwrap());
        assert_eq!(tls.config.alpn_protocols, vec![b"http/1.1".to_vec()]);
    }
}
