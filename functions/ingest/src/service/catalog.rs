//! The event-type catalog: its entries, and the strict option's checks (endpoints subscribe
//! only to catalogued types, events have catalogued types). The strict checks read the catalog
//! through a per-instance cache of [`CACHE_SECONDS`], so a request costs no extra read; an
//! instance that changes the catalog drops its own cache at once.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::value::RawValue;
use utoipa::ToSchema;

use shared::domain::catalog::{
    EventTypeInput, EventTypeRecord, MAX_EVENT_TYPES, pattern_is_catalogued, type_is_catalogued,
};
use shared::domain::clock::now_millis;
use shared::domain::event_type::{EventType, EventTypePattern};
use shared::ports::EventTypes;

use crate::error::ApiError;

/// How long an instance trusts its copy of the catalog's names.
pub const CACHE_SECONDS: u64 = 30;

/// `PUT /v1/event-types/{name}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutEventType {
    /// What the event means, shown to customers choosing what to subscribe to (≤ 1,000
    /// characters).
    pub description: String,
    /// A JSON Schema (an object) of the payload, or null.
    #[schema(value_type = Option<Object>)]
    #[serde(default)]
    pub schema: Option<Box<RawValue>>,
    /// An example payload (a JSON object), or null: what a test event sends.
    #[schema(value_type = Option<Object>)]
    #[serde(default)]
    pub example: Option<Box<RawValue>>,
}

fn invalid(e: shared::domain::catalog::CatalogError) -> ApiError {
    ApiError::invalid(e.field, e.message)
}

/// Creates or replaces an entry; says whether it was created.
pub async fn put<S: EventTypes + ?Sized>(
    store: &S,
    cache: &CatalogCache,
    name: &str,
    body: PutEventType,
) -> Result<(EventTypeRecord, bool), ApiError> {
    let input = EventTypeInput::parse(
        name,
        &body.description,
        body.schema.as_deref(),
        body.example.as_deref(),
    )
    .map_err(invalid)?;
    // The whole catalog is one answer of `GET /v1/event-types` (under Lambda's 6 MB).
    let entries = store.list_event_types().await?;
    if entries.len() >= MAX_EVENT_TYPES && !entries.iter().any(|e| e.name == name) {
        return Err(ApiError::conflict(
            "catalog_full",
            format!("The catalog holds at most {MAX_EVENT_TYPES} event types; delete one first."),
        ));
    }
    let stored = store.put_event_type(&input.record(now_millis())).await?;
    cache.forget();
    Ok(stored)
}

/// A name that is not an event type names no entry (and never reaches the table's key limits).
fn known_name(name: &str) -> Result<(), ApiError> {
    EventType::parse(name)
        .map(|_| ())
        .map_err(|_| ApiError::NotFound("event type"))
}

pub async fn get<S: EventTypes + ?Sized>(
    store: &S,
    name: &str,
) -> Result<EventTypeRecord, ApiError> {
    known_name(name)?;
    store
        .get_event_type(name)
        .await?
        .ok_or(ApiError::NotFound("event type"))
}

pub async fn delete<S: EventTypes + ?Sized>(
    store: &S,
    cache: &CatalogCache,
    name: &str,
) -> Result<(), ApiError> {
    known_name(name)?;
    let result = store.delete_event_type(name).await;
    cache.forget();
    match result {
        Ok(()) => Ok(()),
        Err(shared::ports::StoreError::Conflict) => Err(ApiError::NotFound("event type")),
        Err(e) => Err(e.into()),
    }
}

/// The catalog's names, cached per instance.
#[derive(Debug, Default)]
pub struct CatalogCache {
    names: Mutex<Option<(Instant, Arc<Vec<String>>)>>,
}

impl CatalogCache {
    /// The catalogued names, read again when the copy is older than [`CACHE_SECONDS`].
    pub async fn names<S: EventTypes + ?Sized>(
        &self,
        store: &S,
    ) -> Result<Arc<Vec<String>>, ApiError> {
        if let Ok(guard) = self.names.lock()
            && let Some((at, names)) = guard.as_ref()
            && at.elapsed() < Duration::from_secs(CACHE_SECONDS)
        {
            return Ok(names.clone());
        }
        let names: Arc<Vec<String>> = Arc::new(
            store
                .list_event_types()
                .await?
                .into_iter()
                .map(|e| e.name)
                .collect(),
        );
        if let Ok(mut guard) = self.names.lock() {
            *guard = Some((Instant::now(), names.clone()));
        }
        Ok(names)
    }

    /// Drops the copy (this instance changed the catalog).
    pub fn forget(&self) {
        if let Ok(mut guard) = self.names.lock() {
            *guard = None;
        }
    }
}

/// The strict option's checks: off, or the catalogued names to check against.
#[derive(Debug, Clone, Default)]
pub struct Strict(Option<Arc<Vec<String>>>);

impl Strict {
    /// No checks (the deployment is not strict).
    pub fn off() -> Self {
        Self(None)
    }

    /// The checks for this deployment: off unless `STRICT_EVENT_TYPES` is set.
    pub async fn of<S: EventTypes + ?Sized>(
        strict: bool,
        cache: &CatalogCache,
        store: &S,
    ) -> Result<Self, ApiError> {
        if !strict {
            return Ok(Self::off());
        }
        Ok(Self(Some(cache.names(store).await?)))
    }

    /// An event's type must be catalogued (422 on `event_type`).
    pub fn check_event_type(&self, event_type: &str) -> Result<(), ApiError> {
        match &self.0 {
            Some(known) if !type_is_catalogued(event_type, known) => Err(ApiError::invalid(
                "event_type",
                "is not in the event-type catalog (GET /v1/event-types lists the known types)",
            )),
            _ => Ok(()),
        }
    }

    /// An endpoint's patterns must each match a catalogued type (422 on `event_types[i]`).
    /// Patterns that do not parse are left to the endpoint's own checks.
    pub fn check_patterns(&self, patterns: &[String]) -> Result<(), ApiError> {
        let Some(known) = &self.0 else { return Ok(()) };
        for (i, p) in patterns.iter().enumerate() {
            if let Ok(pattern) = EventTypePattern::parse(p)
                && !pattern_is_catalogued(&pattern, known)
            {
                return Err(ApiError::invalid(
                    format!("event_types[{i}]"),
                    "matches no type in the event-type catalog (GET /v1/event-types)",
                ));
            }
        }
        Ok(())
    }
}
