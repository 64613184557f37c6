//! The relay's settings, layered: built-in defaults, then `candor-server.toml` in the working
//! directory (or the file given with `--config`), then `CANDOR_*` environment variables, then
//! command-line flags. A bad value stops start-up with a message that names the setting.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

mod values;

pub use values::{LogFormat, MetricsListen, PathPrefix, StorePassword};

/// The configuration file read from the working directory when `--config` is not given.
pub const DEFAULT_CONFIG_FILE: &str = "candor-server.toml";

/// Every setting, with the name used in the file; the environment variable is `CANDOR_` and the
/// name in upper case.
pub const SETTING_NAMES: [&str; 35] = [
    "listen",
    "path_prefix",
    "metrics_listen",
    "data_dir",
    "tls_cert",
    "tls_key",
    "retention_default_days",
    "retention_jitter_hours",
    "statistics_retention_years",
    "pow_difficulty",
    "pow_ttl_secs",
    "request_window_secs",
    "signed_requests_per_key",
    "max_body_bytes",
    "max_envelope_bytes",
    "max_mailboxes_per_office",
    "max_envelopes_per_mailbox",
    "max_bytes_per_mailbox",
    "max_bytes_per_office",
    "max_packages_per_mailbox",
    "max_channels_per_office",
    "max_notes_per_mailbox",
    "max_store_bytes",
    "fetch_page_bytes",
    "fetches_per_mailbox",
    "fetch_bytes_in_flight",
    "fetch_send_timeout_secs",
    "sweep_interval_secs",
    "sweep_batch",
    "cache_bytes",
    "commit_delay_us",
    "log_format",
    "workers",
    "store",
    "store_password",
];

/// The relay's settings. See `docs/operating.md` for each one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Address and port to listen on.
    pub listen: SocketAddr,
    /// The path the API is served under, behind a reverse proxy; empty for the root.
    pub path_prefix: PathPrefix,
    /// Where `/metrics` is served, on a listener of its own; `off` for nowhere.
    pub metrics_listen: MetricsListen,
    /// Directory holding the store and `relay.key`.
    pub data_dir: PathBuf,
    /// PEM certificate chain for HTTPS; set together with `tls_key`.
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for HTTPS; set together with `tls_cert`.
    pub tls_key: Option<PathBuf>,
    /// Retention used for an office record that does not state one (v1 cards always do).
    pub retention_default_days: u32,
    /// Upper bound of the random jitter added to every expiry, in hours.
    pub retention_jitter_hours: u32,
    /// How many calendar years after the one it was written in an office's tally is kept:
    /// the statistics retention, apart from every case's.
    pub statistics_retention_years: u16,
    /// Leading zero bits a proof of work must have to open a mailbox.
    pub pow_difficulty: u8,
    /// How long a PoW challenge stays valid, in seconds.
    pub pow_ttl_secs: u64,
    /// Accepted clock difference for signed requests, in seconds.
    pub request_window_secs: u64,
    /// Signed requests one key may have accepted per window (429 beyond), so that one key
    /// cannot fill the replay cache for everyone.
    pub signed_requests_per_key: u32,
    /// Largest request body, in bytes.
    pub max_body_bytes: usize,
    /// Largest envelope (its JSON), in bytes.
    pub max_envelope_bytes: usize,
    /// Mailboxes one office may have open at once.
    pub max_mailboxes_per_office: u64,
    /// Envelopes one mailbox may hold.
    pub max_envelopes_per_mailbox: u64,
    /// Bytes of envelopes one mailbox may hold.
    pub max_bytes_per_mailbox: u64,
    /// Bytes of envelopes one office's mailboxes may hold together, so that one office's
    /// visitors (or anyone posing as them) cannot take the whole store.
    pub max_bytes_per_office: u64,
    /// Handoff packages one mailbox may hold.
    pub max_packages_per_mailbox: u64,
    /// Handoff channels one office may hold.
    pub max_channels_per_office: u64,
    /// The ombuds' notes one mailbox may hold.
    pub max_notes_per_mailbox: u64,
    /// Bytes the store may take on disk before new mailboxes, envelopes and packages are
    /// refused (507); deletions and sweeps go on, in the disk space left above it. 0: no cap.
    pub max_store_bytes: u64,
    /// Largest page of envelopes a fetch returns, in bytes of envelope JSON (at least one
    /// envelope is always returned); the client continues with `next`.
    pub fetch_page_bytes: usize,
    /// Pages of one mailbox in flight at once.
    pub fetches_per_mailbox: u32,
    /// Bytes all pages in flight may hold together.
    pub fetch_bytes_in_flight: usize,
    /// Seconds a page may take to be sent before it is dropped and its connection closed.
    pub fetch_send_timeout_secs: u64,
    /// Seconds between two sweeps.
    pub sweep_interval_secs: u64,
    /// Expired entries handled per sweep batch. Each batch is one group commit, which the
    /// requests' group commits wait behind, so this bounds the latency a sweep adds.
    pub sweep_batch: usize,
    /// Bytes of sled's page cache. sled's memory use is a multiple of it: with a million
    /// mailboxes under load, RSS was 259–267 MB with 16 MiB and 293–311 MB with 32 MiB
    /// (`docs/benchmarks.md`).
    pub cache_bytes: u64,
    /// Microseconds the group-commit flusher waits for more writers before it syncs, when the
    /// last sync served more than one (under load); 0 syncs at once. Fewer, larger groups
    /// spend less CPU on syncs; a lone writer never waits.
    pub commit_delay_us: u64,
    /// `text` or `json`.
    pub log_format: LogFormat,
    /// HTTP worker threads; 0 means one per core.
    pub workers: usize,
    /// Where the store is: `sled` (the default: `store/` in `data_dir`), or a PostgreSQL URL
    /// `postgres://USER@HOST[:PORT]/DB[?sslmode=…]` shared by several relay instances. The URL
    /// must hold no password (see `store_password`).
    pub store: String,
    /// The PostgreSQL password, if the server wants one and neither `PGPASSWORD` nor a
    /// `PGPASSFILE` gives it. Only from the file or the environment: never a flag, which `ps`
    /// would show.
    pub store_password: Option<StorePassword>,
}

/// The `store` setting's value for the embedded default.
pub const SLED_STORE: &str = "sled";

impl Settings {
    /// The PostgreSQL URL, if the store is PostgreSQL.
    pub fn postgres_url(&self) -> Option<&str> {
        (self.store != SLED_STORE).then_some(self.store.as_str())
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            path_prefix: PathPrefix::default(),
            // Port 0: two relays on one machine never collide; the bound port is printed and
            // logged. Operators who scrape set a fixed loopback port.
            metrics_listen: MetricsListen::On(SocketAddr::from(([127, 0, 0, 1], 0))),
            data_dir: PathBuf::from("candor-data"),
            tls_cert: None,
            tls_key: None,
            retention_default_days: 90,
            retention_jitter_hours: 24,
            statistics_retention_years: 10,
            // About 0.7 s single-threaded on the reference 2-core machine (11.9 M SHA-256/s).
            // 2^24 hashes: about 0.7 s on two cores and 1.4 s on one here (docs/benchmarks.md).
            pow_difficulty: 24,
            pow_ttl_secs: 600,
            request_window_secs: candor_protocol::request::DEFAULT_WINDOW_SECS,
            signed_requests_per_key: crate::auth::PER_KEY_DEFAULT,
            max_body_bytes: 1024 * 1024,
            max_envelope_bytes: 256 * 1024,
            max_mailboxes_per_office: 1_000_000,
            max_envelopes_per_mailbox: 1_000,
            max_bytes_per_mailbox: 16 * 1024 * 1024,
            max_bytes_per_office: 1024 * 1024 * 1024,
            max_packages_per_mailbox: 16,
            max_channels_per_office: 1_000,
            max_notes_per_mailbox: 500,
            max_store_bytes: 0,
            fetch_page_bytes: 1024 * 1024,
            fetches_per_mailbox: 4,
            fetch_bytes_in_flight: 64 * 1024 * 1024,
            fetch_send_timeout_secs: 60,
            sweep_interval_secs: 300,
            sweep_batch: 250,
            cache_bytes: 16 * 1024 * 1024,
            commit_delay_us: 300,
            log_format: LogFormat::Text,
            workers: 0,
            store: SLED_STORE.into(),
            store_password: None,
        }
    }
}

/// A setting that cannot be used, named so the operator knows what to fix.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The configuration file given with `--config` does not exist.
    #[error("the configuration file {0} does not exist")]
    MissingFile(PathBuf),
    /// A value could not be read (wrong type, unknown key, bad syntax).
    #[error("bad configuration: {0}")]
    Parse(String),
    /// A value was read but is out of range.
    #[error("bad configuration: `{setting}` {why}")]
    Invalid {
        /// The setting's name.
        setting: &'static str,
        /// What is wrong with it.
        why: &'static str,
    },
}

/// Overrides from the command line, applied last.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Overrides {
    /// `--listen`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<SocketAddr>,
    /// `--data-dir`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    /// `--pow-difficulty`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pow_difficulty: Option<u8>,
    /// `--store`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub store: Option<String>,
}

impl Settings {
    /// Loads the layered configuration. `file` is `--config`; without it the default file is
    /// read if present.
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> Result<Self, ConfigError> {
        let toml = match file {
            Some(path) if !path.exists() => return Err(ConfigError::MissingFile(path.into())),
            Some(path) => Toml::file(path),
            None => Toml::file(DEFAULT_CONFIG_FILE),
        };
        let settings: Settings = Figment::from(Serialized::defaults(Settings::default()))
            .merge(toml)
            // The client's variables (CANDOR_PASSPHRASE, ...) share the prefix: take only ours.
            .merge(Env::prefixed("CANDOR_").only(&SETTING_NAMES))
            .merge(Serialized::defaults(overrides))
            .extract()
            .map_err(|e| ConfigError::Parse(describe(&e)))?;
        settings.validate()?;
        Ok(settings)
    }

    /// Checks ranges and combinations that types alone cannot.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |setting, why| Err(ConfigError::Invalid { setting, why });
        if self.tls_cert.is_some() != self.tls_key.is_some() {
            return invalid("tls_cert", "and `tls_key` must be set together");
        }
        if !(1..=3650).contains(&self.retention_default_days) {
            return invalid("retention_default_days", "must be between 1 and 3650");
        }
        if !(1..=100).contains(&self.statistics_retention_years) {
            return invalid("statistics_retention_years", "must be between 1 and 100");
        }
        if self.retention_jitter_hours > 24 * 365 {
            return invalid("retention_jitter_hours", "must be at most 8760 (a year)");
        }
        if self.pow_difficulty > candor_protocol::pow::MAX_DIFFICULTY {
            return invalid("pow_difficulty", "must be at most 40");
        }
        if !(10..=86_400).contains(&self.pow_ttl_secs) {
            return invalid("pow_ttl_secs", "must be between 10 and 86400");
        }
        if !(5..=3_600).contains(&self.request_window_secs) {
            return invalid("request_window_secs", "must be between 5 and 3600");
        }
        if self.max_body_bytes < 4096 {
            return invalid("max_body_bytes", "must be at least 4096");
        }
        if self.max_envelope_bytes < 1024 || self.max_envelope_bytes > self.max_body_bytes {
            return invalid(
                "max_envelope_bytes",
                "must be at least 1024 and at most max_body_bytes",
            );
        }
        if self.max_mailboxes_per_office == 0 {
            return invalid("max_mailboxes_per_office", "must be at least 1");
        }
        if !(1..=100_000).contains(&self.max_envelopes_per_mailbox) {
            // A deletion removes every envelope in one transaction, so this bounds its size.
            return invalid("max_envelopes_per_mailbox", "must be between 1 and 100000");
        }
        if self.max_bytes_per_mailbox < self.max_envelope_bytes as u64 {
            return invalid(
                "max_bytes_per_mailbox",
                "must be at least max_envelope_bytes",
            );
        }
        if self.max_bytes_per_office < self.max_bytes_per_mailbox {
            return invalid(
                "max_bytes_per_office",
                "must be at least max_bytes_per_mailbox",
            );
        }
        if !(1..=1_000).contains(&self.max_packages_per_mailbox) {
            // A deletion removes every package with its mailbox, in one transaction.
            return invalid("max_packages_per_mailbox", "must be between 1 and 1000");
        }
        if !(1..=100_000).contains(&self.max_channels_per_office) {
            // Opening a channel counts the office's channels.
            return invalid("max_channels_per_office", "must be between 1 and 100000");
        }
        if !(1..=10_000).contains(&self.max_notes_per_mailbox) {
            // A deletion removes every note with its mailbox, in one transaction.
            return invalid("max_notes_per_mailbox", "must be between 1 and 10000");
        }
        if !(1..=crate::auth::PER_KEY_MAX).contains(&self.signed_requests_per_key) {
            // Above it, a few keys could hold the whole replay cache.
            return invalid("signed_requests_per_key", "must be between 1 and 1000000");
        }
        if self.fetch_page_bytes < self.max_envelope_bytes {
            return invalid("fetch_page_bytes", "must be at least max_envelope_bytes");
        }
        if !(1..=64).contains(&self.fetches_per_mailbox) {
            return invalid("fetches_per_mailbox", "must be between 1 and 64");
        }
        if self.fetch_bytes_in_flight < self.fetch_page_bytes {
            return invalid("fetch_bytes_in_flight", "must be at least fetch_page_bytes");
        }
        if !(1..=3_600).contains(&self.fetch_send_timeout_secs) {
            return invalid("fetch_send_timeout_secs", "must be between 1 and 3600");
        }
        if self.sweep_interval_secs == 0 {
            return invalid("sweep_interval_secs", "must be at least 1");
        }
        if !(1..=1_000_000).contains(&self.sweep_batch) {
            return invalid("sweep_batch", "must be between 1 and 1000000");
        }
        if self.cache_bytes < 1024 * 1024 {
            return invalid("cache_bytes", "must be at least 1048576 (1 MiB)");
        }
        if self.commit_delay_us > 100_000 {
            return invalid("commit_delay_us", "must be at most 100000 (0.1 s)");
        }
        if self.store != SLED_STORE
            && !(self.store.starts_with("postgres://") || self.store.starts_with("postgresql://"))
        {
            return invalid(
                "store",
                "must be `sled` or a PostgreSQL URL such as postgres://candor@db.internal/candor",
            );
        }
        if self.store != SLED_STORE && self.max_store_bytes != 0 {
            // The database's size is the database operator's to watch and cap.
            return invalid("max_store_bytes", "must be 0 with a PostgreSQL store");
        }
        if self.workers > 1024 {
            return invalid("workers", "must be at most 1024");
        }
        Ok(())
    }
}

/// figment's messages name the key and where it came from, but may quote the bad value. Config
/// values are the operator's own, so quoting them is fine; we only make the wording ours.
fn describe(e: &figment::Error) -> String {
    let mut out = Vec::new();
    for err in e.clone() {
        let key = err.path.join(".");
        let source = err
            .metadata
            .as_ref()
            .map(|m| m.name.to_string())
            .unwrap_or_else(|| "defaults".into());
        if key.is_empty() {
            out.push(format!("{} (in {source})", err.kind));
        } else {
            out.push(format!("`{key}`: {} (in {source})", err.kind));
        }
    }
    out.join("; ")
}

#[cfg(test)]
// figment's Jail returns its own large error type.
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        assert!(Settings::default().validate().is_ok());
    }

    #[test]
    fn half_a_tls_pair_is_refused_by_name() {
        let s = Settings {
            tls_cert: Some("cert.pem".into()),
            ..Settings::default()
        };
        let err = s.validate().unwrap_err().to_string();
        assert!(err.contains("tls_cert"), "{err}");
    }

    #[test]
    fn a_commit_delay_past_a_tenth_of_a_second_is_refused_by_name() {
        let s = Settings {
            commit_delay_us: 100_001,
            ..Settings::default()
        };
        let err = s.validate().unwrap_err().to_string();
        assert!(err.contains("commit_delay_us"), "{err}");
    }

    #[test]
    fn a_share_per_key_of_zero_or_past_a_million_is_refused_by_name() {
        for bad in [0, crate::auth::PER_KEY_MAX + 1] {
            let s = Settings {
                signed_requests_per_key: bad,
                ..Settings::default()
            };
            let err = s.validate().unwrap_err().to_string();
            assert!(err.contains("signed_requests_per_key"), "{err}");
        }
        let s = Settings {
            signed_requests_per_key: crate::auth::PER_KEY_MAX,
            ..Settings::default()
        };
        assert!(s.validate().is_ok());
    }

    #[test]
    fn a_package_quota_of_zero_is_refused_by_name() {
        let s = Settings {
            max_packages_per_mailbox: 0,
            ..Settings::default()
        };
        let err = s.validate().unwrap_err().to_string();
        assert!(err.contains("max_packages_per_mailbox"), "{err}");
    }

    #[test]
    fn a_channel_or_note_quota_of_zero_is_refused_by_name() {
        for (s, name) in [
            (
                Settings {
                    max_channels_per_office: 0,
                    ..Settings::default()
                },
                "max_channels_per_office",
            ),
            (
                Settings {
                    max_notes_per_mailbox: 0,
                    ..Settings::default()
                },
                "max_notes_per_mailbox",
            ),
        ] {
            let err = s.validate().unwrap_err().to_string();
            assert!(err.contains(name), "{err}");
        }
    }

    #[test]
    fn bad_environment_value_names_the_setting() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("CANDOR_POW_DIFFICULTY", "lots");
            jail.set_env("CANDOR_PASSPHRASE", "not ours");
            let err = Settings::load(None, &Overrides::default())
                .unwrap_err()
                .to_string();
            assert!(err.contains("pow_difficulty"), "{err}");
            Ok(())
        });
    }

    #[test]
    fn file_then_environment_then_flags() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                DEFAULT_CONFIG_FILE,
                "pow_difficulty = 12\nsweep_batch = 7\nlisten = \"127.0.0.1:9000\"",
            )?;
            jail.set_env("CANDOR_SWEEP_BATCH", "9");
            let overrides = Overrides {
                listen: Some("127.0.0.1:0".parse().unwrap()),
                ..Overrides::default()
            };
            let s = Settings::load(None, &overrides).unwrap();
            assert_eq!(s.pow_difficulty, 12);
            assert_eq!(s.sweep_batch, 9);
            assert_eq!(s.listen.port(), 0);
            Ok(())
        });
    }

    #[test]
    fn issue_19_a_path_prefix_is_slash_and_segments_without_a_trailing_slash() {
        for good in ["", "/candor", "/a/b-c/d.e_f~"] {
            assert_eq!(good.parse::<PathPrefix>().unwrap().as_str(), good);
        }
        for bad in [
            "candor", "/", "/candor/", "//x", "/a b", "/../x", "/x?y", "/x%20",
        ] {
            assert!(bad.parse::<PathPrefix>().is_err(), "{bad:?}");
        }
        figment::Jail::expect_with(|jail| {
            jail.set_env("CANDOR_PATH_PREFIX", "/relay");
            let s = Settings::load(None, &Overrides::default()).unwrap();
            assert_eq!(s.path_prefix.as_str(), "/relay");
            jail.set_env("CANDOR_PATH_PREFIX", "relay/");
            let err = Settings::load(None, &Overrides::default())
                .unwrap_err()
                .to_string();
            assert!(err.contains("path_prefix") && err.contains("`/`"), "{err}");
            Ok(())
        });
    }

    #[test]
    fn metrics_listen_reads_an_address_or_off() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(DEFAULT_CONFIG_FILE, "metrics_listen = \"127.0.0.1:9464\"")?;
            let s = Settings::load(None, &Overrides::default()).unwrap();
            assert_eq!(
                s.metrics_listen,
                MetricsListen::On("127.0.0.1:9464".parse().unwrap())
            );
            jail.set_env("CANDOR_METRICS_LISTEN", "off");
            let s = Settings::load(None, &Overrides::default()).unwrap();
            assert_eq!(s.metrics_listen, MetricsListen::Off);
            jail.set_env("CANDOR_METRICS_LISTEN", "everywhere");
            let err = Settings::load(None, &Overrides::default())
                .unwrap_err()
                .to_string();
            assert!(err.contains("metrics_listen"), "{err}");
            Ok(())
        });
    }

    #[test]
    fn unknown_key_in_file_is_refused() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(DEFAULT_CONFIG_FILE, "pow_dificulty = 12")?;
            let err = Settings::load(None, &Overrides::default())
                .unwrap_err()
                .to_string();
            assert!(err.contains("pow_dificulty"), "{err}");
            Ok(())
        });
    }
}
