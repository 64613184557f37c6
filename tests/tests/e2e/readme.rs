//! The README's walk-through, pasted into a shell as a newcomer would: it must keep working as
//! commands change. Three things differ, each for a test's sake only: the binaries are the
//! ones this test suite built (not a release build), the relay listens on a free port (not
//! 8080) with the tests' low proof-of-work difficulty, and keystores use the test-only fast KDF.

use std::path::Path;
use std::process::Command;

use candor_tests::binaries;

/// The first ```sh block after the "## Walk-through" heading.
fn walk_through(readme: &str) -> String {
    let section = &readme[readme
        .find("## Walk-through")
        .expect("a walk-through section")..];
    let start = section.find("```sh\n").expect("a shell block") + 6;
    let end = start + section[start..].find("```").expect("the block's end");
    section[start..end].to_owned()
}

/// A free loopback port, for the walk-through's relay.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

#[test]
fn the_readme_walk_through_pastes_cleanly() {
    // Arrange
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .expect("the README");
    let script = walk_through(&readme);
    assert!(
        script.contains("candor raise") && script.contains("candor close"),
        "{script}"
    );
    let bins = binaries();
    let bin_dir = bins.candor.parent().expect("a bin directory");
    let port = free_port().to_string();
    let script = script
        .replace("cargo build --release -p candor-server -p candor\n", "")
        .replace(
            "export PATH=\"$PWD/target/release:$PATH\"",
            &format!("export PATH=\"{}:$PATH\"", bin_dir.display()),
        )
        .replace("127.0.0.1:8080", &format!("127.0.0.1:{port}"))
        .replace(
            "--data-dir \"$WORK/relay\" >",
            "--data-dir \"$WORK/relay\" --pow-difficulty 8 >",
        );

    // Act: `set -e`, so that the first command that fails ends it; the relay it starts in the
    // background is killed when the shell exits, however it exits, and the whole run is bounded.
    let output = Command::new("timeout")
        .arg("300")
        .arg("bash")
        .arg("-c")
        .arg(format!(
            "set -euo pipefail\ntrap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n{script}"
        ))
        .env("CANDOR_TEST_FAST_KDF", "1")
        .env("NO_COLOR", "1")
        .env_remove("CANDOR_PROXY")
        .output()
        .expect("run bash");

    // Assert
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(
        stdout.contains("The visitor writes down their codename: "),
        "{stdout}"
    );
    assert!(
        stdout.contains("How often do the hours change?"),
        "{stdout}"
    );
    assert!(stdout.contains("write again any time"), "{stdout}");
}
