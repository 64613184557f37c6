//! Oversize, deeply nested and huge bodies: each gets a bounded problem answer, a streamed
//! 50 MB body is cut off, and the relay's resident memory stays flat.

use std::time::Duration;

use candor_protocol::Signer;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::relay_with_office;

/// Generous bound on how much the relay's resident set may grow over the whole attack.
const RSS_GROWTH_BOUND_KB: u64 = 64 * 1024;
/// The relay's default envelope limit.
const MAX_ENVELOPE_BYTES: usize = 256 * 1024;
/// The streamed body's size.
const STREAM_BYTES: usize = 50 * 1024 * 1024;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_bodies_get_bounded_errors_and_memory_stays_flat() {
    // Arrange: a relay that has served some ordinary traffic.
    let (relay, api, office) = relay_with_office(&[], "limits").await;
    let case = api.open_case(&office).await;
    let append = format!("/v1/mailboxes/{}/envelopes", case.mailbox());
    let before = vm_rss_kb(relay.pid());

    // Act + Assert: 100 000 nested arrays, and as many nested objects, under the body limit.
    let arrays = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let objects = format!("{}0{}", r#"{"a":"#.repeat(100_000), "}".repeat(100_000));
    // A huge but flat document: a 900 KB array of numbers.
    let flat = format!("[{}0]", "0,".repeat(450_000));
    for body in [&arrays, &objects, &flat] {
        let answer = api
            .post_json("/v1/offices", body.clone().into_bytes())
            .await
            .unwrap();
        assert_eq!(
            answer.status,
            400,
            "{}",
            String::from_utf8_lossy(&answer.body)
        );
        let answer = api
            .signed(
                &case.keys.signing,
                Signer::Case,
                "POST",
                &append,
                body.as_bytes(),
            )
            .await
            .unwrap();
        // As an envelope, anything over the 256 KiB envelope limit is too large first.
        let expected = if body.len() > MAX_ENVELOPE_BYTES {
            413
        } else {
            400
        };
        assert_eq!(
            answer.status,
            expected,
            "{}",
            String::from_utf8_lossy(&answer.body)
        );
        // The answer is a short problem, not an echo of the input.
        assert!(answer.body.len() < 1024, "{} bytes", answer.body.len());
    }

    // Over the 1 MiB body limit with a Content-Length: refused before reading.
    let big = vec![b' '; 2 * 1024 * 1024];
    let answer = api.post_json("/v1/offices", big).await.unwrap();
    assert_eq!(answer.status, 413);
    // A declared 50 MB body that never comes.
    let declared = raw(
        relay.port,
        &format!(
            "POST /v1/offices HTTP/1.1\r\nHost: relay\r\nContent-Type: application/json\r\n\
         Content-Length: {STREAM_BYTES}\r\nConnection: close\r\n\r\n"
        ),
    )
    .await;
    assert!(declared.starts_with("HTTP/1.1 413"), "{declared}");

    // 50 MB streamed in chunks, three at once: the relay stops reading at its limit.
    let streams = (0..3).map(|_| stream_chunked(relay.port));
    for (answer, sent) in futures_join(streams).await {
        assert!(
            answer.starts_with("HTTP/1.1 413") || sent < STREAM_BYTES,
            "the relay read all {sent} bytes and answered: {answer}"
        );
    }

    // The relay still serves, and its memory stayed flat.
    assert_eq!(api.get("/v1/health").await.unwrap().status, 200);
    let after = vm_rss_kb(relay.pid());
    eprintln!("VmRSS before {before} kB, after {after} kB");
    assert!(
        after.saturating_sub(before) < RSS_GROWTH_BOUND_KB,
        "the relay's resident set grew from {before} kB to {after} kB"
    );
}

/// The process's resident set, from `/proc/<pid>/status`.
fn vm_rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("a VmRSS line")
}

/// Sends `request` on a fresh connection and returns what came back until the relay closed it
/// (bounded by a timeout).
async fn raw(port: u16, request: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer).into_owned()
}

/// Streams a chunked 50 MB JSON-typed body, reading the answer meanwhile. Returns the answer
/// and how many body bytes were written before the relay stopped taking them.
async fn stream_chunked(port: u16) -> (String, usize) {
    let stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let (mut read, mut write) = stream.into_split();
    let reader = tokio::spawn(async move {
        let mut answer = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(60), read.read_to_end(&mut answer)).await;
        String::from_utf8_lossy(&answer).into_owned()
    });
    let head = "POST /v1/offices HTTP/1.1\r\nHost: relay\r\nContent-Type: application/json\r\n\
                Transfer-Encoding: chunked\r\n\r\n";
    let chunk = vec![b' '; 64 * 1024];
    let mut sent = 0;
    if write.write_all(head.as_bytes()).await.is_ok() {
        while sent < STREAM_BYTES {
            let mut framed = format!("{:x}\r\n", chunk.len()).into_bytes();
            framed.extend_from_slice(&chunk);
            framed.extend_from_slice(b"\r\n");
            let wrote =
                tokio::time::timeout(Duration::from_secs(10), write.write_all(&framed)).await;
            if !matches!(wrote, Ok(Ok(()))) {
                break;
            }
            sent += chunk.len();
        }
        let _ = write.write_all(b"0\r\n\r\n").await;
    }
    drop(write);
    (reader.await.unwrap(), sent)
}

/// Runs futures concurrently and returns their outputs in order.
async fn futures_join<F: Future<Output = T> + Send + 'static, T: Send + 'static>(
    futures: impl Iterator<Item = F>,
) -> Vec<T> {
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for handle in handles {
        out.push(handle.await.unwrap());
    }
    out
}
