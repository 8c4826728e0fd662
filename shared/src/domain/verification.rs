//! Checks a received delivery the way a receiver must, for each scheme of API.md, and says
//! exactly why it fails. The inverse of [`super::signing`], built on the same functions. Pure:
//! the current time is passed in.

use subtle::ConstantTimeEq;

use crate::domain::secret::{Secret, WHSEC_PREFIX};
use crate::domain::settings::SignatureScheme;
use crate::domain::signing::{SigningInput, signature_headers, standard_webhooks_v1};

/// The Standard Webhooks tolerance: a timestamp more than 5 minutes away from now is refused.
pub const DEFAULT_TOLERANCE_SECONDS: i64 = 300;

/// What was received: header names are compared case-insensitively.
#[derive(Debug, Clone, Copy)]
pub struct Received<'a> {
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
}

impl Received<'_> {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim())
    }
}

/// What passed: which of the secrets matched (0 = the first given) and, for Standard
/// Webhooks, the message id and the timestamp's age in seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub secret_index: Option<usize>,
    pub msg_id: Option<String>,
    pub age_seconds: Option<i64>,
}

/// Why a delivery does not verify, in words a developer can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("no secret was given")]
    NoSecret,
    #[error("the `{0}` header is missing")]
    MissingHeader(String),
    #[error("`webhook-timestamp` is not a whole number of seconds: `{0}`")]
    BadTimestamp(String),
    #[error(
        "the timestamp is {age} s old, more than the {tolerance} s tolerance (a replay, or a capture verified too late){}",
        signature_note(*.signature_matches)
    )]
    TooOld {
        age: i64,
        tolerance: i64,
        signature_matches: bool,
    },
    #[error(
        "the timestamp is {ahead} s in the future, more than the {tolerance} s tolerance (the sender's or this machine's clock is off){}",
        signature_note(*.signature_matches)
    )]
    InFuture {
        ahead: i64,
        tolerance: i64,
        signature_matches: bool,
    },
    #[error(
        "secret {index} is not a Standard Webhooks secret: it must be `whsec_` followed by base64"
    )]
    NotStandardSecret { index: usize },
    #[error("`webhook-signature` holds no `v1,` signature: `{0}`")]
    NoV1Signature(String),
    #[error(
        "no signature matches: {signatures} v1 signature(s) checked against {secrets} secret(s); the body, `webhook-id` or `webhook-timestamp` was changed after signing, or the secret is not this endpoint's"
    )]
    StandardMismatch { signatures: usize, secrets: usize },
    #[error("`{header}` does not start with the expected prefix `{prefix}`")]
    MissingPrefix { header: String, prefix: String },
    #[error("`{header}` is not a hex HMAC-SHA256 (64 hex characters after the prefix)")]
    NotHex { header: String },
    #[error(
        "`{header}` does not match the HMAC-SHA256 of the body with any of the {secrets} secret(s): the body was changed, or the secret is wrong"
    )]
    HexMismatch { header: String, secrets: usize },
    #[error("`{header}` is not the endpoint's secret")]
    SecretMismatch { header: String },
}

fn signature_note(matches: bool) -> &'static str {
    if matches {
        "; the signature itself matches"
    } else {
        "; the signature does not match either"
    }
}

/// Checks `received` against `secrets` (several during a rotation) for `scheme`. `now` and
/// `tolerance` are in seconds (Standard Webhooks only). The scheme `none` always passes.
pub fn verify(
    scheme: &SignatureScheme,
    secrets: &[Secret],
    received: Received<'_>,
    now: i64,
    tolerance: i64,
) -> Result<Verified, VerifyError> {
    let none = Verified {
        secret_index: None,
        msg_id: None,
        age_seconds: None,
    };
    match scheme {
        SignatureScheme::None {} => Ok(none),
        _ if secrets.is_empty() => Err(VerifyError::NoSecret),
        SignatureScheme::StandardWebhooks => verify_standard(secrets, received, now, tolerance),
        SignatureScheme::HmacSha256Hex { header, prefix } => {
            let index = verify_hex(header, prefix.as_deref(), secrets, received)?;
            Ok(Verified {
                secret_index: Some(index),
                ..none
            })
        }
        SignatureScheme::SecretHeader { header } => {
            let got = received
                .header(header)
                .ok_or_else(|| VerifyError::MissingHeader(header.clone()))?;
            let index = secrets
                .iter()
                .position(|s| equal(s.expose().as_bytes(), got.as_bytes()))
                .ok_or_else(|| VerifyError::SecretMismatch {
                    header: header.clone(),
                })?;
            Ok(Verified {
                secret_index: Some(index),
                ..none
            })
        }
    }
}

fn verify_standard(
    secrets: &[Secret],
    received: Received<'_>,
    now: i64,
    tolerance: i64,
) -> Result<Verified, VerifyError> {
    let required = |name: &str| {
        received
            .header(name)
            .ok_or_else(|| VerifyError::MissingHeader(name.to_owned()))
    };
    let msg_id = required("webhook-id")?;
    let ts_text = required("webhook-timestamp")?;
    let signature = required("webhook-signature")?;
    let timestamp: i64 = ts_text
        .parse()
        .map_err(|_| VerifyError::BadTimestamp(ts_text.to_owned()))?;
    let mut keys = Vec::with_capacity(secrets.len());
    for (index, secret) in secrets.iter().enumerate() {
        keys.push(standard_key(secret).ok_or(VerifyError::NotStandardSecret { index })?);
    }
    let given: Vec<&str> = signature
        .split_whitespace()
        .filter_map(|s| s.strip_prefix("v1,"))
        .collect();
    if given.is_empty() {
        return Err(VerifyError::NoV1Signature(signature.to_owned()));
    }
    let input = SigningInput {
        msg_id,
        timestamp,
        body: received.body,
    };
    let matched = keys.iter().position(|key| {
        let expected = standard_webhooks_v1(key, input);
        given
            .iter()
            .any(|g| equal(g.as_bytes(), expected.as_bytes()))
    });
    let age = now - timestamp;
    if age > tolerance {
        return Err(VerifyError::TooOld {
            age,
            tolerance,
            signature_matches: matched.is_some(),
        });
    }
    if -age > tolerance {
        return Err(VerifyError::InFuture {
            ahead: -age,
            tolerance,
            signature_matches: matched.is_some(),
        });
    }
    let index = matched.ok_or(VerifyError::StandardMismatch {
        signatures: given.len(),
        secrets: secrets.len(),
    })?;
    Ok(Verified {
        secret_index: Some(index),
        msg_id: Some(msg_id.to_owned()),
        age_seconds: Some(age),
    })
}

/// The HMAC key of a Standard Webhooks secret: base64 after `whsec_` (as the official libraries
/// take it).
fn standard_key(secret: &Secret) -> Option<Vec<u8>> {
    if !secret.expose().starts_with(WHSEC_PREFIX) {
        return None;
    }
    secret.standard_key()
}

fn verify_hex(
    header: &str,
    prefix: Option<&str>,
    secrets: &[Secret],
    received: Received<'_>,
) -> Result<usize, VerifyError> {
    let got = received
        .header(header)
        .ok_or_else(|| VerifyError::MissingHeader(header.to_owned()))?;
    let prefix = prefix.unwrap_or("");
    let hex_part = got
        .strip_prefix(prefix)
        .ok_or_else(|| VerifyError::MissingPrefix {
            header: header.to_owned(),
            prefix: prefix.to_owned(),
        })?;
    if hex_part.len() != 64 || !hex_part.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(VerifyError::NotHex {
            header: header.to_owned(),
        });
    }
    let scheme = SignatureScheme::HmacSha256Hex {
        header: header.to_owned(),
        prefix: None,
    };
    let input = SigningInput {
        msg_id: "",
        timestamp: 0,
        body: received.body,
    };
    let given = hex_part.to_ascii_lowercase();
    secrets
        .iter()
        .position(|secret| {
            signature_headers(&scheme, std::slice::from_ref(secret), input)
                .ok()
                .and_then(|h| h.into_iter().next())
                .is_some_and(|(_, expected)| equal(expected.as_bytes(), given.as_bytes()))
        })
        .ok_or(VerifyError::HexMismatch {
            header: header.to_owned(),
            secrets: secrets.len(),
        })
}

fn equal(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const TS: i64 = 1_614_265_330;
    const BODY: &[u8] = br#"{"test": 2432232314}"#;
    const SIG: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    fn headers(sig: &str) -> Vec<(String, String)> {
        vec![
            ("Webhook-Id".into(), ID.into()),
            ("webhook-timestamp".into(), TS.to_string()),
            ("webhook-signature".into(), sig.into()),
        ]
    }

    fn check(sig: &str, body: &[u8], secrets: &[&str], now: i64) -> Result<Verified, VerifyError> {
        let secrets: Vec<Secret> = secrets
            .iter()
            .map(|s| Secret::from_string((*s).into()))
            .collect();
        let headers = headers(sig);
        let received = Received {
            headers: &headers,
            body,
        };
        verify(
            &SignatureScheme::StandardWebhooks,
            &secrets,
            received,
            now,
            300,
        )
    }

    #[test]
    fn standard_vector_passes_and_names_the_secret() {
        let ok = check(SIG, BODY, &[SECRET], TS + 10).unwrap();
        assert_eq!(ok.secret_index, Some(0));
        assert_eq!(ok.msg_id.as_deref(), Some(ID));
        let rotated = check(
            &format!("v1,AAAA {SIG}"),
            BODY,
            &["whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", SECRET],
            TS,
        )
        .unwrap();
        assert_eq!(rotated.secret_index, Some(1));
    }

    #[test]
    fn standard_failures_say_why() {
        let tampered = check(SIG, br#"{"test": 2432232315}"#, &[SECRET], TS);
        assert!(matches!(
            tampered,
            Err(VerifyError::StandardMismatch { .. })
        ));
        let wrong = check(SIG, BODY, &["whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"], TS);
        assert!(matches!(wrong, Err(VerifyError::StandardMismatch { .. })));
        let old = check(SIG, BODY, &[SECRET], TS + 301).unwrap_err();
        assert_eq!(
            old,
            VerifyError::TooOld {
                age: 301,
                tolerance: 300,
                signature_matches: true
            }
        );
        assert!(old.to_string().contains("301 s old"));
        let future = check(SIG, BODY, &[SECRET], TS - 400).unwrap_err();
        assert!(matches!(future, VerifyError::InFuture { ahead: 400, .. }));
        assert_eq!(
            check("v2,xyz", BODY, &[SECRET], TS),
            Err(VerifyError::NoV1Signature("v2,xyz".into()))
        );
        assert_eq!(
            check(SIG, BODY, &["plain"], TS),
            Err(VerifyError::NotStandardSecret { index: 0 })
        );
        assert_eq!(check(SIG, BODY, &[], TS), Err(VerifyError::NoSecret));
    }

    #[test]
    fn hex_and_secret_header() {
        let scheme = SignatureScheme::HmacSha256Hex {
            header: "X-Sig".into(),
            prefix: Some("sha256=".into()),
        };
        let secrets = [Secret::from_string("Jefe".into())];
        let body = b"what do ya want for nothing?";
        let good = "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
        let run = |value: &str, body: &[u8]| {
            let headers = vec![("x-sig".to_owned(), value.to_owned())];
            verify(
                &scheme,
                &secrets,
                Received {
                    headers: &headers,
                    body,
                },
                0,
                300,
            )
        };
        assert!(run(good, body).is_ok());
        assert!(run(&good.to_uppercase().replace("SHA256=", "sha256="), body).is_ok());
        assert!(matches!(
            run(good, b"other"),
            Err(VerifyError::HexMismatch { .. })
        ));
        assert!(matches!(
            run(&good[7..], body),
            Err(VerifyError::MissingPrefix { .. })
        ));
        assert!(matches!(
            run("sha256=zz", body),
            Err(VerifyError::NotHex { .. })
        ));
        let header = SignatureScheme::SecretHeader {
            header: "X-Webhook-Secret".into(),
        };
        let headers = vec![("x-webhook-secret".to_owned(), "Jefe".to_owned())];
        assert!(
            verify(
                &header,
                &secrets,
                Received {
                    headers: &headers,
                    body
                },
                0,
                0
            )
            .is_ok()
        );
        let headers = vec![("x-webhook-secret".to_owned(), "nope".to_owned())];
        assert!(matches!(
            verify(
                &header,
                &secrets,
                Received {
                    headers: &headers,
                    body
                },
                0,
                0
            ),
            Err(VerifyError::SecretMismatch { .. })
        ));
        assert!(matches!(
            verify(&header, &secrets, Received { headers: &[], body }, 0, 0),
            Err(VerifyError::MissingHeader(_))
        ));
    }
}
