//! Argon2id costs: what new keystores use, what a keystore read from a file may use, and the
//! test-only fast mode.
//!
//! A file carries its own parameters, and whoever wrote it chose them. Too high, and opening it
//! could take gigabytes or hours; too low, and its passphrase is cheap to guess offline, so a
//! bundle handed over by someone else could be a trap that leaks the keys re-sealed under it.
//! Both are refused. Parameters between the floor and the default open with a warning.

use std::ffi::OsStr;

use anyhow::{Result, bail};

/// Argon2id memory in KiB, passes and lanes (RFC 9106 §3.1: m, t, p).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cost {
    /// Memory, in KiB.
    pub m_kib: u32,
    /// Passes.
    pub t: u32,
    /// Lanes.
    pub p: u32,
}

/// New keystores: 64 MiB and three passes (RFC 9106 §4, the second recommended option, with
/// one lane).
pub const DEFAULT: Cost = Cost {
    m_kib: 64 * 1024,
    t: 3,
    p: 1,
};

/// The least a keystore may use: OWASP's minimum for Argon2id, 19 MiB and two passes.
pub const FLOOR: Cost = Cost {
    m_kib: 19 * 1024,
    t: 2,
    p: 1,
};

/// The most: so that a hostile bundle cannot make us allocate gigabytes or spin for hours.
const CEILING: Cost = Cost {
    m_kib: 1024 * 1024,
    t: 16,
    p: 8,
};

/// The test-only fast mode: cheap enough for end-to-end tests to create many keystores.
pub const FAST: Cost = Cost {
    m_kib: 64,
    t: 1,
    p: 1,
};

/// Set to `1` in a debug build, new keystores use [`FAST`] and opening accepts it. Release
/// builds ignore it, with a warning: there it would only make real keys easy to guess.
pub const FAST_KDF_ENV: &str = "CANDOR_TEST_FAST_KDF";

/// What `CANDOR_TEST_FAST_KDF` amounts to in this build.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FastMode {
    /// Not asked for.
    Off,
    /// Asked for, in a debug build: new keystores are cheap, and cheap ones open.
    On,
    /// Asked for, in a release build, which does not honour it.
    Ignored,
}

/// The fast mode for the variable's `value`, in a build with or without debug assertions.
pub fn fast_mode_for(value: Option<&OsStr>, debug_build: bool) -> FastMode {
    match (value.is_some_and(|v| v == "1"), debug_build) {
        (false, _) => FastMode::Off,
        (true, true) => FastMode::On,
        (true, false) => FastMode::Ignored,
    }
}

/// The fast mode of this process.
pub fn fast_mode() -> FastMode {
    fast_mode_for(
        std::env::var_os(FAST_KDF_ENV).as_deref(),
        cfg!(debug_assertions),
    )
}

/// How a keystore's parameters compare with ours.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strength {
    /// At least the default.
    Default,
    /// Between the floor and the default: it opens, with a warning.
    BelowDefault,
}

/// Judges parameters read from a file, with `floor` as the least accepted.
pub fn judge(cost: Cost, floor: Cost) -> Result<Strength> {
    if cost.m_kib > CEILING.m_kib || cost.t > CEILING.t || cost.p > CEILING.p {
        bail!(
            "this keystore uses key-derivation parameters this client refuses (more than \
             {} MiB, {} passes or {} lanes): it was not made by candor",
            CEILING.m_kib / 1024,
            CEILING.t,
            CEILING.p
        );
    }
    if cost.m_kib < floor.m_kib || cost.t < floor.t || cost.p < floor.p {
        bail!(
            "this keystore's key derivation is too cheap (Argon2id with {} KiB and {} passes; \
             this client refuses less than {} KiB and {} passes), so its passphrase would be \
             easy to guess. It was not made by a release build of candor: do not use it, and \
             ask whoever gave it to you for one that was",
            cost.m_kib,
            cost.t,
            floor.m_kib,
            floor.t
        );
    }
    if cost.m_kib < DEFAULT.m_kib || cost.t < DEFAULT.t {
        return Ok(Strength::BelowDefault);
    }
    Ok(Strength::Default)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_debug_build_honours_the_fast_mode() {
        let one = Some(OsStr::new("1"));
        assert_eq!(fast_mode_for(one, true), FastMode::On);
        assert_eq!(fast_mode_for(one, false), FastMode::Ignored);
        assert_eq!(fast_mode_for(Some(OsStr::new("yes")), true), FastMode::Off);
        assert_eq!(fast_mode_for(None, true), FastMode::Off);
    }

    #[test]
    fn costs_below_the_floor_or_above_the_ceiling_are_refused() {
        // Arrange
        let with = |m_kib, t, p| Cost { m_kib, t, p };

        // Act and assert
        assert_eq!(judge(DEFAULT, FLOOR).unwrap(), Strength::Default);
        assert_eq!(judge(FLOOR, FLOOR).unwrap(), Strength::BelowDefault);
        assert_eq!(
            judge(with(64 * 1024, 2, 1), FLOOR).unwrap(),
            Strength::BelowDefault
        );
        for cheap in [FAST, with(19 * 1024 - 1, 3, 1), with(64 * 1024, 1, 1)] {
            let err = judge(cheap, FLOOR).unwrap_err();
            assert!(err.to_string().contains("too cheap"), "{err}");
        }
        assert!(judge(FAST, FAST).is_ok());
        let err = judge(with(4_000_000, 3, 1), FLOOR).unwrap_err();
        assert!(err.to_string().contains("refuses"), "{err}");
    }
}
