//! The relay under test: starting it, setting up an office and mailboxes, and the requests each
//! phase sends.

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, anyhow, bail};
use candor_protocol::api::{Appended, OpenMailbox, RegisterOffice};
use candor_protocol::card::{OfficeCard, Policy};
use candor_protocol::pow::Challenge;
use candor_protocol::{CaseKeys, Codename, Identity, Message, RequestAuth, SignedCard, Signer};
use tokio::process::{Child, Command};

use crate::spawn::spawn_server;

/// What a phase measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Health,
    Append,
    Fetch,
}

impl Phase {
    pub fn name(self) -> &'static str {
        match self {
            Phase::Health => "health",
            Phase::Append => "append",
            Phase::Fetch => "fetch",
        }
    }
}

/// A request built and signed ahead of time.
pub struct Prepared {
    phase: Phase,
    method: reqwest::Method,
    url: String,
    /// The signature headers' values, in `request::HEADERS` order and then `KEY_HEADER`'s;
    /// empty when unsigned.
    headers: Vec<String>,
    /// The case whose sealed envelope is the body, for an append.
    body: Option<usize>,
}

pub(crate) struct Case {
    pub(crate) keys: CaseKeys,
    /// A sealed envelope for this mailbox, JSON-encoded once.
    envelope: Vec<u8>,
}

/// A version-1 card for `identity` with placeholder policy texts and 30-day retention.
pub(crate) fn office_card(
    identity: &Identity,
    id: &str,
    name: &str,
    relay: &str,
) -> Result<OfficeCard> {
    Ok(OfficeCard {
        v: candor_protocol::card::OFFICE_CARD_VERSION.into(),
        serial: 1,
        expires: candor_protocol::Day::from_unix(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
        )
        .plus(365),
        id: id.parse()?,
        name: name.into(),
        relay: relay.parse()?,
        signing_key: identity.signing().public_key().to_bytes(),
        kem_key: identity.kem().public_key().to_bytes(),
        policy: Policy {
            confidentiality: "-".into(),
            exception: "-".into(),
            not_notice: "-".into(),
            retention: "-".into(),
        },
        retention_days: 30,
        reply_within_days: 3,
        close_grace_days: 14,
        categories: vec![],
        constituencies: vec![],
        outcomes: vec![candor_protocol::Choice::new("resolved", "Resolved")?],
        resources: vec![],
    })
}

/// A running relay with an office and open mailboxes.
pub struct Bench {
    pub(crate) base: String,
    child: tokio::sync::Mutex<Child>,
    dir: tempfile::TempDir,
    pub(crate) cases: Vec<Case>,
    /// Every instance's URL, `base` first; worker `w` sends to `bases[w % len]`.
    bases: Vec<String>,
    /// The instances past the first (PostgreSQL only), each with its data directory.
    others: Vec<(tokio::sync::Mutex<Child>, tempfile::TempDir)>,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Bench {
    /// A relay on `store` (`None`: sled in a temporary directory; a `postgres://` URL: that
    /// database, migrated here) with `instances` instances sharing `relay.key`.
    pub async fn start(
        server_bin: &Path,
        connections: usize,
        mailboxes: usize,
        body_bytes: usize,
        store: Option<&str>,
        instances: usize,
    ) -> Result<Self> {
        let dir = tempfile::tempdir().context("creating a temporary data directory")?;
        let env: Vec<(&str, &str)> = store.map(|url| ("CANDOR_STORE", url)).into_iter().collect();
        if let Some(url) = store {
            let out = Command::new(server_bin)
                .args(["migrate", "--store", url])
                .output()
                .await
                .context("running candor-server migrate")?;
            if !out.status.success() {
                bail!(
                    "candor-server migrate failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
        } else if instances > 1 {
            bail!("several instances need a shared store: give --store postgres://…");
        }
        let mut bench =
            Self::start_in(server_bin, dir, &env, connections, mailboxes, body_bytes).await?;
        for _ in 1..instances {
            let other = tempfile::tempdir().context("creating a temporary data directory")?;
            std::fs::copy(
                bench.dir.path().join("relay.key"),
                other.path().join("relay.key"),
            )
            .context("copying relay.key to the next instance")?;
            let (child, base) = spawn_server(server_bin, other.path(), &env).await?;
            bench.bases.push(base);
            bench.others.push((tokio::sync::Mutex::new(child), other));
        }
        Ok(bench)
    }

    /// How many instances serve the load.
    pub fn instances(&self) -> usize {
        self.bases.len()
    }

    /// As [`Bench::start`], on an existing data directory and with extra environment.
    pub async fn start_in(
        server_bin: &Path,
        dir: tempfile::TempDir,
        env: &[(&str, &str)],
        connections: usize,
        mailboxes: usize,
        body_bytes: usize,
    ) -> Result<Self> {
        let (child, base) = spawn_server(server_bin, dir.path(), env).await?;
        let out = Command::new(server_bin)
            .args(["invite", "--data-dir"])
            .arg(dir.path())
            .output()
            .await
            .context("running candor-server invite")?;
        if !out.status.success() {
            bail!(
                "candor-server invite failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let invite = String::from_utf8(out.stdout)?
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .ok_or_else(|| anyhow!("candor-server invite printed nothing"))?
            .trim()
            .to_owned();

        let client = reqwest::Client::new();
        let rng = &mut rand::rng();
        let office = Identity::generate(rng);
        let card = office_card(&office, "bench", "Bench Office", &base)?;
        let signed: SignedCard = card.sign(&office)?;
        let resp = client
            .post(format!("{base}/v1/offices"))
            .json(&RegisterOffice {
                invite,
                card: signed,
            })
            .send()
            .await?;
        if !resp.status().is_success() {
            bail!(
                "registering the office: {} {}",
                resp.status(),
                resp.text().await?
            );
        }

        let text = "x".repeat(body_bytes);
        let mut cases = Vec::new();
        for _ in 0..mailboxes.max(connections) {
            let keys = Codename::generate(rng).derive(&office.fingerprint());
            let challenge: Challenge = client
                .get(format!("{base}/v1/pow"))
                .send()
                .await?
                .json()
                .await?;
            let first = Message::text(text.clone(), candor_protocol::Day::from_unix(now())).seal(
                &candor_protocol::seal::Sealer::visitor(&keys, office.kem().public_key(), true),
                rng,
            )?;
            let open = OpenMailbox {
                v: candor_protocol::api::OPEN_MAILBOX_VERSION.into(),
                office: card.id.clone(),
                mailbox: keys.mailbox,
                signing_key: keys.signing.public_key().to_bytes(),
                kem_key: keys.kem.public_key().to_bytes(),
                pow: challenge.solve(keys.mailbox.as_bytes()),
                envelope: first,
            };
            let body = serde_json::to_vec(&open)?;
            let resp = signed_request(
                &client,
                &base,
                &keys,
                reqwest::Method::POST,
                "/v1/mailboxes",
                body,
            )
            .await?;
            if !resp.status().is_success() {
                bail!(
                    "opening a mailbox: {} {}",
                    resp.status(),
                    resp.text().await?
                );
            }
            let envelope = Message::text(text.clone(), candor_protocol::Day::from_unix(now()))
                .seal(
                    &candor_protocol::seal::Sealer::visitor(&keys, office.kem().public_key(), true),
                    rng,
                )?
                .to_json();
            cases.push(Case { keys, envelope });
        }
        // Fetch needs something to fetch: one envelope per mailbox.
        let bench = Self {
            bases: vec![base.clone()],
            base,
            child: tokio::sync::Mutex::new(child),
            dir,
            cases,
            others: Vec::new(),
        };
        for i in 0..bench.cases.len() {
            bench.request(&client, Phase::Append, i, 0).await?;
        }
        Ok(bench)
    }

    /// The sealed envelope's size on the wire.
    pub fn sealed_len(&self) -> usize {
        self.cases.first().map_or(0, |c| c.envelope.len())
    }

    /// A client with its own connection.
    pub fn client(&self) -> Result<reqwest::Client> {
        Ok(reqwest::Client::builder()
            .pool_max_idle_per_host(1)
            .timeout(Duration::from_secs(30))
            .build()?)
    }

    /// Builds request `i` of `worker` in `phase`, signed now. The load phases call this
    /// before their clock starts: signing is the client's cost, not the relay's.
    pub fn prepare(&self, phase: Phase, worker: usize, i: usize) -> Prepared {
        let index = (worker + i * 7) % self.cases.len();
        let case = &self.cases[index];
        let (method, path, body): (_, _, &[u8]) = match phase {
            Phase::Health => (reqwest::Method::GET, "/v1/health".to_owned(), &[]),
            Phase::Append => (
                reqwest::Method::POST,
                format!("/v1/mailboxes/{}/envelopes", case.keys.mailbox),
                &case.envelope,
            ),
            Phase::Fetch => (
                reqwest::Method::GET,
                format!(
                    "/v1/mailboxes/{}/envelopes?after=0&limit=1",
                    case.keys.mailbox
                ),
                &[],
            ),
        };
        let headers = if phase == Phase::Health {
            Vec::new()
        } else {
            RequestAuth::sign(
                &case.keys.signing,
                Signer::Case,
                method.as_str(),
                &path,
                body,
                now(),
                &mut rand::rng(),
            )
            .header_values()
            .into_iter()
            .chain([RequestAuth::key_header(&case.keys.signing.public_key())])
            .collect()
        };
        Prepared {
            phase,
            method,
            url: format!("{}{path}", self.bases[worker % self.bases.len()]),
            headers,
            body: (phase == Phase::Append).then_some(index),
        }
    }

    /// Builds, signs and sends request `i` of `worker` in `phase`.
    pub async fn request(
        &self,
        client: &reqwest::Client,
        phase: Phase,
        worker: usize,
        i: usize,
    ) -> Result<()> {
        self.send(client, &self.prepare(phase, worker, i)).await
    }

    /// Sends a prepared request; errors on any non-2xx answer or an unexpected body.
    pub async fn send(&self, client: &reqwest::Client, prepared: &Prepared) -> Result<()> {
        let mut req = client.request(prepared.method.clone(), &prepared.url);
        for (name, value) in candor_protocol::request::HEADERS
            .iter()
            .chain([&candor_protocol::request::KEY_HEADER])
            .zip(&prepared.headers)
        {
            req = req.header(*name, value);
        }
        if let Some(case) = prepared.body {
            req = req
                .header("content-type", "application/json")
                .body(self.cases[case].envelope.clone());
        }
        let resp = req.send().await?;
        let phase = prepared.phase;
        let status = resp.status();
        let body = resp.bytes().await?;
        if !status.is_success() {
            bail!("{} answered {status}", phase.name());
        }
        match phase {
            Phase::Append => {
                serde_json::from_slice::<Appended>(&body)?;
            }
            Phase::Fetch => {
                let page: PageShape = serde_json::from_slice(&body)?;
                if page.envelopes.len() != 1 {
                    bail!("fetch returned {} envelopes", page.envelopes.len());
                }
            }
            Phase::Health => {}
        }
        Ok(())
    }

    pub async fn stop(&self) {
        let _ = self.child.lock().await.kill().await;
        for (child, _) in &self.others {
            let _ = child.lock().await.kill().await;
        }
    }

    /// The relay's process ID.
    pub async fn pid(&self) -> Option<u32> {
        self.child.lock().await.id()
    }

    /// Stops the relay gracefully (SIGINT: it drains and flushes) and starts it again on the
    /// same data directory with `env`; the office and mailboxes stay.
    pub async fn restart(self, server_bin: &Path, env: &[(&str, &str)]) -> Result<Self> {
        let mut child = self.child.into_inner();
        if let Some(pid) = child.id() {
            Command::new("kill")
                .args(["-INT", &pid.to_string()])
                .status()
                .await
                .context("running kill")?;
        }
        if tokio::time::timeout(Duration::from_secs(60), child.wait())
            .await
            .is_err()
        {
            child.kill().await?;
        }
        let (child, base) = spawn_server(server_bin, self.dir.path(), env).await?;
        Ok(Self {
            bases: vec![base.clone()],
            base,
            child: tokio::sync::Mutex::new(child),
            dir: self.dir,
            cases: self.cases,
            others: Vec::new(),
        })
    }
}

pub(crate) async fn signed_request(
    client: &reqwest::Client,
    base: &str,
    keys: &CaseKeys,
    method: reqwest::Method,
    path: &str,
    body: Vec<u8>,
) -> Result<reqwest::Response> {
    let auth = RequestAuth::sign(
        &keys.signing,
        Signer::Case,
        method.as_str(),
        path,
        &body,
        now(),
        &mut rand::rng(),
    );
    let mut req = client.request(method, format!("{base}{path}"));
    for (name, value) in candor_protocol::request::HEADERS
        .iter()
        .zip(auth.header_values())
    {
        req = req.header(*name, value);
    }
    // As every client does (`docs/protocol.md` §8).
    req = req.header(
        candor_protocol::request::KEY_HEADER,
        RequestAuth::key_header(&keys.signing.public_key()),
    );
    if !body.is_empty() {
        req = req.header("content-type", "application/json").body(body);
    }
    Ok(req.send().await?)
}

/// A fetch's answer as the load checks it: JSON with one envelope, counted and not decoded.
/// Decoding each envelope's base64 took 1.4% of the machine's CPU samples in a fetch phase
/// (`perf record -a`, 2026-12-06), CPU the relay being measured then lacked, for ciphertext
/// the bench never opens; the tests check the relay's pages in full.
#[derive(serde::Deserialize)]
struct PageShape {
    envelopes: Vec<serde::de::IgnoredAny>,
}
