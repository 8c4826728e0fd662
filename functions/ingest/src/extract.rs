//! Request extractors whose rejections are [`ApiError`]s: JSON bodies (syntax errors 400, wrong
//! or missing values 422 with the JSON path of the field at fault), raw bodies (413 over the
//! limit) and the resource id of a path.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, RawPathParams, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::state::AppState;

/// The body limit the app's layer set for this request (the batch route's is larger).
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// The request body as bytes.
#[derive(Debug)]
pub struct RawBody(pub Bytes);

impl FromRequest<AppState> for RawBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let limit = req
            .extensions()
            .get::<BodyLimit>()
            .map_or_else(|| state.config.body_limit(), |l| l.0);
        match Bytes::from_request(req, state).await {
            Ok(bytes) => Ok(Self(bytes)),
            Err(r) if r.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(ApiError::body_too_large(limit))
            }
            Err(_) => Err(ApiError::malformed("The request body could not be read.")),
        }
    }
}

/// A JSON body parsed into `T` (see [`parse_body`]).
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let RawBody(bytes) = RawBody::from_request(req, state).await?;
        parse_body(&bytes).map(Self)
    }
}

/// The id after the tenant in a path (`{endpoint_id}`, `{event_id}`, `{delivery_id}`,
/// `{key_id}`), percent-decoded; the service checks its shape.
#[derive(Debug)]
pub struct ResourceId(pub String);

impl FromRequestParts<AppState> for ResourceId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::NoRoute)?;
        params
            .iter()
            .find(|(name, _)| *name != "tenant_id")
            .map(|(_, value)| Self(value.to_owned()))
            .ok_or(ApiError::NoRoute)
    }
}

/// Parses a JSON body into `T`: syntax errors are 400, wrong or missing values 422 with the
/// JSON path of the field at fault.
pub fn parse_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    if body.is_empty() {
        return Err(ApiError::malformed(
            "The request body must be a JSON object.",
        ));
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize::<_, T>(&mut de).map_err(|e| {
        let path = e.path().to_string();
        classify(e.into_inner(), (path != ".").then_some(path))
    })?;
    de.end().map_err(|e| classify(e, None))?;
    Ok(value)
}

fn classify(e: serde_json::Error, field: Option<String>) -> ApiError {
    let message = first_sentence(&e.to_string());
    match e.classify() {
        serde_json::error::Category::Data => ApiError::Invalid { field, message },
        _ => ApiError::malformed(format!("The body is not valid JSON: {message}")),
    }
}

/// serde's messages end with " at line 1 column 42"; keep the sentence.
fn first_sentence(msg: &str) -> String {
    match msg.find(" at line ") {
        Some(i) => msg[..i].to_owned(),
        None => msg.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        inner: Option<Inner>,
    }
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Inner {
        n: u32,
    }

    fn status_and_field(e: &ApiError) -> (u16, Option<&str>) {
        (e.status().as_u16(), e.field())
    }

    #[test]
    fn syntax_is_400_values_are_422_with_path() {
        let err = |b: &[u8]| parse_body::<Body>(b).unwrap_err();
        assert_eq!(err(b"{").status().as_u16(), 400);
        assert_eq!(err(b"").status().as_u16(), 400);
        assert_eq!(err(br#"{"name": "a"} x"#).status().as_u16(), 400);
        assert_eq!(
            status_and_field(&err(br#"{"name": 1}"#)),
            (422, Some("name"))
        );
        assert_eq!(
            status_and_field(&err(br#"{"name": "a", "inner": {"n": -1}}"#)),
            (422, Some("inner.n"))
        );
        let e = err(br#"{"name": "a", "typo": 1}"#);
        assert_eq!(e.status().as_u16(), 422);
        assert!(e.to_string().contains("typo"), "{e}");
        assert_eq!(status_and_field(&err(br#"{}"#)), (422, None));
    }
}
