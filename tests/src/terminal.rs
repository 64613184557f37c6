//! A pseudo-terminal for `candor`, so that a test can reach what only a person at a terminal
//! sees: the editor, and hidden prompts.
//!
//! `Terminal::run_on` gives the command the terminal as stdin only; stdout and stderr stay
//! pipes. `Terminal::type_secret` gives it stdin and stderr, waits for a prompt, waits until
//! the command has turned echo off (a hidden prompt flushes what was typed before), types the
//! answer, and returns everything the terminal showed as the run's stderr.
//! `Terminal::converse_with` answers a whole conversation, and can pipe stdin while the
//! prompts read the terminal, as `echo … | candor reply` does at a shell.

use std::fs::File;
use std::io::{Read as _, Write as _};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use rustix::pty::{OpenptFlags, grantpt, openpt, ptsname, unlockpt};
use rustix::termios::{LocalModes, tcgetattr};

use crate::{COMMAND_TIMEOUT, Run};

/// One pseudo-terminal. The test keeps its primary side; each run opens the secondary side for
/// the command, and nobody else holds it, so reading the primary ends when the command does.
pub struct Terminal {
    primary: File,
    secondary: String,
}

impl Default for Terminal {
    fn default() -> Self {
        Self::open()
    }
}

impl Terminal {
    /// Opens a new pseudo-terminal.
    pub fn open() -> Self {
        let primary = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY).expect("open a pty");
        grantpt(&primary).expect("grantpt");
        unlockpt(&primary).expect("unlockpt");
        let name = ptsname(&primary, Vec::new()).expect("ptsname");
        Self {
            primary: File::from(primary),
            secondary: name.to_str().expect("a pty name is ASCII").to_owned(),
        }
    }

    fn secondary(&self) -> File {
        std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&self.secondary)
            .expect("open the pseudo-terminal's secondary side")
    }

    /// Runs `cmd` with this terminal as stdin, to completion or the timeout.
    pub(crate) fn run_on(&self, mut cmd: Command, shown: String) -> Run {
        let child = cmd
            .stdin(self.secondary())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run candor");
        drop(cmd);
        finish(child, None, shown)
    }

    /// Runs `cmd` with this terminal as stdin and stderr, and types `secret` at the hidden
    /// prompt that contains `prompt`.
    pub(crate) fn type_secret(
        &mut self,
        mut cmd: Command,
        shown: String,
        prompt: &str,
        secret: &str,
    ) -> Run {
        let secondary = self.secondary();
        let mut child = cmd
            .stdin(secondary.try_clone().expect("a second handle"))
            .stdout(Stdio::piped())
            .stderr(secondary)
            .spawn()
            .expect("run candor");
        // Only the command holds the secondary side now.
        drop(cmd);
        let mut shown_here = Vec::new();
        let mut buf = [0u8; 1024];
        while !String::from_utf8_lossy(&shown_here).contains(prompt) {
            match self.primary.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => shown_here.extend_from_slice(&buf[..n]),
            }
        }
        // The prompt is drawn before echo goes off; poll until it has, while the command runs
        // and within the timeout. Without a prompt, the command has ended: type nothing.
        if String::from_utf8_lossy(&shown_here).contains(prompt) {
            self.wait_for_echo_off(&mut child);
            let _ = self.primary.write_all(format!("{secret}\r").as_bytes());
        }
        let mut primary = self.primary.try_clone().expect("a second handle");
        let rest = std::thread::spawn(move || {
            let mut rest = Vec::new();
            // Ends with EIO once the command and its children have closed the terminal.
            let _ = primary.read_to_end(&mut rest);
            rest
        });
        finish(child, Some((shown_here, rest)), shown)
    }

    /// Polls until the terminal's echo is off, the command has ended, or the timeout.
    fn wait_for_echo_off(&self, child: &mut Child) {
        for _ in 0..COMMAND_TIMEOUT.as_millis() / 10 {
            let echo = tcgetattr(&self.primary)
                .map(|t| t.local_modes.contains(LocalModes::ECHO))
                .unwrap_or(false);
            if !echo || child.try_wait().ok().flatten().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Runs `cmd` with this terminal as stdin and stderr, and answers its prompts in order: for
    /// each `(prompt, keys)`, waits until `prompt` shows after the previous answer, then types
    /// `keys`. A prompt that does not show within the timeout ends the typing. The run's stderr
    /// is what the terminal showed.
    pub(crate) fn converse(
        &mut self,
        cmd: Command,
        shown: String,
        answers: &[(&str, &str)],
    ) -> Run {
        let steps = answers
            .iter()
            .map(|(prompt, keys)| Step::new(prompt, move || (*keys).to_owned()))
            .collect();
        self.converse_with(cmd, shown, None, steps)
    }

    /// As [`Terminal::converse`], with each step's keys made when its prompt shows (so that a
    /// step can act on the world first: stop the relay, say), and with `piped` on stdin when
    /// given. Then the command reads the terminal as its controlling terminal, `/dev/tty`, as
    /// a person's shell gives it: `cmd` runs in a session of its own that opens the terminal
    /// (`setsid`, then a shell's `exec 3<>TTY`), so that no `unsafe` `pre_exec` is needed.
    pub(crate) fn converse_with(
        &mut self,
        cmd: Command,
        shown: String,
        piped: Option<Vec<u8>>,
        mut steps: Vec<Step<'_>>,
    ) -> Run {
        let secondary = self.secondary();
        let mut cmd = match &piped {
            None => {
                let mut cmd = cmd;
                cmd.stdin(secondary.try_clone().expect("a second handle"));
                cmd
            }
            Some(_) => {
                let mut wrapped = in_own_session(&cmd, &self.secondary);
                wrapped.stdin(Stdio::piped());
                wrapped
            }
        };
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(secondary)
            .spawn()
            .expect("run candor");
        drop(cmd);
        if let Some(bytes) = piped {
            let mut stdin = child.stdin.take().expect("piped stdin");
            std::thread::spawn(move || {
                let _ = stdin.write_all(&bytes);
            });
        }
        // Read the screen on a thread, so that waiting for a prompt can time out.
        let mut primary = self.primary.try_clone().expect("a second handle");
        let (chunks, screen) = std::sync::mpsc::channel::<Vec<u8>>();
        std::thread::spawn(move || {
            let mut buf = [0u8; 1024];
            // Ends with EIO once the command and its children have closed the terminal.
            while let Ok(n) = primary.read(&mut buf) {
                if n == 0 || chunks.send(buf[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        let mut seen = Vec::new();
        let mut from = 0;
        'steps: for step in &mut steps {
            let prompt = step.prompt.as_bytes();
            let deadline = std::time::Instant::now() + COMMAND_TIMEOUT;
            loop {
                let found = seen[from..].windows(prompt.len()).position(|w| w == prompt);
                if let Some(at) = found {
                    from += at + prompt.len();
                    break;
                }
                let left = deadline.saturating_duration_since(std::time::Instant::now());
                match screen.recv_timeout(left) {
                    Ok(chunk) => seen.extend(chunk),
                    Err(_) => break 'steps,
                }
            }
            if step.hidden {
                self.wait_for_echo_off(&mut child);
            }
            let keys = (step.keys)();
            let _ = self.primary.write_all(keys.as_bytes());
        }
        let rest = std::thread::spawn(move || screen.iter().flatten().collect());
        finish(child, Some((seen, rest)), shown)
    }
}

/// One step of a conversation: a prompt to wait for, and what to type when it shows.
pub struct Step<'a> {
    prompt: String,
    keys: Box<dyn FnMut() -> String + 'a>,
    hidden: bool,
}

impl<'a> Step<'a> {
    /// Waits for `prompt`, then calls `keys` and types what it returns.
    pub fn new(prompt: &str, keys: impl FnMut() -> String + 'a) -> Self {
        Self {
            prompt: prompt.to_owned(),
            keys: Box::new(keys),
            hidden: false,
        }
    }

    /// Waits for the hidden prompt `prompt` and for the command to turn echo off (a hidden
    /// prompt discards what was typed before), then types `secret` and Enter.
    pub fn secret(prompt: &str, secret: &str) -> Self {
        let line = format!("{secret}\r");
        Self {
            prompt: prompt.to_owned(),
            keys: Box::new(move || line.clone()),
            hidden: true,
        }
    }
}

/// `cmd`, run by `setsid -w sh -c 'exec 3<>"$0"; exec "$@"' TTY PROGRAM ARGS…`: the session
/// leader opens the terminal, which makes it the session's controlling terminal, and then
/// becomes `cmd`, with `cmd`'s environment (every variable it sets; the rest cleared, as the
/// tests' commands clear theirs).
fn in_own_session(cmd: &Command, tty: &str) -> Command {
    let mut wrapped = Command::new("setsid");
    wrapped
        .arg("-w")
        .arg("sh")
        .arg("-c")
        .arg("exec 3<>\"$0\"; exec \"$@\"")
        .arg(tty)
        .arg(cmd.get_program())
        .args(cmd.get_args())
        .env_clear();
    for (key, value) in cmd.get_envs() {
        if let Some(value) = value {
            wrapped.env(key, value);
        }
    }
    wrapped
}

type Screen = (Vec<u8>, std::thread::JoinHandle<Vec<u8>>);

/// Waits for `child`, killing it at the timeout, and collects its output. With a `screen`,
/// stderr is what the terminal showed.
fn finish(mut child: Child, screen: Option<Screen>, shown: String) -> Run {
    let read = |pipe: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            String::from_utf8_lossy(&bytes).into_owned()
        })
    };
    let stdout = read(child.stdout.take().map(|p| Box::new(p) as _));
    let stderr = read(child.stderr.take().map(|p| Box::new(p) as _));
    let status = match wait_timeout::ChildExt::wait_timeout(&mut child, COMMAND_TIMEOUT)
        .expect("wait for candor")
    {
        Some(status) => status,
        None => {
            let _ = child.kill();
            child.wait().expect("wait for the killed candor")
        }
    };
    let stderr = match screen {
        Some((mut before, rest)) => {
            before.extend(rest.join().expect("terminal reader"));
            String::from_utf8_lossy(&before).into_owned()
        }
        None => stderr.join().expect("stderr reader"),
    };
    Run {
        code: status.code(),
        stdout: stdout.join().expect("stdout reader"),
        stderr,
        shown,
    }
}
