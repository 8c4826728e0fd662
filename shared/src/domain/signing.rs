//! Builds the signature headers of a delivery for each scheme of API.md. Pure: no I/O, no clock.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::domain::secret::Secret;
use crate::domain::settings::SignatureScheme;

type HmacSha256 = Hmac<Sha256>;

/// What is signed: the message id (the event id), the attempt's Unix time in seconds and the
/// exact body bytes.
#[derive(Debug, Clone, Copy)]
pub struct SigningInput<'a> {
    pub msg_id: &'a str,
    pub timestamp: i64,
    pub body: &'a [u8],
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SigningError {
    #[error("the endpoint has no usable Standard Webhooks secret (`whsec_` + base64)")]
    BadStandardSecret,
    #[error("the endpoint has no secret")]
    NoSecret,
}

/// The headers (name, value) that carry the signature. `secrets` are the valid secrets, newest
/// first; Standard Webhooks signs with each of them (rotation), the other schemes with the newest.
pub fn signature_headers(
    scheme: &SignatureScheme,
    secrets: &[Secret],
    input: SigningInput<'_>,
) -> Result<Vec<(String, String)>, SigningError> {
    match scheme {
        SignatureScheme::StandardWebhooks => {
            if secrets.is_empty() {
                return Err(SigningError::NoSecret);
            }
            let mut signatures = Vec::with_capacity(secrets.len());
            for secret in secrets {
                let key = secret
                    .standard_key()
                    .ok_or(SigningError::BadStandardSecret)?;
                signatures.push(format!("v1,{}", standard_webhooks_v1(&key, input)));
            }
            Ok(vec![
                ("webhook-id".into(), input.msg_id.to_owned()),
                ("webhook-timestamp".into(), input.timestamp.to_string()),
                ("webhook-signature".into(), signatures.join(" ")),
            ])
        }
        SignatureScheme::HmacSha256Hex { header, prefix } => {
            let secret = secrets.first().ok_or(SigningError::NoSecret)?;
            let digest = hmac_sha256(secret.expose().as_bytes(), &[input.body]);
            let value = format!("{}{}", prefix.as_deref().unwrap_or(""), hex::encode(digest));
            Ok(vec![(header.clone(), value)])
        }
        SignatureScheme::SecretHeader { header } => {
            let secret = secrets.first().ok_or(SigningError::NoSecret)?;
            Ok(vec![(header.clone(), secret.expose().to_owned())])
        }
        SignatureScheme::None {} => Ok(Vec::new()),
    }
}

/// base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")), the Standard Webhooks v1 signature.
pub fn standard_webhooks_v1(key: &[u8], input: SigningInput<'_>) -> String {
    let ts = input.timestamp.to_string();
    let digest = hmac_sha256(
        key,
        &[
            input.msg_id.as_bytes(),
            b".",
            ts.as_bytes(),
            b".",
            input.body,
        ],
    );
    STANDARD.encode(digest)
}

fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    // HMAC accepts keys of any length, so this never fails; an empty MAC would only be produced
    // if the library changed that contract.
    match HmacSha256::new_from_slice(key) {
        Ok(mut mac) => {
            for part in parts {
                mac.update(part);
            }
            mac.finalize().into_bytes().to_vec()
        }
        Err(_) => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VECTOR_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const VECTOR_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const VECTOR_TS: i64 = 1_614_265_330;
    const VECTOR_BODY: &[u8] = br#"{"test": 2432232314}"#;
    const VECTOR_SIG: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    fn input() -> SigningInput<'static> {
        SigningInput {
            msg_id: VECTOR_ID,
            timestamp: VECTOR_TS,
            body: VECTOR_BODY,
        }
    }

    fn header<'a>(headers: &'a [(String, String)], name: &str) -> &'a str {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .unwrap()
    }

    #[test]
    fn standard_webhooks_published_vector() {
        let secrets = [Secret::from_string(VECTOR_SECRET.into())];
        let headers =
            signature_headers(&SignatureScheme::StandardWebhooks, &secrets, input()).unwrap();
        assert_eq!(header(&headers, "webhook-id"), VECTOR_ID);
        assert_eq!(header(&headers, "webhook-timestamp"), "1614265330");
        assert_eq!(header(&headers, "webhook-signature"), VECTOR_SIG);
    }

    #[test]
    fn standard_webhooks_signs_with_every_valid_secret() {
        let secrets = [
            Secret::generate(),
            Secret::from_string(VECTOR_SECRET.into()),
        ];
        let headers =
            signature_headers(&SignatureScheme::StandardWebhooks, &secrets, input()).unwrap();
        let sigs: Vec<&str> = header(&headers, "webhook-signature").split(' ').collect();
        assert_eq!(sigs.len(), 2);
        assert_eq!(sigs[1], VECTOR_SIG);
        assert_ne!(sigs[0], VECTOR_SIG);
    }

    #[test]
    fn any_change_changes_the_signature() {
        let key = Secret::from_string(VECTOR_SECRET.into())
            .standard_key()
            .unwrap();
        let base = standard_webhooks_v1(&key, input());
        let other_body = SigningInput {
            body: br#"{"test": 2432232315}"#,
            ..input()
        };
        let other_ts = SigningInput {
            timestamp: VECTOR_TS + 1,
            ..input()
        };
        let other_id = SigningInput {
            msg_id: "msg_other",
            ..input()
        };
        for changed in [other_body, other_ts, other_id] {
            assert_ne!(standard_webhooks_v1(&key, changed), base);
        }
    }

    #[test]
    fn standard_scheme_refuses_a_non_whsec_secret() {
        let secrets = [Secret::from_string("plain-shared-secret".into())];
        assert_eq!(
            signature_headers(&SignatureScheme::StandardWebhooks, &secrets, input()),
            Err(SigningError::BadStandardSecret)
        );
        assert_eq!(
            signature_headers(&SignatureScheme::StandardWebhooks, &[], input()),
            Err(SigningError::NoSecret)
        );
    }

    #[test]
    fn hmac_hex_known_answer() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        let scheme = SignatureScheme::HmacSha256Hex {
            header: "Ittybit-Signature".into(),
            prefix: None,
        };
        let secrets = [Secret::from_string("Jefe".into())];
        let input = SigningInput {
            msg_id: "evt_x",
            timestamp: 1,
            body: b"what do ya want for nothing?",
        };
        let headers = signature_headers(&scheme, &secrets, input).unwrap();
        assert_eq!(
            headers,
            vec![(
                "Ittybit-Signature".to_owned(),
                "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843".to_owned()
            )]
        );
        let prefixed = SignatureScheme::HmacSha256Hex {
            header: "X-Hub-Signature-256".into(),
            prefix: Some("sha256=".into()),
        };
        let headers = signature_headers(&prefixed, &secrets, input).unwrap();
        assert!(headers[0].1.starts_with("sha256=5bdcc146"));
    }

    #[test]
    fn secret_header_and_none() {
        let scheme = SignatureScheme::SecretHeader {
            header: "X-Webhook-Secret".into(),
        };
        let secrets = [Secret::from_string("cg-endpoint-secret-1".into())];
        let headers = signature_headers(&scheme, &secrets, input()).unwrap();
        assert_eq!(
            headers,
            vec![(
                "X-Webhook-Secret".to_owned(),
                "cg-endpoint-secret-1".to_owned()
            )]
        );
        assert!(
            signature_headers(&SignatureScheme::None {}, &[], input())
                .unwrap()
                .is_empty()
        );
    }
}
