//! The dashboard served by the host: files, SPA fallback for deep links, the
//! JSON 404 kept for `/api/*`, caching and security headers.
//! Needs `dashboard/dist` (scripts/test.sh builds it first).

use reqwest::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, ETAG};

use crate::common::{Db, TestServer};

fn header(response: &reqwest::Response, name: reqwest::header::HeaderName) -> String {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

/// One built script under dist/assets (names are content hashes).
fn built_script() -> String {
    let assets = concat!(env!("CARGO_MANIFEST_DIR"), "/../dashboard/dist/assets");
    let entries = std::fs::read_dir(assets).unwrap_or_else(|err| {
        panic!(
            "dashboard/dist is missing ({err}); build it with `npm --prefix dashboard run build`"
        )
    });
    entries
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .find(|name| name.ends_with(".js"))
        .expect("a built script in dashboard/dist/assets")
}

#[tokio::test]
async fn index_deep_links_and_assets_are_served_with_a_strict_policy() {
    let server = TestServer::start(Db::Sqlite).await;
    let client = reqwest::Client::new();

    let index = client.get(server.url("/")).send().await.expect("GET /");
    assert_eq!(index.status().as_u16(), 200, "{:?}", index.headers());
    assert!(header(&index, CONTENT_TYPE).starts_with("text/html"));
    assert_eq!(header(&index, CACHE_CONTROL), "no-cache");
    let csp = header(&index, CONTENT_SECURITY_POLICY);
    for directive in [
        "default-src 'self'",
        "script-src 'self'",
        "frame-ancestors 'none'",
        "object-src 'none'",
    ] {
        assert!(csp.contains(directive), "{csp}");
    }
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
        "{csp}"
    );
    assert_eq!(
        header(&index, "x-content-type-options".parse().expect("name")),
        "nosniff"
    );
    assert_eq!(
        header(&index, "x-frame-options".parse().expect("name")),
        "DENY"
    );
    let etag = header(&index, ETAG);
    let html = index.text().await.expect("body");
    assert!(html.contains("<div id=\"root\">"), "{html}");

    // Deep links and e-mail links load the app.
    for path in [
        "/messages/0192f0c4a1b27c3d8e9f0a1b2c3d4e5f",
        "/verify-email?token=abc",
        "/channels",
    ] {
        let page = client
            .get(server.url(path))
            .send()
            .await
            .expect("deep link");
        assert_eq!(page.status().as_u16(), 200, "{path}");
        assert_eq!(page.text().await.expect("body"), html, "{path}");
    }

    // A revalidation with the same ETag is a 304.
    let again = client
        .get(server.url("/"))
        .header("if-none-match", &etag)
        .send()
        .await
        .expect("revalidate");
    assert_eq!(again.status().as_u16(), 304);

    // Hashed assets are cached for good; a missing one is a real 404, not HTML.
    let script = client
        .get(server.url(&format!("/assets/{}", built_script())))
        .send()
        .await
        .expect("asset");
    assert_eq!(script.status().as_u16(), 200);
    assert!(
        header(&script, CONTENT_TYPE).contains("javascript"),
        "{}",
        header(&script, CONTENT_TYPE)
    );
    assert!(header(&script, CACHE_CONTROL).contains("immutable"));
    let missing = client
        .get(server.url("/assets/gone-1234.js"))
        .send()
        .await
        .expect("missing");
    assert_eq!(missing.status().as_u16(), 404);
    assert!(!header(&missing, CONTENT_TYPE).starts_with("text/html"));
}

#[tokio::test]
async fn api_paths_keep_their_json_errors() {
    let server = TestServer::start(Db::Sqlite).await;
    server
        .get("/api/no-such-route", None)
        .await
        .assert_error(404, "not_found", None);
    server
        .get("/api", None)
        .await
        .assert_error(404, "not_found", None);
    let wrong_method = server.post("/", None, serde_json::json!({})).await;
    wrong_method.assert_status(405);
    // API answers carry the generic security headers too, but no page policy.
    let health = reqwest::get(server.url("/healthz")).await.expect("healthz");
    assert_eq!(
        header(&health, "x-content-type-options".parse().expect("name")),
        "nosniff"
    );
    assert!(header(&health, CONTENT_SECURITY_POLICY).is_empty());
}
