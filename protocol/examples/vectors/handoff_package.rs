//! `handoff-package.json`: the sealed package with its two key shares, and the notice with the
//! fetch key, channel ID and channel key its seed gives (`docs/protocol.md` §10, "Package" and
//! "Notice, fetch key and channel"). Every random value (`K_v` and each HPKE `ikmE`) is fixed
//! and listed, so a second implementation reproduces every byte.

use candor_protocol::handoff::{
    Disclosure, KeyShare, Notice, NoticeSeed, Package, Party, Proposal,
};
use candor_protocol::{CaseKeys, Error, HandoffId, Identity, KemPublicKey};

use super::fixtures::{self, b64, bytes32, hex, keys_of};
use super::format::{Case, Group, VectorFile};
use super::handoff::{draft_for, opening, text};

/// The handoff's objects, built from the fixed inputs.
struct World {
    office: Identity,
    third: Identity,
    case: CaseKeys,
    id: HandoffId,
    disclosure: Disclosure,
}

fn world() -> World {
    let office = fixtures::office();
    let third = fixtures::identity("third-party");
    let case = fixtures::codename().derive(&office.fingerprint());
    let draft = draft_for(&office, &third, &case);
    let opening = opening();
    let bytes = draft.consented(Some(&opening)).unwrap().to_json();
    let disclosure = Disclosure {
        v: 2,
        proposal: bytes.clone(),
        consent: Proposal::approve(&bytes, Party::Visitor, &case.signing),
        identity: Some(opening),
    };
    World {
        office,
        third,
        case,
        id: draft.id,
        disclosure,
    }
}

fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap()
}

pub fn file() -> VectorFile {
    let w = world();
    VectorFile::new(
        "handoff-package.json",
        "candor-handoff-package-v2",
        &[
            "The group's office keys and codename (its case keys, as in codename.json) are the \
             two parties; `thirdParty` receives. `disclosure` is the JSON the package seals.",
            "A HandoffPackageTest case seals `disclosure` with K_v = `kV` and the HPKE ikmE \
             `ikmOffice` to the office's KEM key (info \"candor/v2/handoff-office-key\" || \
             handoff id), exports K_o = `kO`, and seals each half to the third party, HPKE auth \
             mode (info \"candor/v2/handoff-share\" || handoff id || party byte) from the case's \
             KEM key with `ikmVisitorShare` and from the office's with `ikmOfficeShare`. Verify: \
             open both shares with the third party's key, recover K_o from `office_enc` with the \
             office's key, and open the package to exactly `disclosure`.",
            "A HandoffNoticeTest case seals handoff id || seed || case KEM key || office KEM key \
             to the third party (HPKE base mode, info \"candor/v2/handoff-notice\", ikmE \
             `ikmNotice`), the seed being HKDF-SHA256(salt = handoff id, IKM = the office's \
             KEM secret, info \"candor/v2/handoff-seed\"). Verify: open it with the third \
             party's key, and derive `fetchKey`, `channelId` and `channelKey` from the seed.",
        ],
    )
    .note("FlippedCiphertext", "One bit of the ciphertext is flipped.")
    .note(
        "OtherHandoff",
        "Sealed for another handoff ID than the group's.",
    )
    .note(
        "SwappedParty",
        "The visitor's share claims to be the office's.",
    )
    .note(
        "ImpostorSender",
        "The visitor's share is sealed from another KEM key than the case's.",
    )
    .note("OtherThirdParty", "Sealed to another third party's key.")
    .group(packages(&w))
    .group(notices(&w))
}

/// Opens a package and its shares as a third party does.
fn open_package(
    w: &World,
    package: &Package,
    visitor: &KeyShare,
    office: &KeyShare,
) -> Result<Vec<u8>, Error> {
    let k_v = visitor.open(&w.id, w.third.kem(), &w.case.kem.public_key())?;
    let k_o = office.open(&w.id, w.third.kem(), &w.office.kem().public_key())?;
    let opened = package.open(&w.id, &k_v, &k_o)?;
    Ok(serde_json::to_vec(&opened).unwrap())
}

fn packages(w: &World) -> Group {
    let k_v = bytes32("handoff-package/k-v");
    let (ikm_o, ikm_vs, ikm_os) = (
        bytes32("handoff-package/ikm-office"),
        bytes32("handoff-package/ikm-visitor-share"),
        bytes32("handoff-package/ikm-office-share"),
    );
    let office_kem = w.office.kem().public_key();
    let third_kem = w.third.kem().public_key();
    let seal =
        |id: &HandoffId| Package::seal_scripted(&w.disclosure, id, &office_kem, &k_v, &ikm_o);
    let package = seal(&w.id).unwrap();
    let k_o = package.office_key(&w.id, w.office.kem()).unwrap();
    let share = |key: &[u8; 32], party, from: &candor_protocol::KemSecretKey, ikm: &[u8; 32]| {
        KeyShare::seal_scripted(key, &w.id, party, from, &third_kem, ikm).unwrap()
    };
    let visitor = share(&k_v, Party::Visitor, &w.case.kem, &ikm_vs);
    let office = share(&k_o, Party::Office, w.office.kem(), &ikm_os);
    let mut flipped = package.clone();
    flipped.ct[0] ^= 1;
    let other = seal(&HandoffId::from_bytes(fixtures::bytes16(
        "handoff/other-id",
    )))
    .unwrap();
    let mut swapped = visitor.clone();
    swapped.party = Party::Office;
    let impostor = share(&k_v, Party::Visitor, fixtures::impostor().kem(), &ikm_vs);
    let cases = [
        (
            Case::valid("the genuine package and shares"),
            &package,
            &visitor,
        ),
        (
            Case::invalid("a bit of the package flipped", "FlippedCiphertext"),
            &flipped,
            &visitor,
        ),
        (
            Case::invalid("the package of another handoff", "OtherHandoff"),
            &other,
            &visitor,
        ),
        (
            Case::invalid("the visitor's share labelled the office's", "SwappedParty"),
            &package,
            &swapped,
        ),
        (
            Case::invalid("the visitor's share from another key", "ImpostorSender"),
            &package,
            &impostor,
        ),
    ];
    let mut group = Group::new("HandoffPackageTest")
        .with("office", keys_of(&w.office))
        .with("thirdParty", keys_of(&w.third))
        .with("codename", fixtures::codename().words().as_str())
        .with("handoffId", b64(w.id.as_bytes()))
        .with("disclosure", json(&w.disclosure).as_str())
        .with("kV", hex(&k_v))
        .with("kO", hex(k_o.as_ref()))
        .with("ikmOffice", hex(&ikm_o))
        .with("ikmVisitorShare", hex(&ikm_vs))
        .with("ikmOfficeShare", hex(&ikm_os));
    for (test, p, v) in cases {
        let opened = open_package(w, p, v, &office);
        assert_eq!(opened.is_ok(), test.is_valid(), "{opened:?}");
        if let Ok(bytes) = &opened {
            assert_eq!(text(bytes), json(&w.disclosure));
        }
        group = group.case(
            test.with("package", json(p).as_str())
                .with("visitorShare", json(v).as_str())
                .with("officeShare", json(&office).as_str()),
        );
    }
    group
}

fn notices(w: &World) -> Group {
    let ikm = bytes32("handoff-package/ikm-notice");
    let seed = NoticeSeed::of_office(w.office.kem(), &w.id);
    let keys: (&KemPublicKey, &KemPublicKey) =
        (&w.case.kem.public_key(), &w.office.kem().public_key());
    let seal = |to: &KemPublicKey| Notice::seal_scripted(&w.id, &seed, keys, to, &ikm).unwrap();
    let notice = seal(&w.third.kem().public_key());
    let mut flipped = notice.clone();
    flipped.ct[0] ^= 1;
    let derived = seed.keys();
    let cases = [
        (Case::valid("the genuine notice"), notice),
        (
            Case::invalid("a bit of the notice flipped", "FlippedCiphertext"),
            flipped,
        ),
        (
            Case::invalid("a notice for another third party", "OtherThirdParty"),
            seal(&fixtures::impostor().kem().public_key()),
        ),
    ];
    let mut group = Group::new("HandoffNoticeTest")
        .with("office", keys_of(&w.office))
        .with("thirdParty", keys_of(&w.third))
        .with("codename", fixtures::codename().words().as_str())
        .with("handoffId", b64(w.id.as_bytes()))
        .with("ikmNotice", hex(&ikm))
        .with("fetchKey", hex(&derived.fetch.public_key().to_bytes()))
        .with("channelId", b64(derived.channel.as_bytes()))
        .with(
            "channelKey",
            hex(&derived.channel_key.public_key().to_bytes()),
        );
    for (test, n) in cases {
        let opened = n.open(w.third.kem());
        assert_eq!(opened.is_some(), test.is_valid());
        group = group.case(test.with("notice", json(&n).as_str()));
    }
    group
}
