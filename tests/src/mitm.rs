//! A relay in the middle: forwards every request to a real relay on loopback and, when told to,
//! rewrites the answers of one path. It stands for a malicious relay (or a network attacker
//! without TLS) that lists keys of its own for a case, and it records what the client sent.

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// Rewrites the body of a successful (2xx) answer to a request whose path starts with the prefix
/// it was given.
pub type Rewrite = Box<dyn Fn(&[u8]) -> Vec<u8> + Send + Sync>;

/// A running forwarding proxy; stopped on drop.
pub struct Mitm {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// While set, answers to the rewritten path are rewritten.
    pub rewriting: Arc<AtomicBool>,
    seen: Arc<Mutex<Vec<(String, String)>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Mitm {
    /// Forwards to `upstream`, rewriting answers to paths starting with `prefix` with `rewrite`
    /// while [`Mitm::rewriting`] is set (it starts unset).
    pub fn start(upstream: &str, prefix: &str, rewrite: Rewrite) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let port = listener.local_addr().expect("an address").port();
        let stop = Arc::new(AtomicBool::new(false));
        let rewriting = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (stopping, on, log) = (stop.clone(), rewriting.clone(), seen.clone());
        let upstream = upstream.to_owned();
        let prefix = prefix.to_owned();
        let thread = std::thread::spawn(move || {
            let client = reqwest::blocking::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("a client");
            while !stopping.load(Ordering::Relaxed) {
                let Ok((conn, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                };
                let rewrite = (on.load(Ordering::Relaxed)).then_some(&rewrite);
                serve(conn, &client, &upstream, &prefix, rewrite, &log);
            }
        });
        Self {
            url: format!("http://127.0.0.1:{port}"),
            rewriting,
            seen,
            stop,
            thread: Some(thread),
        }
    }

    /// Every `(method, path)` forwarded so far.
    pub fn seen(&self) -> Vec<(String, String)> {
        self.seen.lock().expect("the log").clone()
    }
}

/// One request: read it whole, forward it, answer and close.
fn serve(
    mut conn: TcpStream,
    client: &reqwest::blocking::Client,
    upstream: &str,
    prefix: &str,
    rewrite: Option<&Rewrite>,
    log: &Mutex<Vec<(String, String)>>,
) {
    let _ = conn.set_nonblocking(false);
    let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match conn.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
        }
    };
    let head = String::from_utf8_lossy(&raw[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut start = lines.next().unwrap_or("").split(' ');
    let (method, path) = (
        start.next().unwrap_or("GET").to_owned(),
        start.next().unwrap_or("/").to_owned(),
    );
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    while raw.len() < head_end + length {
        match conn.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
        }
    }
    log.lock()
        .expect("the log")
        .push((method.clone(), path.clone()));
    let mut request = client.request(
        method.parse().unwrap_or(reqwest::Method::GET),
        format!("{upstream}{path}"),
    );
    for (k, v) in &headers {
        if !matches!(k.as_str(), "host" | "connection" | "content-length") {
            request = request.header(k.as_str(), v.as_str());
        }
    }
    let Ok(answer) = request
        .body(raw[head_end..head_end + length].to_vec())
        .send()
    else {
        return;
    };
    let status = answer.status().as_u16();
    let kind = answer
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json")
        .to_owned();
    let mut body = answer.bytes().map(|b| b.to_vec()).unwrap_or_default();
    if let Some(rewrite) = rewrite
        && path.starts_with(prefix)
        && (200..300).contains(&status)
    {
        body = rewrite(&body);
    }
    let _ = write!(
        conn,
        "HTTP/1.1 {status} X\r\ncontent-type: {kind}\r\ncontent-length: {}\r\n\
         connection: close\r\n\r\n",
        body.len()
    );
    let _ = conn.write_all(&body);
}

impl Drop for Mitm {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
