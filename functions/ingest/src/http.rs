//! The API's own request and response types, and their conversion from and to the HTTP API v2
//! (and Lambda function URL, same format) payloads.

use aws_lambda_events::encodings::Body;
use aws_lambda_events::event::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use base64::Engine;
use http::{HeaderMap, HeaderValue, Method};

#[derive(Debug, Clone)]
pub struct ApiRequest {
    pub method: Method,
    pub path: String,
    pub query: String,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ApiResponse {
    pub status: u16,
    pub body: String,
}

impl ApiResponse {
    pub fn json<T: serde::Serialize>(status: u16, value: &T) -> Self {
        match serde_json::to_string(value) {
            Ok(body) => Self { status, body },
            Err(_) => Self {
                status: 500,
                body: r#"{"error":{"code":"internal","message":"The response could not be encoded."}}"#.into(),
            },
        }
    }

    /// A response without a body (204).
    pub fn empty(status: u16) -> Self {
        Self {
            status,
            body: String::new(),
        }
    }

    /// A response whose body is already JSON text (keeps stored payload bytes as they are).
    pub fn raw_json(status: u16, body: String) -> Self {
        Self { status, body }
    }
}

impl ApiRequest {
    /// From an HTTP API v2 or function URL event; a base64 body is decoded (a body that does not
    /// decode is passed on empty, which the routes answer with 400).
    pub fn from_apigw(event: ApiGatewayV2httpRequest) -> Self {
        let body = match (event.body, event.is_base64_encoded) {
            (None, _) => Vec::new(),
            (Some(b), false) => b.into_bytes(),
            (Some(b), true) => base64::engine::general_purpose::STANDARD
                .decode(b.as_bytes())
                .unwrap_or_default(),
        };
        let path = event
            .raw_path
            .or(event.request_context.http.path)
            .unwrap_or_else(|| "/".into());
        Self {
            method: event.request_context.http.method,
            path,
            query: event.raw_query_string.unwrap_or_default(),
            headers: event.headers,
            body,
        }
    }

    pub fn bearer(&self) -> Option<&str> {
        let value = self
            .headers
            .get(http::header::AUTHORIZATION)?
            .to_str()
            .ok()?;
        let (scheme, token) = value.split_once(' ')?;
        scheme
            .eq_ignore_ascii_case("bearer")
            .then_some(token.trim())
            .filter(|t| !t.is_empty())
    }
}

impl ApiResponse {
    pub fn into_apigw(self) -> ApiGatewayV2httpResponse {
        let mut response = ApiGatewayV2httpResponse::default();
        response.status_code = i64::from(self.status);
        response.headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        response.body = Some(Body::Text(self.body));
        response.is_base64_encoded = false;
        response
    }
}
