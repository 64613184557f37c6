//! The relay's HTTP API (`docs/protocol.md` §11), as a blocking client.
//!
//! Requests that touch a mailbox, an inbox or a card update are signed (§8) with
//! [`RequestAuth`]; the signed path is the URL's path as sent, query string included. Refusals
//! arrive as RFC 9457 problem documents and become [`RelayError::Refused`]; a relay that cannot
//! be reached is [`RelayError::Unreachable`], with its URL.

mod batch;
mod error;
mod handoffs;
mod notes;
mod transport;

pub use batch::Wanted;
pub use error::RelayError;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use candor_protocol::api::{
    Appended, CLOSE_VERSION, CloseMailbox, Closed, EnvelopePage, InboxEntry, InboxPage, Limits,
    MailboxOpened, Marker, OfficeSaved, OpenMailbox, RegisterOffice, StoredEnvelope, StoredTally,
    TallyPage,
};
use candor_protocol::pow::Challenge;
use candor_protocol::request::{HEADERS, KEY_HEADER};
use candor_protocol::{
    Envelope, MailboxId, OfficeId, RelayUrl, RequestAuth, SignedCard, Signer, SigningSecretKey,
    TallyId,
};
use reqwest::Method;
use reqwest::blocking::Client;

use self::transport::Transport;
use crate::cli::ProxyUrl;
use crate::output::escape_remote;

/// How long to wait for a connection. Generous, because onion services take a while.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a whole request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);
/// The longest a connection may sit idle and still be reused. The relay closes one idle for 5 s
/// (actix-web's keep-alive), and a connection taken just as that close arrives fails as if the
/// relay could not be reached: after the editor or a prompt, a command opens a new one.
const IDLE_REUSE: Duration = Duration::from_millis(2500);
/// Page size for inbox and envelope listings (the relay's maximum).
const PAGE: usize = 500;
/// A bound on pages, so that a misbehaving relay cannot keep us looping.
const MAX_PAGES: usize = 10_000;

/// A case's envelopes, and whether the office has closed it.
pub struct Fetched {
    /// Every envelope, in order.
    pub envelopes: Vec<StoredEnvelope>,
    /// Whether the case is closed (readable until its grace period ends).
    pub closed: bool,
}

/// A key that signs requests, and the role it signs as.
pub struct Auth<'a> {
    /// The signing key.
    pub key: &'a SigningSecretKey,
    /// Case or office.
    pub signer: Signer,
}

/// Whether a TCP connection to the proxy at `HOST:PORT` opens within a few seconds.
fn proxy_answers(proxy: &str) -> bool {
    use std::net::{TcpStream, ToSocketAddrs as _};
    proxy.to_socket_addrs().is_ok_and(|mut addrs| {
        addrs.any(|a| TcpStream::connect_timeout(&a, Duration::from_secs(3)).is_ok())
    })
}

/// A connection to one relay.
pub struct Relay {
    base: RelayUrl,
    via: String,
    /// The proxy's `HOST:PORT`, if there is one.
    proxy: Option<String>,
    http: Client,
}

impl Relay {
    /// A client for the relay at `base`, through `proxy` if given. Without a proxy, proxy
    /// environment variables are ignored, so that traffic goes where the user thinks it goes.
    /// An onion relay needs a proxy; plain `http://` to anything but an onion or this machine
    /// gets a warning on stderr.
    pub fn new(base: &RelayUrl, proxy: Option<&ProxyUrl>) -> anyhow::Result<Self> {
        if transport::check(base, proxy.is_some())? == Transport::PlainHttp {
            crate::output::warn(&format!(
                "the relay {base} is reached over plain http://, so anyone on the way sees which \
                 mailboxes are used and when, and can change the relay's answers (messages stay \
                 end-to-end encrypted, and cards signed). Use https:// or an onion address"
            ));
        }
        let mut builder = Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .pool_idle_timeout(IDLE_REUSE)
            .redirect(reqwest::redirect::Policy::none());
        builder = match proxy {
            Some(p) => builder.proxy(reqwest::Proxy::all(&p.0)?),
            None => builder.no_proxy(),
        };
        Ok(Self {
            base: base.clone(),
            via: proxy
                .map(|p| format!(" through {}", p.0))
                .unwrap_or_default(),
            proxy: proxy.map(|p| p.0.trim_start_matches("socks5h://").to_owned()),
            http: builder.build()?,
        })
    }

    /// `GET /v1/offices/{office}`: the signed card, not yet verified.
    pub fn office_card(&self, office: &OfficeId) -> Result<SignedCard, RelayError> {
        let body = self.call(Method::GET, &format!("/v1/offices/{office}"), None, None)?;
        SignedCard::from_json(&body).map_err(|e| self.bad(e))
    }

    /// `POST /v1/offices`: registers an office with a one-time invite.
    pub fn register_office(
        &self,
        invite: &str,
        card: SignedCard,
    ) -> Result<OfficeSaved, RelayError> {
        let body = RegisterOffice {
            invite: invite.to_owned(),
            card,
        };
        self.json(Method::POST, "/v1/offices", Some(to_json(&body)), None)
    }

    /// `PUT /v1/offices/{office}`: publishes a new card, signed by the current office key.
    pub fn update_office(
        &self,
        office: &OfficeId,
        card: &SignedCard,
        key: &SigningSecretKey,
    ) -> Result<OfficeSaved, RelayError> {
        let auth = Auth {
            key,
            signer: Signer::Office,
        };
        self.json(
            Method::PUT,
            &format!("/v1/offices/{office}"),
            Some(card.to_json()),
            Some(&auth),
        )
    }

    /// `GET /v1/offices/{office}/inbox`, every page: each mailbox once, with its latest state.
    pub fn inbox(
        &self,
        office: &OfficeId,
        key: &SigningSecretKey,
    ) -> Result<Vec<InboxEntry>, RelayError> {
        let auth = Auth {
            key,
            signer: Signer::Office,
        };
        let mut all: Vec<InboxEntry> = Vec::new();
        let mut at: std::collections::HashMap<MailboxId, usize> = std::collections::HashMap::new();
        let mut after = 0u64;
        for _ in 0..MAX_PAGES {
            let path = format!("/v1/offices/{office}/inbox?after={after}&limit={PAGE}");
            let page: InboxPage = self.json(Method::GET, &path, None, Some(&auth))?;
            let full = page.mailboxes.len() >= PAGE;
            for entry in page.mailboxes {
                // A mailbox that moved on between pages appears again; keep the newest.
                match at.get(&entry.mailbox) {
                    Some(&i) => all[i] = entry,
                    None => {
                        at.insert(entry.mailbox, all.len());
                        all.push(entry);
                    }
                }
            }
            if !full || page.next <= after {
                break;
            }
            after = page.next;
        }
        Ok(all)
    }

    /// `GET /v1/offices/{office}/tallies`, signed by the office: hands every stored tally to
    /// `each`, a page at a time, so that no more than a page is held at once.
    pub fn each_tally(
        &self,
        office: &OfficeId,
        key: &SigningSecretKey,
        mut each: impl FnMut(StoredTally) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        let auth = Auth {
            key,
            signer: Signer::Office,
        };
        let mut after: Option<TallyId> = None;
        loop {
            let path = match &after {
                Some(id) => format!("/v1/offices/{office}/tallies?after={id}"),
                None => format!("/v1/offices/{office}/tallies"),
            };
            let page: TallyPage = self.json(Method::GET, &path, None, Some(&auth))?;
            for tally in page.tallies {
                each(tally)?;
            }
            match page.next {
                // IDs only grow: a relay that repeats a cursor would loop.
                Some(next) if after.is_none_or(|a| next > a) => after = Some(next),
                _ => return Ok(()),
            }
        }
    }

    /// `GET /v1/pow`: a fresh proof-of-work challenge.
    pub fn pow(&self) -> Result<Challenge, RelayError> {
        let body = self.call(Method::GET, "/v1/pow", None, None)?;
        Challenge::from_json(&body).map_err(|e| self.bad(e))
    }

    /// `POST /v1/mailboxes`: opens a case's mailbox, signed by the case key being registered.
    pub fn open_mailbox(
        &self,
        request: &OpenMailbox,
        key: &SigningSecretKey,
    ) -> Result<MailboxOpened, RelayError> {
        let auth = Auth {
            key,
            signer: Signer::Case,
        };
        self.json(
            Method::POST,
            "/v1/mailboxes",
            Some(to_json(request)),
            Some(&auth),
        )
    }

    /// `POST /v1/mailboxes/{mailbox}/envelopes`: appends an envelope; returns its sequence number.
    pub fn append(&self, envelope: &Envelope, auth: &Auth<'_>) -> Result<u64, RelayError> {
        let path = format!("/v1/mailboxes/{}/envelopes", envelope.mailbox);
        let done: Appended =
            self.json(Method::POST, &path, Some(envelope.to_json()), Some(auth))?;
        Ok(done.seq)
    }

    /// `GET /v1/mailboxes/{mailbox}/envelopes`, every page, in order, and whether the case is
    /// closed. Pages may be cut short by size as well as count, so only an empty page ends.
    pub fn envelopes(&self, mailbox: &MailboxId, auth: &Auth<'_>) -> Result<Fetched, RelayError> {
        self.envelopes_after(mailbox, auth, 0, u64::MAX)
    }

    /// As [`Relay::envelopes`], only those after sequence number `after`, and no page more once
    /// `last`, the case's last sequence number as the inbox listed it, is reached.
    pub fn envelopes_after(
        &self,
        mailbox: &MailboxId,
        auth: &Auth<'_>,
        mut after: u64,
        last: u64,
    ) -> Result<Fetched, RelayError> {
        let mut all = Vec::new();
        let mut closed = false;
        for _ in 0..MAX_PAGES {
            let path = format!("/v1/mailboxes/{mailbox}/envelopes?after={after}&limit={PAGE}");
            let page: EnvelopePage = self.json(Method::GET, &path, None, Some(auth))?;
            closed = page.closed;
            // A relay at the end answers an empty page whose cursor has not moved.
            if page.envelopes.is_empty() || page.next <= after {
                break;
            }
            for stored in page.envelopes {
                if stored.envelope.mailbox != *mailbox || stored.seq <= after {
                    return Err(self.bad("an envelope out of place or out of order"));
                }
                after = stored.seq;
                all.push(stored);
            }
            if after >= last {
                break;
            }
        }
        Ok(Fetched {
            envelopes: all,
            closed,
        })
    }

    /// `GET /v1/limits`: what the relay accepts.
    pub fn limits(&self) -> Result<Limits, RelayError> {
        self.json(Method::GET, "/v1/limits", None, None)
    }

    /// `POST /v1/mailboxes/{mailbox}/close`, signed by the office: closes the case, with an
    /// optional last message and the case's sealed tally in the same signed request, so that
    /// the relay stores it in the same write and no second request gives its time away.
    /// Returns the last message's sequence number.
    pub fn close_recording(
        &self,
        mailbox: &MailboxId,
        last: Option<Envelope>,
        tally: Option<Vec<u8>>,
        key: &SigningSecretKey,
    ) -> Result<Option<u64>, RelayError> {
        let auth = Auth {
            key,
            signer: Signer::Office,
        };
        let body = CloseMailbox {
            v: CLOSE_VERSION.into(),
            envelope: last,
            tally,
        };
        let path = format!("/v1/mailboxes/{mailbox}/close");
        let done: Closed = self.json(Method::POST, &path, Some(to_json(&body)), Some(&auth))?;
        Ok(done.seq)
    }

    /// `PUT /v1/mailboxes/{mailbox}/marker`, signed by the office: its sealed read marker.
    pub fn set_marker(
        &self,
        mailbox: &MailboxId,
        sealed: Vec<u8>,
        key: &SigningSecretKey,
    ) -> Result<(), RelayError> {
        let auth = Auth {
            key,
            signer: Signer::Office,
        };
        let path = format!("/v1/mailboxes/{mailbox}/marker");
        let body = to_json(&Marker { sealed });
        self.call(Method::PUT, &path, Some(body), Some(&auth))?;
        Ok(())
    }

    /// `DELETE /v1/mailboxes/{mailbox}`: deletes the case on the relay at once.
    pub fn delete_mailbox(&self, mailbox: &MailboxId, auth: &Auth<'_>) -> Result<(), RelayError> {
        self.call(
            Method::DELETE,
            &format!("/v1/mailboxes/{mailbox}"),
            None,
            Some(auth),
        )?;
        Ok(())
    }

    fn json<T: serde::de::DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
        auth: Option<&Auth<'_>>,
    ) -> Result<T, RelayError> {
        let bytes = self.call(method, path, body, auth)?;
        serde_json::from_slice(&bytes).map_err(|e| self.bad(e))
    }

    /// Sends one request and returns the body of a 2xx answer.
    fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
        auth: Option<&Auth<'_>>,
    ) -> Result<Vec<u8>, RelayError> {
        let url = reqwest::Url::parse(&self.base.join(path)).map_err(|e| self.bad(e))?;
        let body = body.unwrap_or_default();
        let mut request = self
            .http
            .request(method.clone(), url.clone())
            .header("accept", "application/json, application/problem+json");
        if let Some(auth) = auth {
            let signed_path = match url.query() {
                Some(q) => format!("{}?{q}", url.path()),
                None => url.path().to_owned(),
            };
            let signed = RequestAuth::sign(
                auth.key,
                auth.signer,
                method.as_str(),
                &signed_path,
                &body,
                unix_now(),
                &mut candor_protocol::rand::rng(),
            );
            for (name, value) in HEADERS.iter().zip(signed.header_values()) {
                request = request.header(*name, value);
            }
            // Lets the relay check the signature before it reads the mailbox (§8).
            request = request.header(KEY_HEADER, RequestAuth::key_header(&auth.key.public_key()));
        }
        // Signed GET and DELETE requests carry no body (and no content type).
        if !body.is_empty() {
            request = request
                .header("content-type", "application/json")
                .body(body);
        }
        let response = request.send().map_err(|e| self.unreachable(&e))?;
        let status = response.status();
        let bytes = response.bytes().map_err(|e| self.unreachable(&e))?.to_vec();
        if status.is_success() {
            return Ok(bytes);
        }
        Err(RelayError::Refused {
            url: self.base.to_string(),
            status: status.as_u16(),
            problem: serde_json::from_slice(&bytes).ok(),
        })
    }

    fn unreachable(&self, err: &reqwest::Error) -> RelayError {
        // A proxy that takes no connection is the problem itself, and is named as such. Only
        // the proxy's own address is looked up here, never the relay's.
        if let Some(proxy) = &self.proxy
            && !proxy_answers(proxy)
        {
            return RelayError::ProxyDown {
                url: self.base.to_string(),
                proxy: proxy.clone(),
            };
        }
        // The innermost cause says most ("Connection refused", "timed out", a proxy failure).
        let mut reason = if err.is_timeout() {
            "timed out".to_owned()
        } else {
            err.to_string()
        };
        let mut source = std::error::Error::source(err);
        while let Some(s) = source {
            reason = s.to_string();
            source = s.source();
        }
        RelayError::Unreachable {
            url: self.base.to_string(),
            via: self.via.clone(),
            // A proxy's or a server's words may be in it.
            reason: escape_remote(&reason).into_owned(),
        }
    }

    fn bad(&self, why: impl std::fmt::Display) -> RelayError {
        RelayError::BadAnswer {
            url: self.base.to_string(),
            // Parse errors quote what the relay sent.
            why: escape_remote(&why.to_string()).into_owned(),
        }
    }
}

fn to_json<T: serde::Serialize>(value: &T) -> Vec<u8> {
    candor_protocol::encoding::to_json(value)
}

/// Unix seconds now.
pub fn unix_now() -> u64 {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    now.saturating_add(test_offset().unwrap_or(0))
}

/// Debug builds only: whole days added to the clock, as the relay's `CANDOR_TEST_CLOCK_DAYS`,
/// so that the end-to-end tests can run past an expiry. A release build ignores it.
pub const TEST_DAYS_ENV: &str = "CANDOR_TEST_CLOCK_DAYS";

/// The test offset in seconds, read once; an error names a bad value.
pub fn test_offset() -> anyhow::Result<u64> {
    static OFFSET: std::sync::OnceLock<Result<u64, String>> = std::sync::OnceLock::new();
    OFFSET
        .get_or_init(|| {
            if !cfg!(debug_assertions) {
                return Ok(0);
            }
            match std::env::var(TEST_DAYS_ENV) {
                Ok(v) => v
                    .parse::<u16>()
                    .map(|d| u64::from(d) * 86_400)
                    .map_err(|_| {
                        format!("{TEST_DAYS_ENV} must be a whole number of days, 0 to 65535")
                    }),
                Err(_) => Ok(0),
            }
        })
        .clone()
        .map_err(anyhow::Error::msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreachable_relay_is_named() {
        let relay = Relay::new(&"http://127.0.0.1:9".parse().unwrap(), None).unwrap();
        let err = relay.pow().unwrap_err();
        assert!(matches!(err, RelayError::Unreachable { .. }));
        assert!(err.to_string().contains("http://127.0.0.1:9"), "{err}");
    }
}
