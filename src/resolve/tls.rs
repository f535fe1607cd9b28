//! TLS trust for registries with an extra CA (`ca-file`): the system and
//! webpki roots plus the configured certificates, and, as Docker allows, a
//! self-signed server certificate that is itself listed in a `ca-file`
//! (webpki alone refuses a CA certificate used as the server's own).

use std::path::Path;
use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

use super::error::RegistryError;

/// `ca-file`s larger than this are refused (a CA bundle is under 1 MiB).
pub(crate) const MAX_PEM_BYTES: u64 = 8 << 20;

/// Reads every certificate in a PEM file (errors name the file); only
/// regular files, at most [`MAX_PEM_BYTES`]. Errors are configuration
/// errors.
pub(crate) fn read_pem_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, RegistryError> {
    let pem = crate::fsio::read_regular_file(path, MAX_PEM_BYTES)
        .map_err(|e| RegistryError::config(format!("{}: {e}", path.display())))?;
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<_, _>>()
        .map_err(|e| {
            RegistryError::config(format!(
                "{}: not a PEM certificate file: {e}",
                path.display()
            ))
        })?;
    if certs.is_empty() {
        return Err(RegistryError::config(format!(
            "{}: no PEM certificate found",
            path.display()
        )));
    }
    Ok(certs)
}

/// A client configuration trusting the usual roots plus `extra`.
pub(crate) fn client_config(
    extra: &[CertificateDer<'static>],
) -> Result<ClientConfig, RegistryError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
    let (added, _ignored) = roots.add_parsable_certificates(extra.iter().cloned());
    if added == 0 && !extra.is_empty() {
        return Err(RegistryError::config(
            "the ca-file certificates could not be parsed",
        ));
    }
    let inner = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| RegistryError::other(format!("cannot set up TLS verification: {e}")))?;
    let verifier = Arc::new(ExtraCaVerifier {
        inner,
        pinned: extra.to_vec(),
    });
    let mut cfg = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| RegistryError::other(format!("cannot set up TLS: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(cfg)
}

/// webpki verification, except that a server certificate listed verbatim in
/// a `ca-file` is trusted (the handshake signature is still checked).
#[derive(Debug)]
struct ExtraCaVerifier {
    inner: Arc<WebPkiServerVerifier>,
    pinned: Vec<CertificateDer<'static>>,
}

impl ServerCertVerifier for ExtraCaVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Ok(v) => Ok(v),
            Err(_)
                if self
                    .pinned
                    .iter()
                    .any(|p| p.as_ref() == end_entity.as_ref()) =>
            {
                Ok(ServerCertVerified::assertion())
            }
            Err(e) => Err(e),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_files_are_refused_without_reading_forever() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("zero.pem");
        std::os::unix::fs::symlink("/dev/zero", &p).unwrap();
        let e = read_pem_certs(&p).unwrap_err();
        assert!(
            e.message.contains("zero.pem") && e.message.contains("not a regular file"),
            "{e}"
        );
    }

    #[test]
    fn pem_files_are_read_or_named() {
        let d = tempfile::tempdir().unwrap();
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["localhost".to_string()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let p = d.path().join("ca.pem");
        std::fs::write(&p, cert.pem()).unwrap();
        let certs = read_pem_certs(&p).unwrap();
        assert_eq!(certs.len(), 1);
        assert!(client_config(&certs).is_ok());
        std::fs::write(&p, "not a certificate").unwrap();
        let e = read_pem_certs(&p).unwrap_err();
        assert!(e.message.contains("ca.pem"), "{e}");
        let e = read_pem_certs(&d.path().join("missing.pem")).unwrap_err();
        assert!(e.message.contains("missing.pem"), "{e}");
    }
}
