//! RFC 9180 known-answer tests for Candor's HPKE suite, run through the same functions the crate
//! seals with (`seal::setup_sender` / `seal::setup_receiver`), in base and auth modes, with the
//! exporter. The export-only vectors run through the same `hpke` calls with the export-only AEAD.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::convert::Infallible;

use candor_protocol::keys::{Kdf, Kem};
use candor_protocol::rand::{TryCryptoRng, TryRng};
use candor_protocol::seal::{setup_receiver, setup_sender};
use candor_protocol::{KemPublicKey, KemSecretKey};
use hpke::{Deserializable, Kem as _, OpModeR, OpModeS, Serializable};
use serde::Deserialize;

const VECTORS: &str = include_str!("data/rfc9180-x25519-sha256-chacha20poly1305.json");

#[derive(Deserialize)]
struct Vector {
    mode: u8,
    kem_id: u16,
    kdf_id: u16,
    aead_id: u16,
    info: String,
    #[serde(rename = "ikmR")]
    ikm_r: String,
    #[serde(rename = "ikmE")]
    ikm_e: String,
    #[serde(rename = "ikmS")]
    ikm_s: Option<String>,
    #[serde(rename = "pkRm")]
    pk_rm: String,
    #[serde(rename = "pkSm")]
    pk_sm: Option<String>,
    enc: String,
    encryptions: Option<Vec<Encryption>>,
    exports: Vec<Export>,
}

#[derive(Deserialize)]
struct Encryption {
    aad: String,
    ct: String,
    nonce: String,
    pt: String,
}

#[derive(Deserialize)]
struct Export {
    exporter_context: String,
    #[serde(rename = "L")]
    len: usize,
    exported_value: String,
}

fn h(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

/// An "RNG" that hands out the vector's `ikmE`, so that the ephemeral key is the vector's.
struct FixedIkm(Vec<u8>);

impl TryRng for FixedIkm {
    type Error = Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        unreachable!("HPKE only fills bytes")
    }
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        unreachable!("HPKE only fills bytes")
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        assert_eq!(dst.len(), self.0.len(), "ephemeral IKM length");
        dst.copy_from_slice(&self.0);
        Ok(())
    }
}
impl TryCryptoRng for FixedIkm {}

fn vectors() -> Vec<Vector> {
    let all: Vec<Vector> = serde_json::from_str(VECTORS).unwrap();
    assert!(all.iter().all(|v| v.kem_id == 0x20 && v.kdf_id == 1));
    all
}

fn sender_key(v: &Vector) -> Option<KemSecretKey> {
    v.ikm_s.as_deref().map(|ikm| {
        let sk = KemSecretKey::derive(&h(ikm));
        assert_eq!(
            sk.public_key().to_bytes().to_vec(),
            h(v.pk_sm.as_deref().unwrap())
        );
        sk
    })
}

#[test]
fn chacha20poly1305_vectors_seal_open_and_export() {
    let vs: Vec<Vector> = vectors().into_iter().filter(|v| v.aead_id == 3).collect();
    let modes: Vec<u8> = vs.iter().map(|v| v.mode).collect();
    assert_eq!(modes, [0, 2], "base and auth vectors");
    for v in vs {
        let recipient = KemSecretKey::derive(&h(&v.ikm_r));
        assert_eq!(recipient.public_key().to_bytes().to_vec(), h(&v.pk_rm));
        let sender = sender_key(&v);
        assert_eq!(sender.is_some(), v.mode == 2);

        let (enc, mut sctx) = setup_sender(
            sender.as_ref(),
            &recipient.public_key(),
            &h(&v.info),
            &mut FixedIkm(h(&v.ikm_e)),
        )
        .unwrap();
        assert_eq!(enc.to_vec(), h(&v.enc), "mode {} enc", v.mode);
        let sender_pk: Option<KemPublicKey> = sender.as_ref().map(KemSecretKey::public_key);
        let mut rctx = setup_receiver(&recipient, sender_pk.as_ref(), &enc, &h(&v.info)).unwrap();

        let encryptions = v.encryptions.as_ref().unwrap();
        assert_eq!(encryptions.len(), 257);
        for (seq, e) in encryptions.iter().enumerate() {
            assert_eq!(h(&e.nonce).len(), 12);
            let ct = sctx.seal(&h(&e.pt), &h(&e.aad)).unwrap();
            assert_eq!(ct, h(&e.ct), "mode {} seq {seq} ct", v.mode);
            let pt = rctx.open(&ct, &h(&e.aad)).unwrap();
            assert_eq!(pt, h(&e.pt), "mode {} seq {seq} pt", v.mode);
        }
        for x in &v.exports {
            let mut out = vec![0u8; x.len];
            sctx.export(&h(&x.exporter_context), &mut out).unwrap();
            assert_eq!(out, h(&x.exported_value));
            rctx.export(&h(&x.exporter_context), &mut out).unwrap();
            assert_eq!(out, h(&x.exported_value));
        }
    }
}

#[test]
fn tampered_vector_ciphertext_is_refused() {
    let v = vectors()
        .into_iter()
        .find(|v| v.aead_id == 3 && v.mode == 2)
        .unwrap();
    let recipient = KemSecretKey::derive(&h(&v.ikm_r));
    let sender = sender_key(&v).unwrap();
    let enc: [u8; 32] = h(&v.enc).try_into().unwrap();
    let e = &v.encryptions.as_ref().unwrap()[0];
    let mut ct = h(&e.ct);
    ct[0] ^= 0x80;
    let mut rctx =
        setup_receiver(&recipient, Some(&sender.public_key()), &enc, &h(&v.info)).unwrap();
    assert!(rctx.open(&ct, &h(&e.aad)).is_err());
    // The right ciphertext under the wrong claimed sender fails too.
    let mut wrong =
        setup_receiver(&recipient, Some(&recipient.public_key()), &enc, &h(&v.info)).unwrap();
    assert!(wrong.open(&h(&e.ct), &h(&e.aad)).is_err());
}

#[test]
fn export_only_vectors() {
    type ExportOnly = hpke::aead::ExportOnlyAead;
    let vs: Vec<Vector> = vectors()
        .into_iter()
        .filter(|v| v.aead_id == 0xffff)
        .collect();
    assert_eq!(vs.len(), 2);
    for v in vs {
        let (sk_r, pk_r) = Kem::derive_keypair(&h(&v.ikm_r));
        let sender = v.ikm_s.as_deref().map(|ikm| Kem::derive_keypair(&h(ikm)));
        let mode_s = match &sender {
            Some((sk, pk)) => OpModeS::Auth((sk.clone(), pk.clone())),
            None => OpModeS::Base,
        };
        let (enc, sctx) = hpke::setup_sender_with_rng::<ExportOnly, Kdf, Kem>(
            &mode_s,
            &pk_r,
            &h(&v.info),
            &mut FixedIkm(h(&v.ikm_e)),
        )
        .unwrap();
        assert_eq!(enc.to_bytes().to_vec(), h(&v.enc));
        let mode_r = match &sender {
            Some((_, pk)) => OpModeR::Auth(pk.clone()),
            None => OpModeR::Base,
        };
        let enc = <Kem as hpke::Kem>::EncappedKey::from_bytes(&h(&v.enc)).unwrap();
        let rctx = hpke::setup_receiver::<ExportOnly, Kdf, Kem>(&mode_r, &sk_r, &enc, &h(&v.info))
            .unwrap();
        for x in &v.exports {
            let mut out = vec![0u8; x.len];
            sctx.export(&h(&x.exporter_context), &mut out).unwrap();
            assert_eq!(out, h(&x.exported_value));
            rctx.export(&h(&x.exporter_context), &mut out).unwrap();
            assert_eq!(out, h(&x.exported_value));
        }
    }
}
