//! Health, limits, metrics, unknown routes, and the headers every response carries (the
//! OpenAPI document has its own module, `openapi`).

use candor_protocol::Signer;
use candor_protocol::api::{Health, Limits, Versions};

use candor_server::config::MetricsListen;

use crate::helpers::{TestOffice, assert_problem, register_body, spawn_app, spawn_app_with};

#[tokio::test]
async fn health_answers_ok() {
    let app = spawn_app().await;
    let res = app.get("/v1/health").await;
    assert_eq!(res.status(), 200);
    let health: Health = res.json().await.unwrap();
    assert_eq!(health.status, "ok");
}

#[tokio::test]
async fn limits_are_the_relay_s_settings() {
    // Arrange
    let app = spawn_app_with(|s| {
        s.max_envelope_bytes = 50_000;
        s.max_envelopes_per_mailbox = 77;
        s.max_bytes_per_mailbox = 900_000;
        s.request_window_secs = 120;
    })
    .await;

    // Act: unsigned, as a client asks before it solves a proof of work.
    let res = app.get("/v1/limits").await;

    // Assert
    assert_eq!(res.status(), 200);
    let limits: Limits = res.json().await.unwrap();
    let expected = Limits {
        max_envelope_bytes: 50_000,
        max_envelopes_per_mailbox: 77,
        max_bytes_per_mailbox: 900_000,
        pow_difficulty: app.state.settings.pow_difficulty,
        request_window_secs: 120,
        versions: Versions::ours(),
    };
    assert_eq!(limits, expected);
    assert_eq!(limits.versions.envelope, [2]);
    assert!(limits.versions.mismatch().is_none());
}

#[tokio::test]
async fn issue_19_behind_a_path_prefix_the_api_is_served_and_signed_under_it() {
    // Arrange
    let app = spawn_app_with(|s| s.path_prefix = "/candor".parse().unwrap()).await;
    let office = TestOffice::new("ombuds", 30);
    let body = register_body(&app.invite(), &office.signed);
    let res = app.post_json("/candor/v1/offices", body).await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    let inbox = "/candor/v1/offices/ombuds/inbox";

    // Act
    let health = app.get("/candor/v1/health").await;
    let at_root = app.get("/v1/health").await;
    let signed_full = app
        .signed(office.key(), Signer::Office, "GET", inbox, None)
        .await;
    // A signature over the path without the prefix (what a proxy that strips it would show).
    let stripped = app.sign(
        office.key(),
        Signer::Office,
        "GET",
        "/v1/offices/ombuds/inbox",
        b"",
    );
    let signed_stripped = app.send("GET", inbox, None, &stripped).await;

    // Assert
    assert_eq!(health.status(), 200);
    assert_problem(at_root, 404, "not-found").await;
    assert_eq!(
        signed_full.status(),
        200,
        "{}",
        signed_full.text().await.unwrap()
    );
    // A signature over another path is a wrong signature: answered as unknown, like any.
    assert_problem(signed_stripped, 404, "not-found").await;
}

#[tokio::test]
async fn unknown_routes_and_methods_are_problems() {
    let app = spawn_app().await;
    assert_problem(app.get("/v2/nothing").await, 404, "not-found").await;
    let res = app.post_json("/v1/health", b"{}".to_vec()).await;
    assert_eq!(res.headers()["allow"], "GET");
    assert_problem(res, 405, "method-not-allowed").await;
    let res = app
        .client
        .patch(format!("{}/v1/offices/ombuds", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["allow"], "GET, PUT");
    assert_problem(res, 405, "method-not-allowed").await;
}

#[tokio::test]
async fn every_response_forbids_caching_and_referrers() {
    // Arrange: one of each kind of answer, success and failure.
    let app = spawn_app().await;
    let office = app.register("ombuds", 90).await;
    let case = app.open_case(&office).await;
    let mut responses = vec![
        app.get("/v1/health").await,
        app.get("/v1/openapi.json").await,
        app.client
            .get(app.metrics_url.as_ref().unwrap())
            .send()
            .await
            .unwrap(),
        app.get("/v1/pow").await,
        app.get("/v1/offices/ombuds").await,
        app.get("/v1/offices/nobody").await,
        app.get("/v1/nowhere").await,
        app.post_json("/v1/mailboxes", b"not json".to_vec()).await,
        app.list(&case.keys.signing, Signer::Case, &case.mailbox(), "")
            .await,
    ];
    responses.push(
        app.client
            .post(format!("{}/v1/offices", app.url))
            .header("content-type", "text/plain")
            .body("x")
            .send()
            .await
            .unwrap(),
    );
    // Assert
    for res in responses {
        assert_eq!(res.headers()["cache-control"], "no-store", "{}", res.url());
        assert_eq!(
            res.headers()["referrer-policy"],
            "no-referrer",
            "{}",
            res.url()
        );
    }
}

#[tokio::test]
async fn metrics_count_requests_by_route_pattern_only() {
    let app = spawn_app().await;
    let office = app.register("ombuds", 90).await;
    let case = app.open_case(&office).await;
    let res = app
        .list(&case.keys.signing, Signer::Case, &case.mailbox(), "")
        .await;
    assert_eq!(res.status(), 200);
    // A known path with a method it does not serve, and an unknown path.
    let res = app.post_json("/v1/health", b"{}".to_vec()).await;
    assert_eq!(res.status(), 405);
    let res = app.get(&format!("/v1/nowhere/{}", case.mailbox())).await;
    assert_eq!(res.status(), 404);

    let text = app.metrics().await;

    assert!(text.contains(
        "candor_http_requests_total{route=\"/v1/mailboxes/{mailbox}/envelopes\",method=\"GET\",status=\"200\"} 1"
    ));
    assert!(text.contains(
        "candor_http_requests_total{route=\"/v1/offices\",method=\"POST\",status=\"201\"} 1"
    ));
    assert!(text.contains(
        "candor_http_requests_total{route=\"/v1/health\",method=\"POST\",status=\"405\"} 1"
    ));
    assert!(text.contains(
        "candor_http_requests_total{route=\"unmatched\",method=\"GET\",status=\"404\"} 1"
    ));
    assert!(text.contains("candor_http_request_duration_seconds_bucket{route=\"/v1/mailboxes\""));
    assert!(text.contains("candor_store_size_bytes "));
    assert!(text.contains("candor_sweeps_total 0"));
    assert!(
        !text.contains(&case.mailbox()),
        "no single mailbox in metrics"
    );
}

/// Issue 20, finding 9: per-route counts and the store's size let anyone time events on a quiet
/// relay, so `/metrics` is served only on its own (loopback) listener, or nowhere.
#[tokio::test]
async fn issue_20_metrics_are_not_on_the_api_listener() {
    // Arrange
    let app = spawn_app().await;
    let off = spawn_app_with(|s| s.metrics_listen = MetricsListen::Off).await;

    // Act
    let on_api = app.get("/metrics").await;
    let on_own = app.metrics().await;

    // Assert: the API listener has no such route; the metrics listener is loopback and serves it.
    assert_problem(on_api, 404, "not-found").await;
    assert!(on_own.contains("candor_store_size_bytes "), "{on_own}");
    assert!(
        app.metrics_url
            .as_ref()
            .unwrap()
            .starts_with("http://127.0.0.1:")
    );
    assert!(off.metrics_url.is_none());
    assert_problem(off.get("/metrics").await, 404, "not-found").await;
}

/// With `tls_cert` and `tls_key` set, the relay serves HTTPS with that certificate, says so in
/// its URL, and answers nothing in plain HTTP.
#[tokio::test]
async fn it_serves_https_with_the_configured_certificate() {
    let issued = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
    let pem = issued.cert.pem();
    let files = tempfile::tempdir().unwrap();
    let (cert, key) = (files.path().join("cert.pem"), files.path().join("key.pem"));
    std::fs::write(&cert, &pem).unwrap();
    std::fs::write(&key, issued.key_pair.serialize_pem()).unwrap();

    let app = spawn_app_with(|s| {
        s.tls_cert = Some(cert.clone());
        s.tls_key = Some(key.clone());
    })
    .await;

    assert!(app.url.starts_with("https://127.0.0.1:"), "{}", app.url);
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(pem.as_bytes()).unwrap())
        .build()
        .unwrap();
    let res = client
        .get(format!("{}/v1/health", app.url))
        .send()
        .await
        .expect("an HTTPS request with the relay's certificate trusted");
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");

    // A client that does not trust the certificate is refused, and plain HTTP gets no answer.
    assert!(
        reqwest::Client::new()
            .get(format!("{}/v1/health", app.url))
            .send()
            .await
            .is_err()
    );
    let plain = app.url.replacen("https://", "http://", 1);
    assert!(
        reqwest::Client::new()
            .get(format!("{plain}/v1/health"))
            .timeout(std::time::Duration::from_secs(5))
            .send()
            .await
            .is_err()
    );
}

#[tokio::test]
async fn signed_requests_per_key_is_each_keys_share_of_a_window() {
    let app = spawn_app_with(|s| s.signed_requests_per_key = 3).await;
    let office = app.register("office-share", 30).await;
    // The open is the case key's first accepted signed request, two fetches its second and
    // third; the fourth is refused, by name.
    let case = app.open_case(&office).await;
    let list = async |case: &crate::helpers::TestCase| {
        app.list(&case.keys.signing, Signer::Case, &case.mailbox(), "")
            .await
    };
    for _ in 0..2 {
        assert_eq!(list(&case).await.status(), 200);
    }
    let refused = list(&case).await;
    assert_eq!(refused.status(), 429);
    let problem: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(problem["type"], "urn:candor:problem:quota-exceeded");
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("this key has sent as many signed requests")),
        "{problem}"
    );
    // Another key has a share of its own, and the first key a new one in the next window.
    let other = app.open_case(&office).await;
    assert_eq!(list(&other).await.status(), 200);
    app.clock
        .advance(app.state.settings.request_window_secs + 1);
    assert_eq!(list(&case).await.status(), 200);
}
