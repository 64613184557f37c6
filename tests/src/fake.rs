//! A fake relay that answers GET requests with canned bodies by path prefix: enough to serve a
//! tampered office card, a forged reply or a hostile problem document to the visitor's client.

use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

const NOT_FOUND: &[u8] = br#"{"type":"urn:candor:problem:not-found","title":"Not found","status":404,"detail":"nothing here"}"#;

/// A running fake relay; stopped on drop.
pub struct FakeRelay {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl FakeRelay {
    /// Serves `body` with status 200 and `Content-Type: application/json` to every request.
    pub fn serving(body: Vec<u8>) -> Self {
        Self::routes(vec![("/".to_owned(), body)])
    }

    /// Serves the body of the first route whose prefix the request path starts with, and a 404
    /// problem document otherwise.
    pub fn routes(routes: Vec<(String, Vec<u8>)>) -> Self {
        Self::answering(routes.into_iter().map(|(p, b)| (p, 200, b)).collect())
    }

    /// Like [`FakeRelay::routes`], with routes made once the fake's URL is known: for an office
    /// card that has to name the relay serving it.
    pub fn routes_for(make: impl FnOnce(&str) -> Vec<(String, Vec<u8>)>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the fake relay");
        let port = listener.local_addr().expect("an address").port();
        let routes = make(&format!("http://127.0.0.1:{port}"));
        Self::answering_on(
            listener,
            routes.into_iter().map(|(p, b)| (p, 200, b)).collect(),
        )
    }

    /// Answers every request with `status` and `body`, as `application/json`.
    pub fn refusing(status: u16, body: Vec<u8>) -> Self {
        Self::answering(vec![("/".to_owned(), status, body)])
    }

    /// Like [`FakeRelay::routes`], each route with its own status.
    fn answering(routes: Vec<(String, u16, Vec<u8>)>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the fake relay");
        Self::answering_on(listener, routes)
    }

    /// Serves `routes` on a bound `listener`.
    fn answering_on(listener: TcpListener, routes: Vec<(String, u16, Vec<u8>)>) -> Self {
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let port = listener.local_addr().expect("an address").port();
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            while !stopping.load(Ordering::Relaxed) {
                let Ok((mut conn, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                };
                let _ = conn.set_nonblocking(false);
                let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
                // Read the request head; the fake answers GETs, which have no body.
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match conn.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&head);
                let path = head.split(' ').nth(1).unwrap_or("");
                let (status, body) = routes
                    .iter()
                    .find(|(prefix, _, _)| path.starts_with(prefix.as_str()))
                    .map_or((404, NOT_FOUND), |(_, status, body)| {
                        (*status, body.as_slice())
                    });
                let _ = write!(
                    conn,
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\n\
                     content-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = conn.write_all(body);
            }
        });
        Self {
            url: format!("http://127.0.0.1:{port}"),
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for FakeRelay {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
