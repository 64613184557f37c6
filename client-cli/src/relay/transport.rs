//! Whether a relay URL may be reached, and how privately: an onion name needs a proxy (RFC 7686),
//! and plain `http://` is private only to an onion service or this machine.

use candor_protocol::RelayUrl;

/// How a relay URL would be reached, when that is allowed at all.
#[derive(Debug, PartialEq, Eq)]
pub enum Transport {
    /// TLS, an onion service or this machine: nothing on the network reads the requests.
    Private,
    /// Plain HTTP across a network: allowed, for lab setups, with a warning.
    PlainHttp,
}

/// Whether `base` may be reached, `proxied` or not. An onion name without a proxy is refused:
/// the system resolver would send it to DNS in clear, which RFC 7686 §2 forbids.
pub fn check(base: &RelayUrl, proxied: bool) -> anyhow::Result<Transport> {
    let host = base.host().trim_end_matches('.').to_ascii_lowercase();
    let onion = host == "onion" || host.ends_with(".onion");
    if onion && !proxied {
        anyhow::bail!(
            "the relay {base} is an onion service, which only Tor can reach: pass --proxy \
             socks5h://127.0.0.1:9050 (or set CANDOR_PROXY) with Tor running. Without a proxy, \
             the onion name would be sent to DNS in clear (RFC 7686)"
        );
    }
    let loopback = host == "localhost"
        || host.ends_with(".localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if base.as_str().starts_with("http://") && !onion && !loopback {
        return Ok(Transport::PlainHttp);
    }
    Ok(Transport::Private)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_onion_relay_needs_a_proxy_and_plain_http_is_flagged_off_this_machine() {
        let url = |s: &str| s.parse::<RelayUrl>().unwrap();
        for onion in [
            "http://abc.onion",
            "http://abc.ONION.:80",
            "https://x.y.onion/r",
        ] {
            let err = check(&url(onion), false).unwrap_err();
            assert!(err.to_string().contains("--proxy"), "{err}");
            assert_eq!(check(&url(onion), true).unwrap(), Transport::Private);
        }
        for private in [
            "https://relay.example.edu",
            "http://127.0.0.1:8080",
            "http://127.3.2.1",
            "http://[::1]:8080",
            "http://localhost:1",
            "http://relay.localhost",
        ] {
            assert_eq!(check(&url(private), false).unwrap(), Transport::Private);
        }
        for plain in [
            "http://relay.example.edu",
            "http://10.0.0.1:80",
            "http://onion.example",
        ] {
            assert_eq!(check(&url(plain), true).unwrap(), Transport::PlainHttp);
        }
    }
}
