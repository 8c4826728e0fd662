//! The ports: small role traits each caller takes the narrowest of. No port imports an adapter.

pub mod key_vault;
pub mod queue;
pub mod sender;
pub mod store;

pub use key_vault::{DataKey, KeyVault, PlainKey, VaultError};
pub use queue::{Enqueue, OutgoingMessage, QueueError, Redrive, Visibility};
pub use sender::{OutboundRequest, Sender};
pub use store::*;
