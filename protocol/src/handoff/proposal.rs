//! The proposal: what would be disclosed, to whom, for what, until when; and the salted
//! commitment that lets the ombuds agree to the visitor's identity without reading it.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroize;

use super::{HANDOFF_VERSION, MAX_ITEMS, MAX_PURPOSE, Party};
use crate::card::{SignedCard, ThirdPartyCard};
use crate::encoding::{self, b64_array, b64_vec};
use crate::keys::{KemPublicKey, SigningPublicKey, SigningSecretKey};
use crate::message::Day;
use crate::{Direction, Error, HandoffId, MailboxId, Message, OfficeId, labels, seal};

/// The case a handoff discloses from: its mailbox and the keys the mailbox ID certifies.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseRef {
    /// The case's mailbox.
    pub mailbox: MailboxId,
    /// The case's Ed25519 key: it signs the consent and the visitor's messages.
    #[serde(with = "b64_array")]
    pub signing_key: [u8; 32],
    /// The case's X25519 key: it authenticates the visitor's key share.
    #[serde(with = "b64_array")]
    pub kem_key: [u8; 32],
}

/// The office that agrees: its ID and its public keys.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OfficeRef {
    /// The office's ID on the relay.
    pub id: OfficeId,
    /// The office's Ed25519 identity key: it signs the agreement and its replies.
    #[serde(with = "b64_array")]
    pub signing_key: [u8; 32],
    /// The office's X25519 key: half the package key is encapsulated to it.
    #[serde(with = "b64_array")]
    pub kem_key: [u8; 32],
}

/// One item to disclose.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Item {
    /// A text the ombuds wrote for the third party, such as a summary.
    Text {
        /// The exact text.
        text: String,
        /// SHA-256 of `text`.
        #[serde(with = "b64_array")]
        sha256: [u8; 32],
    },
    /// A message of the case's thread, exactly as its author signed it.
    Message {
        /// Its number in the thread, as the clients show it.
        seq: u64,
        /// `to-office` (the visitor wrote it) or `to-visitor` (the office did).
        direction: Direction,
        /// The message's JSON bytes.
        #[serde(with = "b64_vec")]
        body: Vec<u8>,
        /// The author's signature over the body (`docs/protocol.md` §6).
        #[serde(with = "b64_array")]
        signature: [u8; 64],
    },
}

impl Item {
    /// A text item with its hash.
    pub fn text(text: impl Into<String>) -> Self {
        let text = text.into();
        let sha256 = Sha256::digest(text.as_bytes()).into();
        Item::Text { text, sha256 }
    }

    /// The message an item carries, parsed; `None` for a text item.
    pub fn message(&self) -> Option<Result<Message, Error>> {
        match self {
            Item::Text { .. } => None,
            Item::Message { body, .. } => Some(encoding::from_json("disclosed message", body)),
        }
    }
}

/// The salted commitment to the visitor's identity.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityCommitment {
    /// `SHA-256(HANDOFF_IDENTITY || handoff id || salt || identity)`.
    #[serde(with = "b64_array")]
    pub commitment: [u8; 32],
}

/// The visitor's identity and the salt that hides it in the commitment. It travels only inside
/// the sealed package. Zeroized on drop; no `Debug`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityOpening {
    /// 32 random bytes, so that a guessed name cannot be tested against the commitment.
    #[serde(with = "b64_array")]
    pub salt: [u8; 32],
    /// The identity, as the visitor typed it.
    pub text: String,
}

impl Drop for IdentityOpening {
    fn drop(&mut self) {
        self.salt.zeroize();
        self.text.zeroize();
    }
}

impl IdentityOpening {
    /// A fresh opening of `text`.
    pub fn new(text: impl Into<String>, rng: &mut impl rand::CryptoRng) -> Self {
        Self {
            salt: crate::keys::random_bytes(rng),
            text: text.into(),
        }
    }

    /// The commitment to this identity in handoff `id`.
    pub fn commit(&self, id: &HandoffId) -> IdentityCommitment {
        let commitment = Sha256::new()
            .chain_update(labels::HANDOFF_IDENTITY)
            .chain_update(id.as_bytes())
            .chain_update(self.salt)
            .chain_update(self.text.as_bytes())
            .finalize()
            .into();
        IdentityCommitment { commitment }
    }

    /// Whether this opens `commitment` in handoff `id`.
    pub fn opens(&self, id: &HandoffId, commitment: &IdentityCommitment) -> bool {
        bool::from(self.commit(id).commitment.ct_eq(&commitment.commitment))
    }
}

/// A handoff proposal. The ombuds drafts it with `identity_included` set when it asks for the
/// identity and `identity` null; the visitor's consent fills in the commitment, or clears
/// `identity_included` if they give none.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Proposal {
    /// Format version, [`HANDOFF_VERSION`].
    pub v: u64,
    /// The handoff's ID.
    pub id: HandoffId,
    /// Who drafted it.
    pub drafted_by: Party,
    /// The case it discloses from.
    pub case: CaseRef,
    /// The office that agrees.
    pub office: OfficeRef,
    /// The third party's signed card.
    pub third_party: SignedCard,
    /// Why the third party is approached.
    pub purpose: String,
    /// The exact content to disclose.
    pub items: Vec<Item>,
    /// Whether the visitor's identity is asked for (a draft) or included (consented).
    pub identity_included: bool,
    /// The commitment to the identity: null in a draft, present in a consented proposal that
    /// includes the identity.
    pub identity: Option<IdentityCommitment>,
    /// The last day on which the package may be released.
    pub expires: Day,
}

impl Proposal {
    /// The proposal's bytes, as signed and sealed.
    pub fn to_json(&self) -> Vec<u8> {
        encoding::to_json(self)
    }

    /// SHA-256 of the proposal's bytes: what the consent and the agreement sign.
    pub fn sha256(bytes: &[u8]) -> [u8; 32] {
        Sha256::digest(bytes).into()
    }

    /// Parses and checks a proposal (draft or consented): the version, the purpose, each
    /// item (text hashes; a message's author signature under the case or office key), that the
    /// case's mailbox ID certifies its keys, that a commitment comes only with
    /// `identity_included`, and the third party's card.
    pub fn from_json(bytes: &[u8]) -> Result<Self, Error> {
        #[derive(Deserialize)]
        struct V {
            v: u64,
        }
        let v: V = encoding::from_json("handoff proposal", bytes)?;
        encoding::check_version("handoff proposal", v.v, HANDOFF_VERSION)?;
        let p: Proposal = encoding::from_json("handoff proposal", bytes)?;
        p.check()?;
        Ok(p)
    }

    fn check(&self) -> Result<(), Error> {
        if self.purpose.trim().is_empty() || self.purpose.chars().count() > MAX_PURPOSE {
            return Err(Error::Handoff("the purpose must be 1 to 2000 characters"));
        }
        if self.items.is_empty() || self.items.len() > MAX_ITEMS {
            return Err(Error::Handoff("a proposal discloses 1 to 64 items"));
        }
        if !self
            .case
            .mailbox
            .certifies(&self.case.signing_key, &self.case.kem_key)
        {
            return Err(Error::Handoff(
                "the case's mailbox ID does not match its keys",
            ));
        }
        if self.identity.is_some() && !self.identity_included {
            return Err(Error::Handoff(
                "an identity commitment without identity_included",
            ));
        }
        let case_key = SigningPublicKey::from_bytes(&self.case.signing_key)?;
        let office_key = SigningPublicKey::from_bytes(&self.office.signing_key)?;
        for item in &self.items {
            self.check_item(item, &case_key, &office_key)?;
        }
        self.third_party.verify_third_party()?;
        Ok(())
    }

    fn check_item(
        &self,
        item: &Item,
        case_key: &SigningPublicKey,
        office_key: &SigningPublicKey,
    ) -> Result<(), Error> {
        match item {
            Item::Text { text, sha256 } => {
                if Sha256::digest(text.as_bytes()).as_slice() != sha256 {
                    return Err(Error::Handoff("an item's hash does not match its text"));
                }
            }
            Item::Message {
                direction,
                body,
                signature,
                ..
            } => {
                let author = match direction {
                    Direction::ToOffice => case_key,
                    Direction::ToVisitor => office_key,
                    _ => return Err(Error::Handoff("a disclosed message is not of the case")),
                };
                seal::verify_signature(author, *direction, &self.case.mailbox, body, signature)
                    .map_err(|_| {
                        Error::Handoff("a disclosed message is not signed by its author's key")
                    })?;
                encoding::from_json::<Message>("disclosed message", body)?;
            }
        }
        Ok(())
    }

    /// The third party's card, verified.
    pub fn third_party_card(&self) -> Result<ThirdPartyCard, Error> {
        self.third_party.verify_third_party()
    }

    /// The case's signing key.
    pub fn case_signing_key(&self) -> Result<SigningPublicKey, Error> {
        SigningPublicKey::from_bytes(&self.case.signing_key)
    }

    /// The office's signing key.
    pub fn office_signing_key(&self) -> Result<SigningPublicKey, Error> {
        SigningPublicKey::from_bytes(&self.office.signing_key)
    }

    /// The office's KEM key.
    pub fn office_kem_key(&self) -> KemPublicKey {
        KemPublicKey::from_bytes(&self.office.kem_key)
    }

    /// The case's KEM key.
    pub fn case_kem_key(&self) -> KemPublicKey {
        KemPublicKey::from_bytes(&self.case.kem_key)
    }

    /// The proposal the visitor consents to: the draft with the commitment to `identity` if it
    /// asked for one and the visitor gives it, and without the identity otherwise.
    pub fn consented(&self, identity: Option<&IdentityOpening>) -> Result<Self, Error> {
        if self.identity.is_some() {
            return Err(Error::Handoff("the draft already carries an identity"));
        }
        let mut p = self.clone();
        match (self.identity_included, identity) {
            (true, Some(opening)) => p.identity = Some(opening.commit(&self.id)),
            (true, None) => p.identity_included = false,
            (false, Some(_)) => {
                return Err(Error::Handoff("the proposal does not ask for the identity"));
            }
            (false, None) => {}
        }
        Ok(p)
    }

    /// Whether `self`, a consented proposal, is `draft` with only the consent's changes: the
    /// commitment filled in where the identity was asked for, or the identity left out.
    pub fn is_consent_of(&self, draft: &Proposal) -> bool {
        let mut back = self.clone();
        back.identity = None;
        if draft.identity_included {
            back.identity_included = true;
        }
        let identity_ok = self.identity_included == self.identity.is_some();
        draft.identity.is_none() && identity_ok && back == *draft
    }

    fn approval_label(party: Party) -> &'static [u8] {
        match party {
            Party::Visitor => labels::HANDOFF_CONSENT,
            Party::Office => labels::HANDOFF_AGREEMENT,
        }
    }

    /// The visitor's consent (`Party::Visitor`, case key) or the office's agreement
    /// (`Party::Office`, office key), over these proposal bytes.
    pub fn approve(bytes: &[u8], party: Party, key: &SigningSecretKey) -> [u8; 64] {
        key.sign(Self::approval_label(party), &Self::sha256(bytes))
    }

    /// Verifies a consent or agreement signature over the proposal with this SHA-256: the
    /// relay, which never sees the proposal, checks the hash the parties upload.
    pub fn verify_approval(
        sha256: &[u8; 32],
        party: Party,
        key: &SigningPublicKey,
        sig: &[u8; 64],
    ) -> Result<(), Error> {
        key.verify(Self::approval_label(party), sha256, sig)
    }
}
