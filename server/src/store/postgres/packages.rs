//! Handoff packages: kept with the case they disclose from (deleting or sweeping the mailbox
//! cascades to them), changed atomically under their row lock, deleted on their own expiry.

use candor_protocol::{HandoffId, MailboxId};

use super::mailboxes::lock_mailbox;
use super::rows::{array_at, int, mailbox_id_at, u64_at};
use super::session::{Fail, Pool};
use crate::store::{Expiry, NewPackage, PackageRecord, Quotas, StoreError};

pub(super) fn put_package(
    pool: &Pool,
    package: &NewPackage,
    quotas: &Quotas,
) -> Result<(), StoreError> {
    let (id, rec) = (&package.id, &package.record);
    pool.transact(|s| {
        // Under the office's lock, so that the count below is not raced by another put.
        if lock_mailbox(s, &rec.mailbox)?.is_none() {
            return Err(Fail::Store(StoreError::NotFound));
        }
        let taken = || Fail::Store(StoreError::Conflict("this handoff package already exists"));
        if s.query_opt(
            "SELECT 1 FROM packages WHERE id = $1",
            &[&id.as_bytes().as_slice()],
        )?
        .is_some()
        {
            return Err(taken());
        }
        let held = s
            .query_opt(
                "SELECT COUNT(*) AS held FROM packages WHERE mailbox = $1",
                &[&rec.mailbox.as_bytes().as_slice()],
            )?
            .map_or(Ok(0), |row| u64_at(&row, "held"))?;
        if held >= quotas.packages_per_mailbox {
            return Err(Fail::Store(StoreError::Quota(
                "this mailbox holds as many handoff packages as the relay allows",
            )));
        }
        let inserted = s.execute(
            "INSERT INTO packages (id, mailbox, expiry, body) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (id) DO NOTHING",
            &[
                &id.as_bytes().as_slice(),
                &rec.mailbox.as_bytes().as_slice(),
                &int(rec.expiry)?,
                &rec.body,
            ],
        )?;
        if inserted == 0 {
            return Err(taken());
        }
        Ok(())
    })
}

pub(super) fn package(pool: &Pool, id: &HandoffId) -> Result<Option<PackageRecord>, StoreError> {
    pool.read(|s| {
        s.query_opt(
            "SELECT mailbox, expiry, body FROM packages WHERE id = $1",
            &[&id.as_bytes().as_slice()],
        )?
        .map(|row| {
            Ok(PackageRecord {
                mailbox: mailbox_id_at(&row, "mailbox")?,
                expiry: u64_at(&row, "expiry")?,
                body: row.try_get("body")?,
            })
        })
        .transpose()
    })
}

pub(super) fn packages(pool: &Pool, mailbox: &MailboxId) -> Result<Vec<HandoffId>, StoreError> {
    pool.read(|s| {
        s.query(
            "SELECT id FROM packages WHERE mailbox = $1 ORDER BY id",
            &[&mailbox.as_bytes().as_slice()],
        )?
        .iter()
        .map(|row| array_at(row, "id", "package ID").map(HandoffId::from_bytes))
        .collect()
    })
}

pub(super) fn update_package(
    pool: &Pool,
    id: &HandoffId,
    expiry: &Expiry,
    update: &mut dyn FnMut(&PackageRecord) -> Result<Vec<u8>, StoreError>,
) -> Result<PackageRecord, StoreError> {
    pool.transact(|s| {
        let Some(row) = s.query_opt(
            "SELECT mailbox, expiry, body FROM packages WHERE id = $1 FOR UPDATE",
            &[&id.as_bytes().as_slice()],
        )?
        else {
            return Err(Fail::Store(StoreError::NotFound));
        };
        let current = PackageRecord {
            mailbox: mailbox_id_at(&row, "mailbox")?,
            expiry: u64_at(&row, "expiry")?,
            body: row.try_get("body")?,
        };
        let updated = PackageRecord {
            mailbox: current.mailbox,
            expiry: expiry.after_write(current.expiry),
            body: update(&current)?,
        };
        s.execute(
            "UPDATE packages SET expiry = $2, body = $3 WHERE id = $1",
            &[
                &id.as_bytes().as_slice(),
                &int(updated.expiry)?,
                &updated.body,
            ],
        )?;
        Ok(updated)
    })
}

pub(super) fn delete_package(pool: &Pool, id: &HandoffId) -> Result<bool, StoreError> {
    pool.transact(|s| {
        Ok(s.execute(
            "DELETE FROM packages WHERE id = $1",
            &[&id.as_bytes().as_slice()],
        )? > 0)
    })
}
