//! Writes the compiled-in TLS roots (webpki-root-certs) as one PEM bundle into OUT_DIR, the form
//! the AWS SDK's TLS context takes them in, so no start-up encodes them (≈ 0.3 ms a cold start).

use std::fmt::Write as _;

use base64::Engine;

fn main() {
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut pem = String::new();
    for cert in webpki_root_certs::TLS_SERVER_ROOT_CERTS {
        let text = b64.encode(cert.as_ref());
        pem.push_str("-----BEGIN CERTIFICATE-----\n");
        for start in (0..text.len()).step_by(64) {
            let _ = writeln!(pem, "{}", &text[start..text.len().min(start + 64)]);
        }
        pem.push_str("-----END CERTIFICATE-----\n");
    }
    let out = std::path::PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default());
    if let Err(e) = std::fs::write(out.join("roots.pem"), pem) {
        println!("cargo::error=could not write roots.pem: {e}");
    }
    println!("cargo::rerun-if-changed=build.rs");
}
