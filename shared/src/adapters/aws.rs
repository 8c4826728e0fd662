//! AWS SDK configuration. `AWS_ENDPOINT_URL` (the standard variable) points every client at
//! moto's server locally; in Lambda nothing is set and the real endpoints are used.
//!
//! Every client built from this configuration shares one HTTP client (one connection pool per
//! connector settings) that trusts the compiled-in roots ([`super::tls`]) and builds its
//! connector on first use. The SDK's default client instead reads the system's certificate
//! bundle and, to move that out of the first request, builds and throws away a connector for
//! every service client created (three parses of ≈ 150 certificates in each function's cold
//! start, and one more at the first request).

use aws_smithy_http_client::tls::{self, TlsContext, TrustStore, rustls_provider::CryptoMode};
use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;

pub async fn load_config() -> aws_config::SdkConfig {
    let loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    match http_client() {
        Ok(client) => loader.http_client(client).load().await,
        Err(e) => {
            // Never expected (the roots are fixed and tested); the SDK's default still works.
            tracing::warn!(error = %e, "compiled-in roots refused; using the SDK's default HTTP client");
            loader.load().await
        }
    }
}

/// The SDK's hyper + rustls (aws-lc) client, trusting the compiled-in roots only.
pub fn http_client() -> Result<SharedHttpClient, aws_smithy_http_client::HttpClientError> {
    let trust = TrustStore::empty()
        .with_native_roots(false)
        .with_pem_certificate(super::tls::roots_pem());
    let context = TlsContext::builder().with_trust_store(trust).build()?;
    let client = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
        .tls_context(context)
        .build_https();
    Ok(SharedHttpClient::new(OnFirstUse(client)))
}

/// The SDK's client, minus the connector it builds and discards each time a service client is
/// created (`validate_base_client_config`): connectors are built when first asked for, and
/// kept, as before.
#[derive(Debug)]
struct OnFirstUse(SharedHttpClient);

impl HttpClient for OnFirstUse {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        self.0.http_connector(settings, components)
    }

    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        self.0.connector_metadata()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    #[tokio::test]
    async fn service_clients_reach_their_endpoint_through_the_shared_client() {
        // A stand-in endpoint on 127.0.0.1 that counts requests and answers an empty 200.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&requests);
        tokio::spawn(async move {
            while let Ok((mut conn, _)) = listener.accept().await {
                let counted = Arc::clone(&counted);
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 16_384];
                    while matches!(conn.read(&mut buf).await, Ok(n) if n > 0) {
                        counted.fetch_add(1, Ordering::SeqCst);
                        let ok = b"HTTP/1.1 200 OK\r\ncontent-type: application/x-amz-json-1.0\r\ncontent-length: 2\r\n\r\n{}";
                        if conn.write_all(ok).await.is_err() {
                            break;
                        }
                    }
                });
            }
        });
        let http = http_client().unwrap();
        let config = aws_sdk_sqs::Config::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_sqs::config::Credentials::new(
                "a", "b", None, None, "t",
            ))
            .endpoint_url(&endpoint)
            .http_client(http.clone())
            .build();
        let sqs = aws_sdk_sqs::Client::from_conf(config);
        // The answer may not parse as the operation's output; reaching the endpoint is the point.
        let _ = sqs.list_queues().send().await;
        let _ = sqs.list_queues().send().await;
        assert_eq!(requests.load(Ordering::SeqCst), 2);
    }

    /// Counts the SDK's eager connector builds (`validate_base_client_config`).
    #[derive(Debug, Default)]
    struct Eager(Arc<AtomicUsize>);

    impl HttpClient for Eager {
        fn http_connector(
            &self,
            _: &HttpConnectorSettings,
            _: &RuntimeComponents,
        ) -> SharedHttpConnector {
            unreachable!("no request is made")
        }

        fn validate_base_client_config(
            &self,
            _: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponentsBuilder,
            _: &aws_sdk_sqs::config::ConfigBag,
        ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
    }

    #[test]
    fn creating_service_clients_builds_no_connector() {
        let clients = |http: SharedHttpClient| {
            let config = aws_config::SdkConfig::builder()
                .behavior_version(aws_config::BehaviorVersion::latest())
                .region(aws_config::Region::new("us-east-1"))
                .http_client(http)
                .build();
            let _ = aws_sdk_sqs::Client::new(&config);
            let _ = aws_sdk_dynamodb::Client::new(&config);
            let _ = aws_sdk_kms::Client::new(&config);
        };
        let eager = Arc::new(AtomicUsize::new(0));
        clients(SharedHttpClient::new(Eager(Arc::clone(&eager))));
        assert_eq!(
            eager.load(Ordering::SeqCst),
            3,
            "the SDK's own way: one per client"
        );
        let lazy = Arc::new(AtomicUsize::new(0));
        clients(SharedHttpClient::new(OnFirstUse(SharedHttpClient::new(
            Eager(Arc::clone(&lazy)),
        ))));
        assert_eq!(lazy.load(Ordering::SeqCst), 0);
    }
}
