//! What the relay keeps and logs: no plaintext on disk; a deleted envelope's ciphertext leaves
//! the disk on schedule; no peer address, user agent or mailbox ID in the access log.

use std::path::Path;

use candor_protocol::{Signer, encoding};
use candor_server::sweeper;

use crate::helpers::{USER_AGENT, files_under, logs, spawn_app};

/// The files under `dir` that contain `needle`.
fn files_containing(dir: &Path, needle: &[u8]) -> Vec<String> {
    files_under(dir)
        .into_iter()
        .filter(|f| {
            std::fs::read(f)
                .unwrap()
                .windows(needle.len())
                .any(|w| w == needle)
        })
        .map(|f| f.display().to_string())
        .collect()
}

#[tokio::test]
async fn a_deleted_envelope_leaves_the_disk_and_a_kept_one_stays_readable() {
    // Arrange: two cases with an envelope each; one case is deleted.
    let app = spawn_app().await;
    let office = app.register("ombuds", 90).await;
    let gone = app.open_case(&office).await;
    let kept = app.open_case(&office).await;
    let gone_envelope = gone.envelope(&office, "delete me");
    let kept_envelope = kept.envelope(&office, "keep me");
    for (case, envelope) in [(&gone, &gone_envelope), (&kept, &kept_envelope)] {
        let res = app
            .append(&case.keys.signing, Signer::Case, &case.mailbox(), envelope)
            .await;
        assert_eq!(res.status(), 201);
    }
    let res = app
        .delete(&gone.keys.signing, Signer::Case, &gone.mailbox())
        .await;
    assert_eq!(res.status(), 204);
    // A stretch of each ciphertext as it is stored (base64 inside the envelope's JSON),
    // the deleted case's first envelope's too.
    let stretch =
        |envelope: &candor_protocol::Envelope| encoding::b64(&envelope.ct)[..64].to_owned();
    let (gone_ct, gone_first_ct) = (stretch(&gone_envelope), stretch(&gone.first));
    let kept_ct = stretch(&kept_envelope);
    assert!(
        !files_containing(app.dir.path(), gone_ct.as_bytes()).is_empty(),
        "right after deletion the record is still in the log"
    );

    // Act: a day later, a sweep pass compacts the store's files.
    app.clock.advance(25 * 3600);
    sweeper::sweep_once(&app.state).await.unwrap();

    // Assert: the deleted ciphertext is in no file; the kept one was moved and still reads.
    for ct in [&gone_ct, &gone_first_ct] {
        assert_eq!(
            files_containing(app.dir.path(), ct.as_bytes()),
            Vec::<String>::new()
        );
    }
    assert!(!files_containing(app.dir.path(), kept_ct.as_bytes()).is_empty());
    let res = app
        .list(&kept.keys.signing, Signer::Case, &kept.mailbox(), "")
        .await;
    assert_eq!(res.status(), 200);
    let page: candor_protocol::api::EnvelopePage = res.json().await.unwrap();
    assert_eq!(page.envelopes.len(), 2);
    assert_eq!(page.envelopes[0].envelope, kept.first);
    assert_eq!(page.envelopes[1].envelope, kept_envelope);
    let report = app.state.store.check().unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);

    // And after a restart, the moved envelope is still there.
    let (dir, clock) = app.stop().await;
    let app = crate::helpers::spawn_app_in(dir, clock, |_| {}).await;
    let res = app
        .list(&kept.keys.signing, Signer::Case, &kept.mailbox(), "")
        .await;
    let page: candor_protocol::api::EnvelopePage = res.json().await.unwrap();
    assert_eq!(page.envelopes.len(), 2);
    assert_eq!(page.envelopes[0].envelope, kept.first);
    assert_eq!(page.envelopes[1].envelope, kept_envelope);
}

#[tokio::test]
async fn no_plaintext_reaches_the_disk() {
    // Arrange: distinctive markers, sealed by both parties.
    let app = spawn_app().await;
    let office = app.register("ombuds", 90).await;
    let case = app.open_case(&office).await;
    let markers = [
        "VISITOR-MARKER-4f1c9e-the-chemistry-lab",
        "OFFICE-MARKER-b83d27-let-us-meet",
    ];
    let res = app
        .append(
            &case.keys.signing,
            Signer::Case,
            &case.mailbox(),
            &case.envelope(&office, markers[0]),
        )
        .await;
    assert_eq!(res.status(), 201);
    let res = app
        .append(
            office.key(),
            Signer::Office,
            &case.mailbox(),
            &case.reply(&office, markers[1]),
        )
        .await;
    assert_eq!(res.status(), 201);

    // Act: stop, so everything is flushed and closed.
    let (dir, _clock) = app.stop().await;

    // Assert
    let files = files_under(dir.path());
    assert!(files.len() >= 2, "the store wrote files");
    let mut total = 0;
    for file in files {
        let bytes = std::fs::read(&file).unwrap();
        total += bytes.len();
        for marker in markers {
            assert!(
                !bytes.windows(marker.len()).any(|w| w == marker.as_bytes()),
                "{marker} found in {}",
                file.display()
            );
        }
    }
    // The card's public name is stored in the clear, so the scan does read the data.
    let name = b"Test Ombuds Office";
    let found_name = files_under(dir.path()).iter().any(|f| {
        std::fs::read(f)
            .unwrap()
            .windows(name.len())
            .any(|w| w == name)
    });
    assert!(found_name, "the scan sees stored data ({total} bytes read)");
}

#[tokio::test]
async fn the_access_log_has_routes_but_no_address_agent_or_mailbox() {
    // Arrange
    let app = spawn_app().await;
    let office = app.register("ombuds", 90).await;
    let case = app.open_case(&office).await;

    // Act
    let res = app
        .append(
            &case.keys.signing,
            Signer::Case,
            &case.mailbox(),
            &case.envelope(&office, "x"),
        )
        .await;
    assert_eq!(res.status(), 201);
    let res = app
        .list(&case.keys.signing, Signer::Case, &case.mailbox(), "")
        .await;
    assert_eq!(res.status(), 200);
    let res = app
        .delete(&case.keys.signing, Signer::Case, &case.mailbox())
        .await;
    assert_eq!(res.status(), 204);
    let _ = app.stop().await;

    // Assert
    let log = logs();
    assert!(
        log.contains("\"route\":\"/v1/mailboxes/{mailbox}/envelopes\""),
        "{log}"
    );
    assert!(log.contains("\"route\":\"/v1/mailboxes/{mailbox}\""));
    assert!(log.contains("\"status\":201"));
    assert!(!log.contains(&case.mailbox()), "a mailbox ID was logged");
    assert!(!log.contains(&case.keys.mailbox.short_label()));
    assert!(!log.contains("127.0.0.1"), "an address was logged");
    assert!(!log.contains(USER_AGENT), "the user agent was logged");
    assert!(!log.contains("ua-marker-q9z"));
}
