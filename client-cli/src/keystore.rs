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
//! Three kinds exist: the office identity (its 64 secret bytes), the office bundle that moves
//! keys between staff (the 64 bytes followed by the card's JSON) and the visitor's remembered
//! codenames.

use anyhow::{Context as _, Result, anyhow, bail};
use argon2::{Algorithm, Argon2, Params, Version};
use candor_protocol::encoding::{b64_array, b64_vec};
use candor_protocol::keys::random_bytes;
use candor_protocol::{Identity, OfficeCard};
use chacha20poly1305::aead::{Aead as _, KeyInit as _, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use secrecy::{ExposeSecret as _, SecretString};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::output;

/// Label at the start of every keystore AAD.
const KEYSTORE_AAD: &[u8] = b"candor/v1/keystore";
const FORMAT: &str = "candor-keystore";
const VERSION: u64 = 1;

/// Argon2id memory in KiB: 64 MiB (RFC 9106 §4, second recommended option, with one lane).
const M_KIB: u32 = 64 * 1024;
/// Argon2id passes.
const T_COST: u32 = 3;
/// Argon2id lanes.
const P_COST: u32 = 1;

/// Test-only switch to cheap Argon2id parameters for files created while it is set. It makes a
/// keystore fast to guess: never set it for real keys.
pub const FAST_KDF_ENV: &str = "CANDOR_TEST_FAST_KDF";

/// Upper bounds for parameters read from a file, so that a hostile bundle cannot make us
/// allocate gigabytes or spin for hours.
const MAX_M_KIB: u32 = 1024 * 1024;
const MAX_T_COST: u32 = 16;
const MAX_P_COST: u32 = 8;

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
}

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::OfficeIdentity => "office-identity",
            Kind::OfficeBundle => "office-bundle",
            Kind::RememberedCases => "remembered-cases",
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

/// Encrypts `plaintext` under `passphrase` into the bytes of a keystore file.
pub fn seal(kind: Kind, plaintext: &[u8], passphrase: &SecretString) -> Result<Vec<u8>> {
    let cost = if std::env::var_os(FAST_KDF_ENV).is_some_and(|v| v == "1") {
        output::warn(&format!(
            "{FAST_KDF_ENV}=1: this keystore uses test-only Argon2id parameters and is easy to guess"
        ));
        FAST_COST
    } else {
        (M_KIB, T_COST, P_COST)
    };
    seal_with(kind, plaintext, passphrase, cost)
}

/// Argon2id memory (KiB), passes and lanes for the test-only fast mode.
const FAST_COST: (u32, u32, u32) = (64, 1, 1);

fn seal_with(
    kind: Kind,
    plaintext: &[u8],
    passphrase: &SecretString,
    (m_kib, t, p): (u32, u32, u32),
) -> Result<Vec<u8>> {
    let rng = &mut candor_protocol::rand::rng();
    let kdf = KdfParams {
        alg: "argon2id".to_owned(),
        m_kib,
        t,
        p,
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

/// Decrypts a keystore file of the expected `kind`.
pub fn open(kind: Kind, bytes: &[u8], passphrase: &SecretString) -> Result<Zeroizing<Vec<u8>>> {
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
    if k.alg != "argon2id" || k.m_kib > MAX_M_KIB || k.t > MAX_T_COST || k.p > MAX_P_COST {
        bail!("this keystore uses key-derivation parameters this client refuses");
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

/// A bundle that moves the office's keys and card to another ombuds.
pub fn seal_bundle(
    identity: &Identity,
    card: &OfficeCard,
    passphrase: &SecretString,
) -> Result<Vec<u8>> {
    let mut plaintext = Zeroizing::new(identity.to_secret_bytes().to_vec());
    plaintext.extend_from_slice(&serde_json::to_vec(card)?);
    seal(Kind::OfficeBundle, &plaintext, passphrase)
}

/// Opens a bundle made by [`seal_bundle`].
pub fn open_bundle(bytes: &[u8], passphrase: &SecretString) -> Result<(Identity, OfficeCard)> {
    let plaintext = open(Kind::OfficeBundle, bytes, passphrase)?;
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
        seal_with(kind, plaintext, &pass("correct horse"), FAST_COST).unwrap()
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
    fn bundle_round_trips_and_checks_the_pair() {
        let rng = &mut candor_protocol::rand::rng();
        let identity = Identity::generate(rng);
        let card = crate::policy::tests::card_for(&identity);
        let mut plaintext = identity.to_secret_bytes().to_vec();
        plaintext.extend_from_slice(&serde_json::to_vec(&card).unwrap());
        let file = sealed(Kind::OfficeBundle, &plaintext);
        let (back, back_card) = open_bundle(&file, &pass("correct horse")).unwrap();
        assert_eq!(back.fingerprint(), identity.fingerprint());
        assert_eq!(back_card, card);

        let stranger = Identity::generate(rng);
        let mut mixed = stranger.to_secret_bytes().to_vec();
        mixed.extend_from_slice(&serde_json::to_vec(&card).unwrap());
        let file = sealed(Kind::OfficeBundle, &mixed);
        assert!(open_bundle(&file, &pass("correct horse")).is_err());
    }
}
