//! A minimal client of the relay's HTTP API, built from the protocol crate alone: office
//! registration, proofs of work, signed requests and sealed envelopes. The crash and
//! adversarial tests use it where the `candor` CLI would hide what is sent.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use candor_protocol::api::{Appended, EnvelopePage, InboxPage, OpenMailbox, RegisterOffice};
use candor_protocol::card::{OfficeCard, Policy};
use candor_protocol::pow::{Challenge, Solution};
use candor_protocol::{
    CaseKeys, Codename, Day, Identity, Message, RequestAuth, SignedCard, Signer, SigningSecretKey,
};

/// How long one HTTP request may take before the test gives up on it.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// The longest a pooled connection may sit idle and still be reused: half the relay's
/// keep-alive.
pub const IDLE_REUSE: Duration = Duration::from_millis(2500);

/// Unix seconds now.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// An office: its identity and its signed card.
pub struct TestOffice {
    /// Its keys.
    pub identity: Identity,
    /// The card as signed.
    pub card: OfficeCard,
    /// The signed card.
    pub signed: SignedCard,
}

impl TestOffice {
    /// A new office with a fresh identity.
    pub fn new(id: &str, retention_days: u32) -> Self {
        let identity = Identity::generate(&mut candor_protocol::rand::rng());
        let card = OfficeCard {
            v: candor_protocol::card::OFFICE_CARD_VERSION.into(),
            serial: 1,
            expires: candor_protocol::Day::from_unix(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs()),
            )
            .plus(365),
            id: id.parse().expect("a valid office id"),
            name: "Adversarial Test Office".into(),
            relay: "http://127.0.0.1:8080".parse().expect("a relay url"),
            signing_key: identity.signing().public_key().to_bytes(),
            kem_key: identity.kem().public_key().to_bytes(),
            policy: Policy {
                confidentiality: "confidential".into(),
                exception: "imminent risk of serious harm".into(),
                not_notice: "not notice".into(),
                retention: "1 day".into(),
            },
            retention_days,
            reply_within_days: 3,
            close_grace_days: 14,
            categories: vec![],
            constituencies: vec![],
            outcomes: vec![
                candor_protocol::Choice::new("resolved", "Resolved").expect("a valid outcome"),
            ],
            resources: vec![],
        };
        let signed = card.sign(&identity).expect("sign the card");
        Self {
            identity,
            card,
            signed,
        }
    }

    /// The office's request-signing key.
    pub fn key(&self) -> &SigningSecretKey {
        self.identity.signing()
    }
}

/// A visitor's case: its codename and the keys derived from it.
pub struct TestCase {
    /// The codename, as the visitor would type it.
    pub codename: Codename,
    /// The case keys and mailbox ID.
    pub keys: CaseKeys,
    /// The first envelope's JSON, sent with the opening as sequence number 1 (empty for a
    /// case made from keys alone).
    pub first: Vec<u8>,
}

impl TestCase {
    /// A new case at `office`.
    pub fn new(office: &TestOffice) -> Self {
        let codename = Codename::generate(&mut candor_protocol::rand::rng());
        let keys = codename.derive(&office.identity.fingerprint());
        let mut case = Self {
            codename,
            keys,
            first: Vec::new(),
        };
        case.first = case.envelope(office, FIRST_MESSAGE);
        case
    }

    /// The case with these keys (a visitor's, derived from a codename elsewhere).
    pub fn from_keys(keys: CaseKeys) -> Self {
        Self {
            codename: Codename::from_entropy([0; 16]),
            keys,
            first: Vec::new(),
        }
    }

    /// The mailbox ID as text.
    pub fn mailbox(&self) -> String {
        self.keys.mailbox.to_string()
    }

    /// A sealed to-office envelope carrying `text`, as JSON bytes.
    pub fn envelope(&self, office: &TestOffice, text: &str) -> Vec<u8> {
        Message::text(text, Day::from_unix(now()))
            .seal(
                &candor_protocol::seal::Sealer::visitor(
                    &self.keys,
                    office.identity.kem().public_key(),
                    true,
                ),
                &mut candor_protocol::rand::rng(),
            )
            .expect("seal an envelope")
            .to_json()
    }
}

/// What every case's first envelope, sent with its opening, carries: sequence number 1.
pub const FIRST_MESSAGE: &str = "the first message";

/// An answer, read in full.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The status code.
    pub status: u16,
    /// Every header but `date`, sorted.
    pub headers: Vec<(String, Vec<u8>)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Answer {
    /// The body as JSON.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> T {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "status {}: the body is not the expected JSON ({e}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// The problem type, such as `urn:candor:problem:not-found`, or "" if none.
    pub fn problem(&self) -> String {
        serde_json::from_slice::<serde_json::Value>(&self.body)
            .ok()
            .and_then(|v| v["type"].as_str().map(str::to_owned))
            .unwrap_or_default()
    }
}

/// A client of one relay. `skew` is added to the clock it signs with, for a relay whose own
/// clock is not the system's.
#[derive(Clone)]
pub struct Api {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The HTTP client.
    pub http: reqwest::Client,
    /// Seconds added to the system clock when signing.
    pub skew: i64,
}

impl Api {
    /// A client of the relay at `base`.
    pub fn new(base: &str) -> Self {
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            // The relay closes a connection idle for 5 s (actix-web's keep-alive). A pooled
            // connection taken just as that close arrives fails with `IncompleteMessage`, which
            // a loaded machine made happen (four at once, in the crash test's set-up); so
            // never reuse one that has been idle for half of that.
            .pool_idle_timeout(IDLE_REUSE)
            .build()
            .expect("an HTTP client");
        Self {
            base: base.to_owned(),
            http,
            skew: 0,
        }
    }

    /// The time this client signs with.
    pub fn now(&self) -> u64 {
        now().saturating_add_signed(self.skew)
    }

    /// Reads a response in full.
    pub async fn read(res: reqwest::Response) -> Result<Answer, reqwest::Error> {
        let status = res.status().as_u16();
        let mut headers: Vec<_> = res
            .headers()
            .iter()
            .filter(|(k, _)| k.as_str() != "date")
            .map(|(k, v)| (k.as_str().to_owned(), v.as_bytes().to_vec()))
            .collect();
        headers.sort();
        let body = res.bytes().await?.to_vec();
        Ok(Answer {
            status,
            headers,
            body,
        })
    }

    /// An unsigned GET.
    pub async fn get(&self, path: &str) -> Result<Answer, reqwest::Error> {
        let res = self.http.get(format!("{}{path}", self.base)).send().await?;
        Self::read(res).await
    }

    /// An unsigned JSON POST.
    pub async fn post_json(&self, path: &str, body: Vec<u8>) -> Result<Answer, reqwest::Error> {
        let res = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await?;
        Self::read(res).await
    }

    /// Signature headers for a request signed now.
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
            &mut candor_protocol::rand::rng(),
        )
    }

    /// Sends a request with the given signature headers, and a JSON body if not empty.
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        body: &[u8],
        auth: &RequestAuth,
    ) -> Result<Answer, reqwest::Error> {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("an HTTP method");
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        for (name, value) in candor_protocol::request::HEADERS
            .iter()
            .zip(auth.header_values())
        {
            req = req.header(*name, value);
        }
        if !body.is_empty() {
            req = req
                .header("content-type", "application/json")
                .body(body.to_vec());
        }
        Self::read(req.send().await?).await
    }

    /// Signs now and sends.
    pub async fn signed(
        &self,
        key: &SigningSecretKey,
        signer: Signer,
        method: &str,
        path: &str,
        body: &[u8],
    ) -> Result<Answer, reqwest::Error> {
        let auth = self.sign(key, signer, method, path, body);
        self.send(method, path, body, &auth).await
    }

    /// Registers `office` with `invite`; returns the answer.
    pub async fn register_with(
        &self,
        office: &TestOffice,
        invite: &str,
    ) -> Result<Answer, reqwest::Error> {
        let body = serde_json::to_vec(&RegisterOffice {
            invite: invite.to_owned(),
            card: office.signed.clone(),
        })
        .expect("encode a registration");
        self.post_json("/v1/offices", body).await
    }

    /// Registers a new office; asserts 201.
    pub async fn register(&self, invite: &str, id: &str, retention_days: u32) -> TestOffice {
        let office = TestOffice::new(id, retention_days);
        let answer = self.register_with(&office, invite).await.expect("register");
        assert_eq!(
            answer.status,
            201,
            "{:?}",
            String::from_utf8_lossy(&answer.body)
        );
        office
    }

    /// A fresh challenge from the relay.
    pub async fn challenge(&self) -> Challenge {
        let answer = self.get("/v1/pow").await.expect("GET /v1/pow");
        assert_eq!(answer.status, 200);
        Challenge::from_json(&answer.body).expect("a challenge")
    }

    /// The open-mailbox body for `case` with `pow`.
    pub fn open_body(office: &TestOffice, case: &TestCase, pow: Solution) -> Vec<u8> {
        let first =
            candor_protocol::Envelope::from_json(&case.first).expect("a sealed envelope parses");
        serde_json::to_vec(&OpenMailbox {
            v: candor_protocol::api::OPEN_MAILBOX_VERSION.into(),
            office: office.card.id.clone(),
            mailbox: case.keys.mailbox,
            signing_key: case.keys.signing.public_key().to_bytes(),
            kem_key: case.keys.kem.public_key().to_bytes(),
            pow,
            envelope: first,
        })
        .expect("encode an open-mailbox body")
    }

    /// POST /v1/mailboxes with `body`, signed by the case.
    pub async fn open_with(&self, case: &TestCase, body: &[u8]) -> Result<Answer, reqwest::Error> {
        self.signed(
            &case.keys.signing,
            Signer::Case,
            "POST",
            "/v1/mailboxes",
            body,
        )
        .await
    }

    /// Opens a mailbox for a new case with a real proof of work; asserts 201.
    pub async fn open_case(&self, office: &TestOffice) -> TestCase {
        let case = TestCase::new(office);
        let pow = self.challenge().await.solve(case.keys.mailbox.as_bytes());
        let answer = self
            .open_with(&case, &Self::open_body(office, &case, pow))
            .await
            .expect("open a mailbox");
        assert_eq!(
            answer.status,
            201,
            "{:?}",
            String::from_utf8_lossy(&answer.body)
        );
        case
    }

    /// Appends `envelope` to the case's mailbox, signed by the case. `Ok(Some(seq))` on 2xx.
    pub async fn append(
        &self,
        case: &TestCase,
        envelope: &[u8],
    ) -> Result<Result<u64, Answer>, reqwest::Error> {
        let path = format!("/v1/mailboxes/{}/envelopes", case.mailbox());
        let answer = self
            .signed(&case.keys.signing, Signer::Case, "POST", &path, envelope)
            .await?;
        if (200..300).contains(&answer.status) {
            Ok(Ok(answer.json::<Appended>().seq))
        } else {
            Ok(Err(answer))
        }
    }

    /// Every envelope in the case's mailbox, as `(seq, envelope JSON)`; `None` on 404.
    pub async fn envelopes(&self, case: &TestCase) -> Option<Vec<(u64, serde_json::Value)>> {
        let mut out = Vec::new();
        let mut after = 0;
        loop {
            let path = format!(
                "/v1/mailboxes/{}/envelopes?after={after}&limit=500",
                case.mailbox()
            );
            let answer = self
                .signed(&case.keys.signing, Signer::Case, "GET", &path, b"")
                .await
                .expect("list envelopes");
            if answer.status == 404 {
                assert!(out.is_empty(), "a mailbox vanished while being listed");
                return None;
            }
            assert_eq!(
                answer.status,
                200,
                "{:?}",
                String::from_utf8_lossy(&answer.body)
            );
            // Compare the raw JSON the relay sent, not a re-encoding of it.
            let raw: serde_json::Value = answer.json();
            let page: EnvelopePage = answer.json();
            let raw_envelopes = raw["envelopes"].as_array().expect("an envelope list");
            for (stored, raw) in page.envelopes.iter().zip(raw_envelopes) {
                out.push((stored.seq, raw["envelope"].clone()));
            }
            // A short page is the last: no second request, which could race a deletion.
            if page.envelopes.len() < 500 || page.next <= after {
                return Some(out);
            }
            after = page.next;
        }
    }

    /// Deletes the case's mailbox, signed by the case.
    pub async fn delete(&self, case: &TestCase) -> Result<Answer, reqwest::Error> {
        let path = format!("/v1/mailboxes/{}", case.mailbox());
        self.signed(&case.keys.signing, Signer::Case, "DELETE", &path, b"")
            .await
    }

    /// Every mailbox ID in the office's inbox.
    pub async fn inbox(&self, office: &TestOffice) -> Vec<String> {
        let mut out = Vec::new();
        let mut after = 0;
        loop {
            let path = format!(
                "/v1/offices/{}/inbox?after={after}&limit=500",
                office.card.id
            );
            let answer = self
                .signed(office.key(), Signer::Office, "GET", &path, b"")
                .await
                .expect("list the inbox");
            assert_eq!(
                answer.status,
                200,
                "{:?}",
                String::from_utf8_lossy(&answer.body)
            );
            let page: InboxPage = answer.json();
            let n = page.mailboxes.len();
            out.extend(page.mailboxes.iter().map(|m| m.mailbox.to_string()));
            if n < 500 || page.next <= after {
                return out;
            }
            after = page.next;
        }
    }
}
