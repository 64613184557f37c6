//! The settings' own value types: the metrics listener, the API's path prefix, the log format
//! and the database password, each parsed from the file or the environment into a typed value
//! or refused with what a good one looks like.

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

/// Where `/metrics` is served: its own listener, never the API's, so that visitors cannot
/// read the relay's traffic counts. `off` serves it nowhere.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetricsListen {
    /// No metrics listener.
    Off,
    /// A listener of its own on this address (loopback by default; port 0 picks one).
    On(SocketAddr),
}

impl Serialize for MetricsListen {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            MetricsListen::Off => s.serialize_str("off"),
            MetricsListen::On(addr) => s.collect_str(addr),
        }
    }
}

impl<'de> Deserialize<'de> for MetricsListen {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        if text.eq_ignore_ascii_case("off") {
            return Ok(MetricsListen::Off);
        }
        text.parse().map(MetricsListen::On).map_err(|_| {
            serde::de::Error::custom("expected `off` or an address and port such as 127.0.0.1:9464")
        })
    }
}

/// The path the API is served under, for a relay behind a reverse proxy that forwards
/// `https://host/PREFIX/v1/...` as it is: empty (the default) or `/` and one or more segments of
/// `A-Z a-z 0-9 - . _ ~`, without a trailing `/`. Clients sign the full path as sent, prefix
/// included, and the relay checks the path it received, so the proxy must not strip it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PathPrefix(String);

impl PathPrefix {
    /// The prefix, `""` or such as `/candor`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for PathPrefix {
    type Err = &'static str;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.is_empty() {
            return Ok(Self::default());
        }
        let segments = s
            .strip_prefix('/')
            .ok_or("must start with `/`, as in `/candor`")?;
        let unreserved = |c: char| c.is_ascii_alphanumeric() || "-._~".contains(c);
        let ok = segments.len() < 200
            && segments.split('/').all(|seg| {
                !seg.is_empty() && seg != "." && seg != ".." && seg.chars().all(unreserved)
            });
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(
                "must be `/` and path segments of letters, digits, `-`, `.`, `_` or `~`, with no \
                 empty segment and no trailing `/`, as in `/candor`",
            )
        }
    }
}

impl Serialize for PathPrefix {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for PathPrefix {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// A database password: never printed, zeroized when dropped.
#[derive(Clone, PartialEq, Eq)]
pub struct StorePassword(zeroize::Zeroizing<String>);

impl<'de> Deserialize<'de> for StorePassword {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(|s| StorePassword(zeroize::Zeroizing::new(s)))
    }
}

impl StorePassword {
    /// The password's bytes, for the database client.
    pub fn expose(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl std::fmt::Debug for StorePassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StorePassword([redacted])")
    }
}

impl Serialize for StorePassword {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // Settings are serialized only as the defaults layer, where there is no password.
        s.serialize_str("[redacted]")
    }
}
