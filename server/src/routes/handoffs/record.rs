//! A handoff as the relay keeps it (the opaque body of a store package) and its state changes.
//! Each change is a pure function from the record as it stands to the next, run by the store
//! under the mailbox's lock, so that agreement, fetch and revocation are each one atomic step
//! and a fetch cannot race a revocation.

use candor_protocol::api::handoffs::{Fetched, HandoffState, PutHandoff};
use candor_protocol::encoding::b64_array;
use candor_protocol::handoff::{KeyShare, Package};
use candor_protocol::{Day, MailboxId};
use serde::{Deserialize, Serialize};

use crate::store::StoreError;

/// The record format version.
const RECORD_VERSION: u64 = 1;

/// The stored body. A tombstone (fetched or revoked) keeps only its state and days: the package
/// and both shares are gone from it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    v: u64,
    /// Where the handoff stands.
    pub state: HandoffState,
    /// The day of the last change.
    pub day: Day,
    /// The proposal's last day.
    pub expires: Day,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    live: Option<Live>,
}

/// What a handoff that can still be released holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Live {
    #[serde(with = "b64_array")]
    proposal_sha256: [u8; 32],
    #[serde(with = "b64_array")]
    consent: [u8; 64],
    package: Package,
    visitor_share: KeyShare,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    agreed: Option<Agreed>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Agreed {
    #[serde(with = "b64_array")]
    agreement: [u8; 64],
    office_share: KeyShare,
    #[serde(with = "b64_array")]
    fetch_key: [u8; 32],
}

impl Record {
    /// A consented handoff, from the visitor's upload.
    pub fn consented(put: PutHandoff, today: Day) -> Self {
        Self {
            v: RECORD_VERSION,
            state: HandoffState::Consented,
            day: today,
            expires: put.expires,
            live: Some(Live {
                proposal_sha256: put.proposal_sha256,
                consent: put.consent,
                package: put.package,
                visitor_share: put.share,
                agreed: None,
            }),
        }
    }

    /// Parses a stored body.
    pub fn decode(body: &[u8]) -> Result<Self, StoreError> {
        let r: Record =
            serde_json::from_slice(body).map_err(|_| StoreError::Corrupt("handoff record"))?;
        if r.v != RECORD_VERSION || (r.live.is_some() != Self::is_live(r.state)) {
            return Err(StoreError::Corrupt("handoff record"));
        }
        Ok(r)
    }

    /// The stored body.
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    fn is_live(state: HandoffState) -> bool {
        matches!(state, HandoffState::Consented | HandoffState::Agreed)
    }

    /// Whether the proposal's last day has passed: nothing is released after it.
    pub fn expired(&self, today: Day) -> bool {
        today > self.expires
    }

    /// The hash both approvals sign, while the handoff is live.
    pub fn proposal_sha256(&self) -> Option<&[u8; 32]> {
        self.live.as_ref().map(|l| &l.proposal_sha256)
    }

    /// The third party's fetch key, once agreed and until fetched or revoked.
    pub fn fetch_key(&self) -> Option<&[u8; 32]> {
        self.live
            .as_ref()
            .and_then(|l| l.agreed.as_ref())
            .map(|a| &a.fetch_key)
    }

    fn tombstone(&self, state: HandoffState, today: Day) -> Self {
        Self {
            v: RECORD_VERSION,
            state,
            day: today,
            expires: self.expires,
            live: None,
        }
    }

    /// The office's agreement: only a consented handoff, before its expiry.
    pub fn agree(
        &self,
        agreement: [u8; 64],
        office_share: KeyShare,
        fetch_key: [u8; 32],
        today: Day,
    ) -> Result<Self, StoreError> {
        let Some(live) = self
            .live
            .as_ref()
            .filter(|_| self.state == HandoffState::Consented)
        else {
            return Err(StoreError::Conflict(
                "this handoff is no longer waiting for agreement: see its state",
            ));
        };
        if self.expired(today) {
            return Err(StoreError::NotFound);
        }
        let mut live = live.clone();
        live.agreed = Some(Agreed {
            agreement,
            office_share,
            fetch_key,
        });
        Ok(Self {
            state: HandoffState::Agreed,
            day: today,
            live: Some(live),
            ..self.clone()
        })
    }

    /// The third party's fetch: what it gets, and the tombstone that replaces the record. Only
    /// an agreed handoff before its expiry; anything else is unknown to the third party.
    pub fn fetch(&self, mailbox: MailboxId, today: Day) -> Result<(Fetched, Self), StoreError> {
        let (Some(live), HandoffState::Agreed) = (&self.live, self.state) else {
            return Err(StoreError::NotFound);
        };
        let Some(agreed) = &live.agreed else {
            return Err(StoreError::NotFound);
        };
        if self.expired(today) {
            return Err(StoreError::NotFound);
        }
        let fetched = Fetched {
            mailbox,
            package: live.package.clone(),
            visitor_share: live.visitor_share.clone(),
            office_share: agreed.office_share.clone(),
            consent: live.consent,
            agreement: agreed.agreement,
        };
        Ok((fetched, self.tombstone(HandoffState::Fetched, today)))
    }

    /// A revocation by either side: the package and the shares are deleted, the ID stays as a
    /// tombstone until the expiry so that a replayed consent cannot bring it back.
    pub fn revoke(&self, today: Day) -> Result<Self, StoreError> {
        match self.state {
            HandoffState::Consented | HandoffState::Agreed => {
                Ok(self.tombstone(HandoffState::Revoked, today))
            }
            HandoffState::Fetched => Err(StoreError::Conflict(
                "the third party has already fetched this handoff: it can no longer be revoked",
            )),
            HandoffState::Revoked => Err(StoreError::Conflict("this handoff is already revoked")),
        }
    }
}

#[cfg(test)]
mod tests {
    use candor_protocol::handoff::Party;

    use super::*;

    fn share(party: Party) -> KeyShare {
        KeyShare {
            party,
            enc: [1; 32],
            ct: vec![2; 48],
        }
    }

    fn consented() -> Record {
        Record::consented(
            PutHandoff {
                v: 2,
                mailbox: MailboxId::from_bytes([3; 16]),
                proposal_sha256: [4; 32],
                consent: [5; 64],
                expires: Day(100),
                package: Package {
                    v: 2,
                    office_enc: [6; 32],
                    ct: vec![7; 64],
                },
                share: share(Party::Visitor),
            },
            Day(90),
        )
    }

    #[test]
    fn a_handoff_goes_consented_agreed_fetched_and_keeps_only_a_tombstone() {
        // Arrange
        let r = consented();
        let mailbox = MailboxId::from_bytes([3; 16]);

        // Act
        let agreed = r
            .agree([8; 64], share(Party::Office), [9; 32], Day(91))
            .unwrap();
        let (fetched, tomb) = agreed.fetch(mailbox, Day(92)).unwrap();

        // Assert
        assert_eq!(agreed.state, HandoffState::Agreed);
        assert_eq!(agreed.fetch_key(), Some(&[9; 32]));
        assert_eq!(fetched.agreement, [8; 64]);
        assert_eq!(fetched.consent, [5; 64]);
        assert_eq!(tomb.state, HandoffState::Fetched);
        assert_eq!(tomb.fetch_key(), None);
        let stored = String::from_utf8(tomb.encode()).unwrap();
        assert!(
            !stored.contains("package") && !stored.contains("share"),
            "{stored}"
        );
        assert_eq!(Record::decode(&tomb.encode()).unwrap(), tomb);
        assert!(tomb.fetch(mailbox, Day(92)).is_err());
        assert!(tomb.revoke(Day(92)).is_err());
    }

    #[test]
    fn nothing_is_fetched_before_agreement_or_after_expiry_or_revocation() {
        let r = consented();
        let mailbox = MailboxId::from_bytes([3; 16]);
        assert_eq!(r.fetch(mailbox, Day(91)).unwrap_err(), StoreError::NotFound);
        let agreed = r
            .agree([8; 64], share(Party::Office), [9; 32], Day(91))
            .unwrap();
        assert_eq!(
            agreed.fetch(mailbox, Day(101)).unwrap_err(),
            StoreError::NotFound
        );
        let revoked = agreed.revoke(Day(92)).unwrap();
        assert_eq!(revoked.state, HandoffState::Revoked);
        assert_eq!(
            revoked.fetch(mailbox, Day(92)).unwrap_err(),
            StoreError::NotFound
        );
        assert!(
            revoked
                .agree([8; 64], share(Party::Office), [9; 32], Day(92))
                .is_err()
        );
        assert!(
            r.agree([8; 64], share(Party::Office), [9; 32], Day(101))
                .is_err()
        );
    }
}
