//! Read markers: they open for their office and mailbox only, keep one size whatever they hold,
//! refuse what `encode` would not write, and a marker of form 2 still gives its read position.

use super::*;
use crate::Day;

fn digest() -> Digest {
    Digest {
        up_to: 9,
        unread: 2,
        categories: vec!["a".repeat(32).parse().unwrap(), "peer".parse().unwrap()],
        constituency: Some("b".repeat(32).parse().unwrap()),
        urgent: true,
        last_day: Some(Day(20_500)),
    }
}

#[test]
fn a_marker_opens_for_its_office_and_mailbox_only() {
    // Arrange
    let rng = &mut rand::rng();
    let office = Identity::generate(rng);
    let key = MarkerKey::new(&office);
    let mailbox = MailboxId::random(rng);
    let marker = ReadMarker {
        read_up_to: 7,
        digest: Some(digest()),
    };

    // Act
    let sealed = key.seal(&mailbox, &marker, rng).unwrap();

    // Assert
    assert_eq!(sealed.len(), MARKER_LEN);
    assert_eq!(key.open(&mailbox, &sealed), Ok(marker));
    let other = Identity::generate(rng);
    assert!(MarkerKey::new(&other).open(&mailbox, &sealed).is_err());
    assert!(key.open(&MailboxId::random(rng), &sealed).is_err());
    assert!(key.open(&mailbox, &sealed[..MARKER_LEN - 1]).is_err());
    let mut flipped = sealed.clone();
    flipped[30] ^= 1;
    assert!(key.open(&mailbox, &flipped).is_err());
}

#[test]
fn every_marker_has_one_size_whatever_it_holds() {
    // Arrange
    let rng = &mut rand::rng();
    let office = Identity::generate(rng);
    let key = MarkerKey::new(&office);
    let mailbox = MailboxId::random(rng);
    let markers = [
        ReadMarker::default(),
        ReadMarker {
            read_up_to: u64::MAX,
            digest: Some(Digest::default()),
        },
        ReadMarker {
            read_up_to: 3,
            digest: Some(digest()),
        },
    ];

    // Act
    let sizes: Vec<usize> = markers
        .iter()
        .map(|m| key.seal(&mailbox, m, rng).unwrap().len())
        .collect();

    // Assert
    assert_eq!(sizes, vec![MARKER_LEN; 3]);
}

#[test]
fn a_marker_of_form_2_still_gives_its_read_position() {
    // Arrange: the 56-byte form earlier clients wrote.
    let rng = &mut rand::rng();
    let office = Identity::generate(rng);
    let mailbox = MailboxId::random(rng);
    let own = office.kem().public_key();
    let (enc, mut ctx) =
        seal::setup_sender(Some(office.kem()), &own, &v2_info(&mailbox), rng).unwrap();
    let sealed = [enc.as_slice(), &ctx.seal(&5u64.to_be_bytes(), b"").unwrap()].concat();
    assert_eq!(sealed.len(), MARKER_V2_LEN);

    // Act
    let opened = MarkerKey::new(&office).open(&mailbox, &sealed);

    // Assert
    assert_eq!(
        opened,
        Ok(ReadMarker {
            read_up_to: 5,
            digest: None
        })
    );
    // Someone with only the office's public key (the relay) cannot make one.
    let k = crate::KemSecretKey::generate(rng);
    let (enc, mut ctx) = seal::setup_sender(Some(&k), &own, &v2_info(&mailbox), rng).unwrap();
    let forged = [
        enc.as_slice(),
        &ctx.seal(&99u64.to_be_bytes(), b"").unwrap(),
    ]
    .concat();
    assert!(MarkerKey::new(&office).open(&mailbox, &forged).is_err());
}

#[test]
fn the_decoder_refuses_what_encode_would_not_write() {
    // Arrange
    let good = ReadMarker {
        read_up_to: 1,
        digest: Some(digest()),
    }
    .encode()
    .unwrap();
    let variant = |at: usize, value: u8| {
        let mut p = *good;
        p[at] = value;
        p
    };

    // Act and assert: each change is refused; the good one decodes.
    assert!(ReadMarker::decode(good.as_ref()).is_ok());
    assert!(matches!(
        ReadMarker::decode(&variant(0, 2)),
        Err(Error::UnsupportedVersion { found: 2, .. })
    ));
    assert!(ReadMarker::decode(&variant(9, 2)).is_err(), "digest flag");
    assert!(ReadMarker::decode(&variant(22, 2)).is_err(), "urgent flag");
    assert!(ReadMarker::decode(&variant(191, 1)).is_err(), "padding");
    assert!(ReadMarker::decode(&good[..191]).is_err(), "length");
    let too_many = ReadMarker {
        read_up_to: 0,
        digest: Some(Digest {
            categories: vec!["a".parse().unwrap(); 4],
            ..Digest::default()
        }),
    };
    assert!(too_many.encode().is_err());
    let no_day = ReadMarker {
        read_up_to: 0,
        digest: Some(Digest {
            last_day: Some(Day(u32::MAX)),
            ..Digest::default()
        }),
    };
    assert!(no_day.encode().is_err(), "the day that means none");
}
