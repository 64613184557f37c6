//! Handoff packages: kept with the case they disclose from, changed atomically, deleted with
//! it or on their own expiry.

use std::sync::MutexGuard;

use candor_protocol::{HandoffId, MailboxId};

use super::codec::{
    decode_package, encode_package, handoff_id, mailbox_package_key, mailbox_packages_prefix,
    package_expiry_key, package_key,
};
use super::commit::Changes;
use super::{SledStore, backend, lock};
use crate::store::{Expiry, NewPackage, PackageRecord, Quotas, StoreError};

pub(super) fn put_package(
    store: &SledStore,
    package: &NewPackage,
    quotas: &Quotas,
) -> Result<(), StoreError> {
    let (id, rec) = (&package.id, &package.record);
    let _registry = lock(&store.registry);
    let Some((_, _office)) = store.lock_mailbox(&rec.mailbox)? else {
        return Err(StoreError::NotFound);
    };
    if store.latest(&package_key(id))?.is_some() {
        return Err(StoreError::Conflict("this handoff package already exists"));
    }
    let held = store
        .latest_keys(&mailbox_packages_prefix(&rec.mailbox))?
        .len() as u64;
    if held >= quotas.packages_per_mailbox {
        return Err(StoreError::Quota(
            "this mailbox holds as many handoff packages as the relay allows",
        ));
    }
    let mut batch = Changes::default();
    batch.insert(&package_key(id), encode_package(rec));
    batch.insert(mailbox_package_key(&rec.mailbox, id).as_slice(), &[]);
    batch.insert(&package_expiry_key(rec.expiry, id), &[]);
    store.submit(batch)
}

pub(super) fn package(
    store: &SledStore,
    id: &HandoffId,
) -> Result<Option<PackageRecord>, StoreError> {
    match store.get(&package_key(id))? {
        Some(raw) => decode_package(&raw).map(Some),
        None => Ok(None),
    }
}

pub(super) fn packages(
    store: &SledStore,
    mailbox: &MailboxId,
) -> Result<Vec<HandoffId>, StoreError> {
    store
        .tree
        .scan_prefix(mailbox_packages_prefix(mailbox))
        .keys()
        .map(|key| {
            let key = key.map_err(backend)?;
            handoff_id(&key[17..]).ok_or(StoreError::Corrupt("package list key"))
        })
        .collect()
}

pub(super) fn update_package(
    store: &SledStore,
    id: &HandoffId,
    expiry: &Expiry,
    update: &mut dyn FnMut(&PackageRecord) -> Result<Vec<u8>, StoreError>,
) -> Result<PackageRecord, StoreError> {
    let Some((current, _office)) = store.lock_package(id)? else {
        return Err(StoreError::NotFound);
    };
    let updated = PackageRecord {
        mailbox: current.mailbox,
        expiry: expiry.after_write(current.expiry),
        body: update(&current)?,
    };
    let mut batch = Changes::default();
    if updated.expiry != current.expiry {
        batch.remove(&package_expiry_key(current.expiry, id));
        batch.insert(&package_expiry_key(updated.expiry, id), &[]);
    }
    batch.insert(&package_key(id), encode_package(&updated));
    store.submit(batch)?;
    Ok(updated)
}

pub(super) fn delete_package(store: &SledStore, id: &HandoffId) -> Result<bool, StoreError> {
    store.delete_package_batch(id, None)
}

impl SledStore {
    /// A package as the queued writes leave it.
    pub(super) fn latest_package(
        &self,
        id: &HandoffId,
    ) -> Result<Option<PackageRecord>, StoreError> {
        match self.latest(&package_key(id))? {
            Some(raw) => decode_package(&raw).map(Some),
            None => Ok(None),
        }
    }

    /// Locks the office of package `id`'s mailbox and reads the package under that lock (as
    /// [`SledStore::lock_mailbox`] does for a mailbox).
    pub(super) fn lock_package(
        &self,
        id: &HandoffId,
    ) -> Result<Option<(PackageRecord, MutexGuard<'_, ()>)>, StoreError> {
        loop {
            let Some(seen) = self.latest_package(id)? else {
                return Ok(None);
            };
            // Deleting a mailbox deletes its packages, so a package's mailbox exists; a
            // package without one (damage, which `check` reports) is treated as missing.
            let Some((_, guard)) = self.lock_mailbox(&seen.mailbox)? else {
                return Ok(None);
            };
            match self.latest_package(id)? {
                Some(rec) if rec.mailbox == seen.mailbox => return Ok(Some((rec, guard))),
                Some(_) => continue,
                None => return Ok(None),
            }
        }
    }

    /// Deletes a package. With `expired_at`, only if its expiry is still that one.
    pub(super) fn delete_package_batch(
        &self,
        id: &HandoffId,
        expired_at: Option<u64>,
    ) -> Result<bool, StoreError> {
        let Some((rec, _office)) = self.lock_package(id)? else {
            return Ok(false);
        };
        if expired_at.is_some_and(|at| at != rec.expiry) {
            return Ok(false);
        }
        let mut batch = Changes::default();
        remove_package(&mut batch, id, &rec);
        self.submit(batch)?;
        Ok(true)
    }
}

/// The changes that delete a package from every tree.
pub(super) fn remove_package(batch: &mut Changes, id: &HandoffId, rec: &PackageRecord) {
    batch.remove(&package_key(id));
    batch.remove(mailbox_package_key(&rec.mailbox, id).as_slice());
    batch.remove(&package_expiry_key(rec.expiry, id));
}
