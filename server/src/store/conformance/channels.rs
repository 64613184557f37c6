//! Handoff channels: opened by an existing office, changed atomically, counted against the
//! office's quota, listed on the notice board in cursor order (cursors unique and increasing,
//! across restarts and deletions), swept on their own expiry, and never touched by a case's
//! deletion or sweep.

use candor_protocol::MailboxId;

use super::{
    DAY, Harness, RETAINED, TestOffice, assert_clean, hours, opened, opened_expiring, quotas,
    registered,
};
use crate::store::{ChannelRecord, NewChannel, Quotas, Store, StoreError};

/// A channel of `office` expiring at `expiry`, with a fresh ID and `notice`.
fn channel(office: &TestOffice, expiry: u64, notice: &[u8]) -> NewChannel {
    NewChannel {
        id: MailboxId::random(&mut rand::rng()),
        office: office.id(),
        expiry,
        notice: notice.to_vec(),
        body: b"first body".to_vec(),
    }
}

/// Opens `new`, flushes, and returns its cursor.
fn opened_channel(store: &dyn Store, new: &NewChannel) -> u64 {
    let cursor = store.open_channel(new, &quotas()).unwrap();
    store.flush().unwrap();
    cursor
}

/// The record `new` is stored as, at `cursor`.
fn stored(new: &NewChannel, cursor: u64) -> ChannelRecord {
    ChannelRecord {
        office: new.office.clone(),
        expiry: new.expiry,
        cursor,
        notice: new.notice.clone(),
        body: new.body.clone(),
    }
}

/// The whole board.
fn board(store: &dyn Store) -> Vec<(u64, Vec<u8>)> {
    store.notices(0, 10_000).unwrap()
}

pub(crate) fn a_channel_is_opened_read_changed_and_deleted(h: &mut dyn Harness) {
    // Arrange
    let store = h.store();
    let office = registered(store, "ombuds");
    let new = channel(&office, RETAINED, b"sealed notice");
    let cursor = opened_channel(store, &new);
    let mut seen = Vec::new();

    // Act
    let returned = store
        .update_channel(&new.id, &mut |current| {
            seen.push(current.clone());
            Ok(b"an envelope more".to_vec())
        })
        .unwrap();
    store.flush().unwrap();
    let read = store.channel(&new.id).unwrap();
    let report = store.check().unwrap();
    let deleted = store.delete_channel(&new.id).unwrap();
    let again = store.delete_channel(&new.id).unwrap();
    store.flush().unwrap();

    // Assert: `update` saw the channel as opened (it may run more than once); only the body
    // changed; the deletion happened once.
    assert_eq!(cursor, 1);
    assert!(!seen.is_empty());
    assert!(seen.iter().all(|rec| *rec == stored(&new, 1)), "{seen:?}");
    let expected = ChannelRecord {
        body: b"an envelope more".to_vec(),
        ..stored(&new, 1)
    };
    assert_eq!(returned, expected);
    assert_eq!(read, Some(expected));
    assert_eq!(report.channels, 1);
    assert!((deleted, again) == (true, false), "{deleted} {again}");
    assert_eq!(store.channel(&new.id).unwrap(), None);
    assert!(board(store).is_empty());
    assert_eq!(
        store.update_channel(&new.id, &mut |_| Ok(Vec::new())),
        Err(StoreError::NotFound)
    );
    assert_eq!(store.check().unwrap().channels, 0);
    assert_clean(store);
}

pub(crate) fn a_refused_update_leaves_the_channel_unchanged(h: &mut dyn Harness) {
    // Arrange
    let store = h.store();
    let office = registered(store, "ombuds");
    let new = channel(&office, RETAINED, b"notice");
    let cursor = opened_channel(store, &new);

    // Act
    let refused =
        store.update_channel(&new.id, &mut |_| Err(StoreError::Conflict("not consented")));
    store.flush().unwrap();

    // Assert
    assert_eq!(refused, Err(StoreError::Conflict("not consented")));
    assert_eq!(store.channel(&new.id).unwrap(), Some(stored(&new, cursor)));
    assert_clean(store);
}

pub(crate) fn channels_are_refused_for_an_unknown_office_or_a_taken_id(h: &mut dyn Harness) {
    // Arrange: a case whose mailbox ID a channel may also take (another space).
    let store = h.store();
    let (office, other) = (registered(store, "ombuds"), registered(store, "other"));
    let stranger = TestOffice::new("stranger");
    let first = channel(&office, RETAINED, b"first");
    let cursor = opened_channel(store, &first);
    let case = opened(store, &office);
    let same_id = |office: &TestOffice| NewChannel {
        id: first.id,
        ..channel(office, RETAINED, b"overwrite")
    };
    let like_the_case = NewChannel {
        id: case.id(),
        ..channel(&office, RETAINED, b"a mailbox's ID")
    };

    // Act
    let no_office = store.open_channel(&channel(&stranger, RETAINED, b"x"), &quotas());
    let taken_here = store.open_channel(&same_id(&office), &quotas());
    let taken_there = store.open_channel(&same_id(&other), &quotas());
    let beside_the_case = store.open_channel(&like_the_case, &quotas());
    store.flush().unwrap();

    // Assert: refused, and nothing changed; the mailbox's ID was free for a channel.
    assert_eq!(no_office, Err(StoreError::NotFound));
    assert!(
        matches!(taken_here, Err(StoreError::Conflict(_))),
        "{taken_here:?}"
    );
    assert!(
        matches!(taken_there, Err(StoreError::Conflict(_))),
        "{taken_there:?}"
    );
    assert_eq!(
        store.channel(&first.id).unwrap(),
        Some(stored(&first, cursor))
    );
    let beside = beside_the_case.unwrap();
    assert_eq!(
        store.channel(&case.id()).unwrap(),
        Some(stored(&like_the_case, beside))
    );
    assert!(store.mailbox(&case.id()).unwrap().is_some());
    assert_eq!(
        board(store),
        [
            (cursor, first.notice.clone()),
            (beside, like_the_case.notice)
        ]
    );
    assert_clean(store);
}

pub(crate) fn an_office_holds_at_most_its_quota_of_channels(h: &mut dyn Harness) {
    // Arrange
    let store = h.store();
    let limited = Quotas {
        channels_per_office: 2,
        ..quotas()
    };
    let (office, other) = (registered(store, "ombuds"), registered(store, "other"));
    let new: Vec<NewChannel> = (0..3).map(|_| channel(&office, RETAINED, b"n")).collect();

    // Act
    let results: Vec<_> = new
        .iter()
        .map(|c| store.open_channel(c, &limited))
        .collect();
    let at_other = store.open_channel(&channel(&other, RETAINED, b"n"), &limited);
    store.flush().unwrap();

    // Assert: the third is refused, for this office only; deleting one frees its place.
    assert!(results[..2].iter().all(Result::is_ok), "{results:?}");
    assert!(
        matches!(results[2], Err(StoreError::Quota(_))),
        "{results:?}"
    );
    assert!(at_other.is_ok(), "{at_other:?}");
    assert_eq!(store.channel(&new[2].id).unwrap(), None);
    assert!(store.delete_channel(&new[0].id).unwrap());
    assert!(store.open_channel(&new[2], &limited).is_ok());
    store.flush().unwrap();
    assert!(store.channel(&new[2].id).unwrap().is_some());
    assert_eq!(store.check().unwrap().channels, 3);
    assert_clean(store);
}

pub(crate) fn the_board_lists_notices_in_cursor_order_a_page_at_a_time(h: &mut dyn Harness) {
    // Arrange: five channels of two offices, opened in turn; the third deleted.
    let store = h.store();
    let (a, b) = (registered(store, "office-a"), registered(store, "office-b"));
    let new: Vec<NewChannel> = (0..5)
        .map(|i| {
            let office = if i % 2 == 0 { &a } else { &b };
            channel(office, RETAINED, format!("notice {i}").as_bytes())
        })
        .collect();
    let cursors: Vec<u64> = new.iter().map(|c| opened_channel(store, c)).collect();
    assert!(store.delete_channel(&new[2].id).unwrap());
    store.flush().unwrap();

    // Act
    let whole = board(store);
    let first_page = store.notices(0, 2).unwrap();
    let second_page = store.notices(first_page[1].0, 2).unwrap();
    let past_the_end = store.notices(cursors[4], 10).unwrap();
    let none = store.notices(0, 0).unwrap();

    // Assert: creation order, the deleted one left out.
    assert!(cursors.windows(2).all(|w| w[0] < w[1]), "{cursors:?}");
    let expected: Vec<(u64, Vec<u8>)> = [0, 1, 3, 4]
        .iter()
        .map(|&i| (cursors[i], new[i].notice.clone()))
        .collect();
    assert_eq!(whole, expected);
    assert_eq!(first_page, expected[..2]);
    assert_eq!(second_page, expected[2..]);
    assert!(past_the_end.is_empty() && none.is_empty());
    assert_clean(store);
}

pub(crate) fn cursors_stay_unique_and_increasing_across_a_restart(h: &mut dyn Harness) {
    // Arrange: two channels, the newest deleted before the restart.
    let office = registered(h.store(), "ombuds");
    let (kept, newest) = (
        channel(&office, RETAINED, b"kept"),
        channel(&office, RETAINED, b"newest"),
    );
    let before = [
        opened_channel(h.store(), &kept),
        opened_channel(h.store(), &newest),
    ];
    assert!(h.store().delete_channel(&newest.id).unwrap());
    h.store().flush().unwrap();

    // Act
    h.restart();
    let store = h.store();
    let later = channel(&office, RETAINED, b"after the restart");
    let after = opened_channel(store, &later);

    // Assert: above every cursor handed out before, the deleted newest one's too.
    assert!(before[0] < before[1], "{before:?}");
    assert!(after > before[1], "{before:?} then {after}");
    assert_eq!(
        store.channel(&kept.id).unwrap(),
        Some(stored(&kept, before[0]))
    );
    assert_eq!(
        board(store),
        [(before[0], kept.notice), (after, later.notice)]
    );
    assert_clean(store);
}

pub(crate) fn a_sweep_deletes_expired_channels_only(h: &mut dyn Harness) {
    // Arrange: at `now`, a channel expired an hour ago, one expires now, one in an hour.
    let store = h.store();
    let now = hours(2);
    let office = registered(store, "ombuds");
    let gone = channel(&office, hours(1), b"gone");
    let due = channel(&office, now, b"due");
    let kept = channel(&office, hours(3), b"kept");
    let cursors: Vec<u64> = [&gone, &due, &kept]
        .iter()
        .map(|c| opened_channel(store, c))
        .collect();

    // Act
    let swept = store.sweep(now, 100).unwrap();
    store.flush().unwrap();

    // Assert
    assert_eq!((swept.channels, swept.mailboxes, swept.packages), (2, 0, 0));
    assert_eq!(store.channel(&gone.id).unwrap(), None);
    assert_eq!(store.channel(&due.id).unwrap(), None);
    assert_eq!(
        store.channel(&kept.id).unwrap(),
        Some(stored(&kept, cursors[2]))
    );
    assert_eq!(board(store), [(cursors[2], kept.notice)]);
    assert_eq!(store.sweep(now, 100).unwrap().channels, 0);
    assert_clean(store);
}

pub(crate) fn deleting_or_sweeping_a_case_leaves_the_office_s_channels(h: &mut dyn Harness) {
    // Arrange: a channel under the ID of a case to delete, another of an office whose case
    // expires; both channels outlive the cases.
    let store = h.store();
    let office = registered(store, "ombuds");
    let (deleted, expiring) = (
        opened(store, &office),
        opened_expiring(store, &office, hours(1)),
    );
    let same_id = NewChannel {
        id: deleted.id(),
        ..channel(&office, RETAINED + 10 * DAY, b"same ID")
    };
    let other = channel(&office, RETAINED, b"other");
    let cursors = [
        opened_channel(store, &same_id),
        opened_channel(store, &other),
    ];

    // Act
    assert!(store.delete_mailbox(&deleted.id()).unwrap());
    let swept = store.sweep(hours(2), 100).unwrap();
    store.flush().unwrap();

    // Assert
    assert_eq!((swept.mailboxes, swept.channels), (1, 0));
    assert_eq!(store.mailbox(&expiring.id()).unwrap(), None);
    assert_eq!(
        store.channel(&same_id.id).unwrap(),
        Some(stored(&same_id, cursors[0]))
    );
    assert_eq!(
        store.channel(&other.id).unwrap(),
        Some(stored(&other, cursors[1]))
    );
    assert_eq!(board(store).len(), 2);
    assert_clean(store);
}
