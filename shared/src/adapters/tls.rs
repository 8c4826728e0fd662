//! The one TLS set-up of both HTTP clients (the AWS SDK's and the receivers'): the Mozilla root
//! certificates compiled in (`webpki-root-certs`), so a cold start reads no certificate file and
//! parses the roots once, not once per client. The system's bundle (≈ 150 files) used to be read
//! and parsed twice at every start, and the SDK's roots parsed again for each client built.

use std::sync::{Arc, LazyLock};

use rustls::RootCertStore;

/// The compiled-in roots as rustls trust anchors, parsed on first use, once per process.
pub fn root_store() -> Arc<RootCertStore> {
    static ROOTS: LazyLock<Arc<RootCertStore>> = LazyLock::new(|| {
        let mut roots = RootCertStore::empty();
        roots.add_parsable_certificates(webpki_root_certs::TLS_SERVER_ROOT_CERTS.iter().cloned());
        Arc::new(roots)
    });
    Arc::clone(&ROOTS)
}

/// The rustls configuration of the receivers' client: the compiled-in roots, aws-lc-rs (as
/// reqwest's own default), TLS 1.2 and 1.3, HTTP/2 or HTTP/1.1 offered by ALPN (as reqwest
/// offers them when it builds the configuration itself).
pub fn client_config() -> Result<rustls::ClientConfig, rustls::Error> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(root_store())
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// The compiled-in roots as one PEM bundle, the form the AWS SDK's TLS context takes them in
/// (written by `build.rs`, so no start-up encodes them).
pub fn roots_pem() -> &'static str {
    include_str!(concat!(env!("OUT_DIR"), "/roots.pem"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;

    use super::*;

    #[test]
    fn every_compiled_in_root_is_a_usable_trust_anchor() {
        let all = webpki_root_certs::TLS_SERVER_ROOT_CERTS;
        assert!(all.len() > 100, "{}", all.len());
        // The SDK adds each PEM certificate with `expect`: every one must parse.
        let mut store = RootCertStore::empty();
        for cert in all {
            store.add(cert.clone()).unwrap();
        }
        assert_eq!(root_store().len(), all.len());
        let from_pem: Vec<CertificateDer<'static>> =
            CertificateDer::pem_slice_iter(roots_pem().as_bytes())
                .collect::<Result<_, _>>()
                .unwrap();
        assert_eq!(from_pem.as_slice(), all);
    }

    #[test]
    fn the_receivers_config_offers_h2_and_http1() {
        let config = client_config().unwrap();
        assert_eq!(
            config.alpn_protocols,
            [b"h2".to_vec(), b"http/1.1".to_vec()]
        );
    }
}
