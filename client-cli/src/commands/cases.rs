//! Finding a case as the office: its entry in the inbox by the label a person typed, its keys
//! (checked against its mailbox ID), and how the office signs its requests. The ombuds'
//! commands and the handoff's both start here.

use anyhow::{Result, anyhow};
use candor_protocol::api::InboxEntry;
use candor_protocol::{KemPublicKey, SigningPublicKey};

use super::office::OfficeKeys;
use crate::cli::CaseArgs;
use crate::error::Unverified;
use crate::label;
use crate::relay::{Auth, Relay};

/// How the office signs its requests.
pub fn office_auth(keys: &OfficeKeys) -> Auth<'_> {
    Auth {
        key: keys.identity.signing(),
        signer: candor_protocol::Signer::Office,
    }
}

/// The case's keys, once they are shown to be the case's: its mailbox ID is their hash.
pub fn case_keys(
    keys: &OfficeKeys,
    entry: &InboxEntry,
) -> Result<(KemPublicKey, SigningPublicKey), Unverified> {
    let refused = || {
        Unverified(format!(
            "the relay listed keys for case {} that are not the case's own (its ID is not their \
             hash): the relay may be trying to read or forge messages. Nothing was opened or \
             sent; tell the relay's operator",
            keys.label(&entry.mailbox)
        ))
    };
    if !entry.mailbox.certifies(&entry.signing_key, &entry.kem_key) {
        return Err(refused());
    }
    let signing = SigningPublicKey::from_bytes(&entry.signing_key).map_err(|_| refused())?;
    Ok((KemPublicKey::from_bytes(&entry.kem_key), signing))
}

/// Every case of the office's inbox.
pub fn inbox_entries(relay: &Relay, keys: &OfficeKeys) -> Result<Vec<InboxEntry>> {
    relay
        .inbox(&keys.card.id, keys.identity.signing())
        .map_err(|e| {
            let hint = if e.is_not_found() {
                format!(
                    "the relay does not know the office {} with these keys: publish its card \
                     first with `candor office publish --invite TOKEN`",
                    keys.card.id
                )
            } else {
                "could not fetch the inbox".to_owned()
            };
            anyhow::Error::new(e).context(hint)
        })
}

/// Finds the one case whose label starts with what was typed, in any case.
pub fn find_case(relay: &Relay, keys: &OfficeKeys, case: &CaseArgs) -> Result<InboxEntry> {
    let prefix = label::normalize(&case.case)?;
    // One label key for the whole inbox, not one derivation per case.
    let labeler = label::Labeler::new(&keys.identity);
    let mut matches: Vec<InboxEntry> = inbox_entries(relay, keys)?
        .into_iter()
        .filter(|e| labeler.label(&e.mailbox).starts_with(&prefix))
        .collect();
    match matches.len() {
        0 => Err(anyhow!(
            "there is no case {prefix} in the inbox of {}: run `candor inbox` to see the labels",
            keys.card.name
        )),
        1 => Ok(matches.remove(0)),
        n => Err(anyhow!(
            "{n} cases have labels that start with {prefix}: type more of the label"
        )),
    }
}
