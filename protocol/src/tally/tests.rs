//! Tally round trips, the fixed size and the refusals.

use proptest::prelude::*;

use super::*;

fn id(s: &str) -> ItemId {
    s.parse().unwrap()
}

fn office() -> OfficeId {
    "ombuds".parse().unwrap()
}

fn longest() -> Tally {
    let long = |c: char| ItemId::from_str(&c.to_string().repeat(32)).unwrap();
    Tally::new(
        vec![long('a'), long('b'), long('c')],
        Quarter::new(9999, 4).unwrap(),
        Some(long('d')),
        long('e'),
    )
    .unwrap()
}

#[test]
fn every_sealed_tally_has_one_size() {
    // Arrange
    let rng = &mut rand::rng();
    let key = RecordsKey::generate(rng);
    let shortest = Tally::new(vec![], Quarter::new(2026, 1).unwrap(), None, id("x")).unwrap();

    // Act
    let small = shortest.seal(&key, &office(), rng).unwrap();
    let large = longest().seal(&key, &office(), rng).unwrap();

    // Assert
    assert_eq!(small.len(), SEALED_TALLY_LEN);
    assert_eq!(large.len(), SEALED_TALLY_LEN);
    assert_eq!(Tally::open(&key, &office(), &large).unwrap(), longest());
}

#[test]
fn a_tally_opens_under_its_key_and_office_only() {
    // Arrange
    let rng = &mut rand::rng();
    let key = RecordsKey::generate(rng);
    let tally = Tally::new(
        vec![id("pay"), id("conduct")],
        "2026Q3".parse().unwrap(),
        Some(id("staff")),
        id("facilitated"),
    )
    .unwrap();

    // Act
    let sealed = tally.seal(&key, &office(), rng).unwrap();

    // Assert
    let back = Tally::open(&key, &office(), &sealed).unwrap();
    assert_eq!(back.categories(), &[id("conduct"), id("pay")]);
    assert_eq!(back, tally);
    let other = RecordsKey::generate(rng);
    assert_eq!(
        Tally::open(&other, &office(), &sealed),
        Err(Error::DecryptionFailed)
    );
    let elsewhere: OfficeId = "other-office".parse().unwrap();
    assert_eq!(
        Tally::open(&key, &elsewhere, &sealed),
        Err(Error::DecryptionFailed)
    );
    let mut flipped = sealed.clone();
    flipped[40] ^= 1;
    assert_eq!(
        Tally::open(&key, &office(), &flipped),
        Err(Error::DecryptionFailed)
    );
    assert_eq!(
        Tally::open(&key, &office(), &sealed[..sealed.len() - 1]),
        Err(Error::DecryptionFailed)
    );
}

#[test]
fn a_fourth_category_is_refused_and_duplicates_merge() {
    // Arrange
    let q = Quarter::new(2026, 2).unwrap();
    let four = vec![id("a"), id("b"), id("c"), id("d")];

    // Act
    let refused = Tally::new(four, q, None, id("x"));
    let merged = Tally::new(vec![id("b"), id("a"), id("b")], q, None, id("x")).unwrap();

    // Assert
    assert!(refused.is_err());
    assert_eq!(merged.categories(), &[id("a"), id("b")]);
}

#[test]
fn the_decoder_refuses_what_encode_would_not_write() {
    // Arrange
    let tally = Tally::new(
        vec![id("b"), id("a")],
        Quarter::new(2026, 2).unwrap(),
        None,
        id("x"),
    )
    .unwrap();
    let plain = tally.encode();
    let mutate = |f: &dyn Fn(&mut [u8; TALLY_PLAIN_LEN])| {
        let mut p = *plain;
        f(&mut p);
        Tally::decode(&p)
    };

    // Act / Assert
    assert_eq!(Tally::decode(plain.as_ref()).unwrap(), tally);
    assert!(mutate(&|p| p[0] = 2).is_err(), "version");
    assert!(mutate(&|p| p[3] = 5).is_err(), "quarter");
    assert!(mutate(&|p| p[4] = 0).is_err(), "no outcome");
    assert!(mutate(&|p| p[191] = 1).is_err(), "padding");
    // Categories out of order: swap "a" and "b".
    assert!(mutate(&|p| p.swap(9, 11)).is_err(), "order");
    assert!(mutate(&|p| p[7] = 4).is_err(), "count");
    assert!(mutate(&|p| p[5] = b'X').is_err(), "id characters");
    assert!(Tally::decode(&plain[..191]).is_err(), "length");
}

fn item() -> impl Strategy<Value = ItemId> {
    "[a-z0-9][a-z0-9-]{0,31}".prop_map(|s| s.parse().unwrap())
}

proptest! {
    #[test]
    fn tallies_round_trip(
        categories in proptest::collection::vec(item(), 0..=3),
        year in 1970u16..=9999,
        number in 1u8..=4,
        constituency in proptest::option::of(item()),
        outcome in item(),
    ) {
        let tally = Tally::new(categories, Quarter::new(year, number).unwrap(), constituency, outcome)
            .unwrap();
        prop_assert_eq!(Tally::decode(tally.encode().as_ref()).unwrap(), tally);
    }
}
