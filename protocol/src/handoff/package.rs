//! The sealed package and its two key shares. The package key is
//! `HKDF-SHA256(salt = handoff id, IKM = K_v || K_o, info = HANDOFF_PACKAGE_KEY)`: `K_v` is the
//! visitor's random half, `K_o` is exported from an HPKE base-mode encapsulation to the office's
//! KEM key, so that only the office can recover it from the package. Each party seals its half
//! to the third party (HPKE auth mode) as a [`KeyShare`]; without both the package stays shut.

use chacha20poly1305::aead::{Aead as _, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use hkdf::Hkdf;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use zeroize::Zeroizing;

use super::{HANDOFF_VERSION, IdentityOpening, Party, Proposal};
use crate::encoding::{self, b64_array, b64_vec};
use crate::keys::{KemPublicKey, KemSecretKey};
use crate::seal::scripted::Scripted;
use crate::{Error, HandoffId, labels, padding, seal};

/// What the third party opens: the proposal bytes both parties sign, the visitor's consent,
/// and the identity's opening if the proposal includes it. Zeroized on drop; no `Debug`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Disclosure {
    /// Format version, [`HANDOFF_VERSION`].
    pub v: u64,
    /// The consented proposal's bytes.
    #[serde(with = "b64_vec")]
    pub proposal: Vec<u8>,
    /// The visitor's consent over them.
    #[serde(with = "b64_array")]
    pub consent: [u8; 64],
    /// The visitor's identity, exactly when the proposal includes it.
    pub identity: Option<IdentityOpening>,
}

impl Drop for Disclosure {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.proposal);
    }
}

impl Disclosure {
    /// Checks a disclosure as the third party must before showing anything: the proposal
    /// parses and checks, the consent is the case key's, the proposal names this third party
    /// (`own_signing_key`), the identity opens the commitment (or is absent exactly when not
    /// included), and the office's `agreement` covers the same bytes.
    pub fn verify(
        &self,
        id: &HandoffId,
        own_signing_key: &[u8; 32],
        agreement: &[u8; 64],
    ) -> Result<Proposal, Error> {
        encoding::check_version("handoff disclosure", self.v, HANDOFF_VERSION)?;
        let p = Proposal::from_json(&self.proposal)?;
        if p.id != *id {
            return Err(Error::Handoff("the package is of another handoff"));
        }
        if p.third_party_card()?.signing_key != *own_signing_key {
            return Err(Error::Handoff("the handoff is for another third party"));
        }
        let sha = Proposal::sha256(&self.proposal);
        Proposal::verify_approval(&sha, Party::Visitor, &p.case_signing_key()?, &self.consent)
            .map_err(|_| Error::Handoff("the consent is not the case key's"))?;
        Proposal::verify_approval(&sha, Party::Office, &p.office_signing_key()?, agreement)
            .map_err(|_| Error::Handoff("the agreement is not the office key's"))?;
        match (&p.identity, &self.identity) {
            (Some(c), Some(o)) if o.opens(id, c) => {}
            (None, None) if !p.identity_included => {}
            _ => return Err(Error::Handoff("the identity does not match its commitment")),
        }
        Ok(p)
    }
}

/// The sealed package as the relay keeps it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Package {
    /// Format version, [`HANDOFF_VERSION`].
    #[cfg_attr(feature = "openapi", schema(minimum = 2, maximum = 2))]
    pub v: u64,
    /// The HPKE encapsulated key from which the office recovers `K_o`.
    #[serde(with = "b64_array")]
    #[cfg_attr(feature = "openapi", schema(value_type = crate::api::schema::Bytes32, inline))]
    pub office_enc: [u8; 32],
    /// ChaCha20-Poly1305 (RFC 8439) of the padded disclosure under the package key, nonce zero
    /// (the key encrypts this one plaintext), AAD `HANDOFF_PACKAGE || handoff id`.
    #[serde(with = "b64_vec")]
    #[cfg_attr(
        feature = "openapi",
        schema(
            value_type = String,
            pattern = "^[A-Za-z0-9_-]+$",
            min_length = 22
        )
    )]
    pub ct: Vec<u8>,
}

/// A fresh random 32-byte key half.
pub fn content_key(rng: &mut impl rand::CryptoRng) -> Zeroizing<[u8; 32]> {
    Zeroizing::new(crate::keys::random_bytes(rng))
}

fn office_info(id: &HandoffId) -> Vec<u8> {
    [labels::HANDOFF_OFFICE_KEY, id.as_bytes().as_slice()].concat()
}

fn package_key(id: &HandoffId, k_v: &[u8; 32], k_o: &[u8; 32]) -> Zeroizing<[u8; 32]> {
    let mut ikm = Zeroizing::new([0u8; 64]);
    ikm[..32].copy_from_slice(k_v);
    ikm[32..].copy_from_slice(k_o);
    let mut key = Zeroizing::new([0u8; 32]);
    // 32 bytes is far below HKDF-SHA256's limit.
    Hkdf::<Sha256>::new(Some(id.as_bytes()), ikm.as_ref())
        .expand(labels::HANDOFF_PACKAGE_KEY, key.as_mut())
        .unwrap_or_else(|_| unreachable!());
    key
}

fn package_aad(id: &HandoffId) -> Vec<u8> {
    [labels::HANDOFF_PACKAGE, id.as_bytes().as_slice()].concat()
}

impl Package {
    /// Seals a disclosure as the visitor: returns the package and `K_v`, to be sealed to the
    /// third party as the visitor's share. `K_o` is dropped (zeroized) here: the visitor keeps
    /// no way to release the package alone.
    pub fn seal(
        disclosure: &Disclosure,
        id: &HandoffId,
        office_kem: &KemPublicKey,
        rng: &mut impl rand::CryptoRng,
    ) -> Result<(Self, Zeroizing<[u8; 32]>), Error> {
        let k_v = content_key(rng);
        let (office_enc, ctx) = seal::setup_sender(None, office_kem, &office_info(id), rng)?;
        let mut k_o = Zeroizing::new([0u8; 32]);
        ctx.export(b"", k_o.as_mut())?;
        let key = package_key(id, &k_v, &k_o);
        let padded = Zeroizing::new(padding::pad(&encoding::to_json(disclosure))?);
        let ct = ChaCha20Poly1305::new(&Key::from(*key))
            .encrypt(
                &Nonce::default(),
                Payload {
                    msg: &padded,
                    aad: &package_aad(id),
                },
            )
            .map_err(|_| Error::SealFailed)?;
        Ok((
            Self {
                v: HANDOFF_VERSION.into(),
                office_enc,
                ct,
            },
            k_v,
        ))
    }

    /// As [`Package::seal`], with its two random values given, for test vectors: `K_v`, then
    /// the HPKE `ikmE` of the encapsulation to the office.
    pub fn seal_scripted(
        disclosure: &Disclosure,
        id: &HandoffId,
        office_kem: &KemPublicKey,
        k_v: &[u8; 32],
        ikm_e: &[u8; 32],
    ) -> Result<Self, Error> {
        let script = [*k_v, *ikm_e];
        let mut rng = Scripted::new(&script);
        let (package, _) = Self::seal(disclosure, id, office_kem, &mut rng)?;
        rng.finish()?;
        Ok(package)
    }

    /// The office's half, `K_o`, recovered with the office's KEM key.
    pub fn office_key(
        &self,
        id: &HandoffId,
        office: &KemSecretKey,
    ) -> Result<Zeroizing<[u8; 32]>, Error> {
        office_half(&self.office_enc, id, office)
    }

    /// Opens the package with both halves. Every failure is [`Error::DecryptionFailed`].
    pub fn open(
        &self,
        id: &HandoffId,
        k_v: &[u8; 32],
        k_o: &[u8; 32],
    ) -> Result<Disclosure, Error> {
        encoding::check_version("handoff package", self.v, HANDOFF_VERSION)?;
        let key = package_key(id, k_v, k_o);
        let padded = Zeroizing::new(
            ChaCha20Poly1305::new(&Key::from(*key))
                .decrypt(
                    &Nonce::default(),
                    Payload {
                        msg: &self.ct,
                        aad: &package_aad(id),
                    },
                )
                .map_err(|_| Error::DecryptionFailed)?,
        );
        let json = padding::unpad(&padded).map_err(|_| Error::DecryptionFailed)?;
        encoding::from_json("handoff disclosure", json).map_err(|_| Error::DecryptionFailed)
    }
}

/// The office's half, `K_o`, from a package's `office_enc` alone: the office learns it from
/// the visitor's consent note ([`crate::message::HandoffNote::Consent`]), never from the relay.
pub fn office_half(
    office_enc: &[u8; 32],
    id: &HandoffId,
    office: &KemSecretKey,
) -> Result<Zeroizing<[u8; 32]>, Error> {
    let ctx = seal::setup_receiver(office, None, office_enc, &office_info(id))?;
    let mut k_o = Zeroizing::new([0u8; 32]);
    ctx.export(b"", k_o.as_mut())?;
    Ok(k_o)
}

/// One party's key half sealed to the third party.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct KeyShare {
    /// Whose share this is.
    pub party: Party,
    /// HPKE encapsulated key.
    #[serde(with = "b64_array")]
    #[cfg_attr(feature = "openapi", schema(value_type = crate::api::schema::Bytes32, inline))]
    pub enc: [u8; 32],
    /// HPKE ciphertext of the 32-byte key half.
    #[serde(with = "b64_vec")]
    #[cfg_attr(feature = "openapi", schema(value_type = crate::api::schema::Bytes48, inline))]
    pub ct: Vec<u8>,
}

fn share_info(id: &HandoffId, party: Party) -> Vec<u8> {
    let mut info = labels::HANDOFF_SHARE.to_vec();
    info.extend_from_slice(id.as_bytes());
    info.push(party.code());
    info
}

impl KeyShare {
    /// Seals `key` from `sender` (the case's or the office's KEM key) to the third party,
    /// HPKE auth mode, `info = HANDOFF_SHARE || id || party`, empty AAD.
    pub fn seal(
        key: &[u8; 32],
        id: &HandoffId,
        party: Party,
        sender: &KemSecretKey,
        third_party: &KemPublicKey,
        rng: &mut impl rand::CryptoRng,
    ) -> Result<Self, Error> {
        let (enc, mut ctx) =
            seal::setup_sender(Some(sender), third_party, &share_info(id, party), rng)?;
        Ok(Self {
            party,
            enc,
            ct: ctx.seal(key, b"")?,
        })
    }

    /// As [`KeyShare::seal`], with the HPKE `ikmE` given, for test vectors.
    pub fn seal_scripted(
        key: &[u8; 32],
        id: &HandoffId,
        party: Party,
        sender: &KemSecretKey,
        third_party: &KemPublicKey,
        ikm_e: &[u8; 32],
    ) -> Result<Self, Error> {
        let script = [*ikm_e];
        let mut rng = Scripted::new(&script);
        let share = Self::seal(key, id, party, sender, third_party, &mut rng)?;
        rng.finish()?;
        Ok(share)
    }

    /// Opens a share as the third party.
    pub fn open(
        &self,
        id: &HandoffId,
        recipient: &KemSecretKey,
        sender: &KemPublicKey,
    ) -> Result<Zeroizing<[u8; 32]>, Error> {
        let mut ctx = seal::setup_receiver(
            recipient,
            Some(sender),
            &self.enc,
            &share_info(id, self.party),
        )?;
        let key = Zeroizing::new(ctx.open(&self.ct, b"")?);
        let arr = <[u8; 32]>::try_from(key.as_slice()).map_err(|_| Error::DecryptionFailed)?;
        Ok(Zeroizing::new(arr))
    }
}
