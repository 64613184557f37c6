//! The envelope's tests: its wire form, parsed strictly and written as serde writes it.

use super::*;
use crate::keys::{KemSecretKey, SigningSecretKey};
use crate::seal::Sealer;
use proptest::prelude::*;

fn sample(body: &[u8]) -> Envelope {
    let rng = &mut rand::rng();
    let a = KemSecretKey::generate(rng);
    let b = KemSecretKey::generate(rng);
    Sealer {
        sender: &a,
        recipient: b.public_key(),
        own: a.public_key(),
        keep_copy: true,
        author: &SigningSecretKey::generate(rng),
        mailbox: MailboxId::random(rng),
        direction: Direction::ToOffice,
    }
    .seal(body, rng)
    .unwrap()
}

#[test]
fn truncated_envelope_is_refused() {
    let json = sample(b"x").to_json();
    for cut in [1, 10, json.len() / 2, json.len() - 1] {
        assert!(Envelope::from_json(&json[..cut]).is_err(), "cut at {cut}");
    }
    let mut env = sample(b"x");
    env.ct.truncate(env.ct.len() - 1);
    assert!(Envelope::from_json(&env.to_json()).is_err());
}

#[test]
fn wrong_version_is_refused_as_such() {
    let json = String::from_utf8(sample(b"x").to_json()).unwrap();
    let v3 = json.replace("\"v\":2", "\"v\":3");
    assert!(matches!(
        Envelope::from_json(v3.as_bytes()),
        Err(Error::UnsupportedVersion { found: 3, .. })
    ));
}

#[test]
fn a_version_1_envelope_is_refused_as_such() {
    // Version 1's shape: one HPKE encapsulated key and ciphertext, no stanzas.
    let v1 = format!(
        "{{\"v\":1,\"mailbox\":\"{}\",\"direction\":\"to-office\",\"enc\":\"{}\",\"ct\":\"{}\"}}",
        MailboxId::random(&mut rand::rng()),
        encoding::b64(&[1; 32]),
        encoding::b64(&[2; 528]),
    );
    let err = Envelope::from_json(v1.as_bytes()).unwrap_err();
    assert_eq!(
        err,
        Error::UnsupportedVersion {
            what: "envelope",
            found: 1,
            supported: 2
        }
    );
    assert!(serde_json::from_str::<Envelope>(&v1).is_err());
}

#[test]
fn a_stanza_count_other_than_two_is_refused() {
    let env = sample(b"x");
    let json = String::from_utf8(env.to_json()).unwrap();
    let one = json.replacen(
        &format!(
            ",{}",
            String::from_utf8(serde_json::to_vec(&env.stanzas[1]).unwrap()).unwrap()
        ),
        "",
        1,
    );
    assert_ne!(one, json);
    assert!(Envelope::from_json(one.as_bytes()).is_err());
}

#[test]
fn trailing_data_unknown_fields_and_bad_lengths_are_refused() {
    let json = String::from_utf8(sample(b"x").to_json()).unwrap();
    assert!(Envelope::from_json(format!("{json}{{}}").as_bytes()).is_err());
    let extra = json.replacen('{', "{\"x\":1,", 1);
    assert!(Envelope::from_json(extra.as_bytes()).is_err());
    let short_enc = json.replacen("\"enc\":\"", "\"enc\":\"AA", 1);
    assert!(Envelope::from_json(short_enc.as_bytes()).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]
    #[test]
    fn envelope_json_round_trips(body in proptest::collection::vec(any::<u8>(), 0..3000)) {
        let env = sample(&body);
        prop_assert_eq!(Envelope::from_json(&env.to_json()).unwrap(), env);
    }

    #[test]
    fn the_written_json_is_serdes(
        ct in proptest::collection::vec(any::<u8>(), 0..600),
        enc in any::<[u8; 32]>(),
        commit in any::<[u8; 32]>(),
        direction in 0usize..4,
    ) {
        let stanza = Stanza { enc, key: [enc[0]; WRAPPED_KEY_LEN] };
        let env = Envelope {
            mailbox: MailboxId::random(&mut rand::rng()),
            direction: [
                Direction::ToOffice,
                Direction::ToVisitor,
                Direction::ToThirdParty,
                Direction::FromThirdParty,
            ][direction],
            stanzas: [stanza.clone(), stanza],
            commit,
            ct,
        };
        prop_assert_eq!(env.to_json(), serde_json::to_vec(&env).unwrap());
    }
}
