//! `spawn_app()` and the fixtures the tests share: real office identities and signed cards,
//! real case keys from codenames, real PoW solutions, real signed requests and sealed
//! envelopes, all from the protocol crate.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex};

use actix_web::dev::ServerHandle;
use actix_web::web;
use candor_protocol::api::{InboxPage, OpenMailbox};
use candor_protocol::pow::Challenge;
use candor_protocol::seal::Sealer;
use candor_protocol::{
    CaseKeys, Codename, Day, Envelope, Identity, Message, OfficeCard, OfficeId, Policy,
    RequestAuth, SignedCard, Signer, SigningSecretKey,
};
use candor_server::clock::{Clock, ManualClock, SystemClock};
use candor_server::config::{LogFormat, Settings};
use candor_server::startup::Application;
use candor_server::state::AppState;
use reqwest::header::HeaderMap;
use tempfile::TempDir;

/// The user agent every test client sends; the access log must never contain it.
pub const USER_AGENT: &str = "candor-test-agent/7.7 (ua-marker-q9z)";

/// Everything the relay logged during this test binary's run (JSON lines).
pub static LOGS: LazyLock<Arc<Mutex<Vec<u8>>>> = LazyLock::new(|| {
    let buffer = Arc::new(Mutex::new(Vec::new()));
    let writer = SharedWriter(buffer.clone());
    let subscriber =
        candor_server::telemetry::subscriber(LogFormat::Json, move || writer.clone(), false);
    tracing::subscriber::set_global_default(subscriber).expect("one global subscriber");
    buffer
});

#[derive(Clone)]
struct SharedWriter(Arc<Mutex<Vec<u8>>>);

impl Write for SharedWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The captured log as text.
pub fn logs() -> String {
    String::from_utf8_lossy(&LOGS.lock().unwrap()).into_owned()
}

/// A running relay.
pub struct TestApp {
    pub url: String,
    /// `/metrics` on the metrics listener, if the settings keep one.
    pub metrics_url: Option<String>,
    pub client: reqwest::Client,
    pub clock: ManualClock,
    pub state: web::Data<AppState>,
    pub dir: TempDir,
    handle: ServerHandle,
    join: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// Settings for tests: port 0, low PoW difficulty, one worker.
pub fn test_settings(dir: &Path) -> Settings {
    Settings {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.to_owned(),
        pow_difficulty: 8,
        workers: 1,
        ..Settings::default()
    }
}

/// A relay on a fresh temporary directory.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// A relay on a fresh temporary directory, with adjusted settings.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(SystemClock.now());
    spawn_app_in(dir, clock, adjust).await
}

/// A relay on the given directory (a restart), with the given clock.
pub async fn spawn_app_in(
    dir: TempDir,
    clock: ManualClock,
    adjust: impl FnOnce(&mut Settings),
) -> TestApp {
    LazyLock::force(&LOGS);
    let mut settings = test_settings(dir.path());
    adjust(&mut settings);
    let app = Application::build_with_clock(settings, Arc::new(clock.clone()))
        .await
        .expect("the relay builds");
    let url = app.url();
    let metrics_url = app.metrics_url();
    let handle = app.handle();
    let state = app.state();
    let join = tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .build()
        .unwrap();
    TestApp {
        url,
        metrics_url,
        client,
        clock,
        state,
        dir,
        handle,
        join,
    }
}

/// An office: its identity and signed card.
pub struct TestOffice {
    pub identity: Identity,
    pub card: OfficeCard,
    pub signed: SignedCard,
}

impl TestOffice {
    pub fn new(id: &str, retention_days: u32) -> Self {
        let identity = Identity::generate(&mut rand::rng());
        let card = office_card(&identity, id, retention_days, 1);
        let signed = card.sign(&identity).unwrap();
        Self {
            identity,
            card,
            signed,
        }
    }
    pub fn id(&self) -> OfficeId {
        self.card.id.clone()
    }
    pub fn key(&self) -> &SigningSecretKey {
        self.identity.signing()
    }
}

pub fn office_card(identity: &Identity, id: &str, retention_days: u32, serial: u64) -> OfficeCard {
    OfficeCard {
        v: candor_protocol::card::OFFICE_CARD_VERSION.into(),
        serial,
        expires: candor_protocol::Day::from_unix(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
        )
        .plus(365),
        id: id.parse().unwrap(),
        name: "Test Ombuds Office".into(),
        relay: "http://127.0.0.1:8080".parse().unwrap(),
        signing_key: identity.signing().public_key().to_bytes(),
        kem_key: identity.kem().public_key().to_bytes(),
        policy: Policy {
            confidentiality: "confidential".into(),
            exception: "imminent risk of serious harm".into(),
            not_notice: "not notice".into(),
            retention: "90 days".into(),
        },
        retention_days,
        reply_within_days: 3,
        close_grace_days: 14,
        categories: vec![],
        constituencies: vec![],
        outcomes: vec![candor_protocol::Choice::new("resolved", "Resolved").unwrap()],
        resources: vec![],
    }
}

/// A visitor's case at an office, with the first envelope its mailbox opens with.
pub struct TestCase {
    pub keys: CaseKeys,
    /// The to-office envelope carrying [`FIRST_MESSAGE`], sent with the opening (sequence
    /// number 1).
    pub first: Envelope,
}

/// What every case's first envelope, sent with its opening, carries.
pub const FIRST_MESSAGE: &str = "the first message";

impl TestCase {
    pub fn new(office: &TestOffice) -> Self {
        let codename = Codename::generate(&mut rand::rng());
        let keys = codename.derive(&office.identity.fingerprint());
        let first = to_office(&keys, office, FIRST_MESSAGE);
        Self { keys, first }
    }
    pub fn mailbox(&self) -> String {
        self.keys.mailbox.to_string()
    }
    /// A sealed to-office envelope carrying `text`.
    pub fn envelope(&self, office: &TestOffice, text: &str) -> Envelope {
        to_office(&self.keys, office, text)
    }
    /// A sealed, signed to-visitor envelope from the office.
    pub fn reply(&self, office: &TestOffice, text: &str) -> Envelope {
        Message::text(text, Day(20_780))
            .seal(
                &Sealer::office(
                    &office.identity,
                    self.keys.kem.public_key(),
                    self.keys.mailbox,
                ),
                &mut rand::rng(),
            )
            .unwrap()
    }
}

/// A sealed to-office envelope of the case with `keys`, carrying `text`.
fn to_office(keys: &CaseKeys, office: &TestOffice, text: &str) -> Envelope {
    Message::text(text, Day(20_780))
        .seal(
            &Sealer::visitor(keys, office.identity.kem().public_key(), true),
            &mut rand::rng(),
        )
        .unwrap()
}

impl TestApp {
    pub fn now(&self) -> u64 {
        self.clock.now()
    }

    /// An invite minted the way `candor-server invite` does, valid for a day.
    pub fn invite(&self) -> String {
        self.state.invite_key.mint(self.now() + 86_400)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .unwrap()
    }

    /// The metrics text, from the metrics listener.
    pub async fn metrics(&self) -> String {
        let url = self.metrics_url.as_ref().expect("a metrics listener");
        let res = self.client.get(url).send().await.unwrap();
        assert_eq!(res.status(), 200);
        res.text().await.unwrap()
    }

    pub async fn post_json(&self, path: &str, body: Vec<u8>) -> reqwest::Response {
        self.client
            .post(format!("{}{path}", self.url))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap()
    }

    /// The signature headers for a request signed now.
    pub fn sign(
        &self,
        key: &SigningSecretKey,
        signer: Signer,
        method: &str,
        path: &str,
        body: &[u8],
    ) -> RequestAuth {
        RequestAuth::sign(
            key,
            signer,
            method,
            path,
            body,
            self.now(),
            &mut rand::rng(),
        )
    }

    /// Sends a request with the given signature headers (JSON body if any).
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<&[u8]>,
        auth: &RequestAuth,
    ) -> reqwest::Response {
        let req = self.request_signed(method, path, body, auth);
        req.send().await.unwrap()
    }

    /// A request with the given signature headers (JSON body if any), to add to and send.
    pub fn request_signed(
        &self,
        method: &str,
        path: &str,
        body: Option<&[u8]>,
        auth: &RequestAuth,
    ) -> reqwest::RequestBuilder {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self.client.request(method, format!("{}{path}", self.url));
        for (name, value) in candor_protocol::request::HEADERS
            .iter()
            .zip(auth.header_values())
        {
            req = req.header(*name, value);
        }
        match body {
            Some(body) => req
                .header("content-type", "application/json")
                .body(body.to_vec()),
            None => req,
        }
    }

    /// Signs and sends.
    pub async fn signed(
        &self,
        key: &SigningSecretKey,
        signer: Signer,
        method: &str,
        path: &str,
        body: Option<&[u8]>,
    ) -> reqwest::Response {
        let auth = self.sign(key, signer, method, path, body.unwrap_or(b""));
        self.send(method, path, body, &auth).await
    }

    /// `PUT /v1/offices/ombuds` with a signed card `body`, signed by `key` as the office.
    pub async fn update_card(&self, key: &SigningSecretKey, body: &[u8]) -> reqwest::Response {
        self.signed(key, Signer::Office, "PUT", "/v1/offices/ombuds", Some(body))
            .await
    }

    /// Registers an office; asserts 201.
    pub async fn register(&self, id: &str, retention_days: u32) -> TestOffice {
        let office = TestOffice::new(id, retention_days);
        let body = register_body(&self.invite(), &office.signed);
        let res = self.post_json("/v1/offices", body).await;
        assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
        office
    }

    /// A solved PoW for `case`'s mailbox.
    pub async fn solve_pow(&self, case: &TestCase) -> candor_protocol::pow::Solution {
        let res = self.get("/v1/pow").await;
        assert_eq!(res.status(), 200);
        let challenge = Challenge::from_json(&res.bytes().await.unwrap()).unwrap();
        challenge.solve(case.keys.mailbox.as_bytes())
    }

    /// The open-mailbox body for `case`.
    pub async fn open_body(&self, office: &TestOffice, case: &TestCase) -> Vec<u8> {
        let body = OpenMailbox {
            v: 2,
            office: office.id(),
            mailbox: case.keys.mailbox,
            signing_key: case.keys.signing.public_key().to_bytes(),
            kem_key: case.keys.kem.public_key().to_bytes(),
            pow: self.solve_pow(case).await,
            envelope: case.first.clone(),
        };
        serde_json::to_vec(&body).unwrap()
    }

    /// Opens a mailbox for a new case; asserts 201.
    pub async fn open_case(&self, office: &TestOffice) -> TestCase {
        let case = TestCase::new(office);
        let body = self.open_body(office, &case).await;
        let res = self.open_with(&case, &body).await;
        assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
        case
    }

    /// POST /v1/mailboxes signed by the case key.
    pub async fn open_with(&self, case: &TestCase, body: &[u8]) -> reqwest::Response {
        self.signed(
            &case.keys.signing,
            Signer::Case,
            "POST",
            "/v1/mailboxes",
            Some(body),
        )
        .await
    }

    /// Appends an envelope signed by `key`.
    pub async fn append(
        &self,
        key: &SigningSecretKey,
        signer: Signer,
        mailbox: &str,
        envelope: &Envelope,
    ) -> reqwest::Response {
        let path = format!("/v1/mailboxes/{mailbox}/envelopes");
        self.signed(key, signer, "POST", &path, Some(&envelope.to_json()))
            .await
    }

    /// Deletes a mailbox, signed by `key`.
    pub async fn delete(
        &self,
        key: &SigningSecretKey,
        signer: Signer,
        mailbox: &str,
    ) -> reqwest::Response {
        let path = format!("/v1/mailboxes/{mailbox}");
        self.signed(key, signer, "DELETE", &path, None).await
    }

    /// Lists envelopes signed by `key`.
    pub async fn list(
        &self,
        key: &SigningSecretKey,
        signer: Signer,
        mailbox: &str,
        query: &str,
    ) -> reqwest::Response {
        let path = format!("/v1/mailboxes/{mailbox}/envelopes{query}");
        self.signed(key, signer, "GET", &path, None).await
    }

    /// The office's inbox, asserting 200.
    pub async fn inbox(&self, office: &TestOffice, query: &str) -> InboxPage {
        let path = format!("/v1/offices/{}/inbox{query}", office.id());
        let res = self
            .signed(office.key(), Signer::Office, "GET", &path, None)
            .await;
        assert_eq!(res.status(), 200);
        res.json().await.unwrap()
    }

    /// Stops the relay gracefully, waits until its store is closed, and returns the directory
    /// and clock for a restart.
    pub async fn stop(self) -> (TempDir, ManualClock) {
        self.handle.stop(true).await;
        self.join.await.unwrap().unwrap();
        // The server's future resolves once its workers have answered the stop, which can be
        // before their threads have dropped the app's state; the store (sled's lock on its
        // directory) stays open until they have.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while Arc::strong_count(&*self.state) > 1 || Arc::strong_count(&self.state.store) > 1 {
            assert!(
                std::time::Instant::now() < deadline,
                "the stopped relay's state is still held after 10 s"
            );
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        drop(self.state);
        (self.dir, self.clock)
    }
}

pub fn register_body(invite: &str, card: &SignedCard) -> Vec<u8> {
    serde_json::to_vec(&candor_protocol::api::RegisterOffice {
        invite: invite.to_owned(),
        card: card.clone(),
    })
    .unwrap()
}

/// Asserts a problem+json answer with the given status and type suffix.
pub async fn assert_problem(res: reqwest::Response, status: u16, kind: &str) {
    assert_eq!(res.status(), status, "expected {status} {kind}");
    assert_eq!(
        res.headers()["content-type"],
        "application/problem+json",
        "{kind}"
    );
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["type"], format!("urn:candor:problem:{kind}"), "{body}");
    assert_eq!(body["status"], status);
}

/// Headers without `date`, for byte-for-byte comparisons.
pub fn headers_without_date(h: &HeaderMap) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<_> = h
        .iter()
        .filter(|(k, _)| k.as_str() != "date")
        .map(|(k, v)| (k.as_str().to_owned(), v.as_bytes().to_vec()))
        .collect();
    v.sort();
    v
}

/// Every file under `dir`, recursively.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out
}
