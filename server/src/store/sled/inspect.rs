//! Read access to every tree, for `candor-server check` (`crate::store::check`).

use candor_protocol::{Envelope, MailboxId, OfficeId};

use super::codec::{decode_mailbox, decode_office, expiry_key, inbox_key, mailbox_id, read_u64};
use super::{SledStore, backend, decode_counters};
use crate::store::{MailboxRecord, OfficeRecord, StoreError};

impl SledStore {
    pub(in crate::store) fn all_offices(
        &self,
    ) -> impl Iterator<Item = Result<(OfficeId, Result<OfficeRecord, StoreError>), StoreError>> + '_
    {
        self.offices.iter().map(|item| {
            let (k, v) = item.map_err(backend)?;
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
        match self.counters.get(office.as_str()).map_err(backend)? {
            Some(v) => decode_counters(&v).ok_or(StoreError::Corrupt("counters")),
            None => Ok((0, 0)),
        }
    }

    pub(in crate::store) fn all_mailboxes(
        &self,
    ) -> impl Iterator<
        Item = Result<(Option<MailboxId>, Result<MailboxRecord, StoreError>), StoreError>,
    > + '_ {
        self.mailboxes.iter().map(|item| {
            let (k, v) = item.map_err(backend)?;
            Ok((mailbox_id(&k), decode_mailbox(&v)))
        })
    }

    /// Every envelope key and value of one mailbox, as (seq, parsed envelope, JSON length).
    pub(in crate::store) fn mailbox_envelopes(
        &self,
        id: &MailboxId,
    ) -> impl Iterator<Item = Result<(Option<u64>, Option<Envelope>, u64), StoreError>> + '_ {
        self.envelopes.scan_prefix(id.as_bytes()).map(|item| {
            let (k, v) = item.map_err(backend)?;
            let seq = if k.len() == 24 {
                read_u64(&k[16..])
            } else {
                None
            };
            Ok((seq, Envelope::from_json(&v).ok(), v.len() as u64))
        })
    }

    /// Every envelope key's mailbox part.
    pub(in crate::store) fn envelope_owners(
        &self,
    ) -> impl Iterator<Item = Result<Option<MailboxId>, StoreError>> + '_ {
        self.envelopes.iter().keys().map(|k| {
            let k = k.map_err(backend)?;
            Ok(if k.len() == 24 {
                mailbox_id(&k[..16])
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
        self.expiry
            .contains_key(expiry_key(at, id).as_slice())
            .map_err(backend)
    }

    pub(in crate::store) fn inbox_entry(
        &self,
        office: &OfficeId,
        activity: u64,
    ) -> Result<Option<MailboxId>, StoreError> {
        Ok(self
            .inbox
            .get(inbox_key(office, activity).as_slice())
            .map_err(backend)?
            .and_then(|v| mailbox_id(&v)))
    }

    /// Every expiry entry as (expiry, kind, id).
    pub(in crate::store) fn expiry_entries(
        &self,
    ) -> impl Iterator<Item = Result<Option<(u64, u8, MailboxId)>, StoreError>> + '_ {
        self.expiry.iter().keys().map(|k| {
            let k = k.map_err(backend)?;
            Ok(if k.len() == 25 {
                read_u64(&k[..8])
                    .zip(mailbox_id(&k[9..]))
                    .map(|(at, id)| (at, k[8], id))
            } else {
                None
            })
        })
    }

    /// Every inbox entry as (office, activity, mailbox).
    pub(in crate::store) fn inbox_entries(
        &self,
    ) -> impl Iterator<Item = Result<Option<(OfficeId, u64, MailboxId)>, StoreError>> + '_ {
        self.inbox.iter().map(|item| {
            let (k, v) = item.map_err(backend)?;
            let parsed = (k.len() > 9 && k[k.len() - 9] == 0)
                .then(|| {
                    let office = std::str::from_utf8(&k[..k.len() - 9]).ok()?.parse().ok()?;
                    Some((office, read_u64(&k[k.len() - 8..])?, mailbox_id(&v)?))
                })
                .flatten();
            Ok(parsed)
        })
    }

    /// How many used-token entries there are, and whether every key is well formed.
    pub(in crate::store) fn used_entries(&self) -> Result<(u64, u64), StoreError> {
        let (mut total, mut bad) = (0, 0);
        for k in self.used.iter().keys() {
            let k = k.map_err(backend)?;
            total += 1;
            if k.len() != 25 || !matches!(k[0], 1 | 2) {
                bad += 1;
            }
        }
        Ok((total, bad))
    }
}
