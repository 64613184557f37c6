//! The office address: one copy-pasteable string naming the relay, the office and the
//! fingerprint of the office's identity key, like an onion address.
//!
//! Format: `candor:<office-id>.<fingerprint>@<relay-url>`, for example
//! `candor:ombuds.3kq…xa@https://relay.example.edu`.

use core::fmt;
use core::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer, de::Error as _};

use crate::{Error, Fingerprint, OfficeId};

const SCHEME: &str = "candor:";

/// A relay's base URL: `http` or `https`, a host, an optional port and path, no trailing slash,
/// no user info, query or fragment.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct RelayUrl(String);

impl RelayUrl {
    /// The URL as a string, without a trailing slash.
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// The host name (without port), for example to tell whether it is an onion service.
    pub fn host(&self) -> &str {
        let rest = self.0.split_once("://").map_or("", |(_, r)| r);
        let authority = rest.split('/').next().unwrap_or("");
        if authority.starts_with('[') {
            return authority.split(']').next().map_or("", |h| &h[1..]);
        }
        authority.split(':').next().unwrap_or("")
    }
    /// Joins a path that starts with `/`.
    pub fn join(&self, path: &str) -> String {
        format!("{}{path}", self.0)
    }

    /// Whether both URLs name the same relay: the same scheme, host and port (an explicit
    /// default port, 80 for `http` and 443 for `https`, is the same as none) compared without
    /// regard to ASCII case, and exactly the same path. A client refuses an office card whose
    /// relay is not the address's ([`crate::SignedCard::verify_office_at`]).
    pub fn same_relay(&self, other: &RelayUrl) -> bool {
        self.origin() == other.origin()
    }

    /// The normalized scheme, host, port and path that [`RelayUrl::same_relay`] compares.
    fn origin(&self) -> (String, String, u16, &str) {
        let (scheme, rest) = self.0.split_once("://").unwrap_or(("", &self.0));
        let (authority, path) = rest.find('/').map_or((rest, ""), |i| rest.split_at(i));
        let default = if scheme == "https" { 443 } else { 80 };
        let (host, port) = match authority.rfind(':') {
            Some(i) if !authority[i..].contains(']') => {
                (&authority[..i], authority[i + 1..].parse().unwrap_or(0))
            }
            _ => (authority, default),
        };
        (
            scheme.to_ascii_lowercase(),
            host.to_ascii_lowercase(),
            port,
            path,
        )
    }
}

impl fmt::Display for RelayUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for RelayUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RelayUrl({})", self.0)
    }
}

impl FromStr for RelayUrl {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        let bad = |why: &str| Error::malformed("relay url", why.to_owned());
        let s = s.trim_end_matches('/');
        let (scheme, rest) = s
            .split_once("://")
            .ok_or_else(|| bad("expected http://HOST[:PORT] or https://HOST[:PORT]"))?;
        if scheme != "http" && scheme != "https" {
            return Err(bad("the scheme must be http or https"));
        }
        let authority = rest.split('/').next().unwrap_or("");
        if authority.is_empty() {
            return Err(bad("the host is missing"));
        }
        let allowed = |c: char| c.is_ascii_alphanumeric() || "-._~/:[]%".contains(c);
        if !rest.chars().all(allowed) {
            return Err(bad(
                "only letters, digits and -._~/:[] are allowed (no user info, query or fragment)",
            ));
        }
        if rest.contains("//") {
            return Err(bad("empty path segment"));
        }
        if s.len() > 256 {
            return Err(bad("longer than 256 characters"));
        }
        let url = Self(format!("{scheme}://{}", rest.to_owned()));
        check_host(url.host(), authority)?;
        Ok(url)
    }
}

/// Refuses a host that cannot be meant: a numeric one that is not four numbers up to 255 (an
/// address cut short, such as `http://127`, which resolvers take for 0.0.0.127), a name with an
/// empty label, or a port that is not a number from 1 to 65535.
fn check_host(host: &str, authority: &str) -> Result<(), Error> {
    let bad = |why: String| Error::malformed("relay url", why);
    if authority.starts_with('[') {
        return Ok(());
    }
    if let Some((_, port)) = authority.split_once(':')
        && !port.parse::<u16>().is_ok_and(|p| p != 0)
    {
        return Err(bad(format!(
            "the port {port:?} is not a number from 1 to 65535"
        )));
    }
    // A name may end in one dot (an absolute name, `relay.example.edu.`).
    let labels: Vec<&str> = host.strip_suffix('.').unwrap_or(host).split('.').collect();
    let numeric = host.chars().all(|c| c.is_ascii_digit() || c == '.');
    if numeric {
        let four = labels.len() == 4 && labels.iter().all(|l| l.parse::<u8>().is_ok());
        if !four {
            return Err(bad(format!(
                "the host {host} looks cut short: a numeric address has four numbers, such as \
                 127.0.0.1; copy the whole address"
            )));
        }
        return Ok(());
    }
    if labels.iter().any(|l| l.is_empty()) {
        return Err(bad(format!(
            "the host {host} has an empty part; copy the whole address"
        )));
    }
    Ok(())
}

impl Serialize for RelayUrl {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for RelayUrl {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        <&str>::deserialize(d)?.parse().map_err(D::Error::custom)
    }
}

/// Everything a visitor needs to reach an office and check that it is genuine.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct OfficeAddress {
    /// The office's ID on the relay.
    pub office: OfficeId,
    /// The fingerprint of the office's identity key.
    pub fingerprint: Fingerprint,
    /// Where the office's relay is.
    pub relay: RelayUrl,
}

impl fmt::Display for OfficeAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{SCHEME}{}.{}@{}",
            self.office, self.fingerprint, self.relay
        )
    }
}

impl FromStr for OfficeAddress {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        let bad = || {
            Error::malformed(
                "office address",
                "expected candor:OFFICE-ID.FINGERPRINT@RELAY-URL",
            )
        };
        let s = s.trim();
        let rest = s.strip_prefix(SCHEME).ok_or_else(bad)?;
        let (name, relay) = rest.split_once('@').ok_or_else(bad)?;
        let (office, fingerprint) = name.split_once('.').ok_or_else(bad)?;
        Ok(Self {
            office: office.parse()?,
            fingerprint: fingerprint.parse()?,
            relay: relay.parse()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_relay_url_cut_short_is_refused_as_such() {
        for cut in [
            "http://127",
            "http://127.0.0",
            "https://10.1.2.300",
            "http://relay..edu",
            "http://127.0.0.1:",
        ] {
            let err = cut.parse::<RelayUrl>().unwrap_err().to_string();
            assert!(
                err.contains("cut short") || err.contains("empty part") || err.contains("port"),
                "{cut}: {err}"
            );
        }
        for fine in [
            "http://127.0.0.1:8080",
            "https://relay.example.edu",
            "http://localhost:8080",
            "http://[::1]:8080",
            "http://abcdefghijklmnop.onion",
            "https://relay",
            "https://relay.example.edu.",
        ] {
            assert!(fine.parse::<RelayUrl>().is_ok(), "{fine}");
        }
    }

    #[test]
    fn relay_url_rules() {
        let u: RelayUrl = "http://127.0.0.1:8080/".parse().unwrap();
        assert_eq!(u.as_str(), "http://127.0.0.1:8080");
        assert_eq!(u.host(), "127.0.0.1");
        assert_eq!(
            "http://abc.onion".parse::<RelayUrl>().unwrap().host(),
            "abc.onion"
        );
        assert_eq!("http://[::1]:80".parse::<RelayUrl>().unwrap().host(), "::1");
        for bad in [
            "ftp://x",
            "http://",
            "x",
            "http://u@h",
            "http://h/?q=1",
            "http://h#f",
        ] {
            assert!(bad.parse::<RelayUrl>().is_err(), "{bad}");
        }
    }

    #[test]
    fn address_parses_and_rejects() {
        let fp = Fingerprint::from_bytes([3; 32]);
        let a = OfficeAddress {
            office: "ombuds".parse().unwrap(),
            fingerprint: fp,
            relay: "https://relay.example.edu".parse().unwrap(),
        };
        assert_eq!(a.to_string().parse::<OfficeAddress>().unwrap(), a);
        assert!("ombuds@https://x".parse::<OfficeAddress>().is_err());
        assert!(
            format!("candor:ombuds.{}x@http://h", fp)
                .parse::<OfficeAddress>()
                .is_err()
        );
    }

    #[test]
    fn same_relay_compares_the_normalized_origin_and_the_path() {
        let url = |s: &str| s.parse::<RelayUrl>().unwrap();
        let base = url("https://relay.example.edu/candor");
        for same in [
            "https://relay.example.edu/candor/",
            "https://Relay.Example.EDU/candor",
            "https://relay.example.edu:443/candor",
        ] {
            assert!(base.same_relay(&url(same)), "{same}");
        }
        for other in [
            "http://relay.example.edu/candor",
            "https://relay.example.edu:8443/candor",
            "https://relay.example.edu",
            "https://relay.example.edu/Candor",
            "https://relay.example.edu/candor/v2",
            "https://relay.example.org/candor",
            "https://relay.example.edu./candor",
        ] {
            assert!(!base.same_relay(&url(other)), "{other}");
        }
        assert!(url("http://[::1]:8080").same_relay(&url("http://[::1]:8080/")));
        assert!(!url("http://[::1]:8080").same_relay(&url("http://[::1]:8081")));
        assert!(url("http://[::1]").same_relay(&url("http://[::1]:80")));
        assert!(url("http://127.0.0.1").same_relay(&url("http://127.0.0.1:80")));
    }

    proptest::proptest! {
        #[test]
        fn address_display_parse_round_trips(
            office in "[a-z0-9][a-z0-9-]{1,30}[a-z0-9]",
            fp in proptest::array::uniform32(proptest::prelude::any::<u8>()),
            https in proptest::prelude::any::<bool>(),
            host in "[a-z][a-z0-9]{0,19}(\\.[a-z0-9]{1,10}){0,3}",
            port in proptest::option::of(1u16..),
        ) {
            let relay = format!(
                "{}://{host}{}",
                if https { "https" } else { "http" },
                port.map(|p| format!(":{p}")).unwrap_or_default()
            );
            let a = OfficeAddress {
                office: office.parse().unwrap(),
                fingerprint: Fingerprint::from_bytes(fp),
                relay: relay.parse().unwrap(),
            };
            let text = a.to_string();
            proptest::prop_assert_eq!(text.parse::<OfficeAddress>().unwrap(), a);
        }
    }
}
