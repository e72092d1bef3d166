//! The scanner shared by every grammar in the crate: character classes of
//! RFC 3261 §25.1, a byte cursor, top-level list splitting and parameter lists.
//!
//! Everything here is linear in its input: each byte is looked at a bounded
//! number of times, so no input can make the parser quadratic.

mod params;

pub use params::Params;
pub(crate) use params::{parse_params, parse_params_finding};

use std::borrow::Cow;

const TOKEN: u8 = 1;
const UNRESERVED: u8 = 2;
const USER: u8 = 4;
const PASSWORD: u8 = 8;
const PARAM: u8 = 16;
const HNV: u8 = 32;
const WORD: u8 = 64;
const LABEL: u8 = 128;

const fn class_table() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let c = i as u8;
        let alnum = c.is_ascii_alphanumeric();
        let mark = matches!(
            c,
            b'-' | b'_' | b'.' | b'!' | b'~' | b'*' | b'\'' | b'(' | b')'
        );
        let mut v = 0;
        if alnum
            || matches!(
                c,
                b'-' | b'.' | b'!' | b'%' | b'*' | b'_' | b'+' | b'`' | b'\'' | b'~'
            )
        {
            v |= TOKEN;
        }
        if alnum || mark {
            v |= UNRESERVED | USER | PASSWORD | PARAM | HNV;
        }
        if matches!(c, b'&' | b'=' | b'+' | b'$' | b',' | b';' | b'?' | b'/') {
            v |= USER;
        }
        if matches!(c, b'&' | b'=' | b'+' | b'$' | b',') {
            v |= PASSWORD;
        }
        if matches!(c, b'[' | b']' | b'/' | b':' | b'&' | b'+' | b'$') {
            v |= PARAM;
        }
        if matches!(c, b'[' | b']' | b'/' | b'?' | b':' | b'+' | b'$') {
            v |= HNV;
        }
        if alnum
            || matches!(
                c,
                b'-' | b'.'
                    | b'!'
                    | b'%'
                    | b'*'
                    | b'_'
                    | b'+'
                    | b'`'
                    | b'\''
                    | b'~'
                    | b'('
                    | b')'
                    | b'<'
                    | b'>'
                    | b':'
                    | b'\\'
                    | b'"'
                    | b'/'
                    | b'['
                    | b']'
                    | b'?'
                    | b'{'
                    | b'}'
            )
        {
            v |= WORD;
        }
        if alnum || c == b'-' {
            v |= LABEL;
        }
        t[i] = v;
        i += 1;
    }
    t
}

static CLASS: [u8; 256] = class_table();

/// `token` character (RFC 3261 §25.1).
#[inline]
pub(crate) fn is_token(b: u8) -> bool {
    CLASS[b as usize] & TOKEN != 0
}

/// A non-empty string of `token` characters.
pub(crate) fn is_token_str(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_token)
}

/// `word` character, the alphabet of Call-ID (RFC 3261 §25.1).
#[inline]
pub(crate) fn is_word(b: u8) -> bool {
    CLASS[b as usize] & WORD != 0
}

/// Alphanumeric or `-`: a domain label character.
#[inline]
pub(crate) fn is_label_char(b: u8) -> bool {
    CLASS[b as usize] & LABEL != 0
}

/// End of the run of domain-label characters (alphanumeric or `-`) that
/// starts at `i`: four bytes a step while all four qualify, then byte by
/// byte (labels are mostly 3-10 bytes, so the step halves the work).
#[inline]
pub(crate) fn label_run(b: &[u8], mut i: usize) -> usize {
    while let Some(&[c0, c1, c2, c3]) = b.get(i..i + 4) {
        let all = CLASS[usize::from(c0)]
            & CLASS[usize::from(c1)]
            & CLASS[usize::from(c2)]
            & CLASS[usize::from(c3)];
        if all & LABEL == 0 {
            break;
        }
        i += 4;
    }
    while b.get(i).copied().is_some_and(is_label_char) {
        i += 1;
    }
    i
}

/// True when every byte of `s` is in `class`, allowing `%HH` escapes.
fn all_escaped(b: &[u8], class: u8) -> bool {
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'%' {
            match (b.get(i + 1), b.get(i + 2)) {
                (Some(h), Some(l)) if h.is_ascii_hexdigit() && l.is_ascii_hexdigit() => i += 3,
                _ => return false,
            }
        } else if CLASS[c as usize] & class != 0 {
            i += 1;
        } else {
            return false;
        }
    }
    true
}

/// SIP URI `user` (unreserved / escaped / user-unreserved).
pub(crate) fn is_user(s: &str) -> bool {
    !s.is_empty() && all_escaped(s.as_bytes(), USER)
}

/// SIP URI `password`.
pub(crate) fn is_password(s: &str) -> bool {
    all_escaped(s.as_bytes(), PASSWORD)
}

/// URI parameter name or value (`paramchar`).
pub(crate) fn is_paramchars(s: &[u8]) -> bool {
    all_escaped(s, PARAM)
}

/// URI header name or value (`hnv-unreserved` / unreserved / escaped).
pub(crate) fn is_hnvchars(s: &str) -> bool {
    all_escaped(s.as_bytes(), HNV)
}

/// Position of `c` in `b`: a plain loop for the short slices of header
/// values (where memchr's setup costs more than the scan), memchr beyond.
#[inline]
pub(crate) fn find_byte(c: u8, b: &[u8]) -> Option<usize> {
    if b.len() < 32 {
        b.iter().position(|&x| x == c)
    } else {
        memchr::memchr(c, b)
    }
}

/// SP or HTAB: after unfolding, the only linear white space left.
#[inline]
pub(crate) fn is_ws(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// Trims SP/HTAB (and stray CR/LF) from both ends.
pub(crate) fn trim(s: &str) -> &str {
    let b = s.as_bytes();
    let ws = |c: &u8| matches!(c, b' ' | b'\t' | b'\r' | b'\n');
    let start = b.iter().position(|c| !ws(c)).unwrap_or(b.len());
    let end = b.iter().rposition(|c| !ws(c)).map_or(start, |e| e + 1);
    s.get(start..end).unwrap_or("")
}

/// Parses `1*DIGIT` into a `u32`; `None` on anything else or overflow.
/// Leading zeros are fine (`Max-Forwards: 0068`, RFC 4475 §3.1.1.1).
pub(crate) fn parse_u32(s: &str) -> Option<u32> {
    if s.is_empty() {
        return None;
    }
    let mut v: u32 = 0;
    for b in s.bytes() {
        if !b.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u32::from(b - b'0'))?;
    }
    Some(v)
}

/// Removes the `\` of each quoted-pair from the inside of a quoted string.
/// Borrows when there is nothing to remove, which is nearly always.
pub fn unescape(inner: &str) -> Cow<'_, str> {
    if !inner.contains('\\') {
        return Cow::Borrowed(inner);
    }
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Splits a header value on commas that are outside quoted strings and
/// angle brackets: the list form `#element` of RFC 3261 §7.3.1.
///
/// Empty elements (from `a,,b`) are skipped, as the `#rule` allows.
pub fn split_list(s: &str) -> SplitList<'_> {
    SplitList { s, pos: 0 }
}

/// Iterator returned by [`split_list`].
#[derive(Debug, Clone)]
pub struct SplitList<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Iterator for SplitList<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let b = self.s.as_bytes();
        loop {
            if self.pos >= b.len() {
                return None;
            }
            let start = self.pos;
            let mut i = start;
            // Jump between the only bytes that matter: a comma ends the
            // element, a quote or an angle bracket opens a span to skip.
            let end = loop {
                let Some(off) = b
                    .get(i..)
                    .and_then(|r| memchr::memchr3(b',', b'"', b'<', r))
                else {
                    break b.len();
                };
                i += off;
                match b.get(i) {
                    Some(b',') => break i,
                    Some(b'<') => match b.get(i + 1..).and_then(|r| find_byte(b'>', r)) {
                        Some(close) => i += close + 2,
                        None => break b.len(),
                    },
                    _ => {
                        // Quoted string: skip to the closing quote, honouring
                        // backslash escapes.
                        i += 1;
                        loop {
                            match b.get(i..).and_then(|r| memchr::memchr2(b'"', b'\\', r)) {
                                Some(off) => {
                                    i += off;
                                    if b.get(i) == Some(&b'\\') {
                                        i += 2;
                                    } else {
                                        i += 1;
                                        break;
                                    }
                                }
                                None => {
                                    i = b.len();
                                    break;
                                }
                            }
                        }
                    }
                }
            };
            let end = end.min(b.len());
            self.pos = end + 1;
            let item = trim(self.s.get(start..end).unwrap_or(""));
            if !item.is_empty() {
                return Some(item);
            }
        }
    }
}

/// A byte cursor over a `&str` for the small header grammars.
#[derive(Debug, Clone)]
pub(crate) struct Cursor<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(s: &'a str) -> Self {
        Cursor { s, pos: 0 }
    }

    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    pub(crate) fn set_pos(&mut self, pos: usize) {
        self.pos = pos.min(self.s.len());
    }

    pub(crate) fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.pos).copied()
    }

    pub(crate) fn at_end(&self) -> bool {
        self.pos >= self.s.len()
    }

    pub(crate) fn rest(&self) -> &'a str {
        self.s.get(self.pos..).unwrap_or("")
    }

    pub(crate) fn slice(&self, start: usize, end: usize) -> &'a str {
        self.s.get(start..end).unwrap_or("")
    }

    pub(crate) fn skip_ws(&mut self) {
        while self.peek().is_some_and(is_ws) {
            self.pos += 1;
        }
    }

    /// Consumes `c` (after optional white space) if it is next.
    pub(crate) fn eat(&mut self, c: u8) -> bool {
        let save = self.pos;
        self.skip_ws();
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            self.pos = save;
            false
        }
    }

    /// Consumes bytes while `f` holds; returns them.
    pub(crate) fn take_while(&mut self, f: impl Fn(u8) -> bool) -> &'a str {
        let start = self.pos;
        let b = self.s.as_bytes();
        while self.pos < b.len() && f(b[self.pos]) {
            self.pos += 1;
        }
        self.slice(start, self.pos)
    }

    /// A non-empty token.
    pub(crate) fn token(&mut self) -> Option<&'a str> {
        let t = self.take_while(is_token);
        (!t.is_empty()).then_some(t)
    }

    /// A quoted string starting at the cursor; returns its inside, escapes
    /// left in place. `None` when unterminated (RFC 4475 §3.1.2.6).
    pub(crate) fn quoted(&mut self) -> Option<&'a str> {
        let b = self.s.as_bytes();
        if b.get(self.pos) != Some(&b'"') {
            return None;
        }
        let start = self.pos + 1;
        let mut i = start;
        while i < b.len() {
            match b[i] {
                b'\\' => i += 2,
                b'"' => {
                    self.pos = i + 1;
                    return Some(self.slice(start, i));
                }
                b'\r' | b'\n' => return None,
                _ => i += 1,
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_splitting_respects_quotes_and_brackets_rfc3261_7_3_1() {
        let v: Vec<_> =
            split_list(r#""a,b" <sip:x,y@h>;p=1 , <sip:z@h>,,"c\",d" <sip:w@h>"#).collect();
        assert_eq!(
            v,
            [
                r#""a,b" <sip:x,y@h>;p=1"#,
                "<sip:z@h>",
                r#""c\",d" <sip:w@h>"#
            ]
        );
    }

    #[test]
    fn u32_rejects_overflow_and_signs() {
        assert_eq!(parse_u32("0068"), Some(68));
        assert_eq!(parse_u32("4294967295"), Some(u32::MAX));
        assert_eq!(parse_u32("4294967296"), None);
        assert_eq!(parse_u32("-1"), None);
        assert_eq!(parse_u32(""), None);
    }

    #[test]
    fn unescape_quoted_pairs() {
        assert_eq!(unescape(r#"J Rosenberg \\\""#), r#"J Rosenberg \""#);
        assert!(matches!(unescape("plain"), Cow::Borrowed("plain")));
    }

    #[test]
    fn label_runs() {
        for (s, from, end) in [
            ("", 0, 0),
            ("a", 0, 1),
            ("abc.def", 0, 3),
            ("abcd.ef", 0, 4),
            ("abcde-fghij9.x", 0, 12),
            ("abcdefgh", 0, 8),
            ("abcdefg:", 0, 7),
            ("ab_cdefg", 0, 2),
            ("x.abcdefghi", 2, 11),
            ("...", 0, 0),
        ] {
            assert_eq!(label_run(s.as_bytes(), from), end, "{s}");
        }
    }

    #[test]
    fn escapes_are_checked() {
        assert!(is_user("alice%20b"));
        assert!(!is_user("alice%2"));
        assert!(!is_user("al ice"));
    }
}
