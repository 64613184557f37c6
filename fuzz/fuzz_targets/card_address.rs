//! Office card, third-party card and office address parsing.
#![no_main]

use candor_protocol::{OfficeAddress, SignedCard};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(card) = SignedCard::from_json(data) {
        if let Ok(office) = card.verify_office() {
            let address = office.address().expect("a verified card has an address");
            // On its last valid day, a card that verifies also verifies at its address.
            let last_day = u64::from(office.expires.0) * 86_400;
            assert!(card.verify_office_at(&address, last_day).is_ok());
        }
        let _ = card.verify_third_party();
    }
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(address) = text.parse::<OfficeAddress>()
    {
        let again: OfficeAddress = address.to_string().parse().expect("display parses");
        assert_eq!(again, address);
    }
});
