//! `candor-server check`: verifies every invariant of a sled store, with the relay stopped.
//!
//! - every office record decodes and its card verifies, and its open-mailbox counter is right;
//! - every mailbox record decodes, belongs to an existing office, has exactly one expiry entry
//!   and one inbox entry, and its envelopes are exactly seq 1..=last_seq, each a valid envelope
//!   of this mailbox, adding up to its count and bytes;
//! - every envelope is stored in its canonical JSON form (fetches serve the stored bytes as
//!   they are);
//! - every envelope, expiry entry and inbox entry belongs to an existing mailbox, and every
//!   counters entry to an existing office (no orphans);
//! - every handoff package record decodes, belongs to an existing mailbox, is on that
//!   mailbox's package list and has exactly its expiry entry; every package list entry and
//!   package expiry entry names a package that says so;
//! - handoff channels and notes as `check_channels.rs` says, and every channel expiry entry
//!   names a channel with that expiry;
//! - every used-token key is well formed;
//! - there is nothing else: no tree but the relay's, no key under an unknown prefix.
//!
//! Problems name mailboxes and packages by their full IDs, as the relay knows them: the labels
//! the office reads are an HMAC under its own key, which the relay never holds.

use std::collections::BTreeMap;

use candor_protocol::{HandoffId, MailboxId, OfficeId};

use super::SledStore;
use super::codec::{EXPIRY_CHANNEL, EXPIRY_MAILBOX, EXPIRY_PACKAGE};
use crate::store::{CheckReport, Store, StoreError};

pub(super) fn run(store: &SledStore) -> Result<CheckReport, StoreError> {
    let mut report = CheckReport::default();
    let mut problems = Vec::new();
    let mut open_per_office: BTreeMap<OfficeId, u64> = BTreeMap::new();

    for item in store.all_offices() {
        let (id, rec) = item?;
        report.offices += 1;
        match rec {
            Ok(rec) => {
                // A card of an older format verified when it was stored, and still names the
                // office's key; the office replaces it when it next publishes. A card that
                // verified under rules since tightened is still served, and reported.
                match rec.card.verify_office() {
                    Ok(c) if c.id == id => {}
                    Err(candor_protocol::Error::UnsupportedVersion { .. }) => {}
                    Ok(_) => problems.push(format!("office {id}: its card names another office")),
                    Err(e) if rec.card.verify_office_signature().is_ok() => problems.push(format!(
                        "office {id}: its card breaks a field rule of this version ({e}); it is \
                         still served, and the office's next `candor office publish` must follow \
                         the rules"
                    )),
                    Err(_) => problems.push(format!("office {id}: its card does not verify")),
                }
                open_per_office.insert(id, 0);
            }
            Err(_) => problems.push(format!("office {id}: the record does not decode")),
        }
    }

    for item in store.all_mailboxes() {
        let (id, rec) = item?;
        report.mailboxes += 1;
        let Some(id) = id else {
            problems.push("a mailbox key is not 16 bytes".into());
            continue;
        };
        let Ok(rec) = rec else {
            problems.push(format!("mailbox {id}: the record does not decode"));
            continue;
        };
        match open_per_office.get_mut(&rec.office) {
            Some(n) => *n += 1,
            None => problems.push(format!("mailbox {id}: its office does not exist")),
        }
        if !store.has_expiry_entry(rec.expiry, &id)? {
            problems.push(format!("mailbox {id}: no expiry index entry"));
        }
        if store.inbox_entry(&rec.office, rec.activity)? != Some(id) {
            problems.push(format!("mailbox {id}: no inbox entry"));
        }
        let (mut count, mut bytes, mut expected_seq) = (0u64, 0u64, 1u64);
        for env in store.mailbox_envelopes(&id) {
            let (seq, envelope, canonical, len) = env?;
            count += 1;
            bytes += len;
            if seq != Some(expected_seq) || seq.is_some_and(|s| s > rec.last_seq) {
                problems.push(format!(
                    "mailbox {id}: envelope sequence numbers are not 1..={}",
                    rec.last_seq
                ));
            }
            expected_seq = seq.unwrap_or(expected_seq).saturating_add(1);
            match envelope {
                Some(e) if e.mailbox == id && canonical => {}
                Some(e) if e.mailbox == id => problems.push(format!(
                    "mailbox {id}: an envelope is not stored in canonical form"
                )),
                Some(_) => {
                    problems.push(format!("mailbox {id}: an envelope names another mailbox"))
                }
                None => problems.push(format!("mailbox {id}: an envelope does not parse")),
            }
        }
        if count != rec.count || count != rec.last_seq || bytes != rec.bytes {
            problems.push(format!(
                "mailbox {id}: holds {count} envelopes ({bytes} bytes) but its record says {} ({} bytes, last seq {})",
                rec.count, rec.bytes, rec.last_seq
            ));
        }
        report.envelopes += count;
    }

    for (office, counted) in &open_per_office {
        let (_, open) = store.office_counters(office)?;
        if open != *counted {
            problems.push(format!(
                "office {office}: counter says {open} open mailboxes, found {counted}"
            ));
        }
    }

    for owner in store.counter_owners() {
        match owner? {
            Some(office) if open_per_office.contains_key(&office) => {}
            Some(office) => problems.push(format!(
                "office {office}: counters for an office that does not exist"
            )),
            None => problems.push("a counters key is malformed".into()),
        }
    }

    let mut orphans = 0u64;
    let mut last: Option<MailboxId> = None;
    for owner in store.envelope_owners() {
        match owner? {
            Some(id) if last == Some(id) => {}
            Some(id) => {
                last = Some(id);
                if store.mailbox(&id)?.is_none() {
                    orphans += 1;
                }
            }
            None => problems.push("an envelope key is not 24 bytes".into()),
        }
    }
    if orphans > 0 {
        problems.push(format!("{orphans} deleted mailboxes still have envelopes"));
    }

    for item in store.all_packages() {
        let (id, rec) = item?;
        report.packages += 1;
        let Some(id) = id else {
            problems.push("a package key is not 16 bytes".into());
            continue;
        };
        let Ok(rec) = rec else {
            problems.push(format!("package {id}: the record does not decode"));
            continue;
        };
        if store.mailbox(&rec.mailbox)?.is_none() {
            problems.push(format!("package {id}: its mailbox does not exist"));
        }
        let (listed, expiry) = store.has_package_entries(&id, &rec)?;
        if !listed {
            problems.push(format!("package {id}: not on its mailbox's package list"));
        }
        if !expiry {
            problems.push(format!("package {id}: no expiry index entry"));
        }
    }

    for entry in store.package_list_entries() {
        match entry? {
            Some((mailbox, id)) => match readable(store.package(&id))? {
                Some(Some(rec)) if rec.mailbox == mailbox => {}
                // Reported with the record.
                None => {}
                _ => problems.push(format!("package {}: a stale package list entry", id)),
            },
            None => problems.push("a package list entry is malformed".into()),
        }
    }

    for entry in store.expiry_entries() {
        match entry? {
            Some((at, EXPIRY_PACKAGE, id)) => {
                let id = HandoffId::from_bytes(id);
                match readable(store.package(&id))? {
                    Some(Some(rec)) if rec.expiry == at => {}
                    None => {}
                    _ => problems.push(format!("package {}: a stale expiry index entry", id)),
                }
            }
            Some((at, EXPIRY_CHANNEL, id)) => {
                let id = MailboxId::from_bytes(id);
                match readable(store.channel(&id))? {
                    Some(Some(rec)) if rec.expiry == at => {}
                    None => {}
                    _ => problems.push(format!("channel {id}: a stale expiry index entry")),
                }
            }
            Some((at, EXPIRY_MAILBOX, id)) => {
                let id = MailboxId::from_bytes(id);
                match store.mailbox(&id)? {
                    Some(rec) if rec.expiry == at => {}
                    Some(_) => problems.push(format!("mailbox {}: a stale expiry index entry", id)),
                    None => problems.push(format!(
                        "mailbox {}: an expiry entry for a mailbox that does not exist",
                        id
                    )),
                }
            }
            Some((_, kind, _)) => problems.push(format!("an expiry entry of unknown kind {kind}")),
            None => problems.push("an expiry key is malformed".into()),
        }
    }

    for entry in store.inbox_entries() {
        match entry? {
            Some((office, activity, id)) => match store.mailbox(&id)? {
                Some(rec) if rec.office == office && rec.activity == activity => {}
                _ => problems.push(format!("mailbox {}: a stale inbox entry", id)),
            },
            None => problems.push("an inbox entry is malformed".into()),
        }
    }

    super::check_channels::run(store, &mut report, &mut problems)?;

    let (used, bad) = store.used_entries()?;
    report.used_tokens = used;
    if bad > 0 {
        problems.push(format!("{bad} used-token keys are malformed"));
    }

    let (trees, unknown) = store.unknown_entries()?;
    for tree in trees {
        problems.push(format!(
            "a tree this version does not use: {tree} (a store of another layout?)"
        ));
    }
    if unknown > 0 {
        problems.push(format!("{unknown} keys under no known prefix"));
    }

    report.problems = problems;
    Ok(report)
}

/// A stored record as read, `None` when it does not decode (reported where the records
/// themselves are checked), so that damage is a problem line and not a failed check.
fn readable<T>(read: Result<T, StoreError>) -> Result<Option<T>, StoreError> {
    match read {
        Ok(v) => Ok(Some(v)),
        Err(StoreError::Corrupt(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use candor_protocol::{SignedCard, encoding, labels};

    use crate::startup::open_store;
    use crate::store::conformance::{TestOffice, invite};
    use crate::store::{OfficeRecord, Store as _};

    #[test]
    fn issue_19_a_stored_card_that_breaks_a_newer_rule_is_reported_not_damage() {
        // Arrange: a card stored under older rules, whose name ends with a space.
        let dir = tempfile::tempdir().unwrap();
        let store = open_store(&dir.path().join("store"), 8 * 1024 * 1024).unwrap();
        let office = TestOffice::new("ombuds");
        let mut json: serde_json::Value = serde_json::from_slice(&office.record.card.card).unwrap();
        json["name"] = "Ombuds ".into();
        let bytes = serde_json::to_vec(&json).unwrap();
        let card = SignedCard {
            signature: office.identity.signing().sign(labels::OFFICE_CARD, &bytes),
            card: bytes,
        };
        assert!(card.verify_office().is_err());
        let record = OfficeRecord {
            card,
            ..office.record.clone()
        };
        store.register_office(&record, &invite()).unwrap();
        store.flush().unwrap();

        // Act
        let report = store.check().unwrap();

        // Assert: still served as stored, and reported with the rule it breaks.
        assert_eq!(
            store
                .office(&office.id())
                .unwrap()
                .map(|r| encoding::b64(&r.card.card)),
            Some(encoding::b64(&record.card.card))
        );
        assert_eq!(report.problems.len(), 1, "{:?}", report.problems);
        assert!(
            report.problems[0].contains("breaks a field rule")
                && report.problems[0].contains("whitespace"),
            "{:?}",
            report.problems
        );
    }
}
