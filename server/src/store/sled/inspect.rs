//! Read access to every kind of entry, for `candor-server check` (`check.rs`).

use candor_protocol::{Envelope, HandoffId, MailboxId, OfficeId};

use super::codec::decode_counters;
use super::codec::{
    counters_key, decode_mailbox, decode_office, decode_package, envelopes_prefix, expiry_key,
    handoff_id, inbox_key, mailbox_id, mailbox_package_key, package_expiry_key, prefix, read_u64,
};
use super::{SledStore, TREE, backend};
use crate::store::{MailboxRecord, OfficeRecord, PackageRecord, StoreError};

impl SledStore {
    /// Entries under one prefix, the prefix cut off the key.
    fn entries(
        &self,
        p: u8,
    ) -> impl Iterator<Item = Result<(Vec<u8>, sled::IVec), StoreError>> + '_ {
        self.tree.scan_prefix([p]).map(|item| {
            let (k, v) = item.map_err(backend)?;
            Ok((k[1..].to_vec(), v))
        })
    }

    /// Trees other than the relay's, and keys under no known prefix: a store of another
    /// layout, or damage.
    pub(in crate::store) fn unknown_entries(&self) -> Result<(Vec<String>, u64), StoreError> {
        let trees = self
            .db
            .tree_names()
            .into_iter()
            .filter(|n| n.as_ref() != TREE.as_bytes() && n.as_ref() != b"__sled__default")
            .map(|n| String::from_utf8_lossy(&n).into_owned())
            .collect();
        let mut keys = 0;
        for k in self.tree.iter().keys() {
            let k = k.map_err(backend)?;
            if !k.first().is_some_and(|p| prefix::ALL.contains(p)) {
                keys += 1;
            }
        }
        Ok((trees, keys))
    }

    pub(in crate::store) fn all_offices(
        &self,
    ) -> impl Iterator<Item = Result<(OfficeId, Result<OfficeRecord, StoreError>), StoreError>> + '_
    {
        self.entries(prefix::OFFICE).map(|item| {
            let (k, v) = item?;
            let id: OfficeId = std::str::from_utf8(&k)
                .ok()
                .and_then(|s| s.parse().ok())
                .ok_or(StoreError::Corrupt("office key"))?;
            let rec = decode_office(&id, &v);
            Ok((id, rec))
        })
    }

    pub(in crate::store) fn office_counters(
        &self,
        office: &OfficeId,
    ) -> Result<(u64, u64), StoreError> {
        match self.tree.get(counters_key(office)).map_err(backend)? {
            Some(v) => decode_counters(&v).ok_or(StoreError::Corrupt("counters")),
            None => Ok((0, 0)),
        }
    }

    /// Every counters entry's office, if its key is a well-formed office ID.
    pub(in crate::store) fn counter_owners(
        &self,
    ) -> impl Iterator<Item = Result<Option<OfficeId>, StoreError>> + '_ {
        self.entries(prefix::COUNTERS).map(|item| {
            let (k, _) = item?;
            Ok(std::str::from_utf8(&k).ok().and_then(|s| s.parse().ok()))
        })
    }

    pub(in crate::store) fn all_mailboxes(
        &self,
    ) -> impl Iterator<
        Item = Result<(Option<MailboxId>, Result<MailboxRecord, StoreError>), StoreError>,
    > + '_ {
        self.entries(prefix::MAILBOX).map(|item| {
            let (k, v) = item?;
            Ok((mailbox_id(&k), decode_mailbox(&v)))
        })
    }

    /// Every envelope key and value of one mailbox, as (seq, parsed envelope, whether the
    /// stored JSON is the envelope's canonical form, JSON length).
    pub(in crate::store) fn mailbox_envelopes(
        &self,
        id: &MailboxId,
    ) -> impl Iterator<Item = Result<(Option<u64>, Option<Envelope>, bool, u64), StoreError>> + '_
    {
        let id = *id;
        self.tree
            .scan_prefix(envelopes_prefix(&id))
            .map(move |item| {
                let (k, v) = item.map_err(backend)?;
                let seq = if k.len() == 25 {
                    read_u64(&k[17..])
                } else {
                    None
                };
                // The JSON is in the log; a pointer that does not lead to this envelope's record
                // reads as an envelope that does not parse.
                let json = match seq {
                    Some(seq) => self.read_envelope(&k, v, &id, seq).ok().flatten(),
                    None => None,
                }
                .unwrap_or_default();
                let envelope = Envelope::from_json(&json).ok();
                let canonical = envelope.as_ref().is_some_and(|e| e.to_json() == json);
                Ok((seq, envelope, canonical, json.len() as u64))
            })
    }

    /// Every envelope key's mailbox part.
    pub(in crate::store) fn envelope_owners(
        &self,
    ) -> impl Iterator<Item = Result<Option<MailboxId>, StoreError>> + '_ {
        self.tree.scan_prefix([prefix::ENVELOPE]).keys().map(|k| {
            let k = k.map_err(backend)?;
            Ok(if k.len() == 25 {
                mailbox_id(&k[1..17])
            } else {
                None
            })
        })
    }

    pub(in crate::store) fn has_expiry_entry(
        &self,
        at: u64,
        id: &MailboxId,
    ) -> Result<bool, StoreError> {
        self.tree.contains_key(expiry_key(at, id)).map_err(backend)
    }

    pub(in crate::store) fn inbox_entry(
        &self,
        office: &OfficeId,
        activity: u64,
    ) -> Result<Option<MailboxId>, StoreError> {
        Ok(self
            .tree
            .get(inbox_key(office, activity))
            .map_err(backend)?
            .and_then(|v| mailbox_id(&v)))
    }

    /// Every expiry entry as (expiry, kind, id).
    pub(in crate::store) fn expiry_entries(
        &self,
    ) -> impl Iterator<Item = Result<Option<(u64, u8, [u8; 16])>, StoreError>> + '_ {
        self.entries(prefix::EXPIRY).map(|item| {
            let (k, _) = item?;
            Ok(if k.len() == 25 {
                read_u64(&k[..8])
                    .zip(<[u8; 16]>::try_from(&k[9..]).ok())
                    .map(|(at, id)| (at, k[8], id))
            } else {
                None
            })
        })
    }

    pub(in crate::store) fn all_packages(
        &self,
    ) -> impl Iterator<
        Item = Result<(Option<HandoffId>, Result<PackageRecord, StoreError>), StoreError>,
    > + '_ {
        self.entries(prefix::PACKAGE).map(|item| {
            let (k, v) = item?;
            Ok((handoff_id(&k), decode_package(&v)))
        })
    }

    pub(in crate::store) fn has_package_entries(
        &self,
        id: &HandoffId,
        rec: &PackageRecord,
    ) -> Result<(bool, bool), StoreError> {
        let listed = self
            .tree
            .contains_key(mailbox_package_key(&rec.mailbox, id))
            .map_err(backend)?;
        let expiry = self
            .tree
            .contains_key(package_expiry_key(rec.expiry, id))
            .map_err(backend)?;
        Ok((listed, expiry))
    }

    /// Every entry of the mailboxes' package lists as (mailbox, package).
    pub(in crate::store) fn package_list_entries(
        &self,
    ) -> impl Iterator<Item = Result<Option<(MailboxId, HandoffId)>, StoreError>> + '_ {
        self.entries(prefix::MAILBOX_PACKAGE).map(|item| {
            let (k, v) = item?;
            Ok((k.len() == 32 && v.is_empty())
                .then(|| mailbox_id(&k[..16]).zip(handoff_id(&k[16..])))
                .flatten())
        })
    }

    /// Every inbox entry as (office, activity, mailbox).
    pub(in crate::store) fn inbox_entries(
        &self,
    ) -> impl Iterator<Item = Result<Option<(OfficeId, u64, MailboxId)>, StoreError>> + '_ {
        self.entries(prefix::INBOX).map(|item| {
            let (k, v) = item?;
            let parsed = (k.len() > 9 && k[k.len() - 9] == 0)
                .then(|| {
                    let office = std::str::from_utf8(&k[..k.len() - 9]).ok()?.parse().ok()?;
                    Some((office, read_u64(&k[k.len() - 8..])?, mailbox_id(&v)?))
                })
                .flatten();
            Ok(parsed)
        })
    }

    /// How many used-token entries there are, and how many keys are malformed.
    pub(in crate::store) fn used_entries(&self) -> Result<(u64, u64), StoreError> {
        let (mut total, mut bad) = (0, 0);
        for item in self.entries(prefix::USED) {
            let (k, v) = item?;
            total += 1;
            if k.len() != 25 || !matches!(k[0], 1 | 2) || !v.is_empty() {
                bad += 1;
            }
        }
        Ok((total, bad))
    }
}
