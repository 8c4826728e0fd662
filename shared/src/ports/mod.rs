//! The ports: small role traits each caller takes the narrowest of. No port imports an adapter.

pub mod console;
pub mod key_vault;
pub mod queue;
pub mod sender;
pub mod store;

pub use console::{
    EventTypes, PortalLink, PortalSessions, TenantDirectory, TenantPage, TenantSummary,
};
pub use key_vault::{DataKey, KeyVault, PlainKey, VaultError};
pub use queue::{
    Enqueue, Held, OutgoingMessage, QueueDepth, QueueError, Redrive, Rejections, Visibility,
};
pub use sender::{OutboundRequest, Sender};
pub use store::*;
