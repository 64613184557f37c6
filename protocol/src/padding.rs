//! Padmé padding (Nikitin et al., "Reducing Metadata Leakage from Encrypted Files and
//! Communication with PURBs", PETS 2019, §4) with a minimum bucket.
//!
//! A framed plaintext is `len (u32, big-endian) || content || zero bytes`, and its total length
//! is `padded_len(4 + len)`. Padmé leaks `O(log log L)` bits of the length and costs at most
//! 12% overhead; the 512-byte floor hides short messages entirely.

use crate::Error;

/// Every framed plaintext is at least this long.
pub const MIN_BUCKET: usize = 512;

/// The largest content length the frame can carry (the relay's limits are far lower).
pub const MAX_CONTENT: usize = 16 * 1024 * 1024;

/// Padmé: rounds `len` up so that only the top `floor(log2(E)) + 1` bits of its exponent `E`
/// are significant.
pub fn padme(len: usize) -> usize {
    if len < 2 {
        return len;
    }
    let e = usize::BITS - 1 - len.leading_zeros(); // floor(log2(len))
    let s = u32::BITS - e.leading_zeros(); // floor(log2(e)) + 1
    let last_bits = e - s;
    let mask = (1usize << last_bits) - 1;
    (len + mask) & !mask
}

/// The total framed length for `content_len` bytes of content.
pub fn padded_len(content_len: usize) -> usize {
    padme(4 + content_len).max(MIN_BUCKET)
}

/// Frames and pads `content`.
pub fn pad(content: &[u8]) -> Result<Vec<u8>, Error> {
    if content.len() > MAX_CONTENT {
        return Err(Error::malformed("message", "too large to send"));
    }
    let total = padded_len(content.len());
    let mut out = Vec::with_capacity(total);
    // MAX_CONTENT fits in a u32.
    out.extend_from_slice(&(content.len() as u32).to_be_bytes());
    out.extend_from_slice(content);
    out.resize(total, 0);
    Ok(out)
}

/// Removes the frame and checks that the padding is canonical: the right total length and all
/// zero bytes.
pub fn unpad(framed: &[u8]) -> Result<&[u8], Error> {
    let bad = || Error::malformed("padding", "not a canonical Padmé frame");
    let (len, rest) = framed.split_first_chunk::<4>().ok_or_else(bad)?;
    let len = u32::from_be_bytes(*len) as usize;
    if len > MAX_CONTENT || len > rest.len() || framed.len() != padded_len(len) {
        return Err(bad());
    }
    let (content, padding) = rest.split_at(len);
    if padding.iter().any(|&b| b != 0) {
        return Err(bad());
    }
    Ok(content)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn padme_matches_the_paper() {
        // Examples from the PURBs paper's table and direct computation.
        assert_eq!(padme(512), 512);
        assert_eq!(padme(513), 544);
        assert_eq!(padme(1000), 1024);
        assert_eq!(padme(1025), 1088);
        assert_eq!(padme(9), 10);
    }

    #[test]
    fn short_messages_share_the_minimum_bucket() {
        assert_eq!(pad(b"").unwrap().len(), MIN_BUCKET);
        assert_eq!(pad(&[1; 500]).unwrap().len(), MIN_BUCKET);
    }

    #[test]
    fn nonzero_padding_and_wrong_length_are_refused() {
        let mut p = pad(b"hello").unwrap();
        p[100] = 1;
        assert!(unpad(&p).is_err());
        let mut p = pad(b"hello").unwrap();
        p.push(0);
        assert!(unpad(&p).is_err());
        assert!(unpad(&[0, 0]).is_err());
    }

    proptest! {
        #[test]
        fn pad_round_trips(content in proptest::collection::vec(any::<u8>(), 0..5000)) {
            let p = pad(&content).unwrap();
            prop_assert!(p.len() >= content.len() + 4);
            prop_assert!(p.len() <= (content.len() + 4).max(MIN_BUCKET) * 112 / 100 + 1);
            prop_assert_eq!(unpad(&p).unwrap(), &content[..]);
        }
    }
}
