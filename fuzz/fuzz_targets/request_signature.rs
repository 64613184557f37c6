//! Request-signature parsing and verification from arbitrary headers and request parts.
#![no_main]

use candor_protocol::request::HEADERS;
use candor_protocol::{RequestAuth, SigningSecretKey};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let parts: Vec<&str> = text.splitn(7, '\n').collect();
    if parts.len() < 7 {
        return;
    }
    let get = |name: &str| HEADERS.iter().position(|h| *h == name).map(|i| parts[i]);
    let Ok(auth) = RequestAuth::from_headers(get) else {
        return;
    };
    let key = SigningSecretKey::from_seed(&[3; 32]).public_key();
    let (method, path, body) = (parts[4], parts[5], parts[6].as_bytes());
    // A forged signature must never verify under a key the input did not control.
    assert!(
        auth.verify(&key, method, path, body, auth.timestamp, 120)
            .is_err()
    );
});
