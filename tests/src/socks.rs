//! A small SOCKS5 proxy (RFC 1928: no authentication, CONNECT only) standing in for Tor. It sends
//! `NAME.onion:PORT` to the loopback relay at `127.0.0.1:PORT`, refuses every other destination,
//! and records the names it was asked for, so that a test can prove that DNS went through it,
//! and the bytes each client sent, so that a test can read the requests' headers.

use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

/// A running proxy; stopped on drop.
pub struct Socks5 {
    /// `socks5h://127.0.0.1:PORT`, for `--proxy`.
    pub url: String,
    seen: Arc<Mutex<Vec<String>>>,
    sent: Arc<Mutex<Vec<Vec<u8>>>>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Socks5 {
    /// Starts the proxy on a free loopback port.
    pub fn start() -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let port = listener.local_addr().expect("the proxy's address").port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sent = Arc::new(Mutex::new(Vec::new()));
        let (stop, stopped) = oneshot::channel();
        let log = Log {
            names: Arc::clone(&seen),
            sent: Arc::clone(&sent),
        };
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime for the proxy");
            runtime.block_on(async move {
                let listener = TcpListener::from_std(listener).expect("a tokio listener");
                let accept = async {
                    loop {
                        let Ok((client, _)) = listener.accept().await else {
                            continue;
                        };
                        let log = log.clone();
                        tokio::spawn(async move {
                            let _ = serve(client, log).await;
                        });
                    }
                };
                tokio::select! {
                    () = accept => {}
                    _ = stopped => {}
                }
            });
        });
        Self {
            url: format!("socks5h://127.0.0.1:{port}"),
            seen,
            sent,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// The destination host names clients asked for, in order.
    pub fn seen(&self) -> Vec<String> {
        self.seen.lock().expect("proxy log").clone()
    }

    /// The head (request line and headers) of every HTTP request clients sent through the
    /// proxy, connection by connection, in order. A connection's bytes are recorded before
    /// they are passed on, so a request the relay has answered is here.
    pub fn request_heads(&self) -> Vec<String> {
        let sent = self.sent.lock().expect("proxy log");
        sent.iter().flat_map(|bytes| heads(bytes)).collect()
    }
}

/// Splits one connection's bytes into its requests' heads, skipping each body by its
/// `content-length` (the client sends no chunked bodies).
fn heads(mut bytes: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    while let Some(end) = bytes.windows(4).position(|w| w == b"\r\n\r\n") {
        let head = String::from_utf8_lossy(&bytes[..end]).into_owned();
        let body: usize = header(&head, "content-length")
            .and_then(|value| value.parse().ok())
            .unwrap_or(0);
        bytes = bytes.get(end + 4 + body..).unwrap_or_default();
        out.push(head);
    }
    out
}

/// The value of the header `name` in an HTTP request's head, if it has one.
pub fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.trim())
}

/// What the proxy records: the names asked for, and each connection's bytes from the client.
#[derive(Clone)]
struct Log {
    names: Arc<Mutex<Vec<String>>>,
    sent: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl Drop for Socks5 {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn serve(mut client: TcpStream, log: Log) -> std::io::Result<()> {
    // Greeting: VER, NMETHODS, METHODS; we choose "no authentication".
    let mut head = [0u8; 2];
    client.read_exact(&mut head).await?;
    let mut methods = vec![0u8; usize::from(head[1])];
    client.read_exact(&mut methods).await?;
    if head[0] != 5 || !methods.contains(&0) {
        client.write_all(&[5, 0xff]).await?;
        return Ok(());
    }
    client.write_all(&[5, 0]).await?;

    // Request: VER, CMD, RSV, ATYP, DST.ADDR, DST.PORT.
    let mut req = [0u8; 4];
    client.read_exact(&mut req).await?;
    let host = match req[3] {
        1 => {
            let mut ip = [0u8; 4];
            client.read_exact(&mut ip).await?;
            std::net::Ipv4Addr::from(ip).to_string()
        }
        3 => {
            let len = client.read_u8().await?;
            let mut name = vec![0u8; usize::from(len)];
            client.read_exact(&mut name).await?;
            String::from_utf8_lossy(&name).into_owned()
        }
        4 => {
            let mut ip = [0u8; 16];
            client.read_exact(&mut ip).await?;
            std::net::Ipv6Addr::from(ip).to_string()
        }
        _ => return Ok(()),
    };
    let port = client.read_u16().await?;
    log.names.lock().expect("proxy log").push(host.clone());

    // Only CONNECT to an onion name; it goes to the loopback relay on the same port.
    if req[1] != 1 || !host.ends_with(".onion") {
        client.write_all(&[5, 2, 0, 1, 0, 0, 0, 0, 0, 0]).await?;
        return Ok(());
    }
    let Ok(upstream) = TcpStream::connect(("127.0.0.1", port)).await else {
        client.write_all(&[5, 5, 0, 1, 0, 0, 0, 0, 0, 0]).await?;
        return Ok(());
    };
    client.write_all(&[5, 0, 0, 1, 0, 0, 0, 0, 0, 0]).await?;
    let connection = {
        let mut sent = log.sent.lock().expect("proxy log");
        sent.push(Vec::new());
        sent.len() - 1
    };
    let (mut from_client, mut to_client) = client.into_split();
    let (mut from_relay, mut to_relay) = upstream.into_split();
    let up = async {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = from_client.read(&mut buf).await?;
            if n == 0 {
                return to_relay.shutdown().await;
            }
            log.sent.lock().expect("proxy log")[connection].extend_from_slice(&buf[..n]);
            to_relay.write_all(&buf[..n]).await?;
        }
    };
    let down = async {
        tokio::io::copy(&mut from_relay, &mut to_client).await?;
        to_client.shutdown().await
    };
    tokio::try_join!(up, down)?;
    Ok(())
}
