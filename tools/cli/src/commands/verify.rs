//! `verify`: checks a captured webhook with the shared crate's verification
//! (`shared::domain::verification`, the inverse of the sender's signing) and says why it fails.

use serde_json::json;
use shared::domain::secret::Secret;
use shared::domain::settings::SignatureScheme;
use shared::domain::verification::{Received, Verified, VerifyError, verify};

use super::{Ctx, read_path, read_stdin};
use crate::args::{Scheme, SchemeArgs, VerifyArgs};
use crate::exit::{CliError, CliResult};
use crate::request_text::{Captured, parse_headers, parse_request};

/// The scheme the flags describe.
pub fn scheme_of(args: &SchemeArgs) -> CliResult<SignatureScheme> {
    let header = |scheme: &str| {
        args.header
            .clone()
            .ok_or_else(|| CliError::usage(format!("--scheme {scheme} needs --header NAME")))
    };
    Ok(match args.scheme {
        Scheme::StandardWebhooks => SignatureScheme::StandardWebhooks,
        Scheme::HmacSha256Hex => SignatureScheme::HmacSha256Hex {
            header: header("hmac-sha256-hex")?,
            prefix: args.prefix.clone(),
        },
        Scheme::SecretHeader => SignatureScheme::SecretHeader {
            header: header("secret-header")?,
        },
        Scheme::None => SignatureScheme::None {},
    })
}

pub fn secrets_of(args: &SchemeArgs) -> Vec<Secret> {
    args.secrets
        .iter()
        .map(|s| Secret::from_string(s.clone()))
        .collect()
}

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Verifies, and when a body ending in a newline fails, says whether it would pass without
/// it (a newline a capture or an editor added).
pub fn check(
    scheme: &SignatureScheme,
    secrets: &[Secret],
    headers: &[(String, String)],
    body: &[u8],
    now: i64,
    tolerance: i64,
) -> Result<Verified, String> {
    let run = |body: &[u8]| verify(scheme, secrets, Received { headers, body }, now, tolerance);
    match run(body) {
        Ok(v) => Ok(v),
        Err(e @ (VerifyError::StandardMismatch { .. } | VerifyError::HexMismatch { .. })) => {
            let trimmed = body
                .strip_suffix(b"\n")
                .map(|b| b.strip_suffix(b"\r").unwrap_or(b));
            match trimmed.map(run) {
                Some(Ok(_)) => Err(format!(
                    "{e} — it verifies without the body's final newline: the capture (or an editor) added one"
                )),
                _ => Err(e.to_string()),
            }
        }
        Err(e) => Err(e.to_string()),
    }
}

pub fn run(ctx: &Ctx, args: VerifyArgs) -> CliResult {
    let scheme = scheme_of(&args.scheme)?;
    let secrets = secrets_of(&args.scheme);
    if secrets.is_empty() && scheme != (SignatureScheme::None {}) {
        return Err(CliError::usage("give the endpoint's secret with --secret"));
    }
    let captured = match (&args.headers, &args.body) {
        (Some(h), Some(b)) => {
            let text = String::from_utf8(read_path(h)?)
                .map_err(|_| CliError::usage("the headers file is not UTF-8"))?;
            let headers = parse_headers(&text).map_err(CliError::usage)?;
            Captured {
                request_line: None,
                headers,
                body: read_path(b)?,
            }
        }
        _ => {
            let raw = match &args.request {
                Some(path) => read_path(path)?,
                None => read_stdin()?,
            };
            parse_request(&raw).map_err(CliError::usage)?
        }
    };
    let now = args.now.unwrap_or_else(now);
    let result = check(
        &scheme,
        &secrets,
        &captured.headers,
        &captured.body,
        now,
        args.scheme.tolerance,
    );
    match result {
        Ok(v) => {
            let value = json!({"verified": true, "secret_index": v.secret_index, "webhook_id": v.msg_id, "age_seconds": v.age_seconds});
            ctx.out.show(&value, |_| describe_ok(&v, secrets.len()))
        }
        Err(reason) => {
            if ctx.out.is_json() {
                crate::output::print_json(&json!({"verified": false, "reason": reason}))?;
            }
            Err(CliError::failed(format!("does not verify: {reason}")))
        }
    }
}

pub fn describe_ok(v: &Verified, secrets: usize) -> String {
    let mut text = "verified".to_owned();
    if let Some(i) = v.secret_index {
        text.push_str(&format!(" with secret {} of {secrets}", i + 1));
    }
    if let Some(id) = &v.msg_id {
        text.push_str(&format!(", webhook-id {id}"));
    }
    if let Some(age) = v.age_seconds {
        text.push_str(&format!(", timestamp {age} s old"));
    }
    text
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    fn headers() -> Vec<(String, String)> {
        vec![
            ("webhook-id".into(), "msg_p5jXN8AQM9LWM0D4loKWxJek".into()),
            ("webhook-timestamp".into(), "1614265330".into()),
            (
                "webhook-signature".into(),
                "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=".into(),
            ),
        ]
    }

    #[test]
    fn an_added_final_newline_is_named() {
        let secrets = [Secret::from_string(SECRET.into())];
        let s = SignatureScheme::StandardWebhooks;
        let body = br#"{"test": 2432232314}"#;
        assert!(check(&s, &secrets, &headers(), body, 1_614_265_330, 300).is_ok());
        let with_newline = br#"{"test": 2432232314}
"#;
        let e = check(&s, &secrets, &headers(), with_newline, 1_614_265_330, 300).unwrap_err();
        assert!(e.contains("final newline"), "{e}");
        let e = check(
            &s,
            &secrets,
            &headers(),
            br#"{"test": 1}"#,
            1_614_265_330,
            300,
        )
        .unwrap_err();
        assert!(e.contains("no signature matches"), "{e}");
    }

    #[test]
    fn schemes_need_their_header() {
        let mut args = SchemeArgs {
            secrets: vec![],
            scheme: Scheme::HmacSha256Hex,
            header: None,
            prefix: None,
            tolerance: 300,
        };
        assert!(scheme_of(&args).is_err());
        args.header = Some("X-Sig".into());
        args.prefix = Some("sha256=".into());
        assert_eq!(
            scheme_of(&args).unwrap(),
            SignatureScheme::HmacSha256Hex {
                header: "X-Sig".into(),
                prefix: Some("sha256=".into())
            }
        );
    }

    #[test]
    fn success_says_which_secret_and_how_old() {
        let v = Verified {
            secret_index: Some(1),
            msg_id: Some("evt_1".into()),
            age_seconds: Some(3),
        };
        assert_eq!(
            describe_ok(&v, 2),
            "verified with secret 2 of 2, webhook-id evt_1, timestamp 3 s old"
        );
    }
}
