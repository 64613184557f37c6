//! How long a revoked handoff's shares stay in the store's files, measured: the bound the
//! threat model states ("A seized server"), tested as the envelope one is in `privacy.rs`.

use std::path::Path;

use candor_protocol::handoff::{Party, Revocation};
use candor_protocol::{Signer, encoding};
use candor_server::sweeper;

use crate::handoffs::{agree, consented, path, upload};
use crate::helpers::{TestApp, files_under, spawn_app};

const HOUR: u64 = 3600;

/// The names (relative to the data directory) of the files under `dir` holding `needle`.
fn files_containing(dir: &Path, needle: &[u8]) -> Vec<String> {
    files_under(dir)
        .into_iter()
        .filter(|f| {
            std::fs::read(f)
                .unwrap()
                .windows(needle.len())
                .any(|w| w == needle)
        })
        .map(|f| f.strip_prefix(dir).unwrap().display().to_string())
        .collect()
}

/// Whether any of `needles` is in a file of the store's log, and in a file of sled's.
fn where_found(app: &TestApp, needles: &[&String]) -> (bool, bool) {
    let files: Vec<String> = needles
        .iter()
        .flat_map(|n| files_containing(app.dir.path(), n.as_bytes()))
        .collect();
    let in_log = files.iter().any(|f| f.contains("candor-log"));
    let in_sled = files.iter().any(|f| !f.contains("candor-log"));
    (in_log, in_sled)
}

async fn pass(app: &TestApp, hours: u64) {
    app.clock.advance(hours * HOUR);
    sweeper::sweep_once(&app.state).await.unwrap();
}

#[tokio::test]
async fn revoked_shares_leave_the_log_at_the_first_pass_once_their_segment_has_a_dead_envelope() {
    // Arrange: a consented, agreed handoff, revoked by the office; another case of the office
    // writes an envelope into the same log segment right after.
    let app = spawn_app().await;
    let h = consented(&app).await;
    assert_eq!(upload(&app, &h).await.status(), 201);
    let (res, _) = agree(&app, &h).await;
    assert_eq!(res.status(), 200);
    let record = app.state.store.package(&h.id).unwrap().unwrap();
    let body: serde_json::Value = serde_json::from_slice(&record.body).unwrap();
    // Each share's ciphertext as the record stores it (base64 in its JSON).
    let visitor = encoding::b64(&h.put.share.ct);
    let office = body["live"]["agreed"]["office_share"]["ct"]
        .as_str()
        .unwrap()
        .to_owned();
    let shares = [&visitor, &office];
    let revocation = Revocation::sign(h.id, Party::Office, h.office.identity.signing());
    let res = app
        .signed(
            h.office.key(),
            Signer::Office,
            "POST",
            &path(&h.id, "/revocation"),
            Some(&serde_json::to_vec(&revocation).unwrap()),
        )
        .await;
    assert_eq!(res.status(), 200);
    let tombstone = app.state.store.package(&h.id).unwrap().unwrap().body;
    assert!(
        !tombstone
            .windows(office.len())
            .any(|w| w == office.as_bytes())
    );
    let kept = app.open_case(&h.office).await;
    let kept_envelope = kept.envelope(&h.office, "keep me");
    let res = app
        .append(
            &kept.keys.signing,
            Signer::Case,
            &kept.mailbox(),
            &kept_envelope,
        )
        .await;
    assert_eq!(res.status(), 201);

    // Act: sweep passes (each ends in a compaction) while the handoff's case lives, then
    // after it is deleted.
    let revoked = where_found(&app, &shares);
    pass(&app, 25).await;
    let a_day_later = where_found(&app, &shares);
    pass(&app, 9 * 24).await;
    let ten_days_later = where_found(&app, &shares);
    let res = app
        .delete(&h.case.keys.signing, Signer::Case, &h.case.mailbox())
        .await;
    assert_eq!(res.status(), 204);
    pass(&app, 1).await;
    let case_gone = where_found(&app, &shares);

    // Assert: the commit records holding the shares stay in the log as long as no envelope of
    // their segment is dead (ten days here, up to the envelopes' retention), and leave it at
    // the first pass after one is (the segment was sealed more than a day before); the kept
    // case's envelope was moved out and still reads.
    assert!(
        revoked.0,
        "right after the revocation the log holds the shares"
    );
    assert!(
        a_day_later.0,
        "sealed, but no envelope of the segment is dead yet"
    );
    assert!(ten_days_later.0, "still no dead envelope in the segment");
    assert!(!case_gone.0, "the segment was compacted and removed");
    let res = app
        .list(&kept.keys.signing, Signer::Case, &kept.mailbox(), "")
        .await;
    let page: candor_protocol::api::EnvelopePage = res.json().await.unwrap();
    assert_eq!(page.envelopes.last().unwrap().envelope, kept_envelope);
    // sled's own data file is not on our schedule: report what it held, for the threat model.
    eprintln!(
        "shares in sled's files: revoked {}, +25h {}, +10d {}, case deleted {}",
        revoked.1, a_day_later.1, ten_days_later.1, case_gone.1
    );
}
