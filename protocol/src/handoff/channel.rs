//! How the third party learns of a handoff, and the channel it answers through.
//!
//! The office derives one 32-byte seed per handoff from its KEM secret (so that it keeps the
//! link between case and channel without storing it) and seals `handoff id || seed || case KEM
//! key || office KEM key` to the third party as a [`Notice`] (HPKE base mode, `info =
//! HANDOFF_NOTICE`): the two keys are those the shares are sealed from, which the third party
//! needs before it can open the package that names them. From the seed both
//! derive the third party's fetch key for the package, the channel's ID and the third party's
//! channel key ([`ChannelKeys`]), each under its own label, so that the relay sees unrelated
//! keys and IDs for the package and the channel, and for every handoff.

use hkdf::Hkdf;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::encoding::{b64_array, b64_vec};
use crate::keys::{Identity, KemPublicKey, KemSecretKey, SigningPublicKey, SigningSecretKey};
use crate::seal::scripted::Scripted;
use crate::seal::{Opener, Role, Sealer};
use crate::{Direction, Error, HandoffId, MailboxId, labels, seal};

/// A handoff's notice seed. Zeroized on drop; no `Debug`.
pub struct NoticeSeed(Zeroizing<[u8; 32]>);

impl NoticeSeed {
    /// The office's seed for handoff `id`: `HKDF-SHA256(salt = id, IKM = office KEM secret,
    /// info = HANDOFF_SEED)`.
    pub fn of_office(office: &KemSecretKey, id: &HandoffId) -> Self {
        let mut seed = Zeroizing::new([0u8; 32]);
        Hkdf::<Sha256>::new(Some(id.as_bytes()), office.to_bytes().as_ref())
            .expand(labels::HANDOFF_SEED, seed.as_mut())
            .unwrap_or_else(|_| unreachable!());
        Self(seed)
    }

    fn expand(&self, label: &[u8]) -> Zeroizing<[u8; 32]> {
        let mut out = Zeroizing::new([0u8; 32]);
        // 32 bytes is far below HKDF-SHA256's limit.
        Hkdf::<Sha256>::new(None, self.0.as_ref())
            .expand(label, out.as_mut())
            .unwrap_or_else(|_| unreachable!());
        out
    }

    /// The keys and the channel ID derived from the seed.
    pub fn keys(&self) -> ChannelKeys {
        let id = self.expand(labels::HANDOFF_CHANNEL_ID);
        let mut channel = [0u8; 16];
        channel.copy_from_slice(&id[..16]);
        ChannelKeys {
            fetch: SigningSecretKey::from_seed(&self.expand(labels::HANDOFF_FETCH_KEY)),
            channel: MailboxId::from_bytes(channel),
            channel_key: SigningSecretKey::from_seed(&self.expand(labels::HANDOFF_CHANNEL_KEY)),
        }
    }
}

/// What the seed gives: the fetch key, the channel ID and the channel key.
pub struct ChannelKeys {
    /// The third party signs its fetch of the package with this key (signer `third-party`).
    pub fetch: SigningSecretKey,
    /// The channel's ID, in the form of a mailbox ID.
    pub channel: MailboxId,
    /// The third party signs its channel requests with this key (signer `third-party`).
    pub channel_key: SigningSecretKey,
}

/// The notice of a handoff, sealed to the third party.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Notice {
    /// HPKE encapsulated key.
    #[serde(with = "b64_array")]
    #[cfg_attr(feature = "openapi", schema(value_type = crate::api::schema::Bytes32, inline))]
    pub enc: [u8; 32],
    /// HPKE ciphertext of `handoff id (16) || seed (32) || case KEM key (32) || office KEM key
    /// (32)`.
    #[serde(with = "b64_vec")]
    #[cfg_attr(
        feature = "openapi",
        schema(
            value_type = String,
            pattern = "^[A-Za-z0-9_-]{170}[AEIMQUYcgkosw048]$",
            min_length = 171,
            max_length = 171
        )
    )]
    pub ct: Vec<u8>,
}

/// The length of a notice's plaintext.
const NOTICE_PLAIN: usize = 16 + 32 + 32 + 32;

/// What a notice tells the third party: the handoff, its seed, and the KEM keys of the case
/// and of the office, from which the visitor's and the office's shares are sealed. The keys are
/// only hints until the package opens: the third party then checks them against the proposal.
pub struct Opened {
    /// The handoff.
    pub id: HandoffId,
    /// Its seed.
    pub seed: NoticeSeed,
    /// The case's KEM key.
    pub case_kem: KemPublicKey,
    /// The office's KEM key.
    pub office_kem: KemPublicKey,
}

impl Notice {
    /// Seals the notice of handoff `id` to the third party, with the KEM keys the shares come
    /// from.
    pub fn seal(
        id: &HandoffId,
        seed: &NoticeSeed,
        keys: (&KemPublicKey, &KemPublicKey),
        third_party: &KemPublicKey,
        rng: &mut impl rand::CryptoRng,
    ) -> Result<Self, Error> {
        let (case_kem, office_kem) = keys;
        let (enc, mut ctx) = seal::setup_sender(None, third_party, labels::HANDOFF_NOTICE, rng)?;
        let mut plain = Zeroizing::new([0u8; NOTICE_PLAIN]);
        plain[..16].copy_from_slice(id.as_bytes());
        plain[16..48].copy_from_slice(seed.0.as_ref());
        plain[48..80].copy_from_slice(&case_kem.to_bytes());
        plain[80..].copy_from_slice(&office_kem.to_bytes());
        Ok(Self {
            enc,
            ct: ctx.seal(plain.as_ref(), b"")?,
        })
    }

    /// As [`Notice::seal`], with the HPKE `ikmE` given, for test vectors.
    pub fn seal_scripted(
        id: &HandoffId,
        seed: &NoticeSeed,
        keys: (&KemPublicKey, &KemPublicKey),
        third_party: &KemPublicKey,
        ikm_e: &[u8; 32],
    ) -> Result<Self, Error> {
        let script = [*ikm_e];
        let mut rng = Scripted::new(&script);
        let notice = Self::seal(id, seed, keys, third_party, &mut rng)?;
        rng.finish()?;
        Ok(notice)
    }

    /// Opens a notice as the third party: `None` if it is not for this key (or of another
    /// length: the 48-byte form without the keys is not read).
    pub fn open(&self, recipient: &KemSecretKey) -> Option<Opened> {
        let mut ctx =
            seal::setup_receiver(recipient, None, &self.enc, labels::HANDOFF_NOTICE).ok()?;
        let plain = Zeroizing::new(ctx.open(&self.ct, b"").ok()?);
        if plain.len() != NOTICE_PLAIN {
            return None;
        }
        let mut id = [0u8; 16];
        id.copy_from_slice(&plain[..16]);
        let mut seed = Zeroizing::new([0u8; 32]);
        seed.copy_from_slice(&plain[16..48]);
        let key = |range: std::ops::Range<usize>| {
            let mut k = [0u8; 32];
            k.copy_from_slice(&plain[range]);
            KemPublicKey::from_bytes(&k)
        };
        Some(Opened {
            id: HandoffId::from_bytes(id),
            seed: NoticeSeed(seed),
            case_kem: key(48..80),
            office_kem: key(80..112),
        })
    }
}

/// The third party's answer on the channel: sealed to the office, with its own copy, signed with
/// its card's identity key.
pub fn third_party_sealer<'a>(
    third_party: &'a Identity,
    office_kem: KemPublicKey,
    channel: MailboxId,
) -> Sealer<'a> {
    Sealer {
        sender: third_party.kem(),
        recipient: office_kem,
        own: third_party.kem().public_key(),
        keep_copy: true,
        author: third_party.signing(),
        mailbox: channel,
        direction: Direction::FromThirdParty,
    }
}

/// The office's message on the channel, with the office's own copy.
pub fn office_sealer<'a>(
    office: &'a Identity,
    third_party_kem: KemPublicKey,
    channel: MailboxId,
) -> Sealer<'a> {
    Sealer {
        sender: office.kem(),
        recipient: third_party_kem,
        own: office.kem().public_key(),
        keep_copy: true,
        author: office.signing(),
        mailbox: channel,
        direction: Direction::ToThirdParty,
    }
}

/// How the office opens a channel envelope; `None` for a direction that is not the channel's.
pub fn office_opener<'a>(
    office: &'a Identity,
    third_party_kem: KemPublicKey,
    third_party_signing: SigningPublicKey,
    direction: Direction,
) -> Option<Opener<'a>> {
    let (role, sender, author) = match direction {
        Direction::FromThirdParty => (Role::Other, third_party_kem, third_party_signing),
        Direction::ToThirdParty => (
            Role::Own,
            office.kem().public_key(),
            office.signing().public_key(),
        ),
        Direction::ToOffice | Direction::ToVisitor => return None,
    };
    Some(Opener {
        recipient: office.kem(),
        role,
        sender,
        author,
    })
}

/// How the third party opens a channel envelope; `None` for a direction that is not the
/// channel's.
pub fn third_party_opener<'a>(
    third_party: &'a Identity,
    office_kem: KemPublicKey,
    office_signing: SigningPublicKey,
    direction: Direction,
) -> Option<Opener<'a>> {
    let (role, sender, author) = match direction {
        Direction::ToThirdParty => (Role::Other, office_kem, office_signing),
        Direction::FromThirdParty => (
            Role::Own,
            third_party.kem().public_key(),
            third_party.signing().public_key(),
        ),
        Direction::ToOffice | Direction::ToVisitor => return None,
    };
    Some(Opener {
        recipient: third_party.kem(),
        role,
        sender,
        author,
    })
}
