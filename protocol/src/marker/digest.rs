//! What a read marker holds: the read position and a digest of the thread, and their fixed-size
//! plaintext.
//!
//! Plaintext ([`MARKER_PLAIN_LEN`] bytes, always; integers big-endian):
//!
//! ```text
//! version (1) = 3 | read_up_to (8) | digest present (1, 0 or 1)
//! digest, if present:
//!   up_to (8) | unread (4) | urgent (1, 0 or 1) | last_day (4, 0xFFFFFFFF = none)
//!   | constituency length (1, 0 = none) | constituency
//!   | category count (1, 0..=3) | (length (1, 1..=32) | category) per category
//! | zeros up to 192 bytes
//! ```
//!
//! The longest marker (a digest with three categories and a constituency of 32-character IDs)
//! takes 160 bytes.

use core::str::FromStr;

use zeroize::Zeroizing;

use crate::{Day, Error, ItemId};

/// The marker plaintext's format version.
pub const MARKER_VERSION: u8 = 3;
/// Every marker plaintext is padded to this length.
pub const MARKER_PLAIN_LEN: usize = 192;
/// The most categories a digest holds, as a case carries.
const MAX_DIGEST_CATEGORIES: usize = crate::limits::MAX_CASE_CATEGORIES;
const NO_DAY: u32 = u32::MAX;

/// The office's read marker of one case.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReadMarker {
    /// The highest sequence number the office has read (0: none).
    pub read_up_to: u64,
    /// What the inbox shows of the thread up to [`Digest::up_to`], if the office has made it.
    pub digest: Option<Digest>,
}

/// What `candor inbox` shows of a case, from its envelopes up to `up_to`: a pure function of
/// that prefix of the thread and of `read_up_to`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Digest {
    /// The highest sequence number the digest covers.
    pub up_to: u64,
    /// How many of the visitor's envelopes up to `up_to` come after the read position.
    pub unread: u32,
    /// The categories of the first visitor message that names any.
    pub categories: Vec<ItemId>,
    /// The constituency of the first visitor message that names one.
    pub constituency: Option<ItemId>,
    /// Whether any visitor message was marked urgent.
    pub urgent: bool,
    /// The day of the visitor's latest message.
    pub last_day: Option<Day>,
}

impl ReadMarker {
    /// The padded plaintext. Refuses a digest of more than three categories.
    pub fn encode(&self) -> Result<Zeroizing<[u8; MARKER_PLAIN_LEN]>, Error> {
        // IDs are at most 32 bytes (checked when parsed), so each length fits in one byte and
        // the whole in 160 bytes.
        fn id(buf: &mut Vec<u8>, id: Option<&ItemId>) {
            let s = id.map_or("", ItemId::as_str);
            buf.push(s.len() as u8);
            buf.extend_from_slice(s.as_bytes());
        }
        let mut buf = Zeroizing::new(Vec::with_capacity(MARKER_PLAIN_LEN));
        buf.push(MARKER_VERSION);
        buf.extend_from_slice(&self.read_up_to.to_be_bytes());
        match &self.digest {
            None => buf.push(0),
            Some(d) => {
                if d.categories.len() > MAX_DIGEST_CATEGORIES {
                    return Err(Error::malformed(
                        "read marker",
                        "a digest holds at most 3 categories".to_owned(),
                    ));
                }
                if d.last_day == Some(Day(NO_DAY)) {
                    return Err(Error::malformed(
                        "read marker",
                        "a digest's last day is before day 0xFFFFFFFF, which means none".to_owned(),
                    ));
                }
                buf.push(1);
                buf.extend_from_slice(&d.up_to.to_be_bytes());
                buf.extend_from_slice(&d.unread.to_be_bytes());
                buf.push(u8::from(d.urgent));
                buf.extend_from_slice(&d.last_day.map_or(NO_DAY, |day| day.0).to_be_bytes());
                id(&mut buf, d.constituency.as_ref());
                buf.push(d.categories.len() as u8);
                for c in &d.categories {
                    id(&mut buf, Some(c));
                }
            }
        }
        let mut out = Zeroizing::new([0u8; MARKER_PLAIN_LEN]);
        out[..buf.len()].copy_from_slice(&buf);
        Ok(out)
    }

    /// Parses a padded plaintext, refusing anything that [`ReadMarker::encode`] would not
    /// write.
    pub fn decode(plain: &[u8]) -> Result<Self, Error> {
        let bad = |why: &str| Error::malformed("read marker", why.to_owned());
        if plain.len() != MARKER_PLAIN_LEN {
            return Err(bad("a read marker's plaintext is 192 bytes"));
        }
        let mut r = Reader(plain);
        let version = r.byte()?;
        if version != MARKER_VERSION {
            return Err(Error::UnsupportedVersion {
                what: "read marker",
                found: u64::from(version),
                supported: MARKER_VERSION,
            });
        }
        let read_up_to = r.u64()?;
        let digest = match r.byte()? {
            0 => None,
            1 => {
                let up_to = r.u64()?;
                let unread = u32::from_be_bytes(r.array()?);
                let urgent = match r.byte()? {
                    0 => false,
                    1 => true,
                    _ => return Err(bad("urgent is 0 or 1")),
                };
                let last_day = match u32::from_be_bytes(r.array()?) {
                    NO_DAY => None,
                    day => Some(Day(day)),
                };
                let constituency = r.id()?;
                let n = usize::from(r.byte()?);
                if n > MAX_DIGEST_CATEGORIES {
                    return Err(bad("a digest holds at most 3 categories"));
                }
                let mut categories = Vec::with_capacity(n);
                for _ in 0..n {
                    categories.push(r.id()?.ok_or_else(|| bad("an empty category"))?);
                }
                Some(Digest {
                    up_to,
                    unread,
                    categories,
                    constituency,
                    urgent,
                    last_day,
                })
            }
            _ => return Err(bad("the digest flag is 0 or 1")),
        };
        if r.0.iter().any(|&b| b != 0) {
            return Err(bad("a read marker's padding is zeros"));
        }
        Ok(Self { read_up_to, digest })
    }
}

/// Reads the plaintext front to back.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn truncated() -> Error {
        Error::malformed("read marker", "truncated".to_owned())
    }

    fn byte(&mut self) -> Result<u8, Error> {
        let (&b, rest) = self.0.split_first().ok_or_else(Self::truncated)?;
        self.0 = rest;
        Ok(b)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], Error> {
        let (head, rest) = self
            .0
            .split_first_chunk::<N>()
            .ok_or_else(Self::truncated)?;
        self.0 = rest;
        Ok(*head)
    }

    fn u64(&mut self) -> Result<u64, Error> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    /// A length-prefixed ID; length 0 is none.
    fn id(&mut self) -> Result<Option<ItemId>, Error> {
        let len = usize::from(self.byte()?);
        if len == 0 {
            return Ok(None);
        }
        let (raw, rest) = self.0.split_at_checked(len).ok_or_else(Self::truncated)?;
        self.0 = rest;
        let s = core::str::from_utf8(raw)
            .map_err(|_| Error::malformed("read marker", "an ID is ASCII".to_owned()))?;
        ItemId::from_str(s).map(Some)
    }
}
