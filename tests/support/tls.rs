//! A throwaway certificate authority (rcgen) and a server certificate for
//! `127.0.0.1` / `localhost` signed by it, for registries served over TLS.
//! Tests hand the CA to imagepin with `ca-file` in `.imagepin.toml`.

use rcgen::{
    BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose, SanType,
};

pub struct TestCa {
    /// The CA certificate (PEM): what a client must trust.
    pub ca_pem: String,
    /// Server certificate (PEM) for 127.0.0.1 and localhost, signed by the CA.
    pub server_cert_pem: String,
    /// The server certificate's private key (PKCS#8 PEM).
    pub server_key_pem: String,
}

impl TestCa {
    pub fn new() -> TestCa {
        let ca_key = KeyPair::generate().expect("CA key");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "imagepin test CA");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_cert = ca_params.self_signed(&ca_key).expect("self-sign CA");
        let issuer = Issuer::new(ca_params, ca_key);

        let (key, params) = server_params();
        let cert = params.signed_by(&key, &issuer).expect("sign server cert");
        TestCa {
            ca_pem: ca_cert.pem(),
            server_cert_pem: cert.pem(),
            server_key_pem: key.serialize_pem(),
        }
    }
}

impl TestCa {
    /// A self-signed server certificate (no separate CA): clients must
    /// trust the server certificate itself, as Docker allows in certs.d.
    pub fn self_signed() -> TestCa {
        let (key, params) = server_params();
        let cert = params.self_signed(&key).expect("self-sign server cert");
        TestCa {
            ca_pem: cert.pem(),
            server_cert_pem: cert.pem(),
            server_key_pem: key.serialize_pem(),
        }
    }
}

/// A fresh key and the parameters of a server certificate for `localhost`
/// and 127.0.0.1.
fn server_params() -> (KeyPair, CertificateParams) {
    let key = KeyPair::generate().expect("server key");
    let mut params = CertificateParams::new(vec!["localhost".to_string()]).expect("server params");
    params
        .subject_alt_names
        .push(SanType::IpAddress([127, 0, 0, 1].into()));
    params
        .distinguished_name
        .push(DnType::CommonName, "127.0.0.1");
    (key, params)
}

impl Default for TestCa {
    fn default() -> Self {
        TestCa::new()
    }
}
