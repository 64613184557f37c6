//! A handoff's channel and the notice board: the office opens the channel with the notice, the
//! board lists it to anyone, the office and the third party exchange envelopes on it in their
//! own directions only, a channel outlives its case, and an unknown channel and a wrong key get
//! the same answer.

use candor_protocol::api::Appended;
use candor_protocol::api::channels::{ChannelPage, NoticePage, OpenChannel};
use candor_protocol::handoff::{Notice, NoticeSeed, office_sealer, third_party_sealer};
use candor_protocol::{Day, HandoffId, Identity, MailboxId, Message, Signer, SigningSecretKey};

use crate::helpers::{TestApp, TestOffice, assert_problem, spawn_app};

struct Channel {
    office: TestOffice,
    third: Identity,
    id: MailboxId,
    key: SigningSecretKey,
    body: Vec<u8>,
}

fn path(id: &MailboxId, tail: &str) -> String {
    format!("/v1/channels/{id}{tail}")
}

/// An office, a third party and the body that opens a handoff's channel.
async fn channel(app: &TestApp) -> Channel {
    let rng = &mut rand::rng();
    let office = app.register("ombuds", 30).await;
    let third = Identity::generate(rng);
    let handoff = HandoffId::random(rng);
    let seed = NoticeSeed::of_office(office.identity.kem(), &handoff);
    let keys = seed.keys();
    let case_kem = Identity::generate(rng).kem().public_key();
    let notice = Notice::seal(
        &handoff,
        &seed,
        (&case_kem, &office.identity.kem().public_key()),
        &third.kem().public_key(),
        rng,
    )
    .unwrap();
    let open = OpenChannel {
        v: 2,
        office: office.id(),
        third_party_key: keys.channel_key.public_key().to_bytes(),
        notice,
        expires: Day::from_unix(app.now()).plus(10),
    };
    Channel {
        office,
        third,
        id: keys.channel,
        key: keys.channel_key,
        body: serde_json::to_vec(&open).unwrap(),
    }
}

async fn open(app: &TestApp, c: &Channel) -> reqwest::Response {
    app.signed(
        c.office.key(),
        Signer::Office,
        "PUT",
        &path(&c.id, ""),
        Some(&c.body),
    )
    .await
}

fn from_third(c: &Channel, text: &str) -> Vec<u8> {
    let sealer = third_party_sealer(&c.third, c.office.identity.kem().public_key(), c.id);
    Message::text(text, Day(20_000))
        .seal(&sealer, &mut rand::rng())
        .unwrap()
        .to_json()
}

fn from_office(c: &Channel, text: &str) -> Vec<u8> {
    let sealer = office_sealer(&c.office.identity, c.third.kem().public_key(), c.id);
    Message::text(text, Day(20_000))
        .seal(&sealer, &mut rand::rng())
        .unwrap()
        .to_json()
}

async fn append(
    app: &TestApp,
    c: &Channel,
    key: &SigningSecretKey,
    signer: Signer,
    body: &[u8],
) -> reqwest::Response {
    let p = path(&c.id, "/envelopes");
    app.signed(key, signer, "POST", &p, Some(body)).await
}

async fn list(
    app: &TestApp,
    id: &MailboxId,
    key: &SigningSecretKey,
    signer: Signer,
) -> reqwest::Response {
    let p = path(id, "/envelopes?after=0&limit=100");
    app.signed(key, signer, "GET", &p, None).await
}

#[tokio::test]
async fn the_office_and_the_third_party_exchange_envelopes_in_their_own_directions() {
    // Arrange
    let app = spawn_app().await;
    let c = channel(&app).await;
    assert_eq!(open(&app, &c).await.status(), 201);

    // Act
    let answer = append(&app, &c, &c.key, Signer::ThirdParty, &from_third(&c, "a")).await;
    let office_key = c.office.key();
    let back = append(&app, &c, office_key, Signer::Office, &from_office(&c, "b")).await;
    let wrong_way = append(&app, &c, &c.key, Signer::ThirdParty, &from_office(&c, "c")).await;
    let board: NoticePage = app.get("/v1/notices").await.json().await.unwrap();

    // Assert
    assert_eq!(answer.status(), 201);
    assert_eq!(answer.json::<Appended>().await.unwrap().seq, 1);
    assert_eq!(back.json::<Appended>().await.unwrap().seq, 2);
    assert_problem(wrong_way, 400, "malformed").await;
    for (key, signer) in [(&c.key, Signer::ThirdParty), (office_key, Signer::Office)] {
        let page: ChannelPage = list(&app, &c.id, key, signer).await.json().await.unwrap();
        assert_eq!(page.envelopes.len(), 2);
        assert_eq!(page.next, 2);
    }
    assert_eq!(board.notices.len(), 1);
    assert!(board.notices[0].notice.open(c.third.kem()).is_some());
    assert!(
        board.notices[0]
            .notice
            .open(c.office.identity.kem())
            .is_none()
    );
    // The same ID cannot be opened twice.
    assert_problem(open(&app, &c).await, 409, "conflict").await;
}

#[tokio::test]
async fn an_unknown_channel_and_a_key_not_registered_for_it_get_the_same_answer() {
    // Arrange
    let app = spawn_app().await;
    let c = channel(&app).await;
    assert_eq!(open(&app, &c).await.status(), 201);
    let stranger = SigningSecretKey::generate(&mut rand::rng());
    let unknown = MailboxId::from_bytes([9; 16]);

    // Act
    let wrong_key = list(&app, &c.id, &stranger, Signer::ThirdParty).await;
    let case_signer = list(&app, &c.id, &c.key, Signer::Case).await;
    let no_channel = list(&app, &unknown, &c.key, Signer::ThirdParty).await;

    // Assert
    let statuses = [
        wrong_key.status().as_u16(),
        case_signer.status().as_u16(),
        no_channel.status().as_u16(),
    ];
    assert_eq!(statuses, [404; 3]);
    let bodies = (
        wrong_key.bytes().await.unwrap(),
        case_signer.bytes().await.unwrap(),
        no_channel.bytes().await.unwrap(),
    );
    assert_eq!(bodies.0, bodies.2);
    assert_eq!(bodies.1, bodies.2);
}

#[tokio::test]
async fn a_channel_is_opened_only_by_its_office_and_outlives_the_case() {
    // Arrange
    let app = spawn_app().await;
    let c = channel(&app).await;
    let other = TestOffice::new("other-office", 30);
    let case = app.open_case(&c.office).await;

    // Act
    let by_other = app
        .signed(
            other.key(),
            Signer::Office,
            "PUT",
            &path(&c.id, ""),
            Some(&c.body),
        )
        .await;
    assert_eq!(open(&app, &c).await.status(), 201);
    let deleted = app
        .delete(&case.keys.signing, Signer::Case, &case.mailbox())
        .await;
    let after = list(&app, &c.id, &c.key, Signer::ThirdParty).await;

    // Assert
    assert_problem(by_other, 404, "not-found").await;
    assert_eq!(deleted.status(), 204);
    assert_eq!(after.status(), 200);
}
