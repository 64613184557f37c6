//! Encrypted keystores: secrets at rest under a passphrase.
//!
//! The key comes from Argon2id (RFC 9106) over the passphrase and a random 16-byte salt; the
//! secret is sealed with XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha) under a random 24-byte
//! nonce. The file is JSON and carries its own parameters, so they can be raised later without
//! breaking old files:
//!
//! ```json
//! {"format": "candor-keystore", "v": 1, "kind": "office-identity",
//!  "kdf": {"alg": "argon2id", "m_kib": 65536, "t": 3, "p": 1, "salt": "<base64url 16>"},
//!  "nonce": "<base64url 24>", "ct": "<base64url>"}
//! ```
//!
//! The AAD binds the kind and every KDF parameter, so that a file cannot be passed off as
//! another kind or downgraded to cheaper parameters without the tag failing.
//!
//! The kinds: the office identity (its 64 secret bytes); the office's records key (32 bytes,
//! kept apart from the identity so that it outlives an identity change); the office bundle
//! that moves keys between staff (the 64 bytes, the 32 bytes of the records key, then the
//! card's JSON; a bundle of the older kind without the records key is still read); and the
//! visitor's remembered codenames.
//!
//! What parameters a file may carry, and the test-only fast mode, are in [`cost`].

mod cost;

use anyhow::{Context as _, Result, anyhow, bail};
use argon2::{Algorithm, Argon2, Params, Version};
use candor_protocol::encoding::{b64_array, b64_vec};
use candor_protocol::keys::random_bytes;
use candor_protocol::{Identity, OfficeCard, RecordsKey};
use chacha20poly1305::aead::{Aead as _, KeyInit as _, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use secrecy::{ExposeSecret as _, SecretString};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use self::cost::{Cost, FAST_KDF_ENV, FastMode, Strength};
use crate::output;

/// Label at the start of every keystore AAD.
const KEYSTORE_AAD: &[u8] = b"candor/v1/keystore";
const FORMAT: &str = "candor-keystore";
const VERSION: u64 = 1;

/// What a keystore holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// The office identity's 64 secret bytes.
    OfficeIdentity,
    /// The office identity and card, to hand to another ombuds.
    OfficeBundle,
    /// A visitor's remembered codenames.
    RememberedCases,
    /// A third party's identity's 64 secret bytes.
    ThirdPartyIdentity,
    /// The third-party cards an office imported, under the office keystore's passphrase.
    ThirdPartyList,
    /// The office's records key (32 bytes), which seals its tallies.
    RecordsKey,
    /// The office identity, its records key and its card, to hand to another ombuds.
    OfficeBundleWithRecords,
}

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::OfficeIdentity => "office-identity",
            Kind::OfficeBundle => "office-bundle",
            Kind::RememberedCases => "remembered-cases",
            Kind::ThirdPartyIdentity => "third-party-identity",
            Kind::ThirdPartyList => "third-party-list",
            Kind::RecordsKey => "records-key",
            Kind::OfficeBundleWithRecords => "office-bundle-with-records",
        }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KdfParams {
    alg: String,
    m_kib: u32,
    t: u32,
    p: u32,
    #[serde(with = "b64_array")]
    salt: [u8; 16],
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    format: String,
    v: u64,
    kind: Kind,
    kdf: KdfParams,
    #[serde(with = "b64_array")]
    nonce: [u8; 24],
    #[serde(with = "b64_vec")]
    ct: Vec<u8>,
}

fn aad(kind: Kind, kdf: &KdfParams) -> Vec<u8> {
    let mut aad = KEYSTORE_AAD.to_vec();
    aad.extend_from_slice(&VERSION.to_be_bytes());
    aad.extend_from_slice(kind.label().as_bytes());
    aad.push(0);
    for n in [kdf.m_kib, kdf.t, kdf.p] {
        aad.extend_from_slice(&n.to_be_bytes());
    }
    aad.extend_from_slice(&kdf.salt);
    aad
}

fn derive_key(passphrase: &SecretString, kdf: &KdfParams) -> Result<Zeroizing<[u8; 32]>> {
    let params = Params::new(kdf.m_kib, kdf.t, kdf.p, Some(32))
        .map_err(|e| anyhow!("invalid keystore parameters: {e}"))?;
    let mut key = Zeroizing::new([0u8; 32]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(
            passphrase.expose_secret().as_bytes(),
            &kdf.salt,
            key.as_mut(),
        )
        .map_err(|e| anyhow!("could not derive the keystore key: {e}"))?;
    Ok(key)
}

/// The fast mode of this process, warning about it when it was asked for.
fn fast_mode() -> FastMode {
    let mode = cost::fast_mode();
    match mode {
        FastMode::On => output::warn(&format!(
            "{FAST_KDF_ENV}=1: keystores use test-only Argon2id parameters and are easy to guess"
        )),
        FastMode::Ignored => output::warn(&format!(
            "{FAST_KDF_ENV} is ignored: only test builds of candor honour it"
        )),
        FastMode::Off => {}
    }
    mode
}

/// Encrypts `plaintext` under `passphrase` into the bytes of a keystore file.
pub fn seal(kind: Kind, plaintext: &[u8], passphrase: &SecretString) -> Result<Vec<u8>> {
    let cost = match fast_mode() {
        FastMode::On => cost::FAST,
        FastMode::Off | FastMode::Ignored => cost::DEFAULT,
    };
    seal_with(kind, plaintext, passphrase, cost)
}

fn seal_with(
    kind: Kind,
    plaintext: &[u8],
    passphrase: &SecretString,
    cost: Cost,
) -> Result<Vec<u8>> {
    let rng = &mut candor_protocol::rand::rng();
    let kdf = KdfParams {
        alg: "argon2id".to_owned(),
        m_kib: cost.m_kib,
        t: cost.t,
        p: cost.p,
        salt: random_bytes(rng),
    };
    let key = derive_key(passphrase, &kdf)?;
    let nonce: [u8; 24] = random_bytes(rng);
    let aad = aad(kind, &kdf);
    let ct = XChaCha20Poly1305::new(&Key::from(*key))
        .encrypt(
            &XNonce::from(nonce),
            Payload {
                msg: plaintext,
                aad: &aad,
            },
        )
        .map_err(|_| anyhow!("could not encrypt the keystore"))?;
    let file = File {
        format: FORMAT.to_owned(),
        v: VERSION,
        kind,
        kdf,
        nonce,
        ct,
    };
    let mut bytes = serde_json::to_vec_pretty(&file)?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// Decrypts a keystore file of the expected `kind`. Parameters below [`cost::FLOOR`] are
/// refused, except in the test-only fast mode; below the default, it warns.
pub fn open(kind: Kind, bytes: &[u8], passphrase: &SecretString) -> Result<Zeroizing<Vec<u8>>> {
    let floor = match fast_mode() {
        FastMode::On => cost::FAST,
        FastMode::Off | FastMode::Ignored => cost::FLOOR,
    };
    open_with(kind, bytes, passphrase, floor)
}

fn open_with(
    kind: Kind,
    bytes: &[u8],
    passphrase: &SecretString,
    floor: Cost,
) -> Result<Zeroizing<Vec<u8>>> {
    let file: File = serde_json::from_slice(bytes)
        .map_err(|e| anyhow!("this is not a Candor keystore file ({e})"))?;
    if file.format != FORMAT || file.v != VERSION {
        bail!(
            "this keystore has format {} version {}, which this client does not read",
            file.format,
            file.v
        );
    }
    if file.kind != kind {
        bail!(
            "this file holds {}, not {}",
            file.kind.label(),
            kind.label()
        );
    }
    let k = &file.kdf;
    if k.alg != "argon2id" {
        bail!(
            "this keystore uses the key derivation {}, which this client refuses",
            k.alg
        );
    }
    let cost = Cost {
        m_kib: k.m_kib,
        t: k.t,
        p: k.p,
    };
    if cost::judge(cost, floor)? == Strength::BelowDefault && floor != cost::FAST {
        output::warn(&format!(
            "this keystore's Argon2id parameters ({} KiB, {} passes) are below this client's \
             default ({} KiB, {} passes); its passphrase is cheaper to guess than it should be",
            cost.m_kib,
            cost.t,
            cost::DEFAULT.m_kib,
            cost::DEFAULT.t
        ));
    }
    let key = derive_key(passphrase, k)?;
    let plaintext = XChaCha20Poly1305::new(&Key::from(*key))
        .decrypt(
            &XNonce::from(file.nonce),
            Payload {
                msg: &file.ct,
                aad: &aad(kind, k),
            },
        )
        .map_err(|_| anyhow!("the passphrase is wrong, or the file is damaged"))?;
    Ok(Zeroizing::new(plaintext))
}

/// The office identity, sealed for the office keystore file.
pub fn seal_identity(identity: &Identity, passphrase: &SecretString) -> Result<Vec<u8>> {
    seal(
        Kind::OfficeIdentity,
        identity.to_secret_bytes().as_ref(),
        passphrase,
    )
}

/// Opens the office keystore file and checks that it belongs to `card`.
pub fn open_identity(
    bytes: &[u8],
    passphrase: &SecretString,
    card: &OfficeCard,
) -> Result<Identity> {
    let secret = open(Kind::OfficeIdentity, bytes, passphrase)?;
    let identity = identity_from(&secret)?;
    check_pair(&identity, card)?;
    Ok(identity)
}

/// A third party's identity, sealed for its keystore file.
pub fn seal_third_party(identity: &Identity, passphrase: &SecretString) -> Result<Vec<u8>> {
    seal(
        Kind::ThirdPartyIdentity,
        identity.to_secret_bytes().as_ref(),
        passphrase,
    )
}

/// Opens a third party's keystore file and checks that it belongs to `card`.
pub fn open_third_party(
    bytes: &[u8],
    passphrase: &SecretString,
    card: &candor_protocol::ThirdPartyCard,
) -> Result<Identity> {
    let secret = open(Kind::ThirdPartyIdentity, bytes, passphrase)?;
    let identity = identity_from(&secret)?;
    if identity.signing().public_key().to_bytes() != card.signing_key
        || identity.kem().public_key().to_bytes() != card.kem_key
    {
        bail!("the third-party keys and the third-party card do not belong together");
    }
    Ok(identity)
}

/// The office's records key, sealed for its keystore file.
pub fn seal_records_key(key: &RecordsKey, passphrase: &SecretString) -> Result<Vec<u8>> {
    seal(Kind::RecordsKey, key.to_bytes().as_ref(), passphrase)
}

/// Opens the records keystore file.
pub fn open_records_key(bytes: &[u8], passphrase: &SecretString) -> Result<RecordsKey> {
    let secret = open(Kind::RecordsKey, bytes, passphrase)?;
    let bytes: &[u8; 32] = secret
        .as_slice()
        .try_into()
        .map_err(|_| anyhow!("the records keystore is damaged (wrong length)"))?;
    Ok(RecordsKey::from_bytes(bytes))
}

/// A bundle that moves the office's keys, its records key and its card to another ombuds.
pub fn seal_bundle(
    identity: &Identity,
    records: &RecordsKey,
    card: &OfficeCard,
    passphrase: &SecretString,
) -> Result<Vec<u8>> {
    let mut plaintext = Zeroizing::new(identity.to_secret_bytes().to_vec());
    plaintext.extend_from_slice(records.to_bytes().as_ref());
    plaintext.extend_from_slice(&serde_json::to_vec(card)?);
    seal(Kind::OfficeBundleWithRecords, &plaintext, passphrase)
}

/// Opens a bundle made by [`seal_bundle`], or one of the older kind, which has no records key.
pub fn open_bundle(
    bytes: &[u8],
    passphrase: &SecretString,
) -> Result<(Identity, Option<RecordsKey>, OfficeCard)> {
    #[derive(Deserialize)]
    struct Peek {
        kind: Kind,
    }
    let peek: Peek = serde_json::from_slice(bytes)
        .map_err(|e| anyhow!("this is not a Candor key bundle ({e})"))?;
    if peek.kind == Kind::OfficeBundle {
        let (identity, card) = bundle_from(&open(Kind::OfficeBundle, bytes, passphrase)?)?;
        return Ok((identity, None, card));
    }
    let plaintext = open(Kind::OfficeBundleWithRecords, bytes, passphrase)?;
    let (secret, rest) = plaintext
        .split_at_checked(64)
        .ok_or_else(|| anyhow!("the bundle is damaged (too short)"))?;
    let (records, card) = rest
        .split_first_chunk::<32>()
        .ok_or_else(|| anyhow!("the bundle is damaged (too short)"))?;
    let mut old_form = Zeroizing::new(secret.to_vec());
    old_form.extend_from_slice(card);
    let (identity, card) = bundle_from(&old_form)?;
    Ok((identity, Some(RecordsKey::from_bytes(records)), card))
}

/// The keys and card in an opened bundle, checked to belong together.
fn bundle_from(plaintext: &[u8]) -> Result<(Identity, OfficeCard)> {
    let (secret, card) = plaintext
        .split_at_checked(64)
        .ok_or_else(|| anyhow!("the bundle is damaged (too short)"))?;
    let identity = identity_from(secret)?;
    let card: OfficeCard =
        serde_json::from_slice(card).context("the bundle's office card is damaged")?;
    check_pair(&identity, &card)?;
    Ok((identity, card))
}

fn identity_from(secret: &[u8]) -> Result<Identity> {
    let bytes: &[u8; 64] = secret
        .try_into()
        .map_err(|_| anyhow!("the keystore is damaged (wrong length)"))?;
    Ok(Identity::from_secret_bytes(bytes))
}

fn check_pair(identity: &Identity, card: &OfficeCard) -> Result<()> {
    if identity.signing().public_key().to_bytes() != card.signing_key
        || identity.kem().public_key().to_bytes() != card.kem_key
    {
        bail!("the office keys and the office card do not belong together");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pass(s: &str) -> SecretString {
        SecretString::from(s.to_owned())
    }

    // Cheap parameters keep the unit tests fast; the format is the same.
    fn sealed(kind: Kind, plaintext: &[u8]) -> Vec<u8> {
        seal_with(kind, plaintext, &pass("correct horse"), cost::FAST).unwrap()
    }

    fn open(kind: Kind, bytes: &[u8], passphrase: &SecretString) -> Result<Zeroizing<Vec<u8>>> {
        open_with(kind, bytes, passphrase, cost::FAST)
    }

    #[test]
    fn a_keystore_below_the_floor_is_refused_outside_the_fast_mode() {
        // Arrange
        let file = sealed(Kind::OfficeIdentity, b"secret");

        // Act
        let err = open_with(
            Kind::OfficeIdentity,
            &file,
            &pass("correct horse"),
            cost::FLOOR,
        )
        .unwrap_err();

        // Assert
        assert!(err.to_string().contains("too cheap"), "{err}");
    }

    #[test]
    fn opens_with_the_right_passphrase_only() {
        let file = sealed(Kind::OfficeIdentity, b"secret");
        let opened = open(Kind::OfficeIdentity, &file, &pass("correct horse")).unwrap();
        assert_eq!(&opened[..], b"secret");
        let err = open(Kind::OfficeIdentity, &file, &pass("wrong horse")).unwrap_err();
        assert!(err.to_string().contains("passphrase is wrong"));
    }

    #[test]
    fn kind_and_parameters_are_bound() {
        let file = sealed(Kind::OfficeIdentity, b"secret");
        assert!(open(Kind::OfficeBundle, &file, &pass("correct horse")).is_err());
        let text = String::from_utf8(file).unwrap();
        let relabelled = text.replace("office-identity", "office-bundle");
        assert!(
            open(
                Kind::OfficeBundle,
                relabelled.as_bytes(),
                &pass("correct horse")
            )
            .is_err()
        );
        let weakened = text.replace("\"t\": 1", "\"t\": 2");
        assert_ne!(weakened, text);
        assert!(
            open(
                Kind::OfficeIdentity,
                weakened.as_bytes(),
                &pass("correct horse")
            )
            .is_err()
        );
    }

    #[test]
    fn hostile_parameters_are_refused_before_deriving() {
        let text = String::from_utf8(sealed(Kind::OfficeIdentity, b"s")).unwrap();
        let huge = text.replace("\"m_kib\": 64", "\"m_kib\": 4000000000");
        assert_ne!(huge, text);
        let err = open(
            Kind::OfficeIdentity,
            huge.as_bytes(),
            &pass("correct horse"),
        )
        .unwrap_err();
        assert!(err.to_string().contains("refuses"));
    }

    #[test]
    fn a_bundle_carries_the_records_key_and_an_older_bundle_has_none() {
        // Arrange
        let rng = &mut candor_protocol::rand::rng();
        let identity = Identity::generate(rng);
        let card = crate::policy::tests::card_for(&identity);
        let records = RecordsKey::generate(rng);
        let mut old = identity.to_secret_bytes().to_vec();
        old.extend_from_slice(&serde_json::to_vec(&card).unwrap());

        // Act
        let bundle = seal_bundle(&identity, &records, &card, &pass("correct horse")).unwrap();
        let (back, key, back_card) = open_bundle(&bundle, &pass("correct horse")).unwrap();
        let older = seal(Kind::OfficeBundle, &old, &pass("correct horse")).unwrap();
        let (_, none, _) = open_bundle(&older, &pass("correct horse")).unwrap();

        // Assert
        assert_eq!(back.fingerprint(), identity.fingerprint());
        assert_eq!(back_card, card);
        assert_eq!(*key.unwrap().to_bytes(), *records.to_bytes());
        assert!(none.is_none());
    }

    #[test]
    fn bundle_round_trips_and_checks_the_pair() {
        let rng = &mut candor_protocol::rand::rng();
        let identity = Identity::generate(rng);
        let card = crate::policy::tests::card_for(&identity);
        let mut plaintext = identity.to_secret_bytes().to_vec();
        plaintext.extend_from_slice(&serde_json::to_vec(&card).unwrap());
        let file = sealed(Kind::OfficeBundle, &plaintext);
        let opened = open(Kind::OfficeBundle, &file, &pass("correct horse")).unwrap();
        let (back, back_card) = bundle_from(&opened).unwrap();
        assert_eq!(back.fingerprint(), identity.fingerprint());
        assert_eq!(back_card, card);

        let stranger = Identity::generate(rng);
        let mut mixed = stranger.to_secret_bytes().to_vec();
        mixed.extend_from_slice(&serde_json::to_vec(&card).unwrap());
        let file = sealed(Kind::OfficeBundle, &mixed);
        let opened = open(Kind::OfficeBundle, &file, &pass("correct horse")).unwrap();
        let err = bundle_from(&opened).err().unwrap();
        assert!(err.to_string().contains("do not belong together"), "{err}");
    }
}
