//! The conformance suite of [`Store`]: the behaviour every backend must show, written against
//! the trait alone, so that each backend runs the same tests (one storage trait, one suite, as
//! OpenMLS tests its storage providers).
//!
//! A backend takes part through a [`Harness`], made by a factory `fn() -> Box<dyn Harness>`
//! that gives each test a fresh, empty store, and one line:
//! `store_conformance!(factory);` in a test module, which expands to one `#[test]` per suite
//! function. The suite itself knows no backend.
//!
//! Each submodule covers one concept: [`offices`], [`mailboxes`], [`envelopes`], [`closing`],
//! [`markers`], [`inbox`], [`packages`], [`channels`], [`notes`], [`sweep`], [`restart`] and
//! [`tallies`]. A test asserts only what
//! the trait's doc comments promise or what the relay relies on. Writes are read back after
//! [`Store::flush`], as the relay answers a write only after its group commit;
//! read-modify-writes (a token spent twice, a mailbox deleted twice, a case closed twice) are
//! tried without one, since they must see queued writes.
//!
//! Times are fixed Unix seconds from [`NOW`]: the store takes every time as an argument.

use std::collections::BTreeSet;

use candor_protocol::marker;
use candor_protocol::seal::Sealer;
use candor_protocol::{
    CaseKeys, Codename, Day, Envelope, HandoffId, Identity, KemPublicKey, MailboxId, Message,
    OfficeCard, OfficeId, Policy,
};

use super::{
    Expiry, NewMailbox, NewPackage, OfficeRecord, PackageRecord, Quotas, Store, StoreError,
    TokenKind, UsedToken,
};

pub(crate) mod channels;
pub(crate) mod closing;
pub(crate) mod envelopes;
pub(crate) mod inbox;
pub(crate) mod mailboxes;
pub(crate) mod markers;
pub(crate) mod notes;
pub(crate) mod offices;
pub(crate) mod packages;
pub(crate) mod restart;
pub(crate) mod sweep;
pub(crate) mod tallies;

/// A backend under test: one store, and a way to close and reopen it.
pub(crate) trait Harness {
    /// The open store.
    fn store(&self) -> &dyn Store;
    /// Closes the store and opens the same data again, as a relay restart does. The suite
    /// expects back only what it flushed before.
    fn restart(&mut self);
}

/// One hour, in seconds.
pub(crate) const HOUR: u64 = 3600;
/// One day, in seconds.
pub(crate) const DAY: u64 = 86_400;
/// The suite's "now", on the hour.
pub(crate) const NOW: u64 = 1_800_000_000;
/// When the tokens the helpers spend expire: after every time a test sweeps at.
pub(crate) const TOKENS_EXPIRE: u64 = NOW + 1000 * DAY;
/// The expiry the helpers open mailboxes with.
pub(crate) const RETAINED: u64 = NOW + 30 * DAY;

/// `n` hours after [`NOW`].
pub(crate) const fn hours(n: u64) -> u64 {
    NOW + n * HOUR
}

/// Quotas no test reaches unless it sets one lower.
pub(crate) fn quotas() -> Quotas {
    Quotas {
        mailboxes_per_office: 1_000,
        envelopes_per_mailbox: 1_000,
        bytes_per_mailbox: 100_000_000,
        packages_per_mailbox: 1_000,
        channels_per_office: 1_000,
        notes_per_mailbox: 1_000,
        bytes_per_office: 100_000_000_000,
    }
}

/// The expiry window of a write that keeps any current expiry from `earliest` to `latest`
/// and draws `latest` for any other.
pub(crate) fn window(earliest: u64, latest: u64) -> Expiry {
    Expiry {
        drawn: latest,
        earliest,
        latest,
    }
}

/// A window that keeps [`RETAINED`].
pub(crate) fn keeping() -> Expiry {
    window(RETAINED - DAY, RETAINED + DAY)
}

/// A single-use token of `kind`, fresh random, expiring at `expires`.
pub(crate) fn token(kind: TokenKind, expires: u64) -> UsedToken {
    UsedToken {
        kind,
        random: rand::random(),
        expires,
    }
}

/// A fresh invite.
pub(crate) fn invite() -> UsedToken {
    token(TokenKind::Invite, TOKENS_EXPIRE)
}

/// A fresh proof-of-work token.
pub(crate) fn pow() -> UsedToken {
    token(TokenKind::Pow, TOKENS_EXPIRE)
}

/// A fresh handoff package ID.
pub(crate) fn handoff_id() -> HandoffId {
    HandoffId::random(&mut rand::rng())
}

/// An office: its identity, and the record of its first card, really signed (`check`
/// verifies stored cards).
pub(crate) struct TestOffice {
    pub(crate) identity: Identity,
    pub(crate) record: OfficeRecord,
}

impl TestOffice {
    /// An office `id` with a new identity and card serial 1.
    pub(crate) fn new(id: &str) -> Self {
        let identity = Identity::generate(&mut rand::rng());
        let record = card(&identity, id, 1, 30);
        Self { identity, record }
    }

    pub(crate) fn id(&self) -> OfficeId {
        self.record.id.clone()
    }

    /// A new card of this office, signed by its identity.
    pub(crate) fn card(&self, serial: u64, retention_days: u32) -> OfficeRecord {
        card(
            &self.identity,
            self.record.id.as_str(),
            serial,
            retention_days,
        )
    }
}

/// The record of a card of office `id`, signed by `identity` and verified.
fn card(identity: &Identity, id: &str, serial: u64, retention_days: u32) -> OfficeRecord {
    let card = OfficeCard {
        v: candor_protocol::card::OFFICE_CARD_VERSION.into(),
        serial,
        expires: candor_protocol::Day::from_unix(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
        )
        .plus(365),
        id: id.parse().unwrap(),
        name: "Conformance Ombuds Office".into(),
        relay: "http://127.0.0.1:8080".parse().unwrap(),
        signing_key: identity.signing().public_key().to_bytes(),
        kem_key: identity.kem().public_key().to_bytes(),
        policy: Policy {
            confidentiality: "confidential".into(),
            exception: "imminent risk of serious harm".into(),
            not_notice: "not notice".into(),
            retention: format!("{retention_days} days"),
        },
        retention_days,
        reply_within_days: 3,
        close_grace_days: 14,
        categories: vec![],
        constituencies: vec![],
        outcomes: vec![candor_protocol::Choice::new("resolved", "Resolved").unwrap()],
        resources: vec![],
    };
    let signed = card.sign(identity).unwrap();
    let parsed = signed.verify_office().unwrap();
    OfficeRecord::from_verified(signed, &parsed)
}

/// A visitor's case at an office: keys from a codename, the first envelope it opens with, and
/// envelopes sealed to the office.
pub(crate) struct TestCase {
    pub(crate) keys: CaseKeys,
    /// The envelope the case's mailbox is opened with (sequence number 1).
    pub(crate) first: Envelope,
    office_kem: KemPublicKey,
}

impl TestCase {
    pub(crate) fn new(office: &TestOffice) -> Self {
        let codename = Codename::generate(&mut rand::rng());
        let keys = codename.derive(&office.identity.fingerprint());
        let office_kem = office.identity.kem().public_key();
        let first = seal_to_office(&keys, &office_kem, "first");
        Self {
            keys,
            first,
            office_kem,
        }
    }

    pub(crate) fn id(&self) -> MailboxId {
        self.keys.mailbox
    }

    /// The mailbox to open for this case at `office`, expiring at `expiry`.
    pub(crate) fn new_mailbox(&self, office: &TestOffice, expiry: u64) -> NewMailbox {
        NewMailbox {
            id: self.keys.mailbox,
            office: office.id(),
            signing_key: self.keys.signing.public_key().to_bytes(),
            kem_key: self.keys.kem.public_key().to_bytes(),
            expiry,
            first: self.first.clone(),
        }
    }

    /// The stored form of [`TestCase::first`]: sequence number 1 and its JSON.
    pub(crate) fn first_stored(&self) -> (u64, Vec<u8>) {
        (1, self.first.to_json())
    }

    /// A valid to-office envelope of this case carrying `text`.
    pub(crate) fn envelope(&self, text: &str) -> Envelope {
        seal_to_office(&self.keys, &self.office_kem, text)
    }

    /// A valid to-visitor envelope of this case carrying `text`, sealed and signed by `office`.
    pub(crate) fn reply(&self, office: &TestOffice, text: &str) -> Envelope {
        Message::text(text, Day(20_780))
            .seal(
                &Sealer::office(&office.identity, self.keys.kem.public_key(), self.id()),
                &mut rand::rng(),
            )
            .unwrap()
    }
}

/// A to-office envelope of the case with `keys` carrying `text`.
fn seal_to_office(keys: &CaseKeys, office_kem: &KemPublicKey, text: &str) -> Envelope {
    Message::text(text, Day(20_780))
        .seal(
            &Sealer::visitor(keys, office_kem.clone(), true),
            &mut rand::rng(),
        )
        .unwrap()
}

/// Registers a new office `id` with a fresh invite, and flushes.
pub(crate) fn registered(store: &dyn Store, id: &str) -> TestOffice {
    let office = TestOffice::new(id);
    store.register_office(&office.record, &invite()).unwrap();
    store.flush().unwrap();
    office
}

/// Opens a mailbox for a new case at `office`, expiring at [`RETAINED`], and flushes.
pub(crate) fn opened(store: &dyn Store, office: &TestOffice) -> TestCase {
    opened_expiring(store, office, RETAINED)
}

/// Opens a mailbox for a new case at `office`, expiring at `expiry`, and flushes.
pub(crate) fn opened_expiring(store: &dyn Store, office: &TestOffice, expiry: u64) -> TestCase {
    let case = TestCase::new(office);
    store
        .open_mailbox(&case.new_mailbox(office, expiry), &pow(), &quotas())
        .unwrap();
    store.flush().unwrap();
    case
}

/// Appends an envelope carrying `text` to `case` with [`keeping`], flushes, and returns its
/// sequence number and the envelope.
pub(crate) fn appended(store: &dyn Store, case: &TestCase, text: &str) -> (u64, Envelope) {
    appended_within(store, case, text, &keeping())
}

/// As [`appended`], with the expiry window `expiry`.
pub(crate) fn appended_within(
    store: &dyn Store,
    case: &TestCase,
    text: &str,
    expiry: &Expiry,
) -> (u64, Envelope) {
    let envelope = case.envelope(text);
    let seq = store
        .append(&case.id(), &envelope, expiry, &quotas())
        .unwrap();
    store.flush().unwrap();
    (seq, envelope)
}

/// A package of `case` expiring at `expiry`, with `body`.
pub(crate) fn package(case: &TestCase, expiry: u64, body: &[u8]) -> NewPackage {
    NewPackage {
        id: handoff_id(),
        record: PackageRecord {
            mailbox: case.id(),
            expiry,
            body: body.to_vec(),
        },
    }
}

/// Stores a package of `case` expiring at `expiry`, and flushes.
pub(crate) fn stored_package(
    store: &dyn Store,
    case: &TestCase,
    expiry: u64,
    body: &[u8],
) -> NewPackage {
    let new = package(case, expiry, body);
    store.put_package(&new, &quotas()).unwrap();
    store.flush().unwrap();
    new
}

/// Every envelope of mailbox `id`, as JSON, in order.
pub(crate) fn all_envelopes(store: &dyn Store, id: &MailboxId) -> Vec<(u64, Vec<u8>)> {
    store
        .envelopes(id, 0, 10_000)
        .unwrap()
        .into_iter()
        .map(|e| (e.seq, e.json))
        .collect()
}

/// The mailboxes of an office's whole inbox, oldest activity first.
pub(crate) fn inbox_order(store: &dyn Store, office: &TestOffice) -> Vec<MailboxId> {
    store
        .inbox(&office.id(), 0, 10_000)
        .unwrap()
        .into_iter()
        .map(|e| e.mailbox)
        .collect()
}

/// `office`'s sealed read marker for `case`: read up to `seq` (`candor_protocol::marker`).
pub(crate) fn sealed_marker(office: &TestOffice, case: &TestCase, seq: u64) -> Vec<u8> {
    let read = marker::ReadMarker {
        read_up_to: seq,
        digest: None,
    };
    marker::MarkerKey::new(&office.identity)
        .seal(&case.id(), &read, &mut rand::rng())
        .unwrap()
}

/// Asserts that `check` finds no problem.
pub(crate) fn assert_clean(store: &dyn Store) {
    let report = store.check().unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
}

/// Asserts that mailbox `id` holds no envelope (a missing mailbox may also be `NotFound`).
pub(crate) fn assert_no_envelopes(store: &dyn Store, id: &MailboxId) {
    match store.envelopes(id, 0, 10_000) {
        Ok(found) => assert!(found.is_empty(), "{} envelopes left", found.len()),
        Err(e) => assert_eq!(e, StoreError::NotFound),
    }
}

/// Expands to one `#[test]` per suite function, in a submodule per concept, each running it
/// on a fresh harness from `$factory` (a `fn() -> Box<dyn Harness>`).
///
/// Every test of the suite must be listed here: a suite function not listed is never run.
/// `every_suite_test_is_instantiated`, which the macro also generates, fails if one is
/// missing (it reads the submodules' sources, where every `pub(crate) fn` is a suite test).
macro_rules! store_conformance {
    ($factory:path) => {
        $crate::store::conformance::store_conformance!(
            $factory, unless $crate::store::conformance::never
        );
    };
    // `$skip` says whether to skip the suite (a backend whose server is not configured).
    ($factory:path, unless $skip:path) => {
        $crate::store::conformance::store_conformance!(@suite $factory, $skip;
            offices {
                a_registered_office_is_found_as_stored,
                an_invite_registers_one_office,
                a_taken_office_id_is_a_conflict_and_keeps_the_invite,
                an_update_needs_a_larger_serial,
                updating_an_unknown_office_is_not_found,
                a_stored_card_of_the_first_format_is_not_damage,
            }
            mailboxes {
                a_new_mailbox_holds_exactly_its_first_envelope_with_its_keys_and_expiry,
                opening_needs_an_existing_office_and_keeps_the_token,
                a_proof_of_work_opens_one_mailbox,
                opening_a_taken_mailbox_id_is_a_conflict,
                an_office_opens_at_most_its_quota_of_mailboxes,
                an_office_holds_at_most_its_quota_of_bytes_across_restarts,
                a_refused_open_leaves_neither_mailbox_nor_envelope,
                deleting_a_mailbox_removes_it_with_its_envelopes_and_packages,
                a_deleted_mailbox_id_opens_again_with_only_its_new_first_envelope,
                a_deleted_mailbox_id_opens_again_open_and_unmarked,
            }
            envelopes {
                appends_are_numbered_after_the_first_envelope_and_counted,
                the_envelope_quota_refuses_an_append_and_changes_nothing,
                the_byte_quota_counts_envelope_json,
                envelopes_page_after_a_sequence_number_byte_for_byte,
                a_page_stops_before_its_byte_cap_but_always_moves_on,
                an_append_keeps_an_expiry_in_its_window_and_redraws_another,
                a_page_for_a_named_key_is_read_only_for_the_key_registered_for_its_signer,
            }
            closing {
                closing_with_a_last_message_appends_it_and_closes_the_case,
                closing_without_a_last_message_appends_nothing,
                appends_after_closing_are_refused_and_change_nothing,
                closing_twice_is_refused_and_changes_nothing,
                closing_a_missing_mailbox_is_not_found,
                a_full_mailbox_closes_only_without_a_last_message,
                closing_moves_a_listed_case_to_the_end_of_the_inbox,
                closing_sets_the_expiry_and_the_sweep_deletes_the_case_at_it,
                a_closed_case_stays_closed_after_a_restart,
            }
            tallies {
                a_tally_is_stored_with_its_closing_and_listed_by_its_office,
                a_refused_closing_stores_no_tally,
                deleting_and_sweeping_cases_leave_their_tallies,
                tallies_are_listed_in_id_order_a_page_at_a_time,
                the_statistics_retention_drops_tallies_past_their_year,
                tallies_are_kept_across_a_restart,
            }
            markers {
                a_marker_reads_back_from_the_mailbox_and_the_inbox,
                a_marker_survives_a_restart,
                setting_a_marker_moves_neither_the_inbox_order_nor_the_expiry,
                a_marker_of_a_missing_mailbox_is_not_found,
            }
            inbox {
                the_inbox_lists_an_office_s_mailboxes_oldest_first,
                the_inbox_pages_after_an_activity,
                a_mailbox_written_after_a_read_moves_to_the_end,
                a_deleted_mailbox_leaves_the_inbox,
                a_reader_polling_from_its_cursor_misses_no_append,
            }
            packages {
                a_package_is_stored_and_listed_in_id_order,
                an_update_sees_the_package_and_replaces_its_body,
                a_refused_update_leaves_the_package_unchanged,
                an_update_keeps_an_expiry_in_its_window_and_redraws_another,
                packages_are_refused_for_a_missing_mailbox_or_a_taken_id,
                a_mailbox_holds_at_most_its_quota_of_packages,
                a_deleted_package_is_gone_once,
                deleting_a_mailbox_deletes_its_packages_and_no_other,
            }
            channels {
                a_channel_is_opened_read_changed_and_deleted,
                a_refused_update_leaves_the_channel_unchanged,
                channels_are_refused_for_an_unknown_office_or_a_taken_id,
                an_office_holds_at_most_its_quota_of_channels,
                the_board_lists_notices_in_cursor_order_a_page_at_a_time,
                cursors_stay_unique_and_increasing_across_a_restart,
                a_sweep_deletes_expired_channels_only,
                deleting_or_sweeping_a_case_leaves_the_office_s_channels,
            }
            notes {
                notes_are_numbered_per_mailbox_and_paged_in_order,
                a_mailbox_holds_at_most_its_quota_of_notes,
                a_note_of_a_missing_mailbox_is_not_found,
                a_note_moves_neither_the_inbox_nor_the_expiry,
                notes_go_with_their_mailbox_deleted_or_swept,
                a_closed_case_takes_notes,
                notes_survive_a_restart,
            }
            sweep {
                a_sweep_deletes_what_expired_at_or_before_now,
                a_sweep_with_nothing_expired_changes_nothing,
                a_full_batch_reports_more,
                an_append_that_redraws_expiry_saves_a_mailbox,
                an_update_that_redraws_expiry_saves_a_package,
            }
            restart {
                flushed_writes_survive_a_restart,
                used_tokens_stay_used_after_a_restart,
                a_deleted_mailbox_stays_deleted_after_a_restart,
                a_listed_mailbox_moves_when_written_after_a_restart,
                flush_covering_calls_back_once_and_makes_earlier_writes_durable,
                compaction_keeps_live_envelopes_and_drops_deleted_ones,
            }
        );
    };
    (@suite $factory:path, $skip:path; $($module:ident { $($test:ident),* $(,)? })*) => {
        /// The factory every generated test takes a fresh backend from.
        const CONFORMANCE_HARNESS: fn() -> Box<dyn $crate::store::conformance::Harness> =
            $factory;
        /// Whether to skip the suite; it says so itself.
        const CONFORMANCE_SKIP: fn() -> bool = $skip;

        $(
            mod $module {
                $(
                    #[test]
                    fn $test() {
                        if (super::CONFORMANCE_SKIP)() {
                            return;
                        }
                        let mut harness = (super::CONFORMANCE_HARNESS)();
                        $crate::store::conformance::$module::$test(&mut *harness);
                    }
                )*
            }
        )*

        #[test]
        fn every_suite_test_is_instantiated() {
            $crate::store::conformance::assert_every_test_listed(&[
                $( (stringify!($module), &[$(stringify!($test)),*]) ),*
            ]);
        }
    };
}
pub(crate) use store_conformance;

/// Never skips: for backends that need nothing outside the test.
pub(crate) fn never() -> bool {
    false
}

/// Each submodule's source, for [`assert_every_test_listed`].
const SOURCES: [(&str, &str); 12] = [
    ("offices", include_str!("conformance/offices.rs")),
    ("mailboxes", include_str!("conformance/mailboxes.rs")),
    ("envelopes", include_str!("conformance/envelopes.rs")),
    ("closing", include_str!("conformance/closing.rs")),
    ("markers", include_str!("conformance/markers.rs")),
    ("inbox", include_str!("conformance/inbox.rs")),
    ("packages", include_str!("conformance/packages.rs")),
    ("channels", include_str!("conformance/channels.rs")),
    ("notes", include_str!("conformance/notes.rs")),
    ("sweep", include_str!("conformance/sweep.rs")),
    ("restart", include_str!("conformance/restart.rs")),
    ("tallies", include_str!("conformance/tallies.rs")),
];

/// Asserts that `listed` (module, tests) names exactly the `pub(crate) fn`s of the suite's
/// submodules.
pub(crate) fn assert_every_test_listed(listed: &[(&str, &[&str])]) {
    let mut defined = BTreeSet::new();
    for (module, source) in SOURCES {
        for line in source.lines() {
            if let Some(rest) = line.strip_prefix("pub(crate) fn ") {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                defined.insert(format!("{module}::{name}"));
            }
        }
    }
    let instantiated: BTreeSet<String> = listed
        .iter()
        .flat_map(|(module, tests)| tests.iter().map(move |test| format!("{module}::{test}")))
        .collect();
    let missing: Vec<_> = defined.difference(&instantiated).collect();
    let unknown: Vec<_> = instantiated.difference(&defined).collect();
    assert!(
        missing.is_empty() && unknown.is_empty(),
        "store_conformance! must list every suite test; not listed: {missing:?}; \
         listed but not found: {unknown:?}"
    );
}
