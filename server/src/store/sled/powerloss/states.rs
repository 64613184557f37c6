//! The states a handoff goes through in the power-loss test, as opaque bodies: the relay's
//! record (`routes/handoffs/record.rs`) is consented, then agreed, then revoked or fetched
//! (or revoked straight from consented), each change one `update_package`.

use rand::RngExt;
use rand::rngs::StdRng;

/// A handoff's state, as the relay's record (`routes/handoffs/record.rs`) goes through them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum State {
    Consented,
    Agreed,
    Revoked,
    Fetched,
}

impl State {
    /// The states a change can lead to from this one.
    pub(super) fn next(self) -> &'static [State] {
        match self {
            State::Consented => &[State::Agreed, State::Revoked],
            State::Agreed => &[State::Revoked, State::Fetched],
            State::Revoked | State::Fetched => &[],
        }
    }

    /// An opaque body standing for the record in this state: random bytes behind the state's
    /// name, so that a body torn from two writes matches neither. A live record is large (the
    /// package and its shares), a tombstone small.
    pub(super) fn body(self, rng: &mut StdRng) -> Vec<u8> {
        let (name, len): (&[u8], usize) = match self {
            State::Consented => (b"consented", rng.random_range(1..3000)),
            State::Agreed => (b"agreed", rng.random_range(1..3000)),
            State::Revoked => (b"revoked", 40),
            State::Fetched => (b"fetched", 40),
        };
        let mut body = name.to_vec();
        body.extend((0..len).map(|_| rng.random::<u8>()));
        body
    }
}
