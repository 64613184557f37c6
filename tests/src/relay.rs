//! A real `candor-server` on 127.0.0.1, port 0, with a temporary data directory and a low proof
//! of work difficulty. It is killed when the guard drops.

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::binaries;

/// How long the relay may take to start listening.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// The proof-of-work difficulty for tests: real work, but quick in a debug build.
pub const TEST_POW_DIFFICULTY: &str = "8";

/// A running relay; killed on drop.
pub struct Relay {
    child: Child,
    data: TempDir,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// The port it listens on.
    pub port: u16,
    log: Arc<Mutex<String>>,
    env: Vec<(String, String)>,
}

impl Relay {
    /// Starts a relay with an empty store and waits until it listens.
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    /// Starts a relay with an empty store and extra environment variables (such as
    /// `CANDOR_SWEEP_INTERVAL_SECS` or `RUST_LOG`), and waits until it listens.
    pub fn start_with(env: &[(&str, &str)]) -> Self {
        let data = tempfile::tempdir().expect("a temporary data directory");
        Self::start_in(data, env)
    }

    /// Starts a relay on an existing data directory (a store another relay left), and waits
    /// until it listens.
    pub fn start_in(data: TempDir, env: &[(&str, &str)]) -> Self {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let log = Arc::new(Mutex::new(String::new()));
        let (child, port) = launch(data.path(), &env, &log);
        Self {
            child,
            data,
            url: format!("http://127.0.0.1:{port}"),
            port,
            log,
            env,
        }
    }

    /// Starts the stopped (or killed) relay again on the same data directory, with the same
    /// environment. It listens on a new port; `url` and `port` follow.
    pub fn restart(&mut self) {
        self.stop();
        let (child, port) = launch(self.data.path(), &self.env, &self.log);
        self.child = child;
        self.port = port;
        self.url = format!("http://127.0.0.1:{port}");
    }

    /// Starts the stopped relay again on the same data directory and the same port, so that
    /// the URL a card names reaches it again (a relay back after an outage).
    pub fn start_again_on_same_port(&mut self) {
        let (child, port) = launch_on(self.data.path(), &self.env, &self.log, self.port);
        assert_eq!(port, self.port);
        self.child = child;
    }

    /// Like [`Relay::restart`], on the same port, so that cards naming the relay's URL stay
    /// right.
    pub fn restart_on_same_port(&mut self) {
        self.stop();
        self.start_again_on_same_port();
    }

    /// Like [`Relay::restart`], with one environment variable set or replaced.
    pub fn restart_with(&mut self, key: &str, value: &str) {
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.to_owned(), value.to_owned()));
        self.restart();
    }

    /// Like [`Relay::restart_on_same_port`], with one environment variable set or replaced
    /// (the same relay moved to another store, its cards still right).
    pub fn restart_on_same_port_with(&mut self, key: &str, value: &str) {
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.to_owned(), value.to_owned()));
        self.restart_on_same_port();
    }

    /// The relay process's ID (for `/proc/<pid>/status`).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the relay process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// The relay's data directory.
    pub fn data_dir(&self) -> &Path {
        self.data.path()
    }

    /// Mints a one-time registration token with `candor-server invite`.
    pub fn invite(&self) -> String {
        let output = assert_cmd::Command::new(&binaries().server)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .arg("invite")
            .arg("--data-dir")
            .arg(self.data.path())
            .timeout(Duration::from_secs(60))
            .output()
            .expect("run candor-server invite");
        assert!(
            output.status.success(),
            "candor-server invite failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let stdout = String::from_utf8_lossy(&output.stdout);
        stdout
            .lines()
            .map(str::trim)
            .rfind(|l| !l.is_empty())
            .expect("candor-server invite printed a token")
            .to_owned()
    }

    /// Stops the relay with SIGKILL (no graceful shutdown, no final flush), keeping its data
    /// directory for inspection. Every acknowledged write is on disk (the relay fsyncs before
    /// answering 2xx), so a kill loses nothing.
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Runs `candor-server check` on the stopped relay's store and returns its report, such as
    /// `2 offices, 0 mailboxes, 0 envelopes, 0 handoff packages, 2 used tokens`.
    pub fn check_store(&self) -> String {
        let output = assert_cmd::Command::new(&binaries().server)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .arg("check")
            .arg("--data-dir")
            .arg(self.data.path())
            .timeout(Duration::from_secs(60))
            .output()
            .expect("run candor-server check");
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(
            output.status.success(),
            "candor-server check failed:\n{stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        );
        stdout
    }

    /// What the relay printed so far.
    pub fn log(&self) -> String {
        self.log.lock().expect("log lock").clone()
    }

    /// How many requests the relay has answered on the route pattern `route` (such as
    /// `/v1/mailboxes/{mailbox}/envelopes`) with `method` and `status`, as its own metrics
    /// listener counts them (the last "metrics at" line it printed).
    pub fn answered(&self, method: &str, route: &str, status: u16) -> u64 {
        let log = self.log();
        let url = log
            .lines()
            .filter_map(|l| l.strip_prefix("metrics at "))
            .next_back()
            .expect("the relay serves metrics");
        let text = reqwest::blocking::get(url.trim())
            .and_then(reqwest::blocking::Response::text)
            .expect("the relay's metrics");
        let series = format!(
            "candor_http_requests_total{{route=\"{route}\",method=\"{method}\",status=\"{status}\"}} "
        );
        text.lines()
            .find_map(|l| l.strip_prefix(&series))
            .map_or(0, |n| n.trim().parse().expect("a count"))
    }
}

/// Spawns `candor-server` on `data` and waits until it says which port it listens on. Its
/// output is appended to `log`.
fn launch(data: &Path, env: &[(String, String)], log: &Arc<Mutex<String>>) -> (Child, u16) {
    launch_on(data, env, log, 0)
}

/// As [`launch`], on `port` (0: any free one).
fn launch_on(
    data: &Path,
    env: &[(String, String)],
    log: &Arc<Mutex<String>>,
    port: u16,
) -> (Child, u16) {
    let mut child = Command::new(&binaries().server)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs(env.iter().map(|(k, v)| (k, v)))
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"))
        .arg("--data-dir")
        .arg(data)
        .arg("--pow-difficulty")
        .arg(TEST_POW_DIFFICULTY)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start candor-server");

    // Read both streams: the "listening on" line may come on either.
    let (tx, rx) = mpsc::channel::<String>();
    let out = child.stdout.take().expect("piped stdout");
    let err = child.stderr.take().expect("piped stderr");
    for stream in [
        Box::new(out) as Box<dyn std::io::Read + Send>,
        Box::new(err),
    ] {
        let tx = tx.clone();
        let log = Arc::clone(log);
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                log.lock().expect("log lock").push_str(&format!("{line}\n"));
                let _ = tx.send(line);
            }
        });
    }
    drop(tx);

    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                if let Some(port) = listening_port(&line) {
                    return (child, port);
                }
            }
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "candor-server did not report `listening on http://127.0.0.1:PORT` \
                     within {START_TIMEOUT:?}; its output:\n{}",
                    log.lock().expect("log lock")
                );
            }
        }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The port in a line like `… listening on http://127.0.0.1:PORT …`.
fn listening_port(line: &str) -> Option<u16> {
    let rest = &line[line.find("listening on http://127.0.0.1:")? + 30..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_port_in_the_listening_line() {
        assert_eq!(
            listening_port("INFO candor: listening on http://127.0.0.1:40123 (pow 8)"),
            Some(40123)
        );
        assert_eq!(listening_port("starting"), None);
    }
}
