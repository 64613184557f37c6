//! Envelope decoding and opening: no input may panic; anything that decodes re-encodes to an
//! envelope that decodes to the same value, and opening with fixed keys fails cleanly.
#![no_main]

use candor_protocol::seal::{Opener, Role};
use candor_protocol::{Envelope, KemSecretKey, SigningSecretKey};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(env) = Envelope::from_json(data) else {
        return;
    };
    let again = Envelope::from_json(&env.to_json()).expect("re-encoded envelope decodes");
    assert_eq!(again, env);
    let recipient = KemSecretKey::from_bytes(&[7; 32]);
    let sender = KemSecretKey::from_bytes(&[9; 32]).public_key();
    let author = SigningSecretKey::from_seed(&[3; 32]).public_key();
    for role in [Role::Other, Role::Own] {
        let opener = Opener {
            recipient: &recipient,
            role,
            sender: sender.clone(),
            author,
        };
        let _ = opener.open(&env);
    }
});
