//! The ports' implementations at the edge: every AWS SDK and reqwest call lives here.

pub mod aws;
#[cfg(any(test, feature = "memory"))]
pub mod contract;
pub mod dynamo;
#[cfg(any(test, feature = "memory"))]
pub mod fixed_key;
pub mod http;
pub mod kms;
#[cfg(any(test, feature = "memory"))]
pub mod memory;
pub mod rejections;
pub mod sealer;
pub mod sqs;
pub mod tls;
