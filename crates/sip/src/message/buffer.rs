//! The buffer of a parsed message, with the length of its prefix (the
//! header section) that is known to be UTF-8.
//!
//! Every header value is handed out as a `&str` cut from that prefix. The
//! prefix is validated once, when the buffer is made; reading a value then
//! costs two byte checks instead of a UTF-8 validation per access (which
//! was a tenth of the time of a parse with typed access to five headers).

use bytes::Bytes;

/// An immutable message buffer whose first `utf8_len` bytes are valid UTF-8.
///
/// The fields are private to this module so the invariant is established in
/// one place ([`Buffer::new`]) and cannot be broken: `Bytes` never changes
/// its contents, and `utf8_len` is only ever set from a successful
/// validation of that very prefix.
#[derive(Debug, Clone)]
pub(crate) struct Buffer {
    bytes: Bytes,
    utf8_len: usize,
}

impl Buffer {
    /// Validates `bytes[..head_len]` as UTF-8; gives the bytes back when it
    /// is not (or when `head_len` is past the end).
    pub(crate) fn new(bytes: Bytes, head_len: usize) -> Result<Buffer, Bytes> {
        match bytes.get(..head_len).map(std::str::from_utf8) {
            Some(Ok(_)) => Ok(Buffer {
                bytes,
                utf8_len: head_len,
            }),
            _ => Err(bytes),
        }
    }

    /// A buffer with no known-UTF-8 prefix: every [`Buffer::str_at`]
    /// outside it validates (and gives `""` for bytes that are not UTF-8).
    pub(crate) fn unvalidated(bytes: Bytes) -> Buffer {
        Buffer { bytes, utf8_len: 0 }
    }

    /// The whole buffer.
    pub(crate) fn bytes(&self) -> &Bytes {
        &self.bytes
    }

    /// The validated prefix.
    pub(crate) fn head(&self) -> &str {
        self.str_at(0, self.utf8_len)
    }

    /// `bytes[start..end]` as a `&str`: without a check when the range lies
    /// in the validated prefix and both ends are character boundaries,
    /// validated otherwise; `""` for a range out of bounds or not UTF-8.
    #[inline]
    pub(crate) fn str_at(&self, start: usize, end: usize) -> &str {
        let head = self.bytes.get(..self.utf8_len).unwrap_or(&[]);
        if is_boundary(head, start)
            && is_boundary(head, end)
            && let Some(part) = head.get(start..end)
        {
            // SAFETY: `head` is `self.bytes[..self.utf8_len]`, which
            // `Buffer::new` validated as UTF-8, and `Bytes` contents are
            // immutable, so `head` is still valid UTF-8. `part` is
            // `head[start..end]` (in bounds, or `get` gave `None`), and both
            // ends are character boundaries of `head` (its end, or a byte
            // that is not a UTF-8 continuation byte); a slice of valid UTF-8
            // between two character boundaries is valid UTF-8 (the same
            // check and reasoning as `str::get`).
            #[allow(unsafe_code)]
            return unsafe { std::str::from_utf8_unchecked(part) };
        }
        self.bytes
            .get(start..end)
            .and_then(|b| std::str::from_utf8(b).ok())
            .unwrap_or("")
    }
}

/// True when `i` is a character boundary of the valid UTF-8 `b`: its end,
/// or a byte that does not continue a multi-byte character (`10xxxxxx`).
#[inline]
fn is_boundary(b: &[u8], i: usize) -> bool {
    match b.get(i) {
        Some(&c) => (c as i8) >= -0x40,
        None => i == b.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validated_prefix_only() {
        let b = Buffer::new(Bytes::from_static(b"h\xc3\xa9llo\r\n\r\n\xff"), 10).unwrap();
        assert_eq!(b.head(), "héllo\r\n\r\n");
        assert_eq!(b.str_at(0, 6), "héllo");
        // Not on a character boundary: validated, and refused.
        assert_eq!(b.str_at(0, 2), "");
        assert_eq!(b.str_at(2, 6), "");
        // Past the prefix: validated (the body is not UTF-8 here).
        assert_eq!(b.str_at(10, 11), "");
        assert_eq!(b.str_at(8, 20), "", "out of bounds");
        assert_eq!(b.str_at(3, 1), "", "reversed");
        assert!(Buffer::new(Bytes::from_static(b"a\xffb"), 3).is_err());
        assert!(Buffer::new(Bytes::from_static(b"ab"), 3).is_err());
    }

    #[test]
    fn unvalidated_buffers_validate_every_read() {
        let b = Buffer::unvalidated(Bytes::from_static(b"ab\xff"));
        assert_eq!(b.head(), "");
        assert_eq!(b.str_at(0, 2), "ab");
        assert_eq!(b.str_at(0, 3), "");
    }
}
