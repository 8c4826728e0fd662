//! The outbound HTTP side of a delivery attempt. Adapter: [`crate::adapters::http::HttpSender`].

use std::time::Duration;

use async_trait::async_trait;
use url::Url;

use crate::domain::attempt::AttemptResult;

/// One attempt to make.
#[derive(Debug, Clone)]
pub struct OutboundRequest {
    pub url: Url,
    pub headers: Vec<(String, String)>,
    pub body: bytes::Bytes,
    pub timeout: Duration,
}

/// Makes an attempt and classifies its result; never fails, never panics.
#[async_trait]
pub trait Sender: Send + Sync {
    async fn send(&self, request: OutboundRequest) -> AttemptResult;
}
