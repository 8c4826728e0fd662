//! The pure core: plain types and functions, table-tested, with no AWS, Lambda or HTTP client
//! types in them.

pub mod address_policy;
pub mod attempt;
pub mod catalog;
pub mod clock;
pub mod envelope;
pub mod event_type;
pub mod fanout;
pub mod headers;
pub mod ids;
pub mod job;
pub mod log;
pub mod model;
pub mod own_hosts;
pub mod reconcile;
pub mod secret;
pub mod settings;
pub mod signing;
pub mod url_rules;
pub mod verification;
