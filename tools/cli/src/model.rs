//! The API's answers as typed values (the shapes of `functions/ingest/src/views.rs`). Each type
//! names the fields the tool reads and keeps every other field in `rest`, so `--output json`
//! prints what the API sent.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub type Rest = Map<String, Value>;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Tenant {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(flatten)]
    pub rest: Rest,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Page<T> {
    pub data: Vec<T>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    #[serde(flatten)]
    pub rest: Rest,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApiKey {
    pub id: String,
    pub key: String,
    #[serde(flatten)]
    pub rest: Rest,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Endpoint {
    pub id: String,
    pub url: String,
    #[serde(default)]
    pub event_types: Vec<String>,
    #[serde(default)]
    pub enabled: bool,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(flatten)]
    pub rest: Rest,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeliveryRef {
    pub id: String,
    #[serde(default)]
    pub endpoint_id: Option<String>,
    pub url: String,
}

/// The answer to an accepted event (202, or 200 for a repeated `id`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Accepted {
    pub id: String,
    pub event_type: String,
    #[serde(default)]
    pub deliveries: Vec<DeliveryRef>,
    #[serde(flatten)]
    pub rest: Rest,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BatchResult {
    pub status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<Accepted>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorDetail>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BatchResults {
    pub results: Vec<BatchResult>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Event {
    pub id: String,
    pub event_type: String,
    #[serde(default)]
    pub deliveries: Vec<Delivery>,
    #[serde(flatten)]
    pub rest: Rest,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    pub id: String,
    #[serde(default)]
    pub event_type: String,
    #[serde(default)]
    pub endpoint_id: Option<String>,
    pub status: String,
    #[serde(default)]
    pub attempt_count: u32,
    #[serde(default)]
    pub updated_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempts: Option<Vec<Attempt>>,
    #[serde(flatten)]
    pub rest: Rest,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    pub number: u32,
    #[serde(default)]
    pub started_at: String,
    #[serde(default)]
    pub status_code: Option<u16>,
    pub outcome: String,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub manual: bool,
    #[serde(flatten)]
    pub rest: Rest,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Job {
    pub id: String,
    pub kind: String,
    pub status: String,
    #[serde(default)]
    pub done: u64,
    #[serde(default)]
    pub total: Option<u64>,
    #[serde(default)]
    pub requeued: Option<u64>,
    #[serde(flatten)]
    pub rest: Rest,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Moved {
    pub moved: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DlqStatus {
    pub depth: u64,
    #[serde(default)]
    pub in_flight: u64,
    #[serde(flatten)]
    pub rest: Rest,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EventType {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(flatten)]
    pub rest: Rest,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EventTypeList {
    pub data: Vec<EventType>,
    #[serde(default)]
    pub strict: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RetryQueued {
    pub id: String,
    #[serde(flatten)]
    pub rest: Rest,
}

/// The answers the tool prints as they come (portal sessions, health, event types' detail).
pub type Object = Value;
