//! Slowloris: many connections that send their headers one byte a second. The relay keeps
//! serving everyone else meanwhile, and drops the slow ones (actix-web's client request
//! timeout, 5 s by default, which the relay does not raise).

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::relay_with_office;

/// Slow connections opened at once (bounded; loopback only).
const SLOW: usize = 200;
/// How long each slow connection dribbles, at most.
const DRIBBLE: Duration = Duration::from_secs(10);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_connections_do_not_starve_other_clients() {
    // Arrange
    let (relay, api, office) = relay_with_office(&[], "slowloris").await;
    let port = relay.port;

    // Act: SLOW connections each send a partial request head, a byte a second.
    let mut slow = tokio::task::JoinSet::new();
    for _ in 0..SLOW {
        slow.spawn(dribble(port));
    }
    tokio::time::sleep(Duration::from_secs(2)).await;

    // Assert: while they hang, ordinary clients are served. The timeout on each request is a
    // liveness bound (did it complete at all?), not a performance measure.
    let started = Instant::now();
    for _ in 0..3 {
        assert_eq!(api.get("/v1/health").await.unwrap().status, 200);
        let case = api.open_case(&office).await;
        let envelope = case.envelope(&office, "served despite the slow ones");
        assert!(api.append(&case, &envelope).await.unwrap().is_ok());
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    eprintln!(
        "ordinary traffic served alongside {SLOW} slow connections ({:?})",
        started.elapsed()
    );

    // And the relay hung up on the slow connections instead of holding them for ever.
    let dropped = slow.join_all().await.into_iter().filter(|d| *d).count();
    assert_eq!(
        dropped, SLOW,
        "the relay kept some slow connections open for {DRIBBLE:?}"
    );
}

/// Opens a connection and sends a request head a byte a second for up to `DRIBBLE`. Returns
/// whether the relay closed the connection (or answered) before the head was done.
async fn dribble(port: u16) -> bool {
    let Ok(stream) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await else {
        // Refused outright: the relay did not hold it either.
        return true;
    };
    let (mut read, mut write) = stream.into_split();
    let closed = tokio::spawn(async move {
        let mut buf = [0_u8; 512];
        // EOF, an error or an answer (408) all mean the relay is done with us.
        tokio::time::timeout(DRIBBLE + Duration::from_secs(2), read.read(&mut buf))
            .await
            .is_ok()
    });
    let head = b"GET /v1/health HTTP/1.1\r\nHost: relay\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaa";
    let deadline = Instant::now() + DRIBBLE;
    for byte in head {
        if Instant::now() >= deadline || closed.is_finished() {
            break;
        }
        if write.write_all(&[*byte]).await.is_err() {
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    closed.await.unwrap_or(false)
}
