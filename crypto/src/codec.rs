//! The one canonical byte encoding used for everything urna hashes, signs or verifies.
//!
//! Big-endian integers and length-prefixed vectors in the style of the TLS presentation language
//! (RFC 8446 §3). Every decoder is strict: a value must consume exactly its bytes, and
//! [`Decode::from_bytes`] rejects trailing data. See `specs/crypto.md`, "Encoding".

use crate::errors::DecodeError;

/// A cursor over untrusted input. Every read is bounds-checked and returns a typed error.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    /// Whether proofs' commitment points are taken as encoded (see [`Reader::trusting_proofs`]).
    trusted_proofs: bool,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Reader {
            buf,
            pos: 0,
            trusted_proofs: false,
        }
    }

    /// A reader of bytes whose proofs this party verified itself before and will not verify
    /// again (a board replaying its own log up to a checkpoint it signed, `specs/board.md`
    /// §4.1.2): the commitment points of sigma proofs and the value commitments of range
    /// proofs are kept as their encodings, not decompressed — a ballot's proofs hold two thirds
    /// of its points. Such a proof does not verify (its points are not its commitments), so
    /// it must not be verified: everything else decodes exactly as with [`Reader::new`], and
    /// ciphertexts and keys are always decompressed and checked.
    pub fn trusting_proofs(buf: &'a [u8]) -> Self {
        Reader {
            trusted_proofs: true,
            ..Reader::new(buf)
        }
    }

    /// Whether this reader takes proofs' commitment points as encoded.
    pub fn trusts_proofs(&self) -> bool {
        self.trusted_proofs
    }

    /// Bytes not yet consumed.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Fails with [`DecodeError::TrailingBytes`] unless all input was consumed.
    pub fn finish(&self) -> Result<(), DecodeError> {
        match self.remaining() {
            0 => Ok(()),
            n => Err(DecodeError::TrailingBytes(n)),
        }
    }

    pub fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if self.remaining() < n {
            return Err(DecodeError::Truncated {
                needed: n,
                remaining: self.remaining(),
            });
        }
        let out = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    pub fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }

    pub fn u16(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    pub fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    pub fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    /// `opaque data<0..2^8-1>`
    pub fn bytes_u8(&mut self) -> Result<&'a [u8], DecodeError> {
        let n = self.u8()? as usize;
        self.take(n)
    }

    /// `opaque data<0..2^16-1>`
    pub fn bytes_u16(&mut self) -> Result<&'a [u8], DecodeError> {
        let n = self.u16()? as usize;
        self.take(n)
    }

    /// `opaque data<0..2^32-1>`
    pub fn bytes_u32(&mut self) -> Result<&'a [u8], DecodeError> {
        let n = self.u32()? as usize;
        self.take(n)
    }

    /// A UTF-8 string with a u16 byte-length prefix.
    pub fn string_u16(&mut self) -> Result<String, DecodeError> {
        let b = self.bytes_u16()?;
        String::from_utf8(b.to_vec()).map_err(|_| DecodeError::InvalidUtf8)
    }

    /// A vector with a u16 *element-count* prefix. Counts, not byte lengths, keep the encoding
    /// of fixed-size elements trivial for a second implementation.
    pub fn vec_u16<T: Decode>(&mut self) -> Result<Vec<T>, DecodeError> {
        let n = self.u16()? as usize;
        self.vec_of(n)
    }

    /// A vector with a u32 element-count prefix.
    pub fn vec_u32<T: Decode>(&mut self) -> Result<Vec<T>, DecodeError> {
        let n = self.u32()? as usize;
        self.vec_of(n)
    }

    /// Exactly `n` elements; the count is known from context.
    pub fn vec_of<T: Decode>(&mut self, n: usize) -> Result<Vec<T>, DecodeError> {
        // Never trust a count to size an allocation: every element takes at least one byte.
        if n > self.remaining() {
            return Err(DecodeError::Truncated {
                needed: n,
                remaining: self.remaining(),
            });
        }
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(T::decode(self)?);
        }
        Ok(out)
    }
}

/// Canonical encoding.
pub trait Encode {
    fn encode(&self, out: &mut Vec<u8>);

    fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(&mut out);
        out
    }
}

/// Strict decoding: the inverse of [`Encode`], rejecting every other byte string.
pub trait Decode: Sized {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError>;

    /// Decodes a whole buffer, rejecting trailing bytes.
    fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let v = Self::decode(&mut r)?;
        r.finish()?;
        Ok(v)
    }
}

/// Writing helpers matching the [`Reader`] methods.
pub trait Writer {
    fn put_u8(&mut self, v: u8);
    fn put_u16(&mut self, v: u16);
    fn put_u32(&mut self, v: u32);
    fn put_u64(&mut self, v: u64);
    /// Panics never: callers guarantee `b.len() < 2^8` by construction; the `Result` says so
    /// when input could violate it.
    fn put_bytes_u8(&mut self, b: &[u8]) -> Result<(), DecodeError>;
    fn put_bytes_u16(&mut self, b: &[u8]) -> Result<(), DecodeError>;
    fn put_bytes_u32(&mut self, b: &[u8]) -> Result<(), DecodeError>;
    fn put_vec_u16<T: Encode>(&mut self, v: &[T]) -> Result<(), DecodeError>;
    fn put_vec_u32<T: Encode>(&mut self, v: &[T]) -> Result<(), DecodeError>;
}

fn len_as<T: TryFrom<usize>>(n: usize, max: usize) -> Result<T, DecodeError> {
    T::try_from(n).map_err(|_| DecodeError::LengthOutOfRange { len: n, max })
}

impl Writer for Vec<u8> {
    fn put_u8(&mut self, v: u8) {
        self.push(v);
    }
    fn put_u16(&mut self, v: u16) {
        self.extend_from_slice(&v.to_be_bytes());
    }
    fn put_u32(&mut self, v: u32) {
        self.extend_from_slice(&v.to_be_bytes());
    }
    fn put_u64(&mut self, v: u64) {
        self.extend_from_slice(&v.to_be_bytes());
    }
    fn put_bytes_u8(&mut self, b: &[u8]) -> Result<(), DecodeError> {
        let n: u8 = len_as(b.len(), u8::MAX as usize)?;
        self.push(n);
        self.extend_from_slice(b);
        Ok(())
    }
    fn put_bytes_u16(&mut self, b: &[u8]) -> Result<(), DecodeError> {
        let n: u16 = len_as(b.len(), u16::MAX as usize)?;
        self.put_u16(n);
        self.extend_from_slice(b);
        Ok(())
    }
    fn put_bytes_u32(&mut self, b: &[u8]) -> Result<(), DecodeError> {
        let n: u32 = len_as(b.len(), u32::MAX as usize)?;
        self.put_u32(n);
        self.extend_from_slice(b);
        Ok(())
    }
    fn put_vec_u16<T: Encode>(&mut self, v: &[T]) -> Result<(), DecodeError> {
        let n: u16 = len_as(v.len(), u16::MAX as usize)?;
        self.put_u16(n);
        v.iter().for_each(|x| x.encode(self));
        Ok(())
    }
    fn put_vec_u32<T: Encode>(&mut self, v: &[T]) -> Result<(), DecodeError> {
        let n: u32 = len_as(v.len(), u32::MAX as usize)?;
        self.put_u32(n);
        v.iter().for_each(|x| x.encode(self));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_bounds_checked() {
        let mut r = Reader::new(&[0, 3, 1, 2]);
        assert!(matches!(r.bytes_u16(), Err(DecodeError::Truncated { .. })));
        let mut r = Reader::new(&[0, 2, 1, 2, 9]);
        assert_eq!(r.bytes_u16().ok(), Some(&[1u8, 2][..]));
        assert_eq!(r.finish(), Err(DecodeError::TrailingBytes(1)));
    }

    #[test]
    fn huge_counts_do_not_allocate() {
        let mut r = Reader::new(&[0xff, 0xff, 0xff, 0xff]);
        assert!(matches!(
            r.vec_u32::<crate::group::Point>(),
            Err(DecodeError::Truncated { .. })
        ));
    }

    #[test]
    fn oversized_lengths_are_errors() {
        let mut out = Vec::new();
        assert!(out.put_bytes_u8(&[0u8; 256]).is_err());
        assert!(out.put_bytes_u16(&vec![0u8; 65_536]).is_err());
        assert!(out.is_empty());
    }
}
