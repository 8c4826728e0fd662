//! The web pages: the customer portal (`/portal`) and the operator console (`/console`), static
//! assets compiled into the binary. Not part of the OpenAPI document (they are not API).
//!
//! The pages are reached under whatever prefix the front door adds (locally
//! `/lambda-url/ingest`), so they use only relative URLs, resolved against a `<base href>` made
//! from the path of `PUBLIC_URL` (`/` when unset). Every answer carries a strict
//! Content-Security-Policy: scripts and styles from our own origin only, no inline script.

use std::sync::LazyLock;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderName, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::config::PortalConfig;
use crate::error::ApiError;
use crate::state::AppState;

const PORTAL_HTML: &str = include_str!("../../ui/portal.html");
const CONSOLE_HTML: &str = include_str!("../../ui/console.html");
const APP_JS: &str = include_str!("../../ui/app.js");
const APP_CSS: &str = include_str!("../../ui/app.css");
const ICON_SVG: &str = include_str!("../../ui/icon.svg");

/// Where the HTML pages get the base path of every relative URL they hold.
const BASE_PLACEHOLDER: &str = "{{BASE}}";
/// Where they get the assets' version (so a changed asset is never served from a cache).
const VERSION_PLACEHOLDER: &str = "{{VERSION}}";
/// How long a browser may keep an asset (the HTML is never kept, and names the version).
const ASSET_CACHE: &str = "public, max-age=300";

/// The pages and their assets.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/portal", get(portal))
        .route("/console", get(console))
        .route("/ui/{file}", get(asset))
}

async fn portal(State(state): State<AppState>) -> Response {
    page(PORTAL_HTML, &state.config.portal)
}

async fn console(State(state): State<AppState>) -> Response {
    page(CONSOLE_HTML, &state.config.portal)
}

async fn asset(State(state): State<AppState>, Path(file): Path<String>) -> Response {
    let (body, content_type) = match file.as_str() {
        "app.js" => (APP_JS, "text/javascript; charset=utf-8"),
        "app.css" => (APP_CSS, "text/css; charset=utf-8"),
        "icon.svg" => (ICON_SVG, "image/svg+xml"),
        _ => return ApiError::NoRoute.into_response(),
    };
    let mut res = body.into_response();
    set_headers(&mut res, &state.config.portal, content_type, ASSET_CACHE);
    res
}

/// An HTML page with its base path and asset version filled in, never cached.
pub fn page(template: &str, portal: &PortalConfig) -> Response {
    let html = template
        .replace(
            BASE_PLACEHOLDER,
            &html_escape(&base_path(portal.public_url.as_deref())),
        )
        .replace(VERSION_PLACEHOLDER, &ASSETS_VERSION);
    let mut res = html.into_response();
    set_headers(&mut res, portal, "text/html; charset=utf-8", "no-store");
    res
}

/// The path of the public base URL, ending with `/` (`/` when there is none).
pub fn base_path(public_url: Option<&str>) -> String {
    let path = public_url
        .and_then(|u| url::Url::parse(u).ok())
        .map(|u| u.path().trim_end_matches('/').to_owned())
        .unwrap_or_default();
    format!("{path}/")
}

/// The page's Content-Security-Policy: only our own scripts, styles and API.
pub fn content_security_policy(frame_ancestors: &str) -> String {
    format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
         img-src 'self' data:; base-uri 'self'; form-action 'none'; \
         frame-ancestors {frame_ancestors}"
    )
}

fn set_headers(res: &mut Response, portal: &PortalConfig, content_type: &str, cache: &str) {
    let headers = res.headers_mut();
    let mut set = |name: HeaderName, value: &str| {
        // Every value is ours or checked at start-up; one that is not a header value is left out
        // rather than answered with a 500 (a missing CSP only loosens what we add).
        if let Ok(v) = HeaderValue::from_str(value) {
            headers.insert(name, v);
        }
    };
    set(header::CONTENT_TYPE, content_type);
    set(
        header::CONTENT_SECURITY_POLICY,
        &content_security_policy(&portal.frame_ancestors),
    );
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(header::REFERRER_POLICY, "no-referrer");
    set(header::CACHE_CONTROL, cache);
    if portal.frame_ancestors.trim() == "'none'" {
        set(header::X_FRAME_OPTIONS, "DENY");
    }
}

/// For text placed inside an HTML attribute or element.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A short fingerprint of the assets (FNV-1a), so each build's HTML names its own assets.
static ASSETS_VERSION: LazyLock<String> = LazyLock::new(|| {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in [APP_JS, APP_CSS, ICON_SVG].iter().flat_map(|s| s.bytes()) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{:012x}", hash & 0xffff_ffff_ffff)
});

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn config(public_url: Option<&str>, frame_ancestors: &str) -> PortalConfig {
        PortalConfig {
            public_url: public_url.map(str::to_owned),
            frame_ancestors: frame_ancestors.into(),
        }
    }

    fn header<'a>(res: &'a Response, name: &str) -> Option<&'a str> {
        res.headers().get(name).map(|v| v.to_str().unwrap())
    }

    async fn body(res: Response) -> String {
        let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .unwrap();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[test]
    fn the_base_path_is_the_public_urls_path_with_a_slash() {
        assert_eq!(base_path(None), "/");
        assert_eq!(base_path(Some("https://hooks.example.com")), "/");
        assert_eq!(base_path(Some("https://hooks.example.com/")), "/");
        assert_eq!(
            base_path(Some("http://127.0.0.1:9000/lambda-url/ingest")),
            "/lambda-url/ingest/"
        );
        assert_eq!(base_path(Some("https://x.test/prod/")), "/prod/");
        assert_eq!(base_path(Some("not a url")), "/");
    }

    #[test]
    fn what_is_substituted_is_html_escaped() {
        assert_eq!(
            html_escape(r#"/a"><script>x='1'&</script>"#),
            "/a&quot;&gt;&lt;script&gt;x=&#39;1&#39;&amp;&lt;/script&gt;"
        );
    }

    #[tokio::test]
    async fn a_page_has_its_base_and_the_strict_headers() {
        let res = page(
            PORTAL_HTML,
            &config(Some("http://127.0.0.1:9000/lambda-url/ingest"), "'none'"),
        );
        assert_eq!(
            header(&res, "content-type"),
            Some("text/html; charset=utf-8")
        );
        assert_eq!(header(&res, "cache-control"), Some("no-store"));
        assert_eq!(header(&res, "x-frame-options"), Some("DENY"));
        assert_eq!(header(&res, "x-content-type-options"), Some("nosniff"));
        assert_eq!(header(&res, "referrer-policy"), Some("no-referrer"));
        let csp = header(&res, "content-security-policy").unwrap();
        for part in [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "connect-src 'self'",
            "base-uri 'self'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ] {
            assert!(csp.contains(part), "{part} missing from {csp}");
        }
        assert!(!csp.contains("unsafe"));
        let html = body(res).await;
        assert!(html.contains(r#"<base href="/lambda-url/ingest/">"#));
        assert!(!html.contains("{{"));
        assert!(html.contains(&format!("ui/app.js?v={}", *ASSETS_VERSION)));
    }

    #[tokio::test]
    async fn markup_in_the_public_url_is_escaped() {
        let res = page(
            CONSOLE_HTML,
            &config(Some(r#"https://x.test/a"b<c>"#), "'none'"),
        );
        let html = body(res).await;
        assert!(!html.contains(r#"a"b"#));
        assert!(!html.contains("<c>"));
        assert!(html.contains(r#"<base href="/a%22b%3Cc%3E/">"#), "{html}");
    }

    #[tokio::test]
    async fn allowed_frame_ancestors_replace_the_frame_denial() {
        let res = page(
            PORTAL_HTML,
            &config(None, "https://app.example.com https://*.example.com"),
        );
        assert_eq!(header(&res, "x-frame-options"), None);
        assert!(
            header(&res, "content-security-policy")
                .unwrap()
                .ends_with("frame-ancestors https://app.example.com https://*.example.com")
        );
        assert!(body(res).await.contains(r#"<base href="/">"#));
    }

    /// ` onclick=`, ` onerror=`…: an attribute named `on` + letters.
    fn has_inline_handler(html: &str) -> bool {
        html.match_indices(" on").any(|(i, _)| {
            let rest = &html[i + 3..];
            let name_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
            name_len > 0 && rest[name_len..].starts_with('=')
        })
    }

    #[test]
    fn no_page_has_inline_script_or_style() {
        for html in [PORTAL_HTML, CONSOLE_HTML] {
            assert!(!html.contains("<script>"));
            assert!(!html.contains("style="));
            assert!(!html.contains("<style"));
            assert!(!has_inline_handler(html), "an inline event handler");
            assert!(html.contains(r#"<base href="{{BASE}}">"#));
            assert!(html.contains(r#"src="ui/app.js?v={{VERSION}}""#));
        }
    }
}
