//! TLS to the database, against the test cluster's own CA (`pg-test-cluster.sh --tls`): the
//! relay connects and serves under `verify-full` with the right CA and under `require`, and
//! refuses to start when the certificate is another CA's, does not name the host, or when
//! `require` meets a server without TLS. Nothing falls back to plain text.

use std::path::Path;
use std::time::Duration;

use candor_tests::api::Api;
use candor_tests::{Relay, binaries};
use tokio::task::block_in_place;

use crate::{Cluster, Schema, database, tls_dir};

/// `url` with its host (an address) given as `hostaddr` and `localhost` as the name the
/// certificate must hold, and `params` appended.
fn by_name(url: &str, params: &str) -> String {
    let (head, rest) = url.split_once('@').expect("a URL with USER@HOST");
    let end = rest.find([':', '/']).expect("a URL with a port or a path");
    let (address, tail) = rest.split_at(end);
    with(
        &format!("{head}@localhost{tail}"),
        &format!("hostaddr={address}&{params}"),
    )
}

/// `url` with `params` appended to its query.
fn with(url: &str, params: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{params}")
}

fn root(dir: &Path, file: &str) -> String {
    format!("sslrootcert={}", dir.join(file).display())
}

/// Starts the real relay on `url`, which must refuse to start; returns what it said.
fn refused_at_start(url: &str) -> String {
    let data = tempfile::tempdir().expect("a temporary data directory");
    let out = assert_cmd::Command::new(&binaries().server)
        .env_clear()
        .args(["--listen", "127.0.0.1:0", "--store", url, "--data-dir"])
        .arg(data.path())
        .timeout(Duration::from_secs(60))
        .output()
        .expect("run candor-server");
    let said = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "it started on {url}: {said}");
    said
}

/// The relay on `url` registers an office and lists the case a visitor opened.
async fn serves(url: &str) {
    let relay = block_in_place(|| Relay::start_with(&[("CANDOR_STORE", url)]));
    let api = Api::new(&relay.url);
    let invite = block_in_place(|| relay.invite());
    let office = api.register(&invite, "ombuds", 90).await;
    let case = api.open_case(&office).await;
    assert_eq!(api.inbox(&office).await, [case.mailbox()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_verify_full_with_the_right_ca_the_relay_connects_and_serves() {
    let (Some(database), Some(tls)) = (database(), tls_dir()) else {
        return;
    };
    // Arrange
    let schema = block_in_place(|| Schema::new(&database));
    let url = by_name(
        &schema.url(),
        &format!("sslmode=verify-full&{}", root(&tls, "ca.crt")),
    );

    // Act + Assert
    serves(&url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_verify_full_a_certificate_from_another_ca_is_refused() {
    let (Some(database), Some(tls)) = (database(), tls_dir()) else {
        return;
    };
    // Arrange
    let schema = block_in_place(|| Schema::new(&database));
    let url = by_name(
        &schema.url(),
        &format!("sslmode=verify-full&{}", root(&tls, "other-ca.crt")),
    );

    // Act
    let said = block_in_place(|| refused_at_start(&url));

    // Assert
    assert!(
        said.contains("TLS certificate was refused under sslmode=verify-full")
            && said.contains("UnknownIssuer")
            && said.contains("sslrootcert names the CA"),
        "{said}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_verify_full_a_certificate_for_another_host_is_refused_and_verify_ca_takes_it() {
    let (Some(database), Some(tls)) = (database(), tls_dir()) else {
        return;
    };
    // Arrange: the certificate names `localhost`; the URL names the address.
    let schema = block_in_place(|| Schema::new(&database));
    let ca = root(&tls, "ca.crt");

    // Act
    let said = block_in_place(|| {
        refused_at_start(&with(&schema.url(), &format!("sslmode=verify-full&{ca}")))
    });
    let checked = block_in_place(|| {
        assert_cmd::Command::new(&binaries().server)
            .env_clear()
            .args(["migrate", "--check", "--store"])
            .arg(with(&schema.url(), &format!("sslmode=verify-ca&{ca}")))
            .timeout(Duration::from_secs(60))
            .output()
            .expect("run candor-server migrate --check")
    });

    // Assert
    assert!(
        said.contains("refused under sslmode=verify-full")
            && said.contains("not valid for name")
            && said.contains("does not name the host"),
        "{said}"
    );
    assert!(
        checked.status.success(),
        "{}",
        String::from_utf8_lossy(&checked.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn require_connects_over_tls_and_refuses_a_server_without_it() {
    let (Some(database), Some(_)) = (database(), tls_dir()) else {
        return;
    };
    // Arrange: the TLS cluster, and a cluster of this test's own without TLS.
    let schema = block_in_place(|| Schema::new(&database));
    let plain = block_in_place(Cluster::start);

    // Act
    serves(&with(&schema.url(), "sslmode=require")).await;
    let said = block_in_place(|| refused_at_start(&with(&plain.url(), "sslmode=require")));

    // Assert
    assert!(
        said.contains("sslmode=require") && said.contains("does not support TLS"),
        "{said}"
    );
}
