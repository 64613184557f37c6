//! `sslmode` and `sslrootcert` as the URL gives them: parsed as libpq's, taken out of what the
//! driver sees, and refused with a typed error when they cannot mean what they say.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::tls::{RootCert, SslMode, TlsError, TlsSettings, split};

#[test]
fn the_tls_parameters_are_taken_out_and_the_rest_kept() {
    // Arrange
    let url = "postgres://u@h/db?options=-csearch_path%3Ds&sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem";

    // Act
    let (rest, tls) = split(url).unwrap();

    // Assert
    assert_eq!(rest, "postgres://u@h/db?options=-csearch_path%3Ds");
    assert_eq!(
        tls,
        TlsSettings {
            mode: SslMode::VerifyFull,
            root: Some(RootCert::File("/etc/ca.pem".into())),
        }
    );
}

#[test]
fn without_sslmode_the_mode_is_prefer_as_in_libpq() {
    let (rest, tls) = split("postgres://u@h/db").unwrap();
    assert_eq!(rest, "postgres://u@h/db");
    assert_eq!(tls.mode, SslMode::Prefer);
    assert_eq!(tls.root, None);
    let (_, system) = split("postgres://u@h/db?sslmode=verify-ca&sslrootcert=system").unwrap();
    assert_eq!(system.root, Some(RootCert::System));
}

#[test]
fn an_unknown_mode_is_refused() {
    let err = split("postgres://u@h/db?sslmode=verify_full").unwrap_err();
    assert!(
        matches!(err, TlsError::Mode(ref m) if m == "verify_full"),
        "{err}"
    );
}

#[test]
fn a_verifying_mode_without_roots_is_refused_rather_than_checking_nothing() {
    for mode in ["verify-ca", "verify-full"] {
        let (_, tls) = split(&format!("postgres://u@h/db?sslmode={mode}")).unwrap();
        let err = tls.connector().err().expect("refused");
        assert!(matches!(err, TlsError::NoRoots(m) if m == mode), "{err}");
    }
}

#[test]
fn roots_that_cannot_be_read_or_hold_no_certificate_are_refused() {
    // Arrange
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "not a certificate\n").unwrap();
    let missing = dir.path().join("missing.pem");

    // Act
    let errors: Vec<TlsError> = [&empty, &missing]
        .iter()
        .map(|path| {
            let url = format!(
                "postgres://u@h/db?sslmode=verify-full&sslrootcert={}",
                path.display()
            );
            split(&url).unwrap().1.connector().err().expect("refused")
        })
        .collect();

    // Assert
    for err in &errors {
        assert!(matches!(err, TlsError::Roots { .. }), "{err}");
    }
    assert!(
        errors[0].to_string().contains("no PEM certificate"),
        "{}",
        errors[0]
    );
}

#[test]
fn roots_with_sslmode_disable_are_refused_as_a_contradiction() {
    let (_, tls) = split("postgres://u@h/db?sslmode=disable&sslrootcert=system").unwrap();
    assert!(matches!(tls.connector().err(), Some(TlsError::RootsUnused)));
}
