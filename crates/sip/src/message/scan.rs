//! The index pass over a message's header section: one walk that finds the
//! start line, cuts every header line into a name and a value span, resolves
//! the name, and notes where each known header first appears.
//!
//! Nothing here interprets a value: the spans point into the received
//! buffer, and the typed headers parse them on demand. The pass is linear:
//! each byte is read once by the line search (memchr) and at most once more
//! by the name scan or a trim.

use crate::error::ParseError;
use crate::header::HeaderName;
use crate::parse::is_token;

use super::headers::{Entry, FirstIndex, KNOWN_NAMES, NO_INDEX, Span};

/// Most header lines a message may have; more is a 413, not a slow parse.
pub(crate) const MAX_HEADERS: usize = 1024;

// First-index entries are u16 and must hold every header index.
const _: () = assert!(MAX_HEADERS < NO_INDEX as usize);

/// What the index pass found.
#[derive(Debug)]
pub(crate) struct Head {
    /// The start line, without its line break.
    pub(crate) start_line: Span,
    /// Every header line, in order.
    pub(crate) entries: Vec<Entry>,
    /// Index in `entries` of the first line of each known header.
    pub(crate) first: FirstIndex,
    /// Where the body starts: just after the empty line.
    pub(crate) body_start: usize,
    /// True when a value spans folded lines (the buffer then needs its
    /// line breaks inside values replaced before values are read).
    pub(crate) folded: bool,
}

/// `(line start, line end without CR, next line start)` of the line at `pos`.
#[inline]
fn line(b: &[u8], pos: usize) -> Option<(usize, usize, usize)> {
    let nl = pos + memchr::memchr(b'\n', b.get(pos..)?)?;
    let end = if nl > pos && b.get(nl - 1) == Some(&b'\r') {
        nl - 1
    } else {
        nl
    };
    Some((pos, end, nl + 1))
}

#[inline]
fn is_lws(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// Trims SP/HTAB from both ends of `b[s..e]`.
#[inline]
fn trim_span(b: &[u8], mut s: usize, mut e: usize) -> (usize, usize) {
    while s < e && b.get(s).copied().is_some_and(is_lws) {
        s += 1;
    }
    while e > s && b.get(e - 1).copied().is_some_and(is_lws) {
        e -= 1;
    }
    (s, e)
}

/// Headers that may appear at most once (RFC 3261 §7.3.1, RFC 4475 §3.3.8/9).
#[inline]
fn is_singleton(n: HeaderName) -> bool {
    matches!(
        n,
        HeaderName::From
            | HeaderName::To
            | HeaderName::CallId
            | HeaderName::CSeq
            | HeaderName::MaxForwards
            | HeaderName::ContentLength
    )
}

/// The first `:` among the eight bytes at `at`, as an offset from `at`.
///
/// SWAR: `x` has a zero byte where the input has `:`; `(x - 0x01..) & !x`
/// sets the top bit of each zero byte, and of no byte below the first zero
/// (borrows only run upwards), so the lowest set bit is exact.
#[inline]
fn colon_in_word(b: &[u8], at: usize) -> Option<usize> {
    let w = u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?);
    let x = w ^ 0x3a3a_3a3a_3a3a_3a3a;
    let m = x.wrapping_sub(0x0101_0101_0101_0101) & !x & 0x8080_8080_8080_8080;
    (m != 0).then(|| (m.trailing_zeros() / 8) as usize)
}

/// The fast path for a line starting with a known name written right
/// before its colon (`Via:`, `f:`, `Content-Length:`): finds the first `:`
/// a word at a time and resolves the bytes before it. A known name is made
/// of token characters, so it needs no separate check. Returns
/// `(name, name end, colon position)`, or `None` (white space before the
/// colon, an unknown name, no colon in the first 24 bytes, a line too near
/// the end of the buffer) for [`general_name`] to decide.
#[inline]
fn known_name(b: &[u8], ls: usize, le: usize) -> Option<(HeaderName, usize, usize)> {
    let mut at = ls;
    let colon = loop {
        if let Some(off) = colon_in_word(b, at) {
            break at + off;
        }
        at += 8;
        if at >= ls + 24 {
            return None;
        }
    };
    if colon >= le || colon == ls {
        return None;
    }
    let name = HeaderName::from_bytes(b.get(ls..colon)?);
    (name != HeaderName::Other).then_some((name, colon, colon))
}

/// The general header-name rule: token characters, optional white space,
/// then the colon (RFC 3261 §7.3.1 allows LWS before it). Returns
/// `(name, name end, colon position)`.
fn general_name(b: &[u8], ls: usize, le: usize) -> Result<(HeaderName, usize, usize), ParseError> {
    let mut i = ls;
    while i < le && b.get(i).copied().is_some_and(is_token) {
        i += 1;
    }
    let ne = i;
    while i < le && b.get(i).copied().is_some_and(is_lws) {
        i += 1;
    }
    if ne == ls || i >= le || b.get(i) != Some(&b':') {
        return Err(ParseError::BadHeaderLine);
    }
    let name = HeaderName::from_bytes(b.get(ls..ne).unwrap_or(&[]));
    Ok((name, ne, i))
}

/// Indexes the header section of `b` (the whole received buffer).
///
/// Errors, in the order the lines are met: [`ParseError::Empty`] for
/// nothing but line breaks, [`ParseError::Unterminated`] without an empty
/// line, [`ParseError::BadHeaderLine`] for a line that is not
/// `token LWS? ":" value` (or a continuation line before any header),
/// [`ParseError::TooLarge`] beyond [`MAX_HEADERS`] lines, and
/// [`ParseError::DuplicateHeader`] for a second single-value header.
pub(crate) fn scan(b: &[u8]) -> Result<Head, ParseError> {
    // RFC 3261 §7.5: ignore CRLFs before the start line.
    let start = b
        .iter()
        .position(|&c| c != b'\r' && c != b'\n')
        .ok_or(ParseError::Empty)?;
    let (sl_s, sl_e, mut pos) = line(b, start).ok_or(ParseError::Unterminated)?;
    let mut entries: Vec<Entry> = Vec::with_capacity(16);
    let mut first: FirstIndex = [NO_INDEX; KNOWN_NAMES];
    let mut folded = false;
    let body_start = loop {
        let (ls, le, next) = line(b, pos).ok_or(ParseError::Unterminated)?;
        pos = next;
        if ls == le {
            break pos;
        }
        if b.get(ls).copied().is_some_and(is_lws) {
            // Folded continuation line (RFC 3261 §7.3.1).
            let last = entries.last_mut().ok_or(ParseError::BadHeaderLine)?;
            let (cs, ce) = trim_span(b, ls, le);
            if cs < ce {
                if last.value.len() == 0 {
                    last.value.start = cs as u32;
                } else {
                    folded = true;
                }
                last.value.end = ce as u32;
            }
            continue;
        }
        let (name, ne, colon) = match known_name(b, ls, le) {
            Some(found) => found,
            None => general_name(b, ls, le)?,
        };
        let (vs, ve) = trim_span(b, colon + 1, le);
        if entries.len() >= MAX_HEADERS {
            return Err(ParseError::TooLarge);
        }
        if let Some(slot) = first.get_mut(name as usize) {
            if *slot == NO_INDEX {
                *slot = entries.len() as u16;
            } else if is_singleton(name) {
                return Err(ParseError::DuplicateHeader(name.as_str()));
            }
        }
        entries.push(Entry {
            name,
            name_span: Span::new(ls, ne),
            value: Span::new(vs, ve),
        });
    };
    Ok(Head {
        start_line: Span::new(sl_s, sl_e),
        entries,
        first,
        body_start,
        folded,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(h: &Head, b: &[u8]) -> Vec<(String, String)> {
        let s = |sp: Span| String::from_utf8_lossy(&b[sp.range()]).into_owned();
        h.entries
            .iter()
            .map(|e| (s(e.name_span), s(e.value)))
            .collect()
    }

    #[test]
    fn lines_names_and_values() {
        let b = b"\r\n\r\nINVITE sip:a@b SIP/2.0\r\nVia : SIP/2.0/UDP h\r\nf:x\r\nX-A:\t v \t\r\nEmpty:\r\n\r\nbody";
        let h = scan(b).unwrap();
        assert_eq!(&b[h.start_line.range()], b"INVITE sip:a@b SIP/2.0");
        assert_eq!(
            names(&h, b),
            [
                ("Via".into(), "SIP/2.0/UDP h".into()),
                ("f".into(), "x".into()),
                ("X-A".into(), "v".into()),
                ("Empty".into(), String::new()),
            ]
        );
        assert_eq!(&b[h.body_start..], b"body");
        assert!(!h.folded);
        assert_eq!(h.first[HeaderName::Via as usize], 0);
        assert_eq!(h.first[HeaderName::From as usize], 1, "compact form");
        assert_eq!(h.first[HeaderName::To as usize], NO_INDEX);
    }

    #[test]
    fn first_index_is_the_first_line() {
        let b = b"SIP/2.0 200 OK\nv: a\nVia: b\nContact: c\nm: d\n\n";
        let h = scan(b).unwrap();
        assert_eq!(h.first[HeaderName::Via as usize], 0);
        assert_eq!(h.first[HeaderName::Contact as usize], 2);
        assert_eq!(h.entries.len(), 4);
    }

    #[test]
    fn folded_values_rfc3261_7_3_1() {
        let b = b"OPTIONS sip:a@b SIP/2.0\r\nSubject: one\r\n  two\r\nEmpty:\r\n\tlater\r\n\r\n";
        let h = scan(b).unwrap();
        assert!(h.folded);
        // The value spans both lines; the line break is still in the buffer.
        assert_eq!(&b[h.entries[0].value.range()], b"one\r\n  two");
        // A value that starts on the continuation line is not folded.
        assert_eq!(&b[h.entries[1].value.range()], b"later");
    }

    #[test]
    fn colons_and_quotes_in_values_are_not_structure() {
        let b = b"MESSAGE sip:[2001:db8::1]:5060 SIP/2.0\r\nFrom: \"a\\\":b\" <sip:[::1]:5060>;tag=x:y\r\n\r\n";
        let h = scan(b).unwrap();
        assert_eq!(
            names(&h, b),
            [("From".into(), "\"a\\\":b\" <sip:[::1]:5060>;tag=x:y".into())]
        );
    }

    #[test]
    fn bad_lines() {
        for (b, err) in [
            (&b"\r\n\r\n"[..], ParseError::Empty),
            (b"", ParseError::Empty),
            (b"OPTIONS sip:a@b SIP/2.0", ParseError::Unterminated),
            (
                b"OPTIONS sip:a@b SIP/2.0\r\nVia: x\r\n",
                ParseError::Unterminated,
            ),
            (
                b"OPTIONS sip:a@b SIP/2.0\r\n x\r\n\r\n",
                ParseError::BadHeaderLine,
            ),
            (
                b"OPTIONS sip:a@b SIP/2.0\r\nVia x\r\n\r\n",
                ParseError::BadHeaderLine,
            ),
            (
                b"OPTIONS sip:a@b SIP/2.0\r\n: x\r\n\r\n",
                ParseError::BadHeaderLine,
            ),
            (
                b"OPTIONS sip:a@b SIP/2.0\r\nV(a): x\r\n\r\n",
                ParseError::BadHeaderLine,
            ),
            (
                b"OPTIONS sip:a@b SIP/2.0\r\nVia \r\n\r\n",
                ParseError::BadHeaderLine,
            ),
            (
                b"OPTIONS sip:a@b SIP/2.0\r\nTo: a\r\nt: b\r\n\r\n",
                ParseError::DuplicateHeader("To"),
            ),
        ] {
            assert_eq!(
                scan(b).unwrap_err(),
                err,
                "{:?}",
                String::from_utf8_lossy(b)
            );
        }
        // Repeated list headers are fine.
        assert!(scan(b"OPTIONS sip:a@b SIP/2.0\r\nVia: a\r\nv: b\r\n\r\n").is_ok());
    }

    #[test]
    fn colon_found_a_word_at_a_time() {
        assert_eq!(colon_in_word(b"Via: SIP", 0), Some(3));
        assert_eq!(colon_in_word(b":::::::::", 1), Some(0));
        assert_eq!(colon_in_word(b"abcdefg:", 0), Some(7));
        assert_eq!(colon_in_word(b"abcdefgh:", 0), None);
        // Bytes one off from ':' in the low bits are not colons.
        assert_eq!(
            colon_in_word(b"\x3b\x39\x3a\x00\x00\x00\x00\x00", 0),
            Some(2)
        );
        assert_eq!(
            colon_in_word(b"\xba\x3a\x3a\xff\x00\x00\x00\x00", 0),
            Some(1)
        );
        assert_eq!(colon_in_word(b"short:", 0), None, "fewer than eight bytes");
    }

    #[test]
    fn fast_and_general_name_paths_agree() {
        // Each line once with the name found a word at a time and once
        // through the general rule; both must give the same entry.
        for line in [
            &b"Via: x"[..],
            b"v: x",
            b"VIA:x",
            b"Content-Length: 0",
            b"P-Preferred-Identity: <sip:a@b>",
            b"Proxy-Authorization: Digest a=b",
            b"X-Unknown-Header-Name-Longer-Than-24: y",
            b"Via : x",
            b"Via\t: x",
            b"Call-ID:a:b",
        ] {
            let mut b = line.to_vec();
            b.extend_from_slice(b"\r\n\r\n0123456789012345678901234");
            let le = line.len();
            let general = general_name(&b, 0, le).unwrap();
            if let Some(fast) = known_name(&b, 0, le) {
                assert_eq!(fast, general, "{:?}", String::from_utf8_lossy(line));
            } else {
                assert!(
                    general.0 == HeaderName::Other || general.1 != general.2,
                    "{:?}",
                    String::from_utf8_lossy(line)
                );
            }
        }
        // Near the end of the buffer the fast path steps aside.
        assert_eq!(known_name(b"To:x", 0, 4), None);
        assert_eq!(general_name(b"To:x", 0, 4).unwrap(), (HeaderName::To, 2, 2));
    }

    #[test]
    fn header_count_is_bounded() {
        let mut b = b"OPTIONS sip:a@b SIP/2.0\r\n".to_vec();
        for _ in 0..MAX_HEADERS {
            b.extend_from_slice(b"X: y\r\n");
        }
        b.extend_from_slice(b"\r\n");
        assert_eq!(scan(&b).unwrap().entries.len(), MAX_HEADERS);
        let at = b.len() - 2;
        b.splice(at..at, b"X: y\r\n".iter().copied());
        assert_eq!(scan(&b).unwrap_err(), ParseError::TooLarge);
    }
}
