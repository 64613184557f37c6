//! Codename parsing: typos are errors, never panics; what parses displays canonically.
#![no_main]

use candor_protocol::Codename;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(codename) = text.parse::<Codename>() {
        let words = codename.words();
        let again: Codename = words.parse().expect("canonical words parse");
        assert_eq!(*again.words(), *words);
    }
});
