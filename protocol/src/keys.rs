//! Long-term keys: the office identity, third-party identities, their public halves and
//! fingerprints.
//!
//! Secret types implement neither `Debug` nor `Display`, and zeroize on drop (the inner
//! `ed25519-dalek` and `x25519-dalek` keys do so themselves).

use core::fmt;
use core::str::FromStr;

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use hpke::{Deserializable, Kem as _, Serializable};
use rand::CryptoRng;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::{Error, encoding, labels};

/// The HPKE KEM: DHKEM(X25519, HKDF-SHA256), RFC 9180 §7.1.
pub type Kem = hpke::kem::X25519HkdfSha256;
/// The HPKE KDF: HKDF-SHA256, RFC 9180 §7.2.
pub type Kdf = hpke::kdf::HkdfSha256;
/// The HPKE AEAD: ChaCha20Poly1305, RFC 9180 §7.3.
pub type Aead = hpke::aead::ChaCha20Poly1305;

/// A public X25519 key for HPKE (RFC 7748).
#[derive(Clone, PartialEq, Eq)]
pub struct KemPublicKey(pub(crate) <Kem as hpke::Kem>::PublicKey);

impl KemPublicKey {
    /// Parses 32 raw bytes.
    pub fn from_bytes(bytes: &[u8; 32]) -> Self {
        // X25519 accepts every 32-byte string as a public key.
        Self(<Kem as hpke::Kem>::PublicKey::from_bytes(bytes).unwrap_or_else(|_| unreachable!()))
    }
    /// The raw 32 bytes.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes().into()
    }
}

impl fmt::Debug for KemPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KemPublicKey({})", encoding::b64(&self.to_bytes()))
    }
}

/// A secret X25519 key for HPKE, with its public half cached (a base-point multiplication
/// saved on every seal). No `Debug`; zeroized on drop.
#[derive(Clone)]
pub struct KemSecretKey {
    pub(crate) sk: <Kem as hpke::Kem>::PrivateKey,
    pub(crate) pk: KemPublicKey,
}

impl KemSecretKey {
    /// Generates a fresh key.
    pub fn generate(rng: &mut impl CryptoRng) -> Self {
        let mut ikm = Zeroizing::new([0u8; 32]);
        rng.fill_bytes(ikm.as_mut());
        Self::derive(ikm.as_ref())
    }
    /// Derives a key from input keying material with RFC 9180 `DeriveKeyPair`.
    pub fn derive(ikm: &[u8]) -> Self {
        let (sk, pk) = Kem::derive_keypair(ikm);
        Self {
            sk,
            pk: KemPublicKey(pk),
        }
    }
    /// Restores a key from its 32 secret bytes.
    pub fn from_bytes(bytes: &[u8; 32]) -> Self {
        // X25519 private keys are any 32 bytes (clamped on use).
        let sk =
            <Kem as hpke::Kem>::PrivateKey::from_bytes(bytes).unwrap_or_else(|_| unreachable!());
        let pk = KemPublicKey(Kem::sk_to_pk(&sk));
        Self { sk, pk }
    }
    /// The secret bytes, for an encrypted keystore.
    pub fn to_bytes(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.sk.to_bytes().into())
    }
    /// The public half.
    pub fn public_key(&self) -> KemPublicKey {
        self.pk.clone()
    }
}

/// The canonical encodings of the eight points of small order (the 8-torsion of edwards25519),
/// as in libsodium's blocklist; a test derives them from `curve25519-dalek`.
const SMALL_ORDER: [[u8; 32]; 8] = [
    hex32("0100000000000000000000000000000000000000000000000000000000000000"),
    hex32("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
    hex32("0000000000000000000000000000000000000000000000000000000000000000"),
    hex32("0000000000000000000000000000000000000000000000000000000000000080"),
    hex32("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"),
    hex32("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85"),
    hex32("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"),
    hex32("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa"),
];

/// 64 lowercase hex digits as 32 bytes, at compile time.
const fn hex32(s: &str) -> [u8; 32] {
    const fn digit(c: u8) -> u8 {
        match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => panic!("not a lowercase hex digit"),
        }
    }
    let s = s.as_bytes();
    assert!(s.len() == 64);
    let mut out = [0; 32];
    let mut i = 0;
    while i < 32 {
        out[i] = (digit(s[2 * i]) << 4) | digit(s[2 * i + 1]);
        i += 1;
    }
    out
}

/// A public Ed25519 key (RFC 8032).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SigningPublicKey(pub(crate) VerifyingKey);

impl SigningPublicKey {
    /// Parses 32 bytes; refuses points that are not on the curve and weak (small-order) keys.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self, Error> {
        let vk = VerifyingKey::from_bytes(bytes)
            .map_err(|_| Error::malformed("signing key", "not a valid Ed25519 public key"))?;
        if vk.is_weak() {
            return Err(Error::malformed("signing key", "weak Ed25519 public key"));
        }
        Ok(Self(vk))
    }
    /// The raw 32 bytes.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }
    /// Verifies `sig` over `label || message` with strict RFC 8032 rules: canonical `S`, no
    /// small-order key (refused by [`SigningPublicKey::from_bytes`]) and no small-order `R`.
    ///
    /// This accepts exactly what `ed25519-dalek`'s `verify_strict` accepts, without its
    /// decompression of `R` (a field square root: `request/verify` took 13% less without it),
    /// as libsodium does: the check compares the recomputed `R`, which is canonically encoded,
    /// with the signature's bytes. So an `R` that is not a canonical encoding of a point never
    /// matches, and the small-order points that remain are exactly the eight in
    /// `SMALL_ORDER`.
    pub fn verify(&self, label: &[u8], message: &[u8], sig: &[u8; 64]) -> Result<(), Error> {
        if SMALL_ORDER.iter().any(|r| sig[..32] == r[..]) {
            return Err(Error::BadSignature);
        }
        let sig = Signature::from_bytes(sig);
        let mut input = Vec::with_capacity(label.len() + message.len());
        input.extend_from_slice(label);
        input.extend_from_slice(message);
        // Cofactorless, `S` checked canonical, `R` compared by its encoding.
        self.0.verify(&input, &sig).map_err(|_| Error::BadSignature)
    }
    /// The fingerprint of this key.
    pub fn fingerprint(&self) -> Fingerprint {
        let mut h = Sha256::new();
        h.update(labels::FINGERPRINT);
        h.update(self.0.as_bytes());
        Fingerprint(h.finalize().into())
    }
}

impl fmt::Debug for SigningPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SigningPublicKey({})", encoding::b64(&self.to_bytes()))
    }
}

/// A secret Ed25519 key. No `Debug`; zeroized on drop.
pub struct SigningSecretKey(pub(crate) SigningKey);

impl SigningSecretKey {
    /// Generates a fresh key.
    pub fn generate(rng: &mut impl CryptoRng) -> Self {
        let mut seed = Zeroizing::new([0u8; 32]);
        rng.fill_bytes(seed.as_mut());
        Self::from_seed(&seed)
    }
    /// Restores a key from its 32-byte seed.
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        Self(SigningKey::from_bytes(seed))
    }
    /// The 32-byte seed, for an encrypted keystore.
    pub fn to_seed(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.0.to_bytes())
    }
    /// The public half.
    pub fn public_key(&self) -> SigningPublicKey {
        SigningPublicKey(self.0.verifying_key())
    }
    /// Signs `label || message`.
    pub fn sign(&self, label: &[u8], message: &[u8]) -> [u8; 64] {
        let mut input = Vec::with_capacity(label.len() + message.len());
        input.extend_from_slice(label);
        input.extend_from_slice(message);
        self.0.sign(&input).to_bytes()
    }
}

/// SHA-256 fingerprint of an identity's Ed25519 key. Displayed as 52 characters of lowercase
/// base32.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint(pub(crate) [u8; 32]);

impl Fingerprint {
    /// The raw 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
    /// Builds a fingerprint from raw bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&encoding::b32(&self.0))
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({self})")
    }
}

impl FromStr for Fingerprint {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        let v = encoding::unb32("fingerprint", s)?;
        let arr = <[u8; 32]>::try_from(v.as_slice()).map_err(|_| {
            Error::malformed("fingerprint", "expected 52 base32 characters (32 bytes)")
        })?;
        Ok(Self(arr))
    }
}

/// A party's identity: an Ed25519 signing key and an X25519 KEM key. Offices and third parties
/// both have one.
pub struct Identity {
    signing: SigningSecretKey,
    kem: KemSecretKey,
}

impl Identity {
    /// Generates a fresh identity.
    pub fn generate(rng: &mut impl CryptoRng) -> Self {
        Self {
            signing: SigningSecretKey::generate(rng),
            kem: KemSecretKey::generate(rng),
        }
    }
    /// Restores an identity from its 64 secret bytes (signing seed, then KEM secret).
    pub fn from_secret_bytes(bytes: &[u8; 64]) -> Self {
        let mut seed = Zeroizing::new([0u8; 32]);
        seed.copy_from_slice(&bytes[..32]);
        let mut kem = Zeroizing::new([0u8; 32]);
        kem.copy_from_slice(&bytes[32..]);
        Self {
            signing: SigningSecretKey::from_seed(&seed),
            kem: KemSecretKey::from_bytes(&kem),
        }
    }
    /// The 64 secret bytes, for an encrypted keystore.
    pub fn to_secret_bytes(&self) -> Zeroizing<[u8; 64]> {
        let mut out = Zeroizing::new([0u8; 64]);
        out[..32].copy_from_slice(self.signing.to_seed().as_ref());
        out[32..].copy_from_slice(self.kem.to_bytes().as_ref());
        out
    }
    /// The signing key.
    pub fn signing(&self) -> &SigningSecretKey {
        &self.signing
    }
    /// The KEM key.
    pub fn kem(&self) -> &KemSecretKey {
        &self.kem
    }
    /// The fingerprint of the signing key.
    pub fn fingerprint(&self) -> Fingerprint {
        self.signing.public_key().fingerprint()
    }
}

/// Fills a fresh random array; a small helper so callers need not name rand's traits.
pub fn random_bytes<const N: usize>(rng: &mut impl CryptoRng) -> [u8; N] {
    // One fill of N bytes, so that a scripted source (test vectors) can hand out a named value.
    let mut out = [0u8; N];
    rng.fill_bytes(&mut out);
    out
}

#[cfg(test)]
mod tests {
    use rand::RngExt as _;

    use super::*;

    #[test]
    fn identity_round_trips_through_secret_bytes() {
        let id = Identity::generate(&mut rand::rng());
        let back = Identity::from_secret_bytes(&id.to_secret_bytes());
        assert_eq!(id.fingerprint(), back.fingerprint());
        assert_eq!(id.kem().public_key(), back.kem().public_key());
    }

    #[test]
    fn signatures_are_domain_separated() {
        let k = SigningSecretKey::generate(&mut rand::rng());
        let sig = k.sign(b"a", b"msg");
        assert!(k.public_key().verify(b"a", b"msg", &sig).is_ok());
        assert_eq!(
            k.public_key().verify(b"b", b"msg", &sig),
            Err(Error::BadSignature)
        );
    }

    #[test]
    fn the_small_order_list_is_the_eight_torsion() {
        let torsion: std::collections::BTreeSet<[u8; 32]> =
            curve25519_dalek::constants::EIGHT_TORSION
                .iter()
                .map(|p| p.compress().to_bytes())
                .collect();
        let listed: std::collections::BTreeSet<[u8; 32]> = SMALL_ORDER.into_iter().collect();
        assert_eq!(torsion.len(), 8);
        assert_eq!(listed, torsion);
    }

    /// For a key with a torsion component, `A = aB + T`, a signature whose `R` is a small-order
    /// point `T'` satisfies the cofactorless equation whenever `[k]T = -T'`, one message in
    /// eight. `ed25519-dalek`'s plain `verify` accepts those; `verify_strict` and ours must not,
    /// for every one of the eight points.
    #[test]
    fn a_small_order_r_is_refused_as_verify_strict_refuses_it() {
        use curve25519_dalek::constants::{ED25519_BASEPOINT_POINT, EIGHT_TORSION};
        use curve25519_dalek::scalar::Scalar;
        use curve25519_dalek::traits::IsIdentity;
        use sha2::Sha512;

        let a = Scalar::from_bytes_mod_order(rand::rng().random());
        let mixed = ED25519_BASEPOINT_POINT * a + EIGHT_TORSION[1];
        let a_bytes = mixed.compress().to_bytes();
        let key = SigningPublicKey::from_bytes(&a_bytes).expect("a mixed-order key parses");
        let dalek = VerifyingKey::from_bytes(&a_bytes).unwrap();
        for r in EIGHT_TORSION {
            let r_bytes = r.compress().to_bytes();
            let (message, k) = (0u32..)
                .map(|n| {
                    let message = n.to_be_bytes();
                    let mut h = Sha512::new();
                    h.update(r_bytes);
                    h.update(a_bytes);
                    h.update(b"label");
                    h.update(message);
                    (
                        message,
                        Scalar::from_bytes_mod_order_wide(&h.finalize().into()),
                    )
                })
                .find(|(_, k)| (EIGHT_TORSION[1] * k + r).is_identity())
                .unwrap();
            let mut sig = [0u8; 64];
            sig[..32].copy_from_slice(&r_bytes);
            sig[32..].copy_from_slice((k * a).as_bytes());
            let input = [b"label".as_slice(), &message].concat();
            let dalek_sig = Signature::from_bytes(&sig);
            assert!(
                dalek.verify(&input, &dalek_sig).is_ok(),
                "a cofactorless forgery"
            );
            assert!(dalek.verify_strict(&input, &dalek_sig).is_err());
            assert_eq!(
                key.verify(b"label", &message, &sig),
                Err(Error::BadSignature),
                "R = {r_bytes:02x?}"
            );
        }
    }

    #[test]
    fn fingerprint_parses_its_display() {
        let fp = SigningSecretKey::generate(&mut rand::rng())
            .public_key()
            .fingerprint();
        assert_eq!(fp.to_string().parse::<Fingerprint>().unwrap(), fp);
        assert!("abc".parse::<Fingerprint>().is_err());
    }
}
