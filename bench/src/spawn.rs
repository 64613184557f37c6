//! Starting a relay process for the bench: the real `candor-server` binary on loopback, port
//! 0, with the bench's quotas, and the URL it says it listens on (within 30 s).

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// Starts the relay on `dir` and waits until it listens.
pub(crate) async fn spawn_server(
    server_bin: &Path,
    dir: &Path,
    env: &[(&str, &str)],
) -> Result<(Child, String)> {
    let mut child = Command::new(server_bin)
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .env("CANDOR_POW_DIFFICULTY", "8")
        .env("CANDOR_MAX_ENVELOPES_PER_MAILBOX", "100000")
        .env("CANDOR_MAX_BYTES_PER_MAILBOX", "100000000000")
        // The office's cap must be at least the mailbox's, or the relay refuses to start.
        .env("CANDOR_MAX_BYTES_PER_OFFICE", "100000000000")
        // Its 64 case keys sign every append and fetch: at the default share of 10 000 a
        // window, a fast machine's rounds of a few seconds each used up their keys' shares.
        .env("CANDOR_SIGNED_REQUESTS_PER_KEY", "1000000")
        .env("RUST_LOG", "warn")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| {
            format!(
                "starting {} (build it with `cargo build --release -p candor-server`)",
                server_bin.display()
            )
        })?;
    let base = listening_url(&mut child).await?;
    Ok((child, base))
}

/// Reads the server's output until it says where it listens.
async fn listening_url(child: &mut Child) -> Result<String> {
    let stdout = child.stdout.take().ok_or_else(|| anyhow!("no stdout"))?;
    let stderr = child.stderr.take().ok_or_else(|| anyhow!("no stderr"))?;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<String>(16);
    for stream in [
        Box::new(stdout) as Box<dyn tokio::io::AsyncRead + Unpin + Send>,
        Box::new(stderr),
    ] {
        let tx = tx.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stream).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let _ = tx.send(line).await;
            }
        });
    }
    drop(tx);
    let found = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = rx.recv().await {
            if let Some(pos) = line.find("http://")
                && line.contains("listening")
            {
                let url = line[pos..].split_whitespace().next().unwrap_or("");
                return Some(url.to_owned());
            }
        }
        None
    })
    .await
    .context("the server did not say where it listens within 30 s")?;
    found.ok_or_else(|| anyhow!("the server exited before listening"))
}
