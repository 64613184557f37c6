//! The real `candor-server` binary: the listening line, `invite` while the relay holds the
//! store's lock, a crash (SIGKILL) after acknowledged writes, graceful SIGTERM, and `check`.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use candor_protocol::Signer;
use candor_protocol::api::{Appended, EnvelopePage};
use candor_server::clock::{Clock, ManualClock, SystemClock};

use crate::helpers::{TestCase, TestOffice, register_body};

const BIN: &str = env!("CARGO_BIN_EXE_candor-server");

/// A relay process that is killed if the test fails before stopping it.
pub(crate) struct Relay(pub(crate) Child);

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the relay binary on port 0 and reads its URL from the first line of stdout.
pub(crate) fn start(dir: &Path) -> (Relay, String) {
    let mut child = Command::new(BIN)
        .args([
            "--listen",
            "127.0.0.1:0",
            "--pow-difficulty",
            "8",
            "--data-dir",
        ])
        .arg(dir)
        .env("CANDOR_WORKERS", "1")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    (Relay(child), url)
}

pub(crate) fn run(args: &[&str], dir: &Path) -> std::process::Output {
    Command::new(BIN)
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .output()
        .unwrap()
}

/// A minimal client of the real binary, using the same helpers as the in-process tests.
pub(crate) struct Remote {
    pub(crate) url: String,
    pub(crate) client: reqwest::Client,
}

impl Remote {
    pub(crate) async fn signed(
        &self,
        key: &candor_protocol::SigningSecretKey,
        signer: Signer,
        method: &str,
        path: &str,
        body: Option<&[u8]>,
    ) -> reqwest::Response {
        let auth = candor_protocol::RequestAuth::sign(
            key,
            signer,
            method,
            path,
            body.unwrap_or(b""),
            SystemClock.now(),
            &mut rand::rng(),
        );
        let mut req = self.client.request(
            reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
            format!("{}{path}", self.url),
        );
        for (name, value) in candor_protocol::request::HEADERS
            .iter()
            .zip(auth.header_values())
        {
            req = req.header(*name, value);
        }
        if let Some(body) = body {
            req = req
                .header("content-type", "application/json")
                .body(body.to_vec());
        }
        req.send().await.unwrap()
    }
}

#[tokio::test]
async fn invite_works_while_the_relay_runs_and_acknowledged_writes_survive_a_crash() {
    // Arrange: a running relay binary.
    let dir = tempfile::tempdir().unwrap();
    let (mut child, url) = start(dir.path());
    let remote = Remote {
        url: url.clone(),
        client: reqwest::Client::new(),
    };

    // Act: mint an invite with the relay holding the store's lock, and register with it.
    let out = run(&["invite", "--valid-days", "2"], dir.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let invite = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert_eq!(invite.split('.').count(), 3);
    let office = TestOffice::new("ombuds", 90);
    let res = remote
        .client
        .post(format!("{url}/v1/offices"))
        .header("content-type", "application/json")
        .body(register_body(&invite, &office.signed))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);

    // `check` refuses to run against a live relay.
    let out = run(&["check"], dir.path());
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("in use by another candor-server"));

    // Open a case and append concurrently; remember every acknowledged write.
    let case = TestCase::new(&office);
    let app_like = OpenHelper { remote: &remote };
    app_like.open(&office, &case).await;
    let mut tasks = Vec::new();
    let case = std::sync::Arc::new(case);
    let office = std::sync::Arc::new(office);
    let remote = std::sync::Arc::new(remote);
    for i in 0..24 {
        let (case, office, remote) = (case.clone(), office.clone(), remote.clone());
        tasks.push(tokio::spawn(async move {
            let envelope = case.envelope(&office, &format!("crash test {i}"));
            let path = format!("/v1/mailboxes/{}/envelopes", case.mailbox());
            let res = remote
                .signed(
                    &case.keys.signing,
                    Signer::Case,
                    "POST",
                    &path,
                    Some(&envelope.to_json()),
                )
                .await;
            assert_eq!(res.status(), 201);
            (
                res.json::<Appended>().await.unwrap().seq,
                envelope.to_json(),
            )
        }));
    }
    // The first envelope was acknowledged with the opening.
    let mut acknowledged = BTreeMap::from([(1, case.first.to_json())]);
    for t in tasks {
        let (seq, json) = t.await.unwrap();
        acknowledged.insert(seq, json);
    }

    // Crash: SIGKILL, no graceful flush.
    child.0.kill().unwrap();
    child.0.wait().unwrap();

    // Assert: restarted, the relay has every acknowledged write, byte for byte.
    let (child, url) = start(dir.path());
    let remote = Remote {
        url,
        client: reqwest::Client::new(),
    };
    let path = format!("/v1/mailboxes/{}/envelopes?limit=500", case.mailbox());
    let res = remote
        .signed(&case.keys.signing, Signer::Case, "GET", &path, None)
        .await;
    assert_eq!(res.status(), 200);
    let page: EnvelopePage = res.json().await.unwrap();
    let found: BTreeMap<u64, Vec<u8>> = page
        .envelopes
        .into_iter()
        .map(|e| (e.seq, e.envelope.to_json()))
        .collect();
    assert_eq!(
        found.keys().collect::<Vec<_>>(),
        acknowledged.keys().collect::<Vec<_>>()
    );
    assert!(found == acknowledged, "an acknowledged envelope changed");

    // SIGTERM drains and exits cleanly; then `check` finds every invariant holding.
    let status = Command::new("kill")
        .args(["-TERM", &child.0.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut child = child;
    let exit = child.0.wait().unwrap();
    assert!(exit.success(), "{exit:?}");
    let out = run(&["check"], dir.path());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains("1 offices, 1 mailboxes, 25 envelopes"),
        "{stdout}"
    );
    assert!(stdout.contains("ok: every invariant holds"));
}

pub(crate) struct OpenHelper<'a> {
    pub(crate) remote: &'a Remote,
}

impl OpenHelper<'_> {
    pub(crate) async fn open(&self, office: &TestOffice, case: &TestCase) {
        let res = self
            .remote
            .client
            .get(format!("{}/v1/pow", self.remote.url))
            .send()
            .await
            .unwrap();
        let challenge =
            candor_protocol::pow::Challenge::from_json(&res.bytes().await.unwrap()).unwrap();
        let body = candor_protocol::api::OpenMailbox {
            v: 2,
            office: office.id(),
            mailbox: case.keys.mailbox,
            signing_key: case.keys.signing.public_key().to_bytes(),
            kem_key: case.keys.kem.public_key().to_bytes(),
            pow: challenge.solve(case.keys.mailbox.as_bytes()),
            envelope: case.first.clone(),
        };
        let body = serde_json::to_vec(&body).unwrap();
        let res = self
            .remote
            .signed(
                &case.keys.signing,
                Signer::Case,
                "POST",
                "/v1/mailboxes",
                Some(&body),
            )
            .await;
        assert_eq!(res.status(), 201);
    }
}

#[tokio::test]
async fn check_reports_a_broken_store() {
    // Arrange: a store with one real case, stopped, then an orphan envelope written behind
    // the relay's back.
    let app = crate::helpers::spawn_app_in(
        tempfile::tempdir().unwrap(),
        ManualClock::new(SystemClock.now()),
        |_| {},
    )
    .await;
    let office = app.register("ombuds", 90).await;
    let case = app.open_case(&office).await;
    let (dir, _) = app.stop().await;
    let out = run(&["check"], dir.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    {
        let db = sled::open(dir.path().join("store")).unwrap();
        // An envelope of a mailbox that does not exist (layout: `server/src/store/sled.rs`).
        let tree = db.open_tree("relay").unwrap();
        let mut key = [7u8; 25];
        key[0] = b'e';
        key[17..].copy_from_slice(&1u64.to_be_bytes());
        tree.insert(key, b"not an envelope".to_vec()).unwrap();
        db.flush().unwrap();
    }

    // Act
    let out = run(&["check"], dir.path());

    // Assert
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("problem:"), "{stdout}");
    assert!(
        !stdout.contains(&case.mailbox()),
        "full mailbox IDs are not printed"
    );
}

#[test]
fn a_bad_setting_stops_start_up_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .env("CANDOR_SWEEP_BATCH", "0")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("sweep_batch"));
    let out = Command::new(BIN)
        .args(["--data-dir"])
        .arg(dir.path())
        .env("CANDOR_LISTEN", "not-an-address")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("listen"));
    let out = Command::new(BIN)
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .env("CANDOR_TLS_CERT", dir.path().join("missing-cert.pem"))
        .env("CANDOR_TLS_KEY", dir.path().join("missing-key.pem"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("tls_cert"));
}

/// The store's log segments, in order.
fn segments(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir.join("store").join("candor-log"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
}

#[tokio::test]
async fn damage_to_a_synced_record_stops_the_relay_and_check_read_only_reports_it() {
    // Arrange: a store whose first log segment holds acknowledged writes and is followed by a
    // later one (each start begins a segment), then one bit flipped inside the first.
    let app = crate::helpers::spawn_app_in(
        tempfile::tempdir().unwrap(),
        ManualClock::new(SystemClock.now()),
        |_| {},
    )
    .await;
    let office = app.register("ombuds", 90).await;
    let case = app.open_case(&office).await;
    let envelope = case.envelope(&office, "kept in the first segment");
    let res = app
        .append(&case.keys.signing, Signer::Case, &case.mailbox(), &envelope)
        .await;
    assert_eq!(res.status(), 201);
    let (dir, clock) = app.stop().await;
    let app = crate::helpers::spawn_app_in(dir, clock, |_| {}).await;
    let (dir, _) = app.stop().await;
    let first = segments(dir.path())[0].clone();
    let mut bytes = std::fs::read(&first).unwrap();
    assert!(bytes.len() > 100, "the first segment holds the writes");
    bytes[40] ^= 0x04;
    std::fs::write(&first, &bytes).unwrap();
    let files = |d: &Path| -> Vec<(std::path::PathBuf, Vec<u8>)> {
        crate::helpers::files_under(d)
            .into_iter()
            .map(|p| {
                let b = std::fs::read(&p).unwrap();
                (p, b)
            })
            .collect::<BTreeMap<_, _>>()
            .into_iter()
            .collect()
    };

    // Act
    let served = Command::new(BIN)
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    let checked = run(&["check"], dir.path());
    let before = files(dir.path());
    let inspected = run(&["check", "--read-only"], dir.path());

    // Assert: the relay and a plain check refuse, naming the file and the offset.
    let name = first.file_name().unwrap().to_str().unwrap();
    for (what, out) in [("serve", &served), ("check", &checked)] {
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{what} accepted a damaged store");
        assert!(
            stderr.contains(name) && stderr.contains("at byte 0") && stderr.contains("--read-only"),
            "{what}: {stderr}"
        );
    }
    // check --read-only reports the damage as a problem, and changes no file.
    let stdout = String::from_utf8_lossy(&inspected.stdout);
    assert_eq!(inspected.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("problem:")
            && stdout.contains(name)
            && stdout.contains("damaged at byte 0"),
        "{stdout}"
    );
    assert_eq!(
        files(dir.path()),
        before,
        "check --read-only changed the store"
    );
}

#[tokio::test]
async fn an_invite_for_a_directory_without_a_relay_key_is_refused_until_init() {
    // Arrange: a directory that is not (yet) a relay's.
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("relay");

    // Act
    let refused = run(&["invite"], &data);
    let created_by_refusal = data.exists();
    let init = run(&["init"], &data);
    let again = run(&["init"], &data);
    let minted = run(&["invite"], &data);

    // Assert: refused in words, nothing created; after init an invite registers an office at
    // the relay that then starts on that directory.
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        said.contains("holds no relay key") && said.contains("candor-server init"),
        "{said}"
    );
    assert!(
        !created_by_refusal,
        "a refused invite created {}",
        data.display()
    );
    assert!(init.status.success() && again.status.success());
    assert!(String::from_utf8_lossy(&again.stdout).contains("nothing changed"));
    assert!(minted.status.success());
    let invite = String::from_utf8(minted.stdout).unwrap().trim().to_owned();
    let (_relay, url) = start(&data);
    let office = TestOffice::new("ombuds", 90);
    let res = reqwest::Client::new()
        .post(format!("{url}/v1/offices"))
        .header("content-type", "application/json")
        .body(register_body(&invite, &office.signed))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
}

#[test]
fn start_up_errors_are_said_once_in_words_and_leave_nothing_behind() {
    // Arrange: a running relay, a file where a directory should be.
    let dir = tempfile::tempdir().unwrap();
    let (_relay, url) = start(dir.path());
    let port = url.rsplit(':').next().unwrap().to_owned();
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"not a directory").unwrap();
    let fresh = dir.path().join("fresh");
    let serve = |data: &Path, listen: &str| {
        Command::new(BIN)
            .args(["--listen", listen, "--data-dir"])
            .arg(data)
            .stdout(Stdio::null())
            .output()
            .unwrap()
    };

    // Act
    let second = serve(dir.path(), "127.0.0.1:0");
    let checked = run(&["check"], dir.path());
    let taken = serve(&fresh, &format!("127.0.0.1:{port}"));
    let not_a_dir = serve(&file.join("data"), "127.0.0.1:0");

    // Assert: each refused, in one sentence that says what to do, with no Rust debug output.
    for (out, words) in [
        (&second, "in use by another candor-server"),
        (&checked, "in use by another candor-server"),
        (&taken, "already in use"),
        (&not_a_dir, "cannot use the data directory"),
    ] {
        assert!(!out.status.success());
        let said = String::from_utf8_lossy(&out.stderr);
        assert_eq!(said.matches(words).count(), 1, "{said}");
        assert!(
            !said.contains("Os {") && !said.contains("os error"),
            "{said}"
        );
    }
    assert!(
        !fresh.exists(),
        "a relay that could not listen left {}",
        fresh.display()
    );
}
