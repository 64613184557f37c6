//! The OpenAPI document: every route and method, the signed routes' headers, and schemas
//! that name exactly the fields of the real bodies, with every reference resolved. The body
//! schemas are derived on the protocol's types (its `openapi` feature); this compares them
//! with what those types serialize to, so that a serde attribute the derive missed, or a
//! schema written by hand beside its type (the envelope's), fails here.

use candor_protocol::api::handoffs::{Agreement, Fetch, Fetched, HandoffState, HandoffStatus};
use candor_protocol::api::{CloseMailbox, Closed, Health, InboxEntry, Marker};
use candor_protocol::handoff::{KeyShare, Package, Party, Revocation};
use candor_protocol::{Day, HandoffId, MailboxId};

use crate::helpers::{TestCase, spawn_app};

fn schema<'a>(doc: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    &doc["components"]["schemas"][name]
}

pub(crate) fn property_names(doc: &serde_json::Value, name: &str) -> Vec<String> {
    let mut keys: Vec<String> = schema(doc, name)["properties"]
        .as_object()
        .unwrap_or_else(|| panic!("schema {name}"))
        .keys()
        .cloned()
        .collect();
    keys.sort();
    keys
}

pub(crate) fn json_keys(value: &serde_json::Value) -> Vec<String> {
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
        ("/v1/offices/{office}/envelopes", "post"),
        ("/v1/offices/{office}/markers", "put"),
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
    assert_eq!(paths.len(), 23);
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

/// Every `$ref` under `value`.
fn refs(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, inner) in map {
                match (key.as_str(), inner) {
                    ("$ref", serde_json::Value::String(r)) => out.push(r.clone()),
                    _ => refs(inner, out),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|item| refs(item, out)),
        _ => {}
    }
}

#[tokio::test]
async fn the_handoff_bodies_and_the_rest_match_their_schemas_and_every_reference_resolves() {
    // Arrange
    let app = spawn_app().await;
    let share = KeyShare {
        party: Party::Visitor,
        enc: [1; 32],
        ct: vec![2; 48],
    };
    let package = Package {
        v: 2,
        office_enc: [3; 32],
        ct: vec![4; 600],
    };
    let mailbox = MailboxId::from_bytes([5; 16]);
    let fetched = serde_json::to_value(Fetched {
        mailbox,
        package: package.clone(),
        visitor_share: share.clone(),
        office_share: share.clone(),
        consent: [6; 64],
        agreement: [7; 64],
    })
    .unwrap();
    let put = serde_json::to_value(candor_protocol::api::handoffs::PutHandoff {
        v: 2,
        mailbox,
        proposal_sha256: [8; 32],
        consent: [6; 64],
        expires: Day(20_000),
        package,
        share: share.clone(),
    })
    .unwrap();
    let agreement = serde_json::to_value(Agreement {
        v: 2,
        agreement: [7; 64],
        share,
        fetch_key: [9; 32],
    })
    .unwrap();
    let status = serde_json::to_value(HandoffStatus {
        state: HandoffState::Agreed,
        day: Day(20_000),
        expires: Day(20_001),
    })
    .unwrap();
    let revocation = serde_json::to_value(Revocation {
        id: HandoffId::from_bytes([1; 16]),
        by: Party::Office,
        signature: [2; 64],
    })
    .unwrap();
    let entry = serde_json::to_value(InboxEntry {
        mailbox,
        kem_key: [1; 32],
        signing_key: [2; 32],
        envelopes: 1,
        last_seq: 1,
        activity: 1,
        closed: false,
        marker: None,
    })
    .unwrap();

    // Act
    let doc: serde_json::Value = app.get("/v1/openapi.json").await.json().await.unwrap();

    // Assert: the fields.
    assert_eq!(property_names(&doc, "Fetched"), json_keys(&fetched));
    assert_eq!(
        property_names(&doc, "Package"),
        json_keys(&fetched["package"])
    );
    assert_eq!(
        property_names(&doc, "KeyShare"),
        json_keys(&fetched["visitor_share"])
    );
    assert_eq!(property_names(&doc, "PutHandoff"), json_keys(&put));
    assert_eq!(property_names(&doc, "Agreement"), json_keys(&agreement));
    assert_eq!(
        property_names(&doc, "Fetch"),
        json_keys(&serde_json::to_value(Fetch { v: 2 }).unwrap())
    );
    assert_eq!(property_names(&doc, "HandoffStatus"), json_keys(&status));
    assert_eq!(property_names(&doc, "Revocation"), json_keys(&revocation));
    assert_eq!(property_names(&doc, "InboxEntry"), json_keys(&entry));
    let health = Health {
        status: "ok".into(),
    };
    assert_eq!(
        property_names(&doc, "Health"),
        json_keys(&serde_json::to_value(health).unwrap())
    );
    // The enums' values are their serde names.
    assert_eq!(
        schema(&doc, "HandoffState")["enum"],
        serde_json::json!(["consented", "agreed", "fetched", "revoked"])
    );
    assert_eq!(status["state"], "agreed");
    assert_eq!(
        schema(&doc, "Party")["enum"],
        serde_json::json!(["visitor", "office"])
    );
    assert_eq!(revocation["by"], "office");
    // Every reference names a schema the document holds.
    let mut found = Vec::new();
    refs(&doc, &mut found);
    assert!(found.len() > 40, "{}", found.len());
    for r in found {
        let name = r
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("{r}"));
        assert!(schema(&doc, name).is_object(), "{r}");
    }
}
