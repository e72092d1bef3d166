//! TLS server configuration shared by every TLS listener (SIP `protocol=tls`,
//! AMI `tlsenable`): a PEM certificate chain and key, TLS 1.2 and 1.3 only,
//! through rustls with the ring provider.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

/// A TLS client configuration, for connecting out ([`connector`],
/// [`client_connector`]).
pub use tokio_rustls::TlsConnector;

/// Builds the acceptor; the error says which file is wrong and how.
pub fn acceptor(cert_file: &Path, key_file: &Path) -> Result<TlsAcceptor, String> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert_file)
        .and_then(|certs| certs.collect())
        .map_err(|e| format!("certificate {}: {e}", cert_file.display()))?;
    if certs.is_empty() {
        return Err(format!(
            "tlscertfile {}: no certificate in the file",
            cert_file.display()
        ));
    }
    let key = PrivateKeyDer::from_pem_file(key_file)
        .map_err(|e| format!("private key {}: {e}", key_file.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| format!("TLS: {e}"))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| format!("TLS certificate and key do not fit together: {e}"))?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Builds a client connector (Obelus connecting out, e.g. an ARI outbound
/// WebSocket to `wss://`): servers are checked against the PEM CAs of
/// `ca_file`. `verify_cert = false` accepts any certificate and
/// `verify_host = false` a valid one issued for another name, as
/// `websocket_client.conf`'s `verify_server_cert` / `verify_server_hostname`
/// ask (for test setups: both defeat TLS's protection).
pub fn connector(
    ca_file: &Path,
    verify_cert: bool,
    verify_host: bool,
) -> Result<tokio_rustls::TlsConnector, String> {
    client_connector(&[ca_file], &[], verify_cert, verify_host)
}

/// Builds a client connector trusting the PEM certificates of every file in
/// `ca_files` and of every certificate file in the `ca_dirs` directories
/// (OpenSSL's CAfile and CApath, as a SIP transport's `ca_list_file` and
/// `ca_list_path` name them; in a directory, files that hold no certificate
/// are passed over). With `verify_cert = false` no CA is read and any
/// certificate is accepted; `verify_host = false` accepts a valid one
/// issued for another name.
pub fn client_connector(
    ca_files: &[&Path],
    ca_dirs: &[&Path],
    verify_cert: bool,
    verify_host: bool,
) -> Result<tokio_rustls::TlsConnector, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    if verify_cert {
        let mut certs = Vec::new();
        for file in ca_files {
            certs.extend(
                CertificateDer::pem_file_iter(file)
                    .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
                    .map_err(|e| format!("CA list {}: {e}", file.display()))?,
            );
        }
        for dir in ca_dirs {
            let entries = std::fs::read_dir(dir)
                .map_err(|e| format!("CA directory {}: {e}", dir.display()))?;
            for entry in entries.flatten() {
                if let Ok(found) = CertificateDer::pem_file_iter(entry.path())
                    .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
                {
                    certs.extend(found);
                }
            }
        }
        let (added, _) = roots.add_parsable_certificates(certs);
        if added == 0 {
            let named: Vec<String> = ca_files
                .iter()
                .chain(ca_dirs)
                .map(|p| p.display().to_string())
                .collect();
            return Err(format!(
                "CA list {}: no usable certificate in the file",
                named.join(", ")
            ));
        }
    }
    let builder = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| format!("TLS: {e}"))?;
    let config = if verify_cert && verify_host {
        builder.with_root_certificates(roots).with_no_client_auth()
    } else {
        let checked = if verify_cert {
            Some(
                rustls::client::WebPkiServerVerifier::builder_with_provider(
                    Arc::new(roots),
                    Arc::clone(&provider),
                )
                .build()
                .map_err(|e| format!("TLS: {e}"))?,
            )
        } else {
            None
        };
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(Lenient { checked, provider }))
            .with_no_client_auth()
    };
    Ok(tokio_rustls::TlsConnector::from(Arc::new(config)))
}

/// The verifier for `verify_server_cert = no` (no `checked`: anything
/// goes) and `verify_server_hostname = no` (the chain is checked, a name
/// mismatch is forgiven). Handshake signatures are always verified.
#[derive(Debug)]
struct Lenient {
    checked: Option<Arc<rustls::client::WebPkiServerVerifier>>,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl rustls::client::danger::ServerCertVerifier for Lenient {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &rustls::pki_types::ServerName<'_>,
        ocsp_response: &[u8],
        now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        let Some(checked) = &self.checked else {
            return Ok(rustls::client::danger::ServerCertVerified::assertion());
        };
        match checked.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(rustls::CertificateError::NotValidForName))
            | Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::NotValidForNameContext { .. },
            )) => Ok(rustls::client::danger::ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_needs_a_readable_ca_list_unless_it_does_not_verify() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.pem");
        let err = connector(&missing, true, true).err().expect("refused");
        assert!(err.contains("nope.pem"), "{err}");
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let err = connector(&empty, true, false).err().expect("refused");
        assert!(err.contains("no usable certificate"), "{err}");
        assert!(connector(&missing, false, false).is_ok());
    }
}
