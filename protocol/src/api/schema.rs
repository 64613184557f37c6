//! Schema-only types for the OpenAPI document (the `openapi` feature): the base64url forms the
//! wire uses for fixed-length bytes and IDs, each stated once with its exact pattern and
//! length, so that a body's field names one of them (`schema(value_type = …, inline)`) instead
//! of repeating the pattern. Nothing here is ever built or sent.

use std::borrow::Cow;

use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::{PartialSchema, ToSchema};

fn text(pattern: &str, len: usize) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(pattern))
        .min_length(Some(len))
        .max_length(Some(len))
        .into()
}

macro_rules! fixed {
    ($(#[$doc:meta])* $name:ident, $pattern:literal, $len:literal) => {
        $(#[$doc])*
        pub struct $name;

        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                text($pattern, $len)
            }
        }

        impl ToSchema for $name {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($name))
            }
        }
    };
}

fixed!(
    /// 16 bytes, base64url without padding: a mailbox, request, handoff or tally ID.
    Id16,
    "^[A-Za-z0-9_-]{21}[AQgw]$",
    22
);
fixed!(
    /// 32 bytes, base64url without padding: a public key, an `enc`, a commitment.
    Bytes32,
    "^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$",
    43
);
fixed!(
    /// 64 bytes, base64url without padding: an Ed25519 signature.
    Bytes64,
    "^[A-Za-z0-9_-]{85}[AQgw]$",
    86
);
