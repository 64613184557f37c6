//! Proof-of-work challenge decoding and solution verification: forged challenges never verify.
#![no_main]

use candor_protocol::pow::{PowKey, Solution};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(solution) = serde_json::from_slice::<Solution>(data) else {
        return;
    };
    let key = PowKey::from_bytes([8; 32]);
    // The fuzzer does not know the key, so no challenge it writes was issued by it.
    assert!(solution.verify(&key, b"mailbox", 0, 0).is_err());
});
