//! A round-robin TCP forwarder standing in for the load balancer in front of several relay
//! instances: each new connection goes to the next backend in turn, and the forwarder counts
//! how many went to each, so that a test can show that every instance served.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

/// A running forwarder; stopped on drop.
pub struct Balancer {
    /// `http://127.0.0.1:PORT`: the relay URL that cards and addresses name.
    pub url: String,
    served: Arc<Mutex<Vec<usize>>>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Balancer {
    /// Starts forwarding a free loopback port to `backends` (`127.0.0.1:PORT` each), in turn.
    pub fn start(backends: Vec<String>) -> Self {
        assert!(!backends.is_empty(), "a balancer needs a backend");
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind the balancer");
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let port = listener
            .local_addr()
            .expect("the balancer's address")
            .port();
        let served = Arc::new(Mutex::new(vec![0; backends.len()]));
        let (stop, stopped) = oneshot::channel();
        let counts = Arc::clone(&served);
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime for the balancer");
            runtime.block_on(async move {
                let listener = TcpListener::from_std(listener).expect("a tokio listener");
                let next = AtomicUsize::new(0);
                let accept = async {
                    loop {
                        let Ok((mut client, _)) = listener.accept().await else {
                            continue;
                        };
                        let turn = next.fetch_add(1, Ordering::Relaxed) % backends.len();
                        counts.lock().unwrap()[turn] += 1;
                        let backend = backends[turn].clone();
                        tokio::spawn(async move {
                            if let Ok(mut server) = TcpStream::connect(&backend).await {
                                let _ =
                                    tokio::io::copy_bidirectional(&mut client, &mut server).await;
                            }
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
            url: format!("http://127.0.0.1:{port}"),
            served,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// How many connections went to each backend so far.
    pub fn served(&self) -> Vec<usize> {
        self.served.lock().unwrap().clone()
    }
}

impl Drop for Balancer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
