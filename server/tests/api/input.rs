//! Bad input: each kind gets its own problem+json answer, never a panic and never an echo.

use candor_protocol::Signer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{TestCase, assert_problem, spawn_app, spawn_app_with};

#[tokio::test]
async fn malformed_json_unknown_fields_and_versions_are_told_apart() {
    let app = spawn_app().await;
    let office = app.register("ombuds", 90).await;
    let case = TestCase::new(&office);
    let good: serde_json::Value =
        serde_json::from_slice(&app.open_body(&office, &case).await).unwrap();

    // Malformed JSON.
    let res = app.open_with(&case, b"{\"v\":1,").await;
    assert_problem(res, 400, "malformed").await;

    // An unknown field, whose name must not be echoed.
    let mut extra = good.clone();
    extra["smuggled-field-zq"] = 1.into();
    let res = app
        .open_with(&case, &serde_json::to_vec(&extra).unwrap())
        .await;
    assert_eq!(res.status(), 400);
    let text = res.text().await.unwrap();
    assert!(text.contains("urn:candor:problem:malformed"));
    assert!(!text.contains("smuggled-field-zq"), "echoed: {text}");

    // An unknown version.
    let mut v3 = good.clone();
    v3["v"] = 3.into();
    let res = app
        .open_with(&case, &serde_json::to_vec(&v3).unwrap())
        .await;
    assert_problem(res, 400, "unsupported-version").await;

    // Invalid base64 in the body (padding, wrong alphabet, wrong length).
    for bad in ["AAAA==", "not+base64/", "AAAA"] {
        let mut b = good.clone();
        b["kem_key"] = bad.into();
        let res = app.open_with(&case, &serde_json::to_vec(&b).unwrap()).await;
        assert_problem(res, 400, "malformed").await;
    }

    // A bad office ID in the body.
    let mut b = good.clone();
    b["office"] = "Not An Office!".into();
    let res = app.open_with(&case, &serde_json::to_vec(&b).unwrap()).await;
    assert_problem(res, 400, "malformed").await;
}

#[tokio::test]
async fn an_unknown_envelope_version_is_reported_as_such() {
    let app = spawn_app().await;
    let office = app.register("ombuds", 90).await;
    let case = app.open_case(&office).await;
    let json = String::from_utf8(case.envelope(&office, "x").to_json()).unwrap();
    let v3 = json.replace("\"v\":2", "\"v\":3");
    let path = format!("/v1/mailboxes/{}/envelopes", case.mailbox());
    let res = app
        .signed(
            &case.keys.signing,
            Signer::Case,
            "POST",
            &path,
            Some(v3.as_bytes()),
        )
        .await;
    assert_problem(res, 400, "unsupported-version").await;

    // And an unpadded ciphertext length is malformed.
    let mut short = case.envelope(&office, "x");
    short.ct.truncate(short.ct.len() - 1);
    let body = serde_json::to_vec(&serde_json::json!({
        "v": 2, "mailbox": case.mailbox(), "direction": "to-office",
        "stanzas": short.stanzas,
        "commit": candor_protocol::encoding::b64(&short.commit),
        "ct": candor_protocol::encoding::b64(&short.ct),
    }))
    .unwrap();
    let res = app
        .signed(&case.keys.signing, Signer::Case, "POST", &path, Some(&body))
        .await;
    assert_problem(res, 400, "malformed").await;
}

#[tokio::test]
async fn bad_ids_in_paths_and_queries_are_malformed() {
    let app = spawn_app().await;
    let office = app.register("ombuds", 90).await;
    let case = app.open_case(&office).await;
    let key = &case.keys.signing;
    for path in [
        "/v1/mailboxes/short/envelopes",
        "/v1/mailboxes/AAAAAAAAAAAAAAAAAAAAAB/envelopes",
        "/v1/mailboxes/AAAAAAAAAAAAAAAAAAAA%3D%3D/envelopes",
    ] {
        let res = app.signed(key, Signer::Case, "GET", path, None).await;
        assert_problem(res, 400, "malformed").await;
    }
    assert_problem(app.get("/v1/offices/Bad_Office").await, 400, "malformed").await;
    for query in [
        "?limit=0",
        "?limit=501",
        "?after=-1",
        "?limit=x",
        "?unknown=1",
    ] {
        let res = app.list(key, Signer::Case, &case.mailbox(), query).await;
        assert_problem(res, 400, "malformed").await;
    }
}

#[tokio::test]
async fn oversize_bodies_are_refused_with_413() {
    let app = spawn_app_with(|s| {
        s.max_body_bytes = 8192;
        s.max_envelope_bytes = 4096;
    })
    .await;
    let office = app.register("ombuds", 90).await;
    let case = app.open_case(&office).await;

    let res = app.post_json("/v1/offices", vec![b' '; 9000]).await;
    assert_problem(res, 413, "too-large").await;

    // An envelope over the envelope limit but under the body limit.
    let big = case.envelope(&office, &"y".repeat(5000));
    let res = app
        .append(&case.keys.signing, Signer::Case, &case.mailbox(), &big)
        .await;
    assert_problem(res, 413, "too-large").await;

    // A chunked body (no Content-Length) over the limit, written by hand.
    let addr = app.url.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let chunk = vec![b' '; 5000];
    let mut request = b"POST /v1/offices HTTP/1.1\r\nHost: relay\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n".to_vec();
    for _ in 0..2 {
        request.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        request.extend_from_slice(&chunk);
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"0\r\n\r\n");
    stream.write_all(&request).await.unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("application/problem+json"), "{answer}");
    assert!(answer.contains("urn:candor:problem:too-large"), "{answer}");
}

#[tokio::test]
async fn a_wrong_content_type_is_415() {
    let app = spawn_app().await;
    let office = app.register("ombuds", 90).await;
    let case = app.open_case(&office).await;
    let res = app
        .client
        .post(format!("{}/v1/offices", app.url))
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_problem(res, 415, "unsupported-media-type").await;
    let res = app
        .client
        .post(format!(
            "{}/v1/mailboxes/{}/envelopes",
            app.url,
            case.mailbox()
        ))
        .body(case.envelope(&office, "x").to_json())
        .send()
        .await
        .unwrap();
    assert_problem(res, 415, "unsupported-media-type").await;
}

#[tokio::test]
async fn missing_stale_and_replayed_signatures_are_401() {
    let app = spawn_app().await;
    let office = app.register("ombuds", 90).await;
    let case = app.open_case(&office).await;
    let path = format!("/v1/mailboxes/{}/envelopes", case.mailbox());

    // Missing.
    assert_problem(app.get(&path).await, 401, "signature-required").await;
    // Malformed header.
    let res = app
        .client
        .get(format!("{}{path}", app.url))
        .header("candor-signer", "case")
        .header("candor-timestamp", "yesterday")
        .header("candor-request-id", "x")
        .header("candor-signature", "y")
        .send()
        .await
        .unwrap();
    assert_problem(res, 401, "signature-required").await;

    // Stale: signed three minutes ago.
    let auth = candor_protocol::RequestAuth::sign(
        &case.keys.signing,
        Signer::Case,
        "GET",
        &path,
        b"",
        app.now() - 180,
        &mut rand::rng(),
    );
    assert_problem(
        app.send("GET", &path, None, &auth).await,
        401,
        "stale-request",
    )
    .await;

    // Replayed: the same request twice.
    let auth = app.sign(&case.keys.signing, Signer::Case, "GET", &path, b"");
    assert_eq!(app.send("GET", &path, None, &auth).await.status(), 200);
    let res = app.send("GET", &path, None, &auth).await;
    assert_problem(res, 401, "replayed-request").await;

    // A signature over another path or body is a wrong signature: 404 like a wrong key.
    let other = app.sign(
        &case.keys.signing,
        Signer::Case,
        "GET",
        "/v1/elsewhere",
        b"",
    );
    assert_problem(app.send("GET", &path, None, &other).await, 404, "not-found").await;
}

#[tokio::test]
async fn a_restart_does_not_reopen_the_replay_window() {
    let app = spawn_app().await;
    let office = app.register("ombuds", 90).await;
    let case = app.open_case(&office).await;
    let path = format!("/v1/mailboxes/{}/envelopes", case.mailbox());
    let auth = app.sign(&case.keys.signing, Signer::Case, "GET", &path, b"");
    assert_eq!(app.send("GET", &path, None, &auth).await.status(), 200);

    // Restart one second later: the replay cache is empty, but the request predates the start.
    let (dir, clock) = app.stop().await;
    clock.advance(1);
    let app = crate::helpers::spawn_app_in(dir, clock, |_| {}).await;
    let res = app.send("GET", &path, None, &auth).await;
    assert_problem(res, 401, "stale-request").await;
}

/// Issue 19, found by the signed API fuzzing (`scripts/api-fuzz.sh`): the OpenAPI document gave
/// `after` as `int64`, whose range ends at 2^63 - 1, while the relay takes any `u64` cursor; so
/// a cursor of 2^63, which the document called invalid, was answered 200.
#[tokio::test]
async fn issue_19_cursors_take_every_u64_and_the_document_says_so() {
    // Arrange
    let app = spawn_app().await;
    let office = app.register("ombuds", 90).await;
    let case = app.open_case(&office).await;
    let key = &case.keys.signing;
    let doc: serde_json::Value = app.get("/v1/openapi.json").await.json().await.unwrap();

    // Act
    let largest = app
        .list(
            key,
            Signer::Case,
            &case.mailbox(),
            "?after=18446744073709551615",
        )
        .await;
    let beyond = app
        .list(
            key,
            Signer::Case,
            &case.mailbox(),
            "?after=18446744073709551616",
        )
        .await;
    let inbox = app.inbox(&office, "?after=9223372036854775808").await;

    // Assert
    assert_eq!(largest.status(), 200);
    let page: serde_json::Value = largest.json().await.unwrap();
    assert_eq!(page["next"], u64::MAX);
    assert_problem(beyond, 400, "malformed").await;
    assert_eq!(inbox.next, 1 << 63);
    for path in [
        "/v1/mailboxes/{mailbox}/envelopes",
        "/v1/offices/{office}/inbox",
    ] {
        let params = doc["paths"][path]["get"]["parameters"].as_array().unwrap();
        let after = params.iter().find(|p| p["name"] == "after").unwrap();
        assert_eq!(after["schema"]["maximum"], u64::MAX, "{path}: {after}");
        assert_eq!(after["schema"]["minimum"], 0, "{path}: {after}");
        assert_ne!(after["schema"]["format"], "int64", "{path}: {after}");
        assert_eq!(after["in"], "query");
        assert_eq!(after["required"], false);
    }
}

/// Issue 19, found by the signed API fuzzing: the document let a read marker be any run of
/// base64url characters, so it called `"AB"` (trailing bits set) and `"AAAAA"` (a length of 1
/// modulo 4) valid, and the relay, which decodes strictly, refused both.
#[tokio::test]
async fn issue_19_the_document_gives_a_marker_the_relay_s_canonical_base64url() {
    // Arrange
    let app = spawn_app().await;
    let office = app.register("ombuds", 90).await;
    let case = app.open_case(&office).await;
    let path = format!("/v1/mailboxes/{}/marker", case.mailbox());
    let doc: serde_json::Value = app.get("/v1/openapi.json").await.json().await.unwrap();
    let put = |sealed: &'static str| {
        let body = format!("{{\"sealed\":\"{sealed}\"}}").into_bytes();
        let app = &app;
        let path = &path;
        let key = office.key();
        async move {
            app.signed(key, Signer::Office, "PUT", path, Some(&body))
                .await
        }
    };

    // Act
    let trailing_bits = put("AB").await;
    let bad_length = put("AAAAA").await;
    let canonical = put("AQ").await;

    // Assert
    assert_problem(trailing_bits, 400, "malformed").await;
    assert_problem(bad_length, 400, "malformed").await;
    assert_eq!(canonical.status(), 204);
    let schemas = &doc["components"]["schemas"];
    // A field whose type is a schema-only type inlined with a description of its own is
    // written as a `oneOf` of that one schema.
    let field = &schemas["Marker"]["properties"]["sealed"];
    let sealed = field["oneOf"].get(0).unwrap_or(field);
    assert_eq!(
        sealed["pattern"], schemas["Envelope"]["properties"]["ct"]["pattern"],
        "the marker's pattern is the canonical base64url one: {sealed}"
    );
    assert_eq!(sealed["minLength"], 2);
    assert_eq!(sealed["maxLength"], 342);
}
