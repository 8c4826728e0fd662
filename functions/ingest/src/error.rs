//! API errors, each mapped once to a status and API.md's body:
//! `{"error": {"code", "message", "field"?}}`. Messages never carry secrets or debug output.

use serde_json::json;

use crate::http::ApiResponse;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
}

impl ApiError {
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            field: None,
        }
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    pub fn malformed(message: impl Into<String>) -> Self {
        Self::new(400, "malformed_json", message)
    }

    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(422, "invalid_field", message).with_field(field)
    }

    pub fn unauthorized() -> Self {
        Self::new(
            401,
            "unauthorized",
            "A valid `Authorization: Bearer <key>` header is required.",
        )
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(404, "not_found", format!("No such {what}."))
    }

    pub fn too_large(field: &str, message: impl Into<String>) -> Self {
        Self::new(413, "too_large", message).with_field(field)
    }

    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(503, "service_unavailable", message)
    }

    pub fn into_response(self) -> ApiResponse {
        let mut error = json!({"code": self.code, "message": self.message});
        if let (Some(field), Some(obj)) = (self.field, error.as_object_mut()) {
            obj.insert("field".into(), json!(field));
        }
        ApiResponse::json(self.status, &json!({ "error": error }))
    }
}

impl From<shared::ports::StoreError> for ApiError {
    fn from(e: shared::ports::StoreError) -> Self {
        tracing::error!(error = %e, "store error");
        Self::unavailable("The event store is unavailable; try again.")
    }
}

/// Parses a JSON body into `T`: syntax errors are 400, wrong or missing values 422 with the
/// JSON path of the field at fault.
pub fn parse_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
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
    match (e.classify(), field) {
        (serde_json::error::Category::Data, Some(field)) => ApiError::invalid(field, message),
        (serde_json::error::Category::Data, None) => ApiError::new(422, "invalid_field", message),
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

    #[test]
    fn syntax_is_400_values_are_422_with_path() {
        assert_eq!(parse_body::<Body>(b"{").unwrap_err().status, 400);
        assert_eq!(parse_body::<Body>(b"").unwrap_err().status, 400);
        assert_eq!(
            parse_body::<Body>(br#"{"name": "a"} x"#)
                .unwrap_err()
                .status,
            400
        );
        let e = parse_body::<Body>(br#"{"name": 1}"#).unwrap_err();
        assert_eq!((e.status, e.field.as_deref()), (422, Some("name")));
        let e = parse_body::<Body>(br#"{"name": "a", "inner": {"n": -1}}"#).unwrap_err();
        assert_eq!((e.status, e.field.as_deref()), (422, Some("inner.n")));
        let e = parse_body::<Body>(br#"{"name": "a", "typo": 1}"#).unwrap_err();
        assert_eq!(e.status, 422);
        assert!(e.message.contains("typo"), "{}", e.message);
        let e = parse_body::<Body>(br#"{}"#).unwrap_err();
        assert_eq!(e.status, 422);
    }

    #[test]
    fn error_body_has_the_api_shape() {
        let r = ApiError::invalid("url", "must use https").into_response();
        assert_eq!(r.status, 422);
        let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(
            v,
            json!({"error": {"code": "invalid_field", "message": "must use https", "field": "url"}})
        );
        let v: serde_json::Value =
            serde_json::from_str(&ApiError::unauthorized().into_response().body).unwrap();
        assert!(v["error"].get("field").is_none());
    }
}
