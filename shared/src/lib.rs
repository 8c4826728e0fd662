//! The webhook service's library: a pure domain core (ids, event types, URL and address rules,
//! settings, signing, attempt decisions) and the adapters at its edge (DynamoDB, SQS, HTTP).

pub mod address_policy;
pub mod attempt;
pub mod aws;
pub mod clock;
pub mod dynamo;
pub mod event_type;
pub mod ids;
pub mod model;
pub mod queue;
pub mod secret;
pub mod sender;
pub mod settings;
pub mod signing;
pub mod store;
pub mod telemetry;
pub mod url_rules;
