//! The ports' implementations at the edge: every AWS SDK and reqwest call lives here.

pub mod aws;
pub mod dynamo;
pub mod http;
#[cfg(any(test, feature = "memory"))]
pub mod memory;
pub mod sqs;
