//! What the relay keeps and logs: no plaintext on disk; no peer address, user agent or mailbox
//! ID in the access log.

use candor_protocol::Signer;

use crate::helpers::{USER_AGENT, files_under, logs, spawn_app};

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
        .signed(
            &case.keys.signing,
            Signer::Case,
            "DELETE",
            &format!("/v1/mailboxes/{}", case.mailbox()),
            None,
        )
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
