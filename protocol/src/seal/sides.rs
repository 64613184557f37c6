//! The sealers and openers each side uses, so that every caller seals and opens a case's
//! messages the same way: who is the sender, which stanza is whose, and who signs.

use super::{Opener, Role, Sealer};
use crate::{CaseKeys, Direction, Identity, KemPublicKey, MailboxId, SigningPublicKey};

impl<'a> Sealer<'a> {
    /// The visitor's message to the office, signed with the case key. The second stanza is
    /// sealed to the case key: with `keep_copy` it carries the content key, so that the
    /// codename reopens the message; without, the throwaway key.
    pub fn visitor(case: &'a CaseKeys, office_kem: KemPublicKey, keep_copy: bool) -> Self {
        Self {
            sender: &case.kem,
            recipient: office_kem,
            own: case.kem.public_key(),
            keep_copy,
            author: &case.signing,
            mailbox: case.mailbox,
            direction: Direction::ToOffice,
        }
    }

    /// The office's reply to a case, signed with the office key, with the office's own copy
    /// (every holder of the office keys reads its replies).
    pub fn office(office: &'a Identity, case_kem: KemPublicKey, mailbox: MailboxId) -> Self {
        Self {
            sender: office.kem(),
            recipient: case_kem,
            own: office.kem().public_key(),
            keep_copy: true,
            author: office.signing(),
            mailbox,
            direction: Direction::ToVisitor,
        }
    }
}

impl<'a> Opener<'a> {
    /// How the office opens an envelope of the case with these keys: a visitor's message as
    /// its recipient, its own reply from its copy. `None` for a direction the office neither
    /// wrote nor received in a case's mailbox.
    pub fn office(
        office: &'a Identity,
        case_kem: KemPublicKey,
        case_signing: SigningPublicKey,
        direction: Direction,
    ) -> Option<Self> {
        let (role, sender, author) = match direction {
            Direction::ToOffice => (Role::Other, case_kem, case_signing),
            Direction::ToVisitor => (
                Role::Own,
                office.kem().public_key(),
                office.signing().public_key(),
            ),
            Direction::ToThirdParty | Direction::FromThirdParty => return None,
        };
        Some(Self {
            recipient: office.kem(),
            role,
            sender,
            author,
        })
    }

    /// How the visitor opens an envelope of their case: the office's reply as its recipient,
    /// their own message from their copy (if they kept one).
    pub fn visitor(
        case: &'a CaseKeys,
        office_kem: KemPublicKey,
        office_signing: SigningPublicKey,
        direction: Direction,
    ) -> Option<Self> {
        let (role, sender, author) = match direction {
            Direction::ToVisitor => (Role::Other, office_kem, office_signing),
            Direction::ToOffice => (Role::Own, case.kem.public_key(), case.signing.public_key()),
            Direction::ToThirdParty | Direction::FromThirdParty => return None,
        };
        Some(Self {
            recipient: &case.kem,
            role,
            sender,
            author,
        })
    }
}
