//! Candor's wire types and end-to-end cryptography.
//!
//! This crate is pure: no I/O, no clock (callers pass `now` as Unix seconds), no global state,
//! and it builds for `wasm32-unknown-unknown`. The relay and the CLI both depend on it.
//!
//! The map:
//! - [`keys`]: identities, public keys and fingerprints;
//! - [`codename`]: the visitor's 12 words and the case keys derived from them;
//! - [`card`] and [`address`]: the signed office card and the address that pins it;
//! - [`limits`]: every field rule of cards and messages, in one table;
//! - [`seal`], [`padding`], [`envelope`] and [`message`]: signed messages, sealed once and
//!   wrapped to two recipients;
//! - [`request`]: signed relay requests;
//! - [`pow`]: the proof of work for opening a mailbox;
//! - [`marker`]: the office's sealed read marker of a case;
//! - [`handoff`]: the 2-of-2 handoff objects;
//! - [`tally`]: the anonymous tally a closed case leaves, sealed under the records key.
//!
//! ```
//! use candor_protocol::seal::{Opener, Sealer};
//! use candor_protocol::{Codename, Day, Identity, Message};
//!
//! let rng = &mut rand::rng();
//! let office = Identity::generate(rng);
//! let codename = Codename::generate(rng);
//! let case = codename.derive(&office.fingerprint());
//!
//! // The visitor writes, keeping a copy that the codename reopens.
//! let msg = Message::text("The lab schedule keeps excluding me.", Day(20_780));
//! let sealer = Sealer::visitor(&case, office.kem().public_key(), true);
//! let envelope = msg.seal(&sealer, rng).unwrap();
//!
//! // The office opens it, and checks that the case key signed it.
//! let (case_kem, case_signing) = (case.kem.public_key(), case.signing.public_key());
//! let at_office = Opener::office(&office, case_kem, case_signing, envelope.direction).unwrap();
//! let opened = Message::open(&at_office, &envelope).unwrap();
//! assert_eq!(opened.text, "The lab schedule keeps excluding me.");
//! ```

pub mod address;
pub mod api;
pub mod card;
pub mod codename;
mod day;
pub mod encoding;
pub mod envelope;
mod error;
pub mod handoff;
mod ids;
pub mod keys;
pub mod labels;
pub mod limits;
pub mod marker;
pub mod message;
pub mod note;
pub mod padding;
pub mod pow;
pub mod request;
pub mod seal;
pub mod tally;

pub use address::{OfficeAddress, RelayUrl};
pub use card::{
    CaseCategories, Category, Choice, Constituency, ItemId, OfficeCard, Outcome, Policy, Resource,
    SignedCard, ThirdPartyCard,
};
pub use codename::{CaseKeys, Codename};
pub use day::Day;
pub use envelope::{Direction, Envelope};
pub use error::{CodenameTypo, Error, PowError};
pub use ids::{HandoffId, MailboxId, OfficeId, RequestId, TallyId};
pub use keys::{
    Fingerprint, Identity, KemPublicKey, KemSecretKey, SigningPublicKey, SigningSecretKey,
};
pub use message::Message;
pub use request::{RequestAuth, Signer};
pub use tally::{Quarter, RecordsKey, Tally};

/// Re-exported so callers can name the RNG traits this crate takes.
pub use rand;

#[cfg(test)]
mod tests {
    use core::fmt::{Debug, Display};

    use static_assertions::assert_not_impl_any;

    use super::*;

    // Secrets never print: no `Debug`, no `Display`.
    assert_not_impl_any!(Identity: Debug, Display);
    assert_not_impl_any!(KemSecretKey: Debug, Display);
    assert_not_impl_any!(SigningSecretKey: Debug, Display);
    assert_not_impl_any!(Codename: Debug, Display);
    assert_not_impl_any!(CaseKeys: Debug, Display);
    assert_not_impl_any!(Message: Debug, Display);
    assert_not_impl_any!(pow::PowKey: Debug, Display);
    assert_not_impl_any!(tally::RecordsKey: Debug, Display);

    #[test]
    fn secret_types_zeroize_on_drop() {
        fn zeroizes_on_drop<T: zeroize::ZeroizeOnDrop>() {}
        // The inner key types clear themselves; our wrappers only compose them.
        zeroizes_on_drop::<ed25519_dalek::SigningKey>();
        zeroizes_on_drop::<x25519_dalek::StaticSecret>();
        zeroizes_on_drop::<pow::PowKey>();
        zeroizes_on_drop::<zeroize::Zeroizing<[u8; 16]>>();
    }
}
