//! Schema-only types for the OpenAPI document (the `openapi` feature): the base64url forms the
//! wire uses for fixed-length bytes and IDs, each stated once with its exact pattern and
//! length, so that a body's field names one of them (`schema(value_type = …, inline)`) instead
//! of repeating the pattern. Nothing here is ever built or sent.

use std::borrow::Cow;

use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::{PartialSchema, ToSchema};

fn text(pattern: &str, min: usize, max: usize) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(pattern))
        .min_length(Some(min))
        .max_length(Some(max))
        .into()
}

/// Any base64url without padding: whole groups of four, then a final group of two or three
/// whose last character carries no stray bits.
const BASE64URL: &str =
    "^(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-][AQgw]|[A-Za-z0-9_-]{2}[AEIMQUYcgkosw048])?$";

macro_rules! string {
    ($(#[$doc:meta])* $name:ident, $pattern:expr, $min:literal, $max:literal) => {
        $(#[$doc])*
        pub struct $name;

        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                text($pattern, $min, $max)
            }
        }

        impl ToSchema for $name {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($name))
            }
        }
    };
}

string!(
    /// 16 bytes, base64url without padding: a mailbox, request, handoff or tally ID.
    Id16,
    "^[A-Za-z0-9_-]{21}[AQgw]$",
    22,
    22
);
string!(
    /// 32 bytes, base64url without padding: a public key, an `enc`, a commitment.
    Bytes32,
    "^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$",
    43,
    43
);
string!(
    /// 48 bytes, base64url without padding: a sealed 32-byte key (with its 16-byte tag).
    Bytes48,
    "^[A-Za-z0-9_-]{64}$",
    64,
    64
);
string!(
    /// 64 bytes, base64url without padding: an Ed25519 signature.
    Bytes64,
    "^[A-Za-z0-9_-]{85}[AQgw]$",
    86,
    86
);
string!(
    /// An office ID: 3 to 32 lowercase letters, digits and inner hyphens.
    OfficeName,
    "^[a-z0-9](?:[a-z0-9-]{1,30})[a-z0-9]$",
    3,
    32
);
string!(
    /// A sealed read marker: 1 to 256 bytes, base64url without padding.
    SealedMarker,
    BASE64URL,
    2,
    342
);
string!(
    /// A sealed tally: exactly 232 bytes, base64url without padding.
    SealedTally,
    "^[A-Za-z0-9_-]{309}[AQgw]$",
    310,
    310
);
