//! What every route may reach: the ports (as trait objects, so the router has one concrete
//! state type) and the configuration.

use std::sync::Arc;

use shared::ports::{Enqueue, Ping, Redrive, Rejections, Store};

use crate::config::IngestConfig;

/// What the API needs from the delivery queue: sending, and a reachability check.
pub trait Queue: Enqueue + Ping {}
impl<T: Enqueue + Ping + ?Sized> Queue for T {}

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub queue: Arc<dyn Queue>,
    pub redrive: Arc<dyn Redrive>,
    pub config: Arc<IngestConfig>,
    /// The event-type catalog's names, cached per instance for the strict checks.
    pub catalog: Arc<crate::service::catalog::CatalogCache>,
    /// The rejected-events queue, when the deployment has one (any asynchronous source on).
    pub rejections: Option<Arc<dyn Rejections>>,
}

impl AppState {
    /// With the rejected-events queue.
    pub fn with_rejections(mut self, rejections: impl Rejections + 'static) -> Self {
        self.rejections = Some(Arc::new(rejections));
        self
    }

    /// The strict catalog's checks for this request (off unless `STRICT_EVENT_TYPES`).
    pub async fn strict(&self) -> Result<crate::service::catalog::Strict, crate::error::ApiError> {
        crate::service::catalog::Strict::of(
            self.config.strict_event_types,
            &self.catalog,
            &*self.store,
        )
        .await
    }

    pub fn new(
        store: impl Store + 'static,
        queue: impl Queue + 'static,
        redrive: impl Redrive + 'static,
        config: IngestConfig,
    ) -> Self {
        Self {
            store: Arc::new(store),
            queue: Arc::new(queue),
            redrive: Arc::new(redrive),
            config: Arc::new(config),
            catalog: Arc::default(),
            rejections: None,
        }
    }
}
