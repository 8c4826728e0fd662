//! The web pages through the whole app (layers included): routes, the trailing slash, the
//! assets, the headers every answer carries, and the base path from `PUBLIC_URL`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use tower::ServiceExt;

use ingest::App;
use ingest::config::PortalConfig;
use support::Api;

fn app(portal: PortalConfig) -> App {
    Api::with_config(|c| c.portal = portal).app
}

async fn get(app: &App, path: &str) -> (StatusCode, axum::http::HeaderMap, String) {
    let req = Request::get(path).body(Body::empty()).unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    let (parts, body) = res.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    (
        parts.status,
        parts.headers,
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

fn local() -> PortalConfig {
    PortalConfig {
        public_url: Some("http://127.0.0.1:9000/lambda-url/ingest".into()),
        frame_ancestors: "'none'".into(),
    }
}

#[tokio::test]
async fn both_pages_are_served_with_or_without_a_trailing_slash() {
    let app = app(local());
    for path in ["/portal", "/portal/", "/console", "/console/"] {
        let (status, headers, body) = get(&app, path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(headers["content-type"], "text/html; charset=utf-8");
        assert_eq!(headers["cache-control"], "no-store");
        assert_eq!(headers["x-frame-options"], "DENY");
        assert!(
            body.contains(r#"<base href="/lambda-url/ingest/">"#),
            "{path}"
        );
    }
}

#[tokio::test]
async fn assets_have_their_types_and_the_same_headers() {
    let app = app(local());
    for (file, kind) in [
        ("app.js", "text/javascript; charset=utf-8"),
        ("app.css", "text/css; charset=utf-8"),
        ("icon.svg", "image/svg+xml"),
    ] {
        let (status, headers, body) = get(&app, &format!("/ui/{file}")).await;
        assert_eq!(status, StatusCode::OK, "{file}");
        assert_eq!(headers["content-type"], kind);
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(headers["referrer-policy"], "no-referrer");
        assert!(
            headers["cache-control"]
                .to_str()
                .unwrap()
                .contains("max-age=")
        );
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(csp.starts_with("default-src 'none'; script-src 'self'"));
        assert!(!body.is_empty());
    }
    let (status, _, body) = get(&app, "/ui/../Cargo.toml").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body.contains("\"error\""));
    let (status, _, _) = get(&app, "/ui/nope.js").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn frame_ancestors_come_from_the_configuration() {
    let app = app(PortalConfig {
        public_url: None,
        frame_ancestors: "https://app.example.com".into(),
    });
    let (_, headers, body) = get(&app, "/portal").await;
    assert!(headers.get("x-frame-options").is_none());
    assert!(
        headers["content-security-policy"]
            .to_str()
            .unwrap()
            .ends_with("frame-ancestors https://app.example.com")
    );
    assert!(body.contains(r#"<base href="/">"#));
}

#[tokio::test]
async fn the_total_of_script_and_style_stays_small() {
    let app = app(local());
    let (_, _, js) = get(&app, "/ui/app.js").await;
    let (_, _, css) = get(&app, "/ui/app.css").await;
    assert!(
        js.len() + css.len() <= 150 * 1024,
        "{} bytes",
        js.len() + css.len()
    );
}
