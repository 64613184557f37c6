//! TLS to the database, as libpq's `sslmode` and `sslrootcert` ask for it, over rustls.
//!
//! The `postgres` client knows only `disable`, `prefer` and `require`, and refuses the URL
//! parameters it does not know, so [`split`] takes `sslmode` and `sslrootcert` out of the URL
//! before it is parsed, and [`TlsSettings::connector`] builds a verifier that checks what the
//! mode promises:
//!
//! | `sslmode`     | TLS                          | the server's certificate                   |
//! |---------------|------------------------------|--------------------------------------------|
//! | `disable`     | never                        | —                                          |
//! | `prefer`      | if the server offers it      | not checked, unless `sslrootcert` is given |
//! | `require`     | always                       | not checked, unless `sslrootcert` is given |
//! | `verify-ca`   | always                       | signed by a root in `sslrootcert`          |
//! | `verify-full` | always                       | that, and names the host of the URL        |
//!
//! With `sslrootcert` given, `prefer` and `require` check the chain as `verify-ca` does (libpq
//! does the same when its root file exists). A refused certificate is an error in every mode:
//! nothing falls back to plain text once TLS was attempted. `sslrootcert=system` trusts
//! Mozilla's roots (the `webpki-roots` bundle built into the binary), not the OS store.

use std::path::PathBuf;
use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::ServerCertVerifier;
use rustls::{CertificateError, ClientConfig};
use tokio_postgres_rustls::MakeRustlsConnect;

mod verifiers;

use verifiers::{ChainOnly, Unchecked, load};

/// libpq's `sslmode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SslMode {
    /// Plain text only.
    Disable,
    /// TLS if the server offers it (libpq's default, and the relay's).
    Prefer,
    /// TLS, or no connection.
    Require,
    /// TLS with a certificate that chains to a trusted root.
    VerifyCa,
    /// TLS with a certificate that chains to a trusted root and names the host.
    VerifyFull,
}

impl SslMode {
    fn parse(value: &str) -> Result<Self, TlsError> {
        Ok(match value {
            "disable" => Self::Disable,
            "prefer" => Self::Prefer,
            "require" => Self::Require,
            "verify-ca" => Self::VerifyCa,
            "verify-full" => Self::VerifyFull,
            other => return Err(TlsError::Mode(other.to_owned())),
        })
    }

    /// The mode in the URL's words.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Disable => "disable",
            Self::Prefer => "prefer",
            Self::Require => "require",
            Self::VerifyCa => "verify-ca",
            Self::VerifyFull => "verify-full",
        }
    }

    /// What the `postgres` client is told: whether TLS may be skipped.
    pub(super) fn client_mode(self) -> postgres::config::SslMode {
        match self {
            Self::Disable => postgres::config::SslMode::Disable,
            Self::Prefer => postgres::config::SslMode::Prefer,
            Self::Require | Self::VerifyCa | Self::VerifyFull => postgres::config::SslMode::Require,
        }
    }
}

/// Where the trusted roots come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RootCert {
    /// A PEM file of one or more CA certificates.
    File(PathBuf),
    /// Mozilla's roots, built into the binary.
    System,
}

/// Why the TLS settings were refused, or the server's certificate was.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// `sslmode` is not one of libpq's.
    #[error("sslmode={0} is not one of disable, prefer, require, verify-ca, verify-full")]
    Mode(String),
    /// A mode that verifies was given no roots to verify against.
    #[error(
        "sslmode={0} checks the server's certificate and needs the CA that signed it: add sslrootcert=/path/to/ca.crt (or sslrootcert=system)"
    )]
    NoRoots(&'static str),
    /// `sslrootcert` could not be read, or holds no certificate.
    #[error("sslrootcert={path}: {reason}")]
    Roots {
        /// The file named.
        path: String,
        /// What was wrong with it.
        reason: String,
    },
    /// `sslrootcert` with `sslmode=disable`, which would never use it.
    #[error("sslrootcert is given with sslmode=disable, which never checks a certificate")]
    RootsUnused,
    /// The server's certificate was refused.
    #[error("the database's TLS certificate was refused under sslmode={mode}: {reason}")]
    Refused {
        /// The mode that refused it.
        mode: &'static str,
        /// Why, in rustls's words, with a hint.
        reason: String,
    },
    /// TLS could not be set up for another reason (the server does not offer it, …).
    #[error("TLS with the database failed under sslmode={mode}: {reason}")]
    Handshake {
        /// The mode that asked for TLS.
        mode: &'static str,
        /// Why, in the driver's words, with a hint.
        reason: String,
    },
}

/// The URL's TLS parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsSettings {
    /// `sslmode`, `prefer` when absent.
    pub mode: SslMode,
    /// `sslrootcert`.
    pub root: Option<RootCert>,
}

/// How connections are made.
#[derive(Clone)]
pub(super) enum Connector {
    /// `sslmode=disable`.
    Plain,
    /// Every other mode.
    Tls(MakeRustlsConnect),
}

/// Takes `sslmode` and `sslrootcert` out of `url`'s query, leaving the rest for the client.
pub fn split(url: &str) -> Result<(String, TlsSettings), TlsError> {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let (mut mode, mut root, mut kept) = (None, None, Vec::new());
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some(("sslmode", value)) => mode = Some(SslMode::parse(&decode(value))?),
            Some(("sslrootcert", "system")) => root = Some(RootCert::System),
            Some(("sslrootcert", value)) => root = Some(RootCert::File(decode(value).into())),
            _ => kept.push(pair),
        }
    }
    let rest = if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    let settings = TlsSettings {
        mode: mode.unwrap_or(SslMode::Prefer),
        root,
    };
    Ok((rest, settings))
}

/// `%XX` escapes decoded; anything malformed is kept as written.
fn decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let (mut out, mut i) = (Vec::with_capacity(bytes.len()), 0);
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl TlsSettings {
    /// The connector these settings ask for; reads `sslrootcert`.
    pub(super) fn connector(&self) -> Result<Connector, TlsError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let roots = match (&self.root, self.mode) {
            (Some(_), SslMode::Disable) => return Err(TlsError::RootsUnused),
            (None, SslMode::Disable) => return Ok(Connector::Plain),
            (None, mode @ (SslMode::VerifyCa | SslMode::VerifyFull)) => {
                return Err(TlsError::NoRoots(mode.as_str()));
            }
            (None, SslMode::Prefer | SslMode::Require) => None,
            (Some(root), _) => Some(Arc::new(load(root)?)),
        };
        let algorithms = provider.signature_verification_algorithms;
        let verifier: Arc<dyn ServerCertVerifier> = match roots {
            None => Arc::new(Unchecked { algorithms }),
            Some(roots) => {
                let webpki = WebPkiServerVerifier::builder_with_provider(roots, provider.clone())
                    .build()
                    .map_err(|e| TlsError::Roots {
                        path: describe(self.root.as_ref()),
                        reason: e.to_string(),
                    })?;
                match self.mode {
                    SslMode::VerifyFull => webpki,
                    _ => Arc::new(ChainOnly { webpki }),
                }
            }
        };
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Roots {
                path: describe(self.root.as_ref()),
                reason: e.to_string(),
            })?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth();
        Ok(Connector::Tls(MakeRustlsConnect::new(config)))
    }

    /// A TLS failure (a refused certificate, most often) found in `error` or its causes, said
    /// with the mode and a hint.
    pub(super) fn refusal(&self, error: &(dyn std::error::Error + 'static)) -> Option<TlsError> {
        let mut cause = Some(error);
        while let Some(e) = cause {
            let rustls = e.downcast_ref::<rustls::Error>().or_else(|| {
                e.downcast_ref::<std::io::Error>()
                    .and_then(|io| io.get_ref())
                    .and_then(|inner| inner.downcast_ref::<rustls::Error>())
            });
            if let Some(rustls) = rustls {
                let hint = match rustls {
                    rustls::Error::InvalidCertificate(
                        CertificateError::NotValidForName
                        | CertificateError::NotValidForNameContext { .. },
                    ) => {
                        "; the certificate does not name the host in the URL: connect by a name it holds, or use sslmode=verify-ca to check the CA alone"
                    }
                    rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer) => {
                        "; check that sslrootcert names the CA that signed the server's certificate"
                    }
                    _ => "",
                };
                return Some(TlsError::Refused {
                    mode: self.mode.as_str(),
                    reason: format!("{rustls}{hint}"),
                });
            }
            cause = e.source();
        }
        // The driver's only word for its TLS errors is this prefix (its error kinds are private).
        let said = error.to_string();
        let reason = said.strip_prefix("error performing TLS handshake")?;
        let reason = error.source().map_or_else(
            || reason.trim_start_matches([':', ' ']).to_owned(),
            ToString::to_string,
        );
        let hint = if reason.contains("does not support TLS") {
            "; turn on ssl in the server's postgresql.conf, or (on a trusted network only) use sslmode=prefer or disable"
        } else {
            ""
        };
        Some(TlsError::Handshake {
            mode: self.mode.as_str(),
            reason: format!("{reason}{hint}"),
        })
    }
}

fn describe(root: Option<&RootCert>) -> String {
    match root {
        Some(RootCert::File(path)) => path.display().to_string(),
        Some(RootCert::System) => "system".into(),
        None => String::new(),
    }
}
