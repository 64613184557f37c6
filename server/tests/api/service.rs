//! Health, OpenAPI, metrics, unknown routes, and the headers every response carries.

use candor_protocol::Signer;
use candor_protocol::api::{CloseMailbox, Closed, Health, Limits, Marker, Versions};

use candor_server::config::MetricsListen;

use crate::helpers::{
    TestCase, TestOffice, assert_problem, register_body, spawn_app, spawn_app_with,
};

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

fn schema<'a>(doc: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    &doc["components"]["schemas"][name]
}

fn property_names(doc: &serde_json::Value, name: &str) -> Vec<String> {
    let mut keys: Vec<String> = schema(doc, name)["properties"]
        .as_object()
        .unwrap_or_else(|| panic!("schema {name}"))
        .keys()
        .cloned()
        .collect();
    keys.sort();
    keys
}

fn json_keys(value: &serde_json::Value) -> Vec<String> {
    let mut keys: Vec<String> = value.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    keys
}

#[tokio::test]
async fn openapi_describes_every_route_and_matches_the_real_bodies() {
    // Arrange
    let app = spawn_app().await;
    let office = app.register("ombuds", 90).await;
    let case = TestCase::new(&office);
    let open: serde_json::Value =
        serde_json::from_slice(&app.open_body(&office, &case).await).unwrap();
    let envelope: serde_json::Value =
        serde_json::from_slice(&case.envelope(&office, "x").to_json()).unwrap();
    let limits: serde_json::Value = app.get("/v1/limits").await.json().await.unwrap();
    let close = serde_json::to_value(CloseMailbox {
        v: 2,
        envelope: Some(case.reply(&office, "closing")),
        tally: Some(vec![0; candor_protocol::tally::SEALED_TALLY_LEN]),
    })
    .unwrap();
    let closed = serde_json::to_value(Closed { seq: Some(2) }).unwrap();
    let marker = serde_json::to_value(Marker {
        sealed: vec![7; 56],
    })
    .unwrap();

    // Act
    let doc: serde_json::Value = app.get("/v1/openapi.json").await.json().await.unwrap();

    // Assert: every route and method.
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = doc["paths"].as_object().unwrap();
    for (path, method) in [
        ("/v1/health", "get"),
        ("/v1/openapi.json", "get"),
        ("/v1/pow", "get"),
        ("/v1/offices", "post"),
        ("/v1/offices/{office}", "get"),
        ("/v1/offices/{office}", "put"),
        ("/v1/offices/{office}/inbox", "get"),
        ("/v1/offices/{office}/tallies", "get"),
        ("/v1/mailboxes", "post"),
        ("/v1/mailboxes/{mailbox}/envelopes", "post"),
        ("/v1/mailboxes/{mailbox}/envelopes", "get"),
        ("/v1/mailboxes/{mailbox}", "delete"),
        ("/v1/mailboxes/{mailbox}/close", "post"),
        ("/v1/mailboxes/{mailbox}/marker", "put"),
        ("/v1/mailboxes/{mailbox}/notes", "post"),
        ("/v1/mailboxes/{mailbox}/notes", "get"),
        ("/v1/limits", "get"),
        ("/v1/handoffs/{handoff}", "put"),
        ("/v1/handoffs/{handoff}", "get"),
        ("/v1/handoffs/{handoff}/agreement", "post"),
        ("/v1/handoffs/{handoff}/fetch", "post"),
        ("/v1/handoffs/{handoff}/revocation", "post"),
        ("/v1/channels/{channel}", "put"),
        ("/v1/channels/{channel}/envelopes", "post"),
        ("/v1/channels/{channel}/envelopes", "get"),
        ("/v1/notices", "get"),
    ] {
        assert!(paths[path][method].is_object(), "{method} {path}");
    }
    assert_eq!(paths.len(), 21);
    // Signed routes list the four headers.
    let params = paths["/v1/mailboxes/{mailbox}"]["delete"]["parameters"]
        .as_array()
        .unwrap();
    for header in [
        "Candor-Signer",
        "Candor-Timestamp",
        "Candor-Request-Id",
        "Candor-Signature",
    ] {
        assert!(
            params
                .iter()
                .any(|p| p["name"] == header && p["in"] == "header"),
            "{header}"
        );
    }
    let mailbox_param = params.iter().find(|p| p["name"] == "mailbox").unwrap();
    let pattern = mailbox_param["schema"]["pattern"].as_str().unwrap();
    assert_eq!(pattern, "^[A-Za-z0-9_-]{21}[AQgw]$");
    // Errors are problem+json.
    let not_found = &paths["/v1/mailboxes/{mailbox}"]["delete"]["responses"]["404"];
    assert!(not_found["content"]["application/problem+json"].is_object());

    // The schemas name exactly the fields of the real bodies.
    assert_eq!(property_names(&doc, "OpenMailbox"), json_keys(&open));
    assert_eq!(property_names(&doc, "Solution"), json_keys(&open["pow"]));
    assert_eq!(
        property_names(&doc, "Challenge"),
        json_keys(&open["pow"]["challenge"])
    );
    assert_eq!(property_names(&doc, "Envelope"), json_keys(&envelope));
    assert_eq!(property_names(&doc, "Limits"), json_keys(&limits));
    assert_eq!(property_names(&doc, "CloseMailbox"), json_keys(&close));
    assert_eq!(property_names(&doc, "Closed"), json_keys(&closed));
    assert_eq!(property_names(&doc, "Marker"), json_keys(&marker));
    let tallies = serde_json::to_value(candor_protocol::api::TallyPage {
        tallies: vec![candor_protocol::api::StoredTally {
            id: candor_protocol::TallyId::random(&mut rand::rng()),
            sealed: vec![0; candor_protocol::tally::SEALED_TALLY_LEN],
        }],
        next: None,
    })
    .unwrap();
    assert_eq!(property_names(&doc, "TallyPage"), json_keys(&tallies));
    assert_eq!(
        property_names(&doc, "StoredTally"),
        json_keys(&tallies["tallies"][0])
    );
    let card: serde_json::Value = serde_json::to_value(&office.signed).unwrap();
    assert_eq!(property_names(&doc, "SignedCard"), json_keys(&card));
    let notice = candor_protocol::handoff::Notice {
        enc: [1; 32],
        ct: vec![2; 128],
    };
    let open_channel = serde_json::to_value(candor_protocol::api::channels::OpenChannel {
        v: 2,
        office: "ombuds".parse().unwrap(),
        third_party_key: [3; 32],
        notice: notice.clone(),
        expires: candor_protocol::Day(20_000),
    })
    .unwrap();
    assert_eq!(
        property_names(&doc, "OpenChannel"),
        json_keys(&open_channel)
    );
    assert_eq!(
        property_names(&doc, "Notice"),
        json_keys(&open_channel["notice"])
    );
    let board = serde_json::to_value(candor_protocol::api::channels::NoticePage {
        notices: vec![candor_protocol::api::channels::PostedNotice { cursor: 1, notice }],
        next: 1,
    })
    .unwrap();
    assert_eq!(property_names(&doc, "NoticePage"), json_keys(&board));
    assert_eq!(
        property_names(&doc, "PostedNotice"),
        json_keys(&board["notices"][0])
    );
    let page = serde_json::to_value(candor_protocol::api::channels::ChannelPage {
        envelopes: vec![],
        next: 0,
    })
    .unwrap();
    assert_eq!(property_names(&doc, "ChannelPage"), json_keys(&page));
    let opened = serde_json::to_value(candor_protocol::api::channels::ChannelOpened {
        expires: candor_protocol::Day(20_000),
    })
    .unwrap();
    assert_eq!(property_names(&doc, "ChannelOpened"), json_keys(&opened));
    use candor_protocol::api::notes::{NotePage, NoteStored, PutNote, StoredNote};
    let put_note = serde_json::to_value(PutNote {
        v: 1,
        sealed: vec![5; 600],
    })
    .unwrap();
    assert_eq!(property_names(&doc, "PutNote"), json_keys(&put_note));
    let stored_note = serde_json::to_value(NoteStored { note: 1 }).unwrap();
    assert_eq!(property_names(&doc, "NoteStored"), json_keys(&stored_note));
    let notes = serde_json::to_value(NotePage {
        notes: vec![StoredNote {
            note: 1,
            sealed: vec![5; 600],
        }],
        next: 1,
    })
    .unwrap();
    assert_eq!(property_names(&doc, "NotePage"), json_keys(&notes));
    assert_eq!(
        property_names(&doc, "StoredNote"),
        json_keys(&notes["notes"][0])
    );
    assert_eq!(
        property_names(&doc, "Problem"),
        ["detail", "status", "title", "type"]
    );
    assert_eq!(schema(&doc, "Envelope")["additionalProperties"], false);
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
