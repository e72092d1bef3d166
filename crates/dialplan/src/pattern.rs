//! Extension names and patterns, compiled once and matched without allocating.
//!
//! Asterisk (`main/pbx.c`, legacy matcher) knows two kinds of extension names:
//!
//! * literal names (`100`, `s`, `1-800-555`): compared character by character with
//!   every `-` ignored on both sides ("fluff");
//! * patterns, starting with `_`: `X` (0-9), `Z` (1-9), `N` (2-9), `[1-5a-c]` sets,
//!   `.` (one or more remaining characters), `!` (zero or more, and "complete now"),
//!   anything else literal. `x`, `z`, `n` are accepted in lower case too, `-` outside
//!   a set is fluff and empty sets `[]` are skipped.
//!
//! Three questions can be asked of a name (Asterisk's `E_MATCH`, `E_CANMATCH`,
//! `E_MATCHMORE`): does the dialled string match now, could it match (now or with more
//! digits), and does it need more digits. [`Pattern::check`] answers all three with the
//! quirks of the original: a `.` reached while digits remain matches in every mode,
//! a `!` answers [`MatchOutcome::Early`].

use std::fmt;

/// A set of bytes, stored so that comparing two sets word by word gives the same order
/// as Asterisk's `memcmp` of its 32-byte bitmaps (lowest character in the most
/// significant bit).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct CharSet {
    pub(crate) bits: [u64; 4],
}

impl CharSet {
    pub(crate) const EMPTY: CharSet = CharSet { bits: [0; 4] };

    fn range(lo: u8, hi: u8) -> CharSet {
        let mut set = CharSet::EMPTY;
        for c in lo..=hi {
            set.insert(c);
        }
        set
    }

    fn insert(&mut self, c: u8) {
        let word = usize::from(c >> 6);
        if let Some(w) = self.bits.get_mut(word) {
            *w |= 1u64 << (63 - u32::from(c & 63));
        }
    }

    #[inline]
    pub(crate) fn contains(&self, c: u8) -> bool {
        let word = usize::from(c >> 6);
        self.bits
            .get(word)
            .is_some_and(|w| (w >> (63 - u32::from(c & 63))) & 1 == 1)
    }

    fn count(&self) -> u32 {
        self.bits.iter().map(|w| w.count_ones()).sum()
    }

    fn min(&self) -> u8 {
        (0..=255u8).find(|&c| self.contains(c)).unwrap_or(0)
    }
}

impl fmt::Debug for CharSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let chars: String = (0..=255u8)
            .filter(|&c| self.contains(c))
            .map(char::from)
            .collect();
        write!(f, "[{chars}]")
    }
}

/// One position of a compiled pattern.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Elem {
    /// A literal byte.
    Lit(u8),
    /// `X`, `Z`, `N` or `[...]`; `weight` is Asterisk's `(count << 8) | lowest char`.
    Set { set: CharSet, weight: u32 },
    /// `.`: one or more characters.
    Dot,
    /// `!`: zero or more characters, complete early.
    Bang,
    /// A `[` without `]`: Asterisk refuses to match past it and sorts it last.
    Broken,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Kind {
    /// Literal name with `-` removed.
    Literal(Box<[u8]>),
    /// `_` pattern.
    Pattern(Box<[Elem]>),
}

/// Which question to ask of a name (Asterisk's `E_MATCH` / `E_CANMATCH` / `E_MATCHMORE`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MatchMode {
    /// The dialled string is a complete match now.
    Exact,
    /// The dialled string matches now or could match once more digits are dialled.
    CanMatch,
    /// The name needs more digits than were dialled (overlap dialling, `WaitExten`).
    MatchMore,
}

/// The answer of [`Pattern::check`], as Asterisk's matcher returns 0, 1 or 2.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MatchOutcome {
    /// No.
    No,
    /// Yes for the mode asked.
    Yes,
    /// A `!` was reached: the name matches and no more digits are needed. For
    /// [`MatchMode::MatchMore`] this is a final "no" for the whole context.
    Early,
}

impl MatchOutcome {
    /// True for [`MatchOutcome::Yes`] and [`MatchOutcome::Early`].
    pub fn is_match(self) -> bool {
        !matches!(self, MatchOutcome::No)
    }
}

/// A compiled extension name (literal or `_` pattern).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pattern {
    source: Box<str>,
    kind: Kind,
}

const DIGITS_X: (u8, u8) = (b'0', b'9');
const DIGITS_Z: (u8, u8) = (b'1', b'9');
const DIGITS_N: (u8, u8) = (b'2', b'9');

fn set_elem(set: CharSet) -> Elem {
    let weight = (set.count() << 8) | u32::from(set.min());
    Elem::Set { set, weight }
}

impl Pattern {
    /// Compiles an extension name. Never fails: a malformed set makes the pattern
    /// unmatchable past that point, as in Asterisk.
    pub fn new(name: &str) -> Pattern {
        let bytes = name.as_bytes();
        let kind = match bytes.split_first() {
            Some((b'_', rest)) => Kind::Pattern(compile(rest).into_boxed_slice()),
            _ => Kind::Literal(bytes.iter().copied().filter(|&c| c != b'-').collect()),
        };
        Pattern {
            source: name.into(),
            kind,
        }
    }

    /// The name as written (for display).
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// True for `_` patterns.
    pub fn is_pattern(&self) -> bool {
        matches!(self.kind, Kind::Pattern(_))
    }

    /// For a literal name, its bytes without `-` fluff (the lookup key).
    pub(crate) fn literal_key(&self) -> Option<&[u8]> {
        match &self.kind {
            Kind::Literal(l) => Some(l),
            Kind::Pattern(_) => None,
        }
    }

    pub(crate) fn elems(&self) -> Option<&[Elem]> {
        match &self.kind {
            Kind::Pattern(e) => Some(e),
            Kind::Literal(_) => None,
        }
    }

    /// Full match now (`ast_extension_match`).
    pub fn matches(&self, dialled: &str) -> bool {
        self.check(dialled, MatchMode::Exact).is_match()
    }

    /// Asks one of the three questions of Asterisk's matcher.
    pub fn check(&self, dialled: &str, mode: MatchMode) -> MatchOutcome {
        match &self.kind {
            Kind::Literal(lit) => check_literal(lit, dialled.as_bytes(), mode),
            Kind::Pattern(elems) => check_pattern(elems, dialled.as_bytes(), mode),
        }
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

fn compile(src: &[u8]) -> Vec<Elem> {
    let mut out = Vec::with_capacity(src.len());
    let mut i = 0;
    while let Some(&c) = src.get(i) {
        i += 1;
        match c {
            b'-' => {}
            b'x' | b'X' => out.push(set_elem(CharSet::range(DIGITS_X.0, DIGITS_X.1))),
            b'z' | b'Z' => out.push(set_elem(CharSet::range(DIGITS_Z.0, DIGITS_Z.1))),
            b'n' | b'N' => out.push(set_elem(CharSet::range(DIGITS_N.0, DIGITS_N.1))),
            b'.' => out.push(Elem::Dot),
            b'!' => out.push(Elem::Bang),
            b'[' => {
                let rest = src.get(i..).unwrap_or_default();
                let Some(end) = rest.iter().position(|&b| b == b']') else {
                    out.push(Elem::Broken);
                    return out;
                };
                let body = rest.get(..end).unwrap_or_default();
                i += end + 1;
                let set = parse_set(body);
                if set != CharSet::EMPTY {
                    out.push(set_elem(set));
                }
            }
            other => out.push(Elem::Lit(other)),
        }
    }
    out
}

/// `[...]` body: single characters and `a-b` ranges (a range needs a character on
/// both sides of the `-`; a reversed range is empty, as in Asterisk).
fn parse_set(body: &[u8]) -> CharSet {
    let mut set = CharSet::EMPTY;
    let mut j = 0;
    while let Some(&c1) = body.get(j) {
        if body.get(j + 1) == Some(&b'-')
            && let Some(&c2) = body.get(j + 2)
        {
            if c1 <= c2 {
                for c in c1..=c2 {
                    set.insert(c);
                }
            }
            j += 3;
        } else {
            set.insert(c1);
            j += 1;
        }
    }
    set
}

fn check_literal(lit: &[u8], data: &[u8], mode: MatchMode) -> MatchOutcome {
    let ld = data.iter().filter(|&&c| c != b'-').count();
    if lit.len() < ld {
        return MatchOutcome::No;
    }
    for (pos, &c) in data.iter().filter(|&&c| c != b'-').enumerate() {
        if lit.get(pos) != Some(&c) {
            return MatchOutcome::No;
        }
    }
    let yes = match mode {
        MatchMode::Exact => lit.len() == ld,
        MatchMode::CanMatch => true,
        MatchMode::MatchMore => lit.len() > ld,
    };
    if yes {
        MatchOutcome::Yes
    } else {
        MatchOutcome::No
    }
}

fn check_pattern(elems: &[Elem], data: &[u8], mode: MatchMode) -> MatchOutcome {
    let mut di = 0;
    let mut ei = 0;
    loop {
        while data.get(di) == Some(&b'-') {
            di += 1;
        }
        let Some(&c) = data.get(di) else { break };
        let Some(elem) = elems.get(ei) else {
            // Data longer than the pattern.
            return MatchOutcome::No;
        };
        match *elem {
            Elem::Lit(l) if l == c => {}
            Elem::Set { ref set, .. } if set.contains(c) => {}
            Elem::Dot => return MatchOutcome::Yes,
            Elem::Bang => return MatchOutcome::Early,
            _ => return MatchOutcome::No,
        }
        di += 1;
        ei += 1;
    }
    // Ran off the end of the dialled string.
    match elems.get(ei) {
        None => {
            if mode == MatchMode::MatchMore {
                MatchOutcome::No
            } else {
                MatchOutcome::Yes
            }
        }
        Some(Elem::Bang) => MatchOutcome::Early,
        Some(_) => {
            if mode == MatchMode::Exact {
                MatchOutcome::No
            } else {
                MatchOutcome::Yes
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, d: &str) -> bool {
        Pattern::new(p).matches(d)
    }

    #[test]
    fn classes_match_as_the_reference_table_says() {
        // dialplan.md §2: X 0-9, Z 1-9, N 2-9.
        assert!(m("_X", "0") && m("_X", "9") && !m("_X", "a"));
        assert!(!m("_Z", "0") && m("_Z", "1"));
        assert!(!m("_N", "1") && m("_N", "2") && m("_N", "9"));
        assert!(m("_nxz", "201"), "lower case classes are classes too");
        assert!(m("_[15-7a-c]", "6") && m("_[15-7a-c]", "b") && !m("_[15-7a-c]", "4"));
    }

    #[test]
    fn dot_needs_one_character_bang_none() {
        // dialplan.md §2 gotchas: `.` needs at least one character, so `_9.` does not match `9`.
        assert!(!m("_9.", "9"));
        assert!(m("_9.", "91"));
        assert!(m("_9!", "9"));
        assert!(m("_9!", "9123"));
        // `.` ends the comparison: what follows it is never looked at.
        assert!(m("_1.5", "1999"));
    }

    #[test]
    fn dot_matches_special_extensions() {
        // dialplan.md §2: `_.` also matches the special extensions h, i, t.
        assert!(m("_.", "h") && m("_.", "i") && m("_.", "t"));
        assert!(!m("_X.", "h"));
    }

    #[test]
    fn fluff_is_ignored() {
        assert!(m("1-800-555", "1800555"));
        assert!(m("1800555", "1-800-555"));
        assert!(m("_1-NXX", "1234"));
        assert!(m("_[0-9]", "5"), "a '-' inside a set is a range");
    }

    #[test]
    fn literals_are_case_sensitive() {
        assert!(m("_abc", "abc") && !m("_abc", "ABC"));
        assert!(!m("s", "S"));
    }

    #[test]
    fn canmatch_and_matchmore() {
        let p = Pattern::new("_1XX");
        assert_eq!(p.check("1", MatchMode::CanMatch), MatchOutcome::Yes);
        assert_eq!(p.check("1", MatchMode::MatchMore), MatchOutcome::Yes);
        assert_eq!(p.check("1", MatchMode::Exact), MatchOutcome::No);
        assert_eq!(p.check("100", MatchMode::MatchMore), MatchOutcome::No);
        assert_eq!(p.check("100", MatchMode::CanMatch), MatchOutcome::Yes);
        assert_eq!(p.check("1000", MatchMode::CanMatch), MatchOutcome::No);
        let lit = Pattern::new("100");
        assert_eq!(lit.check("10", MatchMode::MatchMore), MatchOutcome::Yes);
        assert_eq!(lit.check("100", MatchMode::MatchMore), MatchOutcome::No);
        assert_eq!(lit.check("", MatchMode::CanMatch), MatchOutcome::Yes);
        assert_eq!(lit.check("101", MatchMode::CanMatch), MatchOutcome::No);
        // `.` reached with digits left matches in every mode (Asterisk returns 1).
        assert_eq!(
            Pattern::new("_9.").check("91", MatchMode::MatchMore),
            MatchOutcome::Yes
        );
        assert_eq!(
            Pattern::new("_9!").check("9", MatchMode::MatchMore),
            MatchOutcome::Early
        );
    }

    #[test]
    fn broken_and_empty_sets() {
        assert!(!m("_1[23", "12"));
        assert!(m("_1[]2", "12"), "empty sets are skipped");
        assert_eq!(
            Pattern::new("_1[23").check("1", MatchMode::CanMatch),
            MatchOutcome::Yes
        );
    }
}
