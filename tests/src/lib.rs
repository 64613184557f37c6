//! Support for Candor's end-to-end tests: the real `candor-server` and `candor` binaries, a
//! relay on loopback with a temporary store, each party with its own temporary home, and a
//! SOCKS5 proxy that sends `.onion` names to the loopback relay.
//!
//! Nothing here reaches beyond 127.0.0.1, and everything is bounded in time.

// Test support: failing loudly, with the command's output, is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod api;
pub mod balancer;
pub mod fake;
pub mod mitm;
pub mod relay;
pub mod socks;
pub mod terminal;

use std::path::{Path, PathBuf};
use std::process::Command as StdCommand;
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::Value;
use tempfile::TempDir;

pub use relay::Relay;

/// How long one `candor` command may run before the test fails.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(120);

/// The keystore passphrase every test party uses.
pub const PASSPHRASE: &str = "correct horse battery staple";

/// Paths of the two binaries under test.
pub struct Binaries {
    /// `candor`.
    pub candor: PathBuf,
    /// `candor-server`.
    pub server: PathBuf,
}

/// Builds both binaries once per test process, with the profile this test was built with, and
/// returns their paths. `cargo test` builds only the binaries of the package under test, so
/// this runs `cargo build` itself (a no-op when they are up to date) and takes the paths from
/// cargo's own report rather than guessing them.
pub fn binaries() -> &'static Binaries {
    static BINARIES: OnceLock<Binaries> = OnceLock::new();
    BINARIES.get_or_init(build)
}

fn build() -> Binaries {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate lives in the workspace");
    let mut cmd = StdCommand::new(cargo);
    cmd.current_dir(workspace).args([
        "build",
        "-p",
        "candor",
        "-p",
        "candor-server",
        "--bins",
        "--message-format=json-render-diagnostics",
    ]);
    // Same profile as this test binary: target/<profile>/deps/e2e-….
    let exe = std::env::current_exe().expect("the test binary's path");
    let profile = exe
        .parent()
        .and_then(Path::parent)
        .and_then(Path::file_name)
        .and_then(|n| n.to_str())
        .unwrap_or("debug");
    match profile {
        "debug" => {}
        "release" => {
            cmd.arg("--release");
        }
        other => {
            cmd.args(["--profile", other]);
        }
    }
    let output = cmd.output().expect("run cargo build");
    assert!(
        output.status.success(),
        "cargo build of the binaries failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut candor = None;
    let mut server = None;
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let Ok(msg) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let Some(exe) = msg["executable"].as_str() else {
            continue;
        };
        match msg["target"]["name"].as_str() {
            Some("candor") => candor = Some(PathBuf::from(exe)),
            Some("candor-server") => server = Some(PathBuf::from(exe)),
            _ => {}
        }
    }
    Binaries {
        candor: candor.expect("cargo reported the candor binary"),
        server: server.expect("cargo reported the candor-server binary"),
    }
}

/// One person using `candor`: their own empty home, and the keystore passphrase.
pub struct Party {
    home: TempDir,
    proxy: Option<String>,
}

impl Default for Party {
    fn default() -> Self {
        Self::new()
    }
}

impl Party {
    /// A party with a fresh, empty home.
    pub fn new() -> Self {
        Self {
            home: tempfile::tempdir().expect("a temporary home"),
            proxy: None,
        }
    }

    /// Sends this party's traffic through a SOCKS5 proxy (`CANDOR_PROXY`).
    pub fn with_proxy(mut self, proxy: String) -> Self {
        self.proxy = Some(proxy);
        self
    }

    /// The party's `CANDOR_HOME`.
    pub fn home(&self) -> &Path {
        self.home.path()
    }

    /// A `candor` invocation with this party's environment and nothing else from ours.
    pub fn candor(&self, args: &[&str]) -> Invocation {
        let mut cmd = StdCommand::new(&binaries().candor);
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.home.path())
            .env("CANDOR_HOME", self.home.path())
            .env("CANDOR_PASSPHRASE", PASSPHRASE)
            .env("CANDOR_TEST_FAST_KDF", "1")
            .env("NO_COLOR", "1")
            .args(args);
        if let Some(proxy) = &self.proxy {
            cmd.env("CANDOR_PROXY", proxy);
        }
        Invocation {
            cmd,
            stdin: Vec::new(),
            shown: args.join(" "),
        }
    }
}

/// A command about to run.
pub struct Invocation {
    cmd: StdCommand,
    stdin: Vec<u8>,
    shown: String,
}

impl Invocation {
    /// Sets an environment variable.
    pub fn env(mut self, key: &str, value: impl AsRef<std::ffi::OsStr>) -> Self {
        self.cmd.env(key, value);
        self
    }

    /// Removes an environment variable.
    pub fn env_remove(mut self, key: &str) -> Self {
        self.cmd.env_remove(key);
        self
    }

    /// What the command reads on stdin (nothing, by default).
    pub fn stdin(mut self, text: &str) -> Self {
        self.stdin = text.as_bytes().to_vec();
        self
    }

    /// Runs the command with `terminal` as its stdin (stdout and stderr stay pipes), to
    /// completion or the timeout.
    pub fn run_on(self, terminal: &terminal::Terminal) -> Run {
        terminal.run_on(self.cmd, self.shown)
    }

    /// Runs the command with `terminal` as stdin and stderr, and types `secret` at the hidden
    /// prompt containing `prompt`. The run's stderr is what the terminal showed.
    pub fn type_secret(self, terminal: &mut terminal::Terminal, prompt: &str, secret: &str) -> Run {
        terminal.type_secret(self.cmd, self.shown, prompt, secret)
    }

    /// Runs the command with `terminal` as stdin and stderr, and answers each prompt in turn:
    /// for each `(prompt, keys)`, waits for `prompt` to show, then types `keys`. The run's
    /// stderr is what the terminal showed.
    pub fn converse(self, terminal: &mut terminal::Terminal, answers: &[(&str, &str)]) -> Run {
        terminal.converse(self.cmd, self.shown, answers)
    }

    /// Runs the command with its stdin (see [`Invocation::stdin`]) piped, while its prompts
    /// read `terminal` as the controlling terminal (`/dev/tty`) and stderr shows there, as when a
    /// person pipes a message into `candor` at a shell. Each step's keys are made when its
    /// prompt shows. The run's stderr is what the terminal showed.
    pub fn converse_piped(
        self,
        terminal: &mut terminal::Terminal,
        steps: Vec<terminal::Step<'_>>,
    ) -> Run {
        terminal.converse_with(self.cmd, self.shown, Some(self.stdin), steps)
    }

    /// As [`Invocation::converse`], with each step's keys made when its prompt shows, so that a
    /// test can act between prompts (stop the relay, say).
    pub fn converse_steps(
        self,
        terminal: &mut terminal::Terminal,
        steps: Vec<terminal::Step<'_>>,
    ) -> Run {
        terminal.converse_with(self.cmd, self.shown, None, steps)
    }

    /// Runs the command to completion (or the timeout).
    pub fn run(self) -> Run {
        let mut cmd = assert_cmd::Command::from_std(self.cmd);
        // Always give stdin, so that it is closed after writing and never blocks.
        cmd.timeout(COMMAND_TIMEOUT).write_stdin(self.stdin);
        let output = cmd.output().expect("run candor");
        Run {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            shown: self.shown,
        }
    }

    /// Runs the command and insists that it succeeds.
    pub fn ok(self) -> Run {
        self.run().success()
    }
}

/// What a finished command left.
pub struct Run {
    /// The exit code; `None` if killed (for example by the timeout).
    pub code: Option<i32>,
    /// Everything on stdout.
    pub stdout: String,
    /// Everything on stderr.
    pub stderr: String,
    pub(crate) shown: String,
}

impl Run {
    /// Panics, showing the output, unless the command exited 0.
    pub fn success(self) -> Self {
        self.expect_code(0)
    }

    /// Panics, showing the output, unless the command exited with `code`.
    pub fn expect_code(self, code: i32) -> Self {
        assert_eq!(
            self.code,
            Some(code),
            "`candor {}` exited {:?}, expected {code}\n--- stdout\n{}\n--- stderr\n{}",
            self.shown,
            self.code,
            self.stdout,
            self.stderr
        );
        self
    }

    /// Stdout as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "`candor {}` did not print JSON ({e}):\n{}",
                self.shown, self.stdout
            )
        })
    }
}

/// Writes `text` to a file in a fresh temporary directory, for `--message-file`.
pub fn message_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write a message file");
    path
}

/// Every regular file under `dir` whose raw bytes contain `needle`.
pub fn files_containing(dir: &Path, needle: &[u8]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d)
            .expect("read a data directory")
            .flatten()
        {
            let path = entry.path();
            let kind = entry.file_type().expect("a file type");
            if kind.is_dir() {
                stack.push(path);
            } else if kind.is_file() {
                let bytes = std::fs::read(&path).unwrap_or_default();
                if !needle.is_empty() && bytes.windows(needle.len()).any(|w| w == needle) {
                    found.push(path);
                }
            }
        }
    }
    found
}
