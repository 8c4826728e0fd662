//! AWS SDK configuration. `AWS_ENDPOINT_URL` (the standard variable) points every client at
//! moto's server locally; in Lambda nothing is set and the real endpoints are used.

pub async fn load_config() -> aws_config::SdkConfig {
    aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await
}
