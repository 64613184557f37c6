//! Issue 20, finding 2: envelope pages against slow readers, on the real `candor-server`
//! binary. A fetch built its whole page in memory (up to a mailbox's 16 MiB) and held it until
//! the client read it: 200 connections that sent one signed GET each and never read took the
//! relay from 12 MB to 3.25 GB.

use candor_protocol::api::EnvelopePage;
use candor_protocol::{RequestAuth, Signer};
use candor_server::clock::{Clock, SystemClock};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::binary::{OpenHelper, Remote, run, start};
use crate::helpers::{TestCase, TestOffice, register_body};

/// Envelopes in the mailbox, each about 200 KiB of JSON: about 11 MiB in all.
const ENVELOPES: u64 = 56;
/// Connections that ask for the whole mailbox and then read nothing but the status line.
const SLOW_READERS: usize = 32;

/// The relay's resident memory, in bytes, from `/proc/<pid>/status`.
fn rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap();
    kb * 1024
}

/// Sends a signed GET of `path` on a connection with a small receive buffer, and reads only
/// the status line; the connection is returned open, its response unread.
async fn slow_reader(
    addr: std::net::SocketAddr,
    case: &TestCase,
    path: &str,
) -> (tokio::net::TcpStream, u16) {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stream = socket.connect(addr).await.unwrap();
    let auth = RequestAuth::sign(
        &case.keys.signing,
        Signer::Case,
        "GET",
        path,
        b"",
        SystemClock.now(),
        &mut rand::rng(),
    );
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n");
    for (name, value) in candor_protocol::request::HEADERS
        .iter()
        .zip(auth.header_values())
    {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while !line.ends_with(b"\r\n") {
        assert_eq!(stream.read(&mut byte).await.unwrap(), 1, "closed early");
        line.push(byte[0]);
    }
    let status = String::from_utf8_lossy(&line)
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap();
    (stream, status)
}

#[tokio::test]
async fn issue_20_slow_readers_of_a_full_mailbox_do_not_grow_the_relay() {
    // Arrange: a relay binary with a mailbox of about 11 MiB.
    let dir = tempfile::tempdir().unwrap();
    let (child, url) = start(dir.path());
    let remote = Remote {
        url: url.clone(),
        client: reqwest::Client::new(),
    };
    let out = run(&["invite", "--valid-days", "1"], dir.path());
    let invite = String::from_utf8(out.stdout).unwrap().trim().to_owned();
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
    let case = TestCase::new(&office);
    OpenHelper { remote: &remote }.open(&office, &case).await;
    let text = "x".repeat(150_000);
    let envelopes = format!("/v1/mailboxes/{}/envelopes", case.mailbox());
    for _ in 0..ENVELOPES {
        let json = case.envelope(&office, &text).to_json();
        let res = remote
            .signed(
                &case.keys.signing,
                Signer::Case,
                "POST",
                &envelopes,
                Some(&json),
            )
            .await;
        assert_eq!(res.status(), 201);
    }
    let addr: std::net::SocketAddr = url.strip_prefix("http://").unwrap().parse().unwrap();
    let baseline = rss(child.0.id());

    // Act: many connections ask for the whole mailbox and never read the answer.
    let mut held = Vec::new();
    let mut statuses = Vec::new();
    for _ in 0..SLOW_READERS {
        let path = format!("{envelopes}?limit=500");
        let (stream, status) = slow_reader(addr, &case, &path).await;
        held.push(stream);
        statuses.push(status);
    }
    let grown = rss(child.0.id()).saturating_sub(baseline);

    // Assert: memory stays within a bound that one unbounded page per reader would pass many
    // times over; a few readers are served, the rest told to come back.
    assert!(
        grown < 48 * 1024 * 1024,
        "the relay grew by {} MiB holding {SLOW_READERS} unread pages",
        grown / (1024 * 1024)
    );
    assert!(statuses.contains(&200), "{statuses:?}");
    assert!(
        statuses.iter().all(|s| [200, 429].contains(s)),
        "{statuses:?}"
    );

    // A reader that reads gets the whole mailbox, a page of at most about 1 MiB at a time.
    drop(held);
    let (mut after, mut seen, mut pages) = (0, 0, 0);
    loop {
        let path = format!("{envelopes}?after={after}&limit=500");
        let res = remote
            .signed(&case.keys.signing, Signer::Case, "GET", &path, None)
            .await;
        if res.status() == 429 {
            // A slow reader's page not yet dropped by the relay.
            tokio::task::yield_now().await;
            continue;
        }
        assert_eq!(res.status(), 200);
        let bytes = res.bytes().await.unwrap();
        assert!(bytes.len() < 1024 * 1024 + 64 * 1024, "{}", bytes.len());
        let page: EnvelopePage = serde_json::from_slice(&bytes).unwrap();
        if page.envelopes.is_empty() {
            break;
        }
        seen += page.envelopes.len() as u64;
        pages += 1;
        after = page.next;
    }
    // Every appended envelope, and the case's first, sent with its opening.
    assert_eq!(seen, ENVELOPES + 1);
    assert!(pages > 1);
}
