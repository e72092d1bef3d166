//! One physical line to one statement, as Asterisk's `config.c` reads it.
//!
//! Two steps, both allocation-free in the common case:
//!
//! 1. [`Scanner::cook`] removes comments the way Asterisk does, keeping the
//!    block-comment depth from line to line: `;` starts a comment that ends the
//!    line; `;--` opens a block comment (but `;---` is a plain comment), `--;` closes
//!    one, block comments nest; `\;` is a literal `;` (the backslash is dropped).
//!    A plain `;` outside a block comment stops all comment processing on the line.
//!    The result is the line's content plus a map back to original byte offsets,
//!    so that columns in errors point into the file as written.
//! 2. [`parse_stmt`] classifies the content: `[category](options)`,
//!    `#directive argument`, or `name = value` / `name => value` / `name += value`.
//!
//! Whitespace is what Asterisk's `ast_strip` trims: every byte below 33.

use std::ops::Range;

use memchr::memchr;

use crate::ConfErrorKind;

/// True for the bytes Asterisk treats as blanks (`ast_skip_blanks`/`ast_trim_blanks`).
pub(crate) fn is_blank(b: u8) -> bool {
    b < 33
}

/// `s` without leading and trailing blanks, as a range of `s`.
pub(crate) fn strip_range(s: &[u8], r: Range<usize>) -> Range<usize> {
    let (mut a, mut b) = (r.start, r.end.min(s.len()));
    while a < b && s.get(a).is_some_and(|&c| is_blank(c)) {
        a += 1;
    }
    while b > a && s.get(b - 1).is_some_and(|&c| is_blank(c)) {
        b -= 1;
    }
    a..b
}

/// `s` without leading and trailing blanks.
pub(crate) fn strip(s: &str) -> &str {
    let r = strip_range(s.as_bytes(), 0..s.len());
    s.get(r).unwrap_or("")
}

/// Carries the block-comment state from one line to the next.
#[derive(Debug, Default)]
pub(crate) struct Scanner {
    depth: u64,
    /// Line and byte offset of the `;--` that opened the outermost open comment.
    open: Option<(u32, usize)>,
    segs: Vec<(usize, usize)>,
    escapes: Vec<usize>,
    buf: String,
    map: Vec<(usize, usize)>,
}

/// A line with its comments removed.
#[derive(Debug)]
pub(crate) struct Cooked<'a> {
    /// The content (not yet trimmed).
    pub text: &'a str,
    /// `(content offset, original offset)` at the start of each piece of content.
    map: &'a [(usize, usize)],
    /// Content pieces in original offsets (more than one when a block comment sat inside).
    pub segments: &'a [(usize, usize)],
}

impl Cooked<'_> {
    /// Original byte offset of content offset `p`.
    pub fn orig(&self, p: usize) -> usize {
        let i = self.map.partition_point(|&(q, _)| q <= p);
        match i.checked_sub(1).and_then(|i| self.map.get(i)) {
            Some(&(q, o)) => o + (p - q),
            None => p,
        }
    }

    /// Original byte offset just past content offset `p - 1` (an exclusive end).
    pub fn orig_end(&self, p: usize) -> usize {
        match p.checked_sub(1) {
            Some(q) => self.orig(q) + 1,
            None => self.orig(0),
        }
    }

    /// Original byte range of content range `r` (empty ranges map to their start).
    /// A `;` in the content always comes from `\;`, so a range starting with one
    /// starts at its backslash.
    pub fn orig_range(&self, r: &Range<usize>) -> Range<usize> {
        let mut a = self.orig(r.start);
        if r.is_empty() {
            return a..a;
        }
        if self.text.as_bytes().get(r.start) == Some(&b';') {
            a = a.saturating_sub(1);
        }
        a..self.orig_end(r.end)
    }
}

/// Column (in characters, from 1) of byte offset `off` in `line`.
pub(crate) fn column(line: &str, off: usize) -> u32 {
    let prefix = line.get(..off.min(line.len())).unwrap_or(line);
    u32::try_from(prefix.chars().count())
        .unwrap_or(u32::MAX)
        .saturating_add(1)
}

impl Scanner {
    /// A scanner outside any block comment.
    pub fn new() -> Self {
        Self::default()
    }

    /// Current block-comment nesting depth.
    pub fn depth(&self) -> u64 {
        self.depth
    }

    /// Where the outermost still-open block comment started: line and byte offset.
    pub fn open_at(&self) -> Option<(u32, usize)> {
        self.open
    }

    /// Start again at `depth` (used to re-read one line of a document).
    pub fn with_depth(depth: u64) -> Self {
        Self {
            depth,
            ..Self::default()
        }
    }

    /// Remove the comments of `line` (without its `\n`), line number `lineno`.
    pub fn cook<'a>(&'a mut self, line: &'a str, lineno: u32) -> Cooked<'a> {
        self.segs.clear();
        self.escapes.clear();
        self.map.clear();
        let b = line.as_bytes();
        let mut seg_start = (self.depth == 0).then_some(0usize);
        let mut pos = 0usize;
        while let Some(off) = b.get(pos..).and_then(|rest| memchr(b';', rest)) {
            let i = pos + off;
            let prev = |n: usize| i.checked_sub(n).and_then(|k| b.get(k)).copied();
            if i > pos && prev(1) == Some(b'\\') {
                if seg_start.is_some() {
                    self.escapes.push(i - 1);
                }
                pos = i + 1;
            } else if b.get(i + 1) == Some(&b'-')
                && b.get(i + 2) == Some(&b'-')
                && b.get(i + 3) != Some(&b'-')
            {
                if self.depth == 0 {
                    if let Some(s) = seg_start.take() {
                        self.segs.push((s, i));
                    }
                    self.open = Some((lineno, i));
                }
                self.depth = self.depth.saturating_add(1);
                pos = i + 3;
            } else if self.depth > 0
                && i >= pos + 2
                && prev(1) == Some(b'-')
                && prev(2) == Some(b'-')
            {
                self.depth -= 1;
                pos = i + 1;
                if self.depth == 0 {
                    seg_start = Some(i + 1);
                    self.open = None;
                }
            } else if self.depth == 0 {
                // A plain comment: the rest of the line is ignored, block markers included.
                if let Some(s) = seg_start.take() {
                    self.segs.push((s, i));
                }
                break;
            } else {
                pos = i + 1;
            }
        }
        if let Some(s) = seg_start {
            self.segs.push((s, b.len()));
        }
        if self.escapes.is_empty() && self.segs.len() <= 1 {
            let (s, e) = self.segs.first().copied().unwrap_or((0, 0));
            self.map.push((0, s));
            return Cooked {
                text: line.get(s..e).unwrap_or(""),
                map: &self.map,
                segments: &self.segs,
            };
        }
        self.buf.clear();
        let mut esc = self.escapes.iter().copied().peekable();
        for &(s, e) in &self.segs {
            let mut start = s;
            while let Some(x) = esc.next_if(|&x| x < e) {
                if x >= start {
                    self.map.push((self.buf.len(), start));
                    self.buf.push_str(line.get(start..x).unwrap_or(""));
                    start = x + 1;
                }
            }
            self.map.push((self.buf.len(), start));
            self.buf.push_str(line.get(start..e).unwrap_or(""));
        }
        Cooked {
            text: &self.buf,
            map: &self.map,
            segments: &self.segs,
        }
    }
}

/// How a variable line assigns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    /// `name = value`
    Set,
    /// `name => value` (Asterisk's "object" flag)
    Object,
    /// `name += value`: appended to the last value of the same name.
    Append,
}

/// One statement, with ranges into the cooked text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Stmt {
    /// Blank, or only comments.
    Empty,
    /// `[name](options)`; `open` is the offset of `[`, `opts` the text inside `( )`,
    /// `end` the end of the line's content (Asterisk ignores text after `]` or `)`).
    Header {
        open: usize,
        name: Range<usize>,
        opts: Option<Range<usize>>,
        end: usize,
    },
    /// `#name argument`.
    Directive {
        start: usize,
        name: Range<usize>,
        arg: Option<Range<usize>>,
    },
    /// A variable. `value` is already stripped except for `+=`, where it is the raw rest.
    Var {
        start: usize,
        name: Range<usize>,
        value: Range<usize>,
        op: Op,
    },
    /// A syntax error at offset `at`.
    Error { at: usize, kind: ConfErrorKind },
}

/// Classify the cooked text of one line (Asterisk's `process_text_line`).
pub(crate) fn parse_stmt(text: &str) -> Stmt {
    let b = text.as_bytes();
    let r = strip_range(b, 0..b.len());
    if r.is_empty() {
        return Stmt::Empty;
    }
    let (s, end) = (r.start, r.end);
    match b.get(s) {
        Some(b'[') => {
            let Some(close) = b
                .get(s + 1..end)
                .and_then(|t| memchr(b']', t))
                .map(|k| s + 1 + k)
            else {
                return Stmt::Error {
                    at: s,
                    kind: ConfErrorKind::UnclosedCategory,
                };
            };
            let name = s + 1..close;
            if b.get(close + 1) == Some(&b'(') {
                let o = close + 2;
                let Some(cp) = b.get(o..end).and_then(|t| memchr(b')', t)).map(|k| o + k) else {
                    return Stmt::Error {
                        at: close + 1,
                        kind: ConfErrorKind::UnclosedOptions,
                    };
                };
                Stmt::Header {
                    open: s,
                    name,
                    opts: Some(o..cp),
                    end,
                }
            } else {
                Stmt::Header {
                    open: s,
                    name,
                    opts: None,
                    end,
                }
            }
        }
        Some(b'#') => {
            let mut e = s + 1;
            while e < end && b.get(e).is_some_and(|&c| !is_blank(c)) {
                e += 1;
            }
            let arg = strip_range(b, e..end);
            Stmt::Directive {
                start: s,
                name: s + 1..e,
                arg: (!arg.is_empty()).then_some(arg),
            }
        }
        _ => parse_var(b, s, end),
    }
}

fn parse_var(b: &[u8], s: usize, end: usize) -> Stmt {
    let escaped = b.get(s) == Some(&b'\\');
    let cur = if escaped { s + 1 } else { s };
    if escaped && (cur >= end || b.get(cur).is_none_or(|&c| is_blank(c))) {
        return Stmt::Error {
            at: s,
            kind: ConfErrorKind::InvalidEscape,
        };
    }
    let from = cur + usize::from(escaped);
    let Some(eq) = b
        .get(from..end)
        .and_then(|t| memchr(b'=', t))
        .map(|k| from + k)
    else {
        return Stmt::Error {
            at: s,
            kind: ConfErrorKind::MissingEquals,
        };
    };
    let (name_end, op, value) = if eq > from && b.get(eq - 1) == Some(&b'+') {
        (eq - 1, Op::Append, eq + 1..end)
    } else if b.get(eq + 1) == Some(&b'>') {
        (eq, Op::Object, strip_range(b, eq + 2..end))
    } else {
        (eq, Op::Set, strip_range(b, eq + 1..end))
    };
    let name = strip_range(b, cur..name_end);
    if name.is_empty() {
        return Stmt::Error {
            at: s,
            kind: ConfErrorKind::MissingName,
        };
    }
    Stmt::Var {
        start: s,
        name,
        value,
        op,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cook_all(lines: &[&str]) -> Vec<String> {
        let mut sc = Scanner::new();
        lines
            .iter()
            .zip(1..)
            .map(|(l, n)| sc.cook(l, n).text.to_string())
            .collect()
    }

    #[test]
    fn plain_comment_ends_the_line() {
        assert_eq!(cook_all(&["a = 1 ; note ;-- not a block"]), ["a = 1 "]);
    }

    #[test]
    fn escaped_semicolon_is_literal_and_loses_its_backslash() {
        assert_eq!(cook_all(&[r"a = x\;y ; c"]), ["a = x;y "]);
        // Only one backslash is looked at: `\\;` keeps one backslash and the `;`.
        assert_eq!(cook_all(&[r"a = x\\;y"]), [r"a = x\;y"]);
        // `\;;` : the second `;` is a comment.
        assert_eq!(cook_all(&[r"a=\;;b"]), ["a=;"]);
    }

    #[test]
    fn block_comment_inside_a_line_joins_the_rest() {
        assert_eq!(cook_all(&["a = 1 ;-- c --; b"]), ["a = 1  b"]);
    }

    #[test]
    fn block_comment_spans_lines_and_nests() {
        let out = cook_all(&[
            "a=1 ;-- open",
            "x ;-- nested",
            "--; still comment",
            "end --; b=2",
            "c=3",
        ]);
        assert_eq!(out, ["a=1 ", "", "", " b=2", "c=3"]);
    }

    #[test]
    fn triple_dash_is_a_plain_comment() {
        // `;---` is not a block comment opener in Asterisk.
        assert_eq!(cook_all(&[";----------", "a=1"]), ["", "a=1"]);
    }

    #[test]
    fn close_marker_outside_a_block_is_a_plain_comment() {
        assert_eq!(cook_all(&["a=b--; x", "c=d"]), ["a=b--", "c=d"]);
    }

    #[test]
    fn marker_that_looks_like_close_then_open_opens() {
        // Inside a block, `--;--` is checked as an opener first (Asterisk's order).
        let out = cook_all(&[";-- a --;-- b", "--;", "--;", "x=1"]);
        assert_eq!(out, ["", "", "", "x=1"]);
    }

    #[test]
    fn orig_maps_back_through_removed_text() {
        let mut sc = Scanner::new();
        let line = r"a=1 ;-- c --; b\;c";
        let c = sc.cook(line, 1);
        assert_eq!(c.text, "a=1  b;c");
        let p = c.text.find('b').unwrap_or(0);
        assert_eq!(c.orig(p), line.find('b').unwrap_or(0));
        let q = c.text.find(';').unwrap_or(0);
        assert_eq!(line.as_bytes().get(c.orig(q)), Some(&b';'));
    }

    #[test]
    fn statements() {
        assert!(matches!(parse_stmt("  "), Stmt::Empty));
        assert!(matches!(
            parse_stmt("[a"),
            Stmt::Error {
                kind: ConfErrorKind::UnclosedCategory,
                at: 0
            }
        ));
        assert!(matches!(
            parse_stmt("[a](b"),
            Stmt::Error {
                kind: ConfErrorKind::UnclosedOptions,
                at: 3
            }
        ));
        assert!(matches!(
            parse_stmt("novalue"),
            Stmt::Error {
                kind: ConfErrorKind::MissingEquals,
                ..
            }
        ));
        assert!(matches!(
            parse_stmt(" = v"),
            Stmt::Error {
                kind: ConfErrorKind::MissingName,
                ..
            }
        ));
        assert!(matches!(
            parse_stmt("\\ =v"),
            Stmt::Error {
                kind: ConfErrorKind::InvalidEscape,
                ..
            }
        ));
        assert!(matches!(
            parse_stmt("\\"),
            Stmt::Error {
                kind: ConfErrorKind::InvalidEscape,
                ..
            }
        ));
        let t = "exten => 1,1,Dial(PJSIP/a=b)";
        match parse_stmt(t) {
            Stmt::Var {
                name, value, op, ..
            } => {
                assert_eq!(t.get(name), Some("exten"));
                assert_eq!(t.get(value), Some("1,1,Dial(PJSIP/a=b)"));
                assert_eq!(op, Op::Object);
            }
            other => panic!("{other:?}"),
        }
        let t = "a = > b";
        match parse_stmt(t) {
            Stmt::Var { value, op, .. } => {
                assert_eq!(t.get(value), Some("> b"));
                assert_eq!(op, Op::Set);
            }
            other => panic!("{other:?}"),
        }
        let t = "\\==x";
        match parse_stmt(t) {
            Stmt::Var { name, value, .. } => {
                assert_eq!(t.get(name), Some("="));
                assert_eq!(t.get(value), Some("x"));
            }
            other => panic!("{other:?}"),
        }
        let t = "allow += ,g722";
        match parse_stmt(t) {
            Stmt::Var {
                name, value, op, ..
            } => {
                assert_eq!(t.get(name), Some("allow"));
                assert_eq!(t.get(value), Some(" ,g722"));
                assert_eq!(op, Op::Append);
            }
            other => panic!("{other:?}"),
        }
    }
}
