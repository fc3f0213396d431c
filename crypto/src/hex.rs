//! Lowercase hexadecimal, as used by the JSON views and test vectors.

use crate::errors::DecodeError;

pub fn encode(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

fn nibble(c: u8) -> Result<u8, DecodeError> {
    match c {
        b'0'..=b'9' => Ok(c - b'0'),
        b'a'..=b'f' => Ok(c - b'a' + 10),
        _ => Err(DecodeError::Invalid("not lowercase hexadecimal")),
    }
}

/// Strict: lowercase only, even length.
pub fn decode(s: &str) -> Result<Vec<u8>, DecodeError> {
    let b = s.as_bytes();
    if b.len() % 2 != 0 {
        return Err(DecodeError::Invalid("odd-length hexadecimal"));
    }
    b.chunks_exact(2)
        .map(|p| Ok((nibble(p[0])? << 4) | nibble(p[1])?))
        .collect()
}

pub fn decode_array<const N: usize>(s: &str) -> Result<[u8; N], DecodeError> {
    let v = decode(s)?;
    v.as_slice()
        .try_into()
        .map_err(|_| DecodeError::WrongLength {
            expected: N,
            got: v.len(),
        })
}

#[cfg(test)]
mod tests {
    #[test]
    fn round_trip_and_strictness() {
        assert_eq!(super::encode(&[0, 0xab, 0xff]), "00abff");
        assert_eq!(super::decode("00abff").ok(), Some(vec![0, 0xab, 0xff]));
        assert!(super::decode("00ABFF").is_err());
        assert!(super::decode("0").is_err());
        assert!(super::decode_array::<2>("00").is_err());
    }
}
