//! Every file of `docs/vectors/`, one module per object. The generator (`main.rs`) writes them;
//! `protocol/tests/vectors_fresh.rs` includes this module to check that the committed files are
//! what it writes. To cover another object, add a module with a `file()` and list it in
//! [`files`].

#[path = "address.rs"]
mod address;
#[path = "card.rs"]
mod card;
#[path = "codename.rs"]
mod codename;
#[path = "envelope.rs"]
mod envelope;
#[path = "fixtures.rs"]
mod fixtures;
#[path = "format.rs"]
mod format;
#[path = "handoff.rs"]
mod handoff;
#[path = "handoff_package.rs"]
mod handoff_package;
#[path = "pow.rs"]
mod pow;
#[path = "read_marker.rs"]
mod read_marker;
#[path = "request.rs"]
mod request;
#[path = "tally.rs"]
mod tally;

/// Each file's name and text.
pub fn files() -> Vec<(&'static str, String)> {
    [
        codename::file(),
        address::file(),
        card::file(),
        envelope::file(),
        request::file(),
        pow::file(),
        tally::file(),
        read_marker::file(),
        handoff::file(),
        handoff_package::file(),
    ]
    .iter()
    .map(|f| (f.name, f.render()))
    .collect()
}
