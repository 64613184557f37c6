//! Criterion benchmarks for the protocol crate's hot paths. Run with
//! `cargo bench -p candor-protocol --bench crypto`; figures go in docs/benchmarks.md.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use candor_protocol::pow::{Challenge, PowKey};
use candor_protocol::seal::{Opener, Sealer};
use candor_protocol::{Codename, Direction, Identity, RequestAuth, Signer, SigningSecretKey};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use x25519_dalek::{PublicKey, StaticSecret};

/// The floor: the raw operations a two-stanza message needs. Each stanza's HPKE auth-mode seal
/// needs one fixed-base multiplication (the ephemeral key) and two variable-base
/// Diffie-Hellmans; opening one stanza needs two Diffie-Hellmans; the author signs once and the
/// reader verifies once.
fn x25519_floor(c: &mut Criterion) {
    let rng = &mut rand::rng();
    let a = StaticSecret::random_from_rng(&mut *rng);
    let b = PublicKey::from(&StaticSecret::random_from_rng(&mut *rng));
    c.bench_function("x25519/diffie_hellman", |bch| {
        bch.iter(|| black_box(a.diffie_hellman(black_box(&b))))
    });
    c.bench_function("x25519/base_point_mul", |bch| {
        bch.iter(|| black_box(PublicKey::from(black_box(&a))))
    });
    // The signature every message carries: signed once to seal, verified once to open, over a
    // 50-byte input (the body's hash and the header).
    let key = SigningSecretKey::generate(rng);
    let pk = key.public_key();
    let input = [7u8; 50];
    let sig = key.sign(b"candor/v2/message-signature", &input);
    c.bench_function("ed25519/sign", |bch| {
        bch.iter(|| black_box(key.sign(b"candor/v2/message-signature", black_box(&input))))
    });
    c.bench_function("ed25519/verify", |bch| {
        bch.iter(|| {
            pk.verify(b"candor/v2/message-signature", black_box(&input), &sig)
                .unwrap()
        })
    });
}

fn seal_open(c: &mut Criterion) {
    let rng = &mut rand::rng();
    let office = Identity::generate(rng);
    let case = Codename::generate(rng).derive(&office.fingerprint());
    let sealer = Sealer::visitor(&case, office.kem().public_key(), true);
    let opener = Opener::office(
        &office,
        case.kem.public_key(),
        case.signing.public_key(),
        Direction::ToOffice,
    )
    .unwrap();
    let mut group = c.benchmark_group("seal_open");
    for size in [1024usize, 64 * 1024] {
        let body = vec![0x42u8; size];
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_function(format!("{}KiB", size / 1024), |bch| {
            bch.iter(|| {
                let env = sealer.seal(&body, &mut rand::rng()).unwrap();
                black_box(opener.open(&env).unwrap())
            })
        });
    }
    group.finish();
}

fn requests(c: &mut Criterion) {
    let key = SigningSecretKey::generate(&mut rand::rng());
    let pk = key.public_key();
    let body = vec![0u8; 4096];
    let path = "/v1/mailboxes/AAAAAAAAAAAAAAAAAAAAAA/envelopes";
    let now = 1_800_000_000;
    c.bench_function("request/sign", |bch| {
        bch.iter(|| {
            black_box(RequestAuth::sign(
                &key,
                Signer::Case,
                "POST",
                path,
                &body,
                now,
                &mut rand::rng(),
            ))
        })
    });
    let auth = RequestAuth::sign(
        &key,
        Signer::Case,
        "POST",
        path,
        &body,
        now,
        &mut rand::rng(),
    );
    c.bench_function("request/verify", |bch| {
        bch.iter(|| {
            auth.verify(&pk, "POST", path, black_box(&body), now, 120)
                .unwrap()
        })
    });
}

fn codename(c: &mut Criterion) {
    let office = Identity::generate(&mut rand::rng()).fingerprint();
    let words = Codename::generate(&mut rand::rng()).words();
    c.bench_function("codename/parse_and_derive", |bch| {
        bch.iter(|| {
            let codename: Codename = black_box(words.as_str()).parse().unwrap();
            black_box(codename.derive(&office))
        })
    });
}

fn pow(c: &mut Criterion) {
    let key = PowKey::generate(&mut rand::rng());
    let mut group = c.benchmark_group("pow");
    group.sample_size(20);
    group.bench_function("solve_d20", |bch| {
        bch.iter_batched(
            || Challenge::issue(&key, 20, 1_800_000_000, 600, &mut rand::rng()),
            |challenge| black_box(challenge.solve(b"0123456789abcdef")),
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group!(benches, x25519_floor, seal_open, requests, codename, pow);
criterion_main!(benches);
