//! A configuration file kept byte for byte, for edits that keep its comments.
//!
//! AMI's `UpdateConfig` (and `obelus config set`) change one option in a file a
//! person maintains. Re-printing the parsed [`crate::Config`] would lose every
//! comment and the layout, so a [`Document`] keeps each physical line as written
//! and only rewrites the part an edit touches: the value of one line, a new line
//! in the style of its neighbours, a removed line. Lines that open or close a
//! multi-line `;-- --;` block comment keep their comment text even when their
//! statement is deleted, so the rest of the file keeps its meaning.
//!
//! A document holds one file: `#include` lines are kept as they are, not followed.
//! Categories are found by name, ASCII case-insensitively; a category's blocks are
//! its first header (template or not) and every later `[name](+)` header.

use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use crate::error::MAX_ERRORS;
use crate::line::{self, Op, Scanner, Stmt};
use crate::model::{write_escaped, write_name};
use crate::{ConfError, ConfErrorKind, ConfErrors, Location};

/// Why an edit was refused; the document is unchanged when one is returned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DocumentError {
    /// No category of that name.
    #[error("category '{0}' not found")]
    CategoryNotFound(String),
    /// No variable of that name (and value) in the category.
    #[error("variable '{key}' not found in category '{category}'")]
    VariableNotFound {
        /// The category searched.
        category: String,
        /// The option name.
        key: String,
    },
    /// A name that cannot be written so that it reads back the same.
    #[error(
        "invalid name '{0}': names must be non-empty, on one line, without ']' or '=' and without surrounding blanks"
    )]
    InvalidName(String),
    /// A value that cannot be written on one line.
    #[error("invalid value: values cannot contain a line break")]
    InvalidValue,
    /// The place to write falls inside a block comment.
    #[error("no place outside a block comment to add to category '{0}'")]
    NoPlace(String),
}

#[derive(Debug, Clone)]
struct Header {
    name: String,
    name_span: Range<usize>,
    add: bool,
    templates: Vec<(String, Range<usize>)>,
}

#[derive(Debug, Clone)]
struct Var {
    name: String,
    value: String,
    op: Op,
    name_span: Range<usize>,
    value_span: Range<usize>,
}

#[derive(Debug, Clone)]
enum Item {
    /// Blank, comments only.
    None,
    Header(Header),
    Var(Var),
    Directive,
}

#[derive(Debug, Clone)]
struct Line {
    /// The text without its `\n` (a `\r` of CRLF stays here).
    raw: String,
    /// Followed by `\n`.
    nl: bool,
    depth_in: u64,
    depth_out: u64,
    item: Item,
    /// The statement, in bytes of `raw` (empty for `Item::None`).
    span: Range<usize>,
    /// Block comments sitting inside the statement's text.
    gaps: Vec<Range<usize>>,
}

impl Line {
    /// True when the line opens, closes or sits in a multi-line block comment.
    fn structural(&self) -> bool {
        self.depth_in > 0 || self.depth_out > 0
    }
}

/// Read one line starting at block-comment depth `depth_in`.
fn analyze(raw: &str, nl: bool, depth_in: u64) -> Result<Line, (usize, ConfErrorKind)> {
    let mut sc = Scanner::with_depth(depth_in);
    let c = sc.cook(raw, 1);
    let text = c.text;
    let get = |r: &Range<usize>| text.get(r.clone()).unwrap_or("").to_string();
    let (item, span) = match line::parse_stmt(text) {
        Stmt::Empty => (Item::None, 0..0),
        Stmt::Error { at, kind } => return Err((c.orig(at), kind)),
        Stmt::Directive { start, name, arg } => {
            let end = arg.map_or(name.end, |a| a.end);
            (Item::Directive, c.orig_range(&(start..end)))
        }
        Stmt::Var {
            start,
            name,
            value,
            op,
        } => {
            let v = Var {
                name: get(&name),
                value: line::strip(text.get(value.clone()).unwrap_or("")).to_string(),
                op,
                name_span: c.orig_range(&name),
                value_span: c.orig_range(&value),
            };
            let end = value.end.max(name.end);
            (Item::Var(v), c.orig_range(&(start..end)))
        }
        Stmt::Header {
            open,
            name,
            opts,
            end,
        } => {
            let mut h = Header {
                name: get(&name),
                name_span: c.orig_range(&name),
                add: false,
                templates: Vec::new(),
            };
            if let Some(o) = opts {
                let mut off = o.start;
                for tok in text.get(o.clone()).unwrap_or("").split(',') {
                    let r = line::strip_range(text.as_bytes(), off..off + tok.len());
                    let t = text.get(r.clone()).unwrap_or("");
                    if t == "!" {
                    } else if let Some(filter) = t.strip_prefix('+') {
                        if !filter.is_empty() {
                            return Err((
                                c.orig(off),
                                ConfErrorKind::UnsupportedFilter(t.to_string()),
                            ));
                        }
                        h.add = true;
                    } else if t.is_empty() {
                        return Err((c.orig(off), ConfErrorKind::EmptyOption));
                    } else {
                        h.templates.push((t.to_string(), c.orig_range(&r)));
                    }
                    off += tok.len() + 1;
                }
            }
            (Item::Header(h), c.orig_range(&(open..end)))
        }
    };
    let gaps = c
        .segments
        .windows(2)
        .filter_map(|w| match w {
            [a, b] if a.1 < b.0 => Some(a.1..b.0),
            _ => None,
        })
        .collect();
    let depth_out = sc.depth();
    Ok(Line {
        raw: raw.to_string(),
        nl,
        depth_in,
        depth_out,
        item,
        span,
        gaps,
    })
}

/// A configuration file for lossless editing: `to_string()` gives back the input
/// byte for byte until an edit changes the lines it touches.
#[derive(Debug, Clone)]
pub struct Document {
    name: Arc<str>,
    /// The text started with a UTF-8 byte order mark (kept, but not part of line 1).
    bom: bool,
    lines: Vec<Line>,
}

/// `s` escaped as an option name (`None` when it cannot be written).
fn name_text(s: &str) -> Option<String> {
    if s.is_empty() || line::strip(s).len() != s.len() || s.contains(['\n', '=']) {
        return None;
    }
    let mut out = String::with_capacity(s.len() + 2);
    write_name(&mut out, s).ok()?;
    Some(out)
}

/// `s` escaped as a category or template name.
fn category_text(s: &str, extra_forbidden: &[char]) -> Option<String> {
    if s.is_empty() || s.contains(['\n', ']']) || s.contains(extra_forbidden) {
        return None;
    }
    let mut out = String::with_capacity(s.len() + 2);
    write_escaped(&mut out, s).ok()?;
    Some(out)
}

fn value_text(s: &str) -> Result<(String, String), DocumentError> {
    if s.contains('\n') {
        return Err(DocumentError::InvalidValue);
    }
    let v = line::strip(s).to_string();
    let mut out = String::with_capacity(v.len() + 2);
    write_escaped(&mut out, &v).map_err(|_| DocumentError::InvalidValue)?;
    Ok((v, out))
}

fn splice(raw: &str, span: &Range<usize>, with: &str, gaps: &[Range<usize>]) -> String {
    let mut out = String::with_capacity(raw.len() + with.len());
    out.push_str(raw.get(..span.start).unwrap_or(""));
    out.push_str(with);
    for g in gaps
        .iter()
        .filter(|g| g.start >= span.start && g.end <= span.end)
    {
        out.push(' ');
        out.push_str(raw.get(g.clone()).unwrap_or(""));
    }
    out.push_str(raw.get(span.end..).unwrap_or(""));
    out
}

impl Document {
    /// Parse `text`, named `name` in errors. Fails on the syntax errors the loader
    /// would report for this file alone (templates and includes are not checked:
    /// they may come from other files).
    pub fn parse(name: &str, text: &str) -> Result<Document, ConfErrors> {
        let file: Arc<str> = name.into();
        let mut lines = Vec::new();
        let mut errors = Vec::new();
        let mut depth = 0u64;
        let mut open_line: Option<(u32, u32)> = None;
        let bom = text.starts_with('\u{feff}');
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        for (piece, n) in text.split_inclusive('\n').zip(1u32..) {
            let (raw, nl) = match piece.strip_suffix('\n') {
                Some(r) => (r, true),
                None => (piece, false),
            };
            match analyze(raw, nl, depth) {
                Ok(l) => {
                    if depth == 0 && l.depth_out > 0 {
                        let mut sc = Scanner::new();
                        let _ = sc.cook(raw, n);
                        let col = sc.open_at().map_or(1, |(_, off)| line::column(raw, off));
                        open_line = Some((n, col));
                    }
                    depth = l.depth_out;
                    lines.push(l);
                }
                Err((off, kind)) => {
                    if errors.len() + 1 >= MAX_ERRORS {
                        errors.push(ConfError {
                            location: Location::new(file.clone(), n, line::column(raw, off)),
                            kind: ConfErrorKind::TooManyErrors(MAX_ERRORS),
                        });
                        break;
                    }
                    errors.push(ConfError {
                        location: Location::new(file.clone(), n, line::column(raw, off)),
                        kind,
                    });
                    // Keep following the comment depth past the bad line.
                    let mut sc = Scanner::with_depth(depth);
                    let _ = sc.cook(raw, n);
                    depth = sc.depth();
                }
            }
        }
        if depth > 0 && errors.len() < MAX_ERRORS {
            let (l, c) = open_line.unwrap_or((1, 1));
            errors.push(ConfError {
                location: Location::new(file.clone(), l, c),
                kind: ConfErrorKind::UnterminatedComment,
            });
        }
        if errors.is_empty() {
            Ok(Document {
                name: file,
                bom,
                lines,
            })
        } else {
            Err(ConfErrors(errors))
        }
    }

    /// The name given to [`Document::parse`].
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Names of the categories in order (one per header, `(+)` headers included).
    pub fn category_names(&self) -> impl Iterator<Item = &str> {
        self.lines.iter().filter_map(|l| match &l.item {
            Item::Header(h) if !h.add => Some(h.name.as_str()),
            _ => None,
        })
    }

    /// The last value of `key` written in `category` (templates not applied).
    pub fn get(&self, category: &str, key: &str) -> Option<&str> {
        let blocks = self.blocks(category);
        self.vars_in(&blocks)
            .filter(|(_, v)| v.name.eq_ignore_ascii_case(key))
            .last()
            .map(|(_, v)| v.value.as_str())
    }

    /// Line ranges (header included) of the blocks of `category`.
    fn blocks(&self, category: &str) -> Vec<Range<usize>> {
        let headers: Vec<(usize, &Header)> = self
            .lines
            .iter()
            .enumerate()
            .filter_map(|(i, l)| match &l.item {
                Item::Header(h) => Some((i, h)),
                _ => None,
            })
            .collect();
        let mut out = Vec::new();
        let mut started = false;
        for (k, &(i, h)) in headers.iter().enumerate() {
            // The first plain header, then the `(+)` ones after it.
            if h.name.eq_ignore_ascii_case(category) && h.add == started {
                started = true;
                let end = headers.get(k + 1).map_or(self.lines.len(), |&(j, _)| j);
                out.push(i..end);
            }
        }
        out
    }

    fn vars_in<'a>(
        &'a self,
        blocks: &[Range<usize>],
    ) -> impl Iterator<Item = (usize, &'a Var)> + 'a {
        let lines: Vec<usize> = blocks.iter().cloned().flatten().collect();
        lines
            .into_iter()
            .filter_map(|i| match self.lines.get(i).map(|l| &l.item) {
                Some(Item::Var(v)) => Some((i, v)),
                _ => None,
            })
    }

    fn eol_is_crlf(&self) -> bool {
        self.lines
            .first()
            .is_some_and(|l| l.nl && l.raw.ends_with('\r'))
    }

    /// Re-read a rewritten line; accept it when it still has the same comment
    /// structure and `check` likes its statement.
    fn candidate(
        &self,
        raw: String,
        depth_in: u64,
        depth_out: u64,
        nl: bool,
        check: impl Fn(&Item) -> bool,
    ) -> Option<Line> {
        let l = analyze(&raw, nl, depth_in).ok()?;
        (l.depth_out == depth_out && check(&l.item)).then_some(l)
    }

    /// Set `key` in `category`: the last line setting it gets the new value (its
    /// comments and spacing kept); with none, a line is appended as by
    /// [`Document::append_variable`]. The value is stored as Asterisk reads it back:
    /// trimmed, with `;` escaped.
    pub fn set_variable(
        &mut self,
        category: &str,
        key: &str,
        value: &str,
    ) -> Result<(), DocumentError> {
        let blocks = self.blocks(category);
        if blocks.is_empty() {
            return Err(DocumentError::CategoryNotFound(category.to_string()));
        }
        let name_ok = name_text(key).ok_or_else(|| DocumentError::InvalidName(key.to_string()))?;
        let (plain, escaped) = value_text(value)?;
        let Some((idx, var)) = self
            .vars_in(&blocks)
            .filter(|(_, v)| v.name.eq_ignore_ascii_case(key))
            .last()
        else {
            return self.append_variable(category, key, value);
        };
        let Some(l) = self.lines.get(idx) else {
            return Err(DocumentError::InvalidValue);
        };
        let (name, op) = (
            var.name.clone(),
            if var.op == Op::Append {
                Op::Set
            } else {
                var.op
            },
        );
        let check = |it: &Item| matches!(it, Item::Var(v) if v.name == name && v.value == plain && v.op == op);
        let mut tries = Vec::new();
        if var.op != Op::Append {
            let vs = &var.value_span;
            let lead = if vs.is_empty() && !escaped.is_empty() {
                " "
            } else {
                ""
            };
            tries.push(splice(&l.raw, vs, &format!("{lead}{escaped}"), &l.gaps));
            tries.push(splice(&l.raw, vs, &format!(" {escaped} "), &l.gaps));
        }
        tries.push(splice(
            &l.raw,
            &l.span,
            &format!("{name_ok} = {escaped} "),
            &l.gaps,
        ));
        let found = tries
            .into_iter()
            .find_map(|t| self.candidate(t, l.depth_in, l.depth_out, l.nl, check));
        let new = found.ok_or(DocumentError::InvalidValue)?;
        if let Some(slot) = self.lines.get_mut(idx) {
            *slot = new;
        }
        Ok(())
    }

    /// Add `key = value` at the end of `category` (after its last option, in the
    /// indentation and `=`/`=>` spacing of a similar line), even when `key` is set
    /// already: for options that repeat (`allow`, `match`, `exten`).
    pub fn append_variable(
        &mut self,
        category: &str,
        key: &str,
        value: &str,
    ) -> Result<(), DocumentError> {
        let blocks = self.blocks(category);
        let Some(last) = blocks.last().cloned() else {
            return Err(DocumentError::CategoryNotFound(category.to_string()));
        };
        let name_ok = name_text(key).ok_or_else(|| DocumentError::InvalidName(key.to_string()))?;
        let (plain, escaped) = value_text(value)?;
        // The style to copy: a line with the same name, else any option line.
        let model = self
            .vars_in(&blocks)
            .filter(|(_, v)| v.name.eq_ignore_ascii_case(key))
            .last()
            .or_else(|| self.vars_in(&blocks).last())
            .and_then(|(i, v)| self.lines.get(i).map(|l| (l, v)));
        let (indent, sep, op) = match model {
            Some((l, v)) => {
                let indent = l.raw.get(..l.span.start).unwrap_or("");
                let sep = l.raw.get(v.name_span.end..v.value_span.start).unwrap_or("");
                let sep_ok = sep.bytes().all(|b| matches!(b, b' ' | b'\t' | b'=' | b'>'));
                let op = if v.op == Op::Append { Op::Set } else { v.op };
                let indent = if indent.bytes().all(|b| b == b' ' || b == b'\t') {
                    indent
                } else {
                    ""
                };
                let sep = if sep_ok && v.op != Op::Append {
                    // A model with an empty value lost its space after `=`: put it back.
                    let spaced = sep.starts_with([' ', '\t']) && sep.ends_with(['=', '>']);
                    if v.value_span.is_empty() && spaced {
                        format!("{sep} ")
                    } else {
                        sep.to_string()
                    }
                } else if op == Op::Object {
                    " => ".to_string()
                } else {
                    " = ".to_string()
                };
                (indent.to_string(), sep, op)
            }
            None => (String::new(), " = ".to_string(), Op::Set),
        };
        let cr = if self.eol_is_crlf() { "\r" } else { "" };
        let canonical = if op == Op::Object { " => " } else { " = " };
        let check = |it: &Item| matches!(it, Item::Var(v) if v.name == key && v.value == plain && v.op == op);
        let tries = [
            format!("{indent}{name_ok}{sep}{escaped}{cr}"),
            format!("{name_ok}{canonical}{escaped}{cr}"),
        ];
        let new = tries
            .into_iter()
            .find_map(|t| self.candidate(t, 0, 0, true, check))
            .ok_or(DocumentError::InvalidValue)?;
        // After the block's last statement, outside any block comment.
        let anchor = last.clone().rev().find(|&i| {
            self.lines
                .get(i)
                .is_some_and(|l| !matches!(l.item, Item::None))
        });
        let mut at = anchor.unwrap_or(last.start) + 1;
        while self.lines.get(at).is_some_and(|l| l.depth_in > 0) {
            if at >= last.end {
                return Err(DocumentError::NoPlace(category.to_string()));
            }
            at += 1;
        }
        self.insert(at, new);
        Ok(())
    }

    /// Insert a line at `at`, keeping a missing final newline missing.
    fn insert(&mut self, at: usize, mut new: Line) {
        let at_end = at >= self.lines.len();
        let crlf = self.eol_is_crlf();
        if let Some(prev) = self.lines.last_mut()
            && at_end
            && !prev.nl
        {
            // The new line becomes the unterminated last one; the old last line
            // gets the document's line ending.
            prev.nl = true;
            if crlf {
                prev.raw.push('\r');
            }
            new.nl = false;
            if new.raw.ends_with('\r') {
                new.raw.pop();
            }
        }
        self.lines.insert(at.min(self.lines.len()), new);
    }

    /// Remove the statement of line `idx`: the whole line, or only the statement
    /// when the line takes part in a multi-line block comment.
    fn remove_statement(&mut self, idx: usize) {
        let Some(l) = self.lines.get_mut(idx) else {
            return;
        };
        if !l.structural() {
            let nl = l.nl;
            self.lines.remove(idx);
            if !nl && let Some(prev) = idx.checked_sub(1).and_then(|p| self.lines.get_mut(p)) {
                prev.nl = false;
            }
            return;
        }
        l.raw = splice(&l.raw, &l.span, "", &l.gaps);
        l.item = Item::None;
        l.span = 0..0;
        l.gaps.clear();
    }

    /// Delete every line setting `key` in `category` (with `match_value`, only those
    /// whose value equals it, ASCII case-insensitively, as Asterisk's
    /// `ast_variable_delete`). Returns how many were deleted.
    pub fn delete_variable(
        &mut self,
        category: &str,
        key: &str,
        match_value: Option<&str>,
    ) -> Result<usize, DocumentError> {
        let blocks = self.blocks(category);
        if blocks.is_empty() {
            return Err(DocumentError::CategoryNotFound(category.to_string()));
        }
        let hits: Vec<usize> = self
            .vars_in(&blocks)
            .filter(|(_, v)| {
                v.name.eq_ignore_ascii_case(key)
                    && match_value.is_none_or(|m| v.value.eq_ignore_ascii_case(m))
            })
            .map(|(i, _)| i)
            .collect();
        if hits.is_empty() {
            return Err(DocumentError::VariableNotFound {
                category: category.to_string(),
                key: key.to_string(),
            });
        }
        for &i in hits.iter().rev() {
            self.remove_statement(i);
        }
        Ok(hits.len())
    }

    /// Append a new `[name]` (with `templates`, e.g. `["!"]` for a template or
    /// `["base"]`) at the end of the document, after a blank line.
    pub fn new_category(&mut self, name: &str, templates: &[&str]) -> Result<(), DocumentError> {
        let n =
            category_text(name, &[]).ok_or_else(|| DocumentError::InvalidName(name.to_string()))?;
        let mut text = format!("[{n}]");
        if !templates.is_empty() {
            let mut parts = Vec::new();
            for t in templates {
                let ok = category_text(t, &[',', ')']).filter(|_| line::strip(t).len() == t.len());
                parts.push(ok.ok_or_else(|| DocumentError::InvalidName(t.to_string()))?);
            }
            text = format!("{text}({})", parts.join(","));
        }
        let cr = if self.eol_is_crlf() { "\r" } else { "" };
        let want: Vec<&str> = templates
            .iter()
            .copied()
            .filter(|t| *t != "!" && *t != "+")
            .collect();
        let check = |it: &Item| matches!(it, Item::Header(h) if h.name == name && h.templates.iter().map(|t| t.0.as_str()).eq(want.iter().copied()));
        let new = self
            .candidate(format!("{text}{cr}"), 0, 0, true, check)
            .ok_or_else(|| DocumentError::InvalidName(name.to_string()))?;
        if self
            .lines
            .last()
            .is_some_and(|l| !matches!(l.item, Item::None) || !line::strip(&l.raw).is_empty())
        {
            let blank = Line {
                raw: cr.to_string(),
                nl: true,
                depth_in: 0,
                depth_out: 0,
                item: Item::None,
                span: 0..0,
                gaps: Vec::new(),
            };
            self.insert(self.lines.len(), blank);
        }
        self.insert(self.lines.len(), new);
        Ok(())
    }

    /// Delete `name`: its header and options, and those of its `(+)` blocks. The
    /// comment and blank lines just before the next header stay (they usually
    /// describe what follows).
    pub fn delete_category(&mut self, name: &str) -> Result<(), DocumentError> {
        let blocks = self.blocks(name);
        if blocks.is_empty() {
            return Err(DocumentError::CategoryNotFound(name.to_string()));
        }
        for b in blocks.iter().rev() {
            let mut keep_from = b.end;
            while keep_from > b.start + 1
                && self
                    .lines
                    .get(keep_from - 1)
                    .is_some_and(|l| matches!(l.item, Item::None) && !l.structural())
            {
                keep_from -= 1;
            }
            let closed = self.lines.get(b.start).is_some_and(|l| l.depth_in == 0)
                && self
                    .lines
                    .get(keep_from - 1)
                    .is_some_and(|l| l.depth_out == 0);
            if closed {
                let last_nl = self.lines.get(keep_from - 1).is_none_or(|l| l.nl);
                self.lines.drain(b.start..keep_from);
                if !last_nl
                    && b.start == self.lines.len()
                    && let Some(prev) = self.lines.last_mut()
                {
                    prev.nl = false;
                }
            } else {
                for i in (b.start..keep_from).rev() {
                    if self
                        .lines
                        .get(i)
                        .is_some_and(|l| !matches!(l.item, Item::None) || !l.structural())
                    {
                        self.remove_statement(i);
                    }
                }
            }
        }
        Ok(())
    }

    /// Rename category `old` to `new`: every header named `old` (its `(+)` blocks and
    /// repeats included) and every template reference to it. Returns how many
    /// headers were renamed.
    pub fn rename_category(&mut self, old: &str, new: &str) -> Result<usize, DocumentError> {
        let escaped =
            category_text(new, &[]).ok_or_else(|| DocumentError::InvalidName(new.to_string()))?;
        let as_template =
            category_text(new, &[',', ')']).filter(|_| line::strip(new).len() == new.len());
        let mut renamed = 0;
        let mut updates = Vec::new();
        for (i, l) in self.lines.iter().enumerate() {
            let Item::Header(h) = &l.item else { continue };
            let mut edits: Vec<(Range<usize>, &str)> = Vec::new();
            let own = h.name.eq_ignore_ascii_case(old);
            if own {
                edits.push((h.name_span.clone(), escaped.as_str()));
            }
            for (t, span) in &h.templates {
                if t.eq_ignore_ascii_case(old) {
                    let with = as_template
                        .as_deref()
                        .ok_or_else(|| DocumentError::InvalidName(new.to_string()))?;
                    edits.push((span.clone(), with));
                }
            }
            if edits.is_empty() {
                continue;
            }
            edits.sort_by_key(|e| std::cmp::Reverse(e.0.start));
            let mut raw = l.raw.clone();
            for (span, with) in &edits {
                raw = splice(&raw, span, with, &[]);
            }
            let want_name = if own { new } else { h.name.as_str() };
            let check = |it: &Item| matches!(it, Item::Header(x) if x.name == want_name);
            let line = self
                .candidate(raw, l.depth_in, l.depth_out, l.nl, check)
                .ok_or_else(|| DocumentError::InvalidName(new.to_string()))?;
            renamed += usize::from(own);
            updates.push((i, line));
        }
        if renamed == 0 {
            return Err(DocumentError::CategoryNotFound(old.to_string()));
        }
        for (i, line) in updates {
            if let Some(slot) = self.lines.get_mut(i) {
                *slot = line;
            }
        }
        Ok(renamed)
    }
}

impl fmt::Display for Document {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.bom {
            f.write_str("\u{feff}")?;
        }
        for l in &self.lines {
            f.write_str(&l.raw)?;
            if l.nl {
                f.write_str("\n")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
; pjsip.conf -- sample
[transport-udp]
type = transport   ; the type
protocol=udp

;-- a block comment
    spanning lines --;
[6001](endpoint-tmpl)
allow = ulaw
allow = alaw
exten => 1,1,NoOp(a\\;b)

; about 6002
[6002]
context=from-internal
";

    fn doc(text: &str) -> Document {
        match Document::parse("pjsip.conf", text) {
            Ok(d) => d,
            Err(e) => panic!("{e}"),
        }
    }

    fn reparse(d: &Document) -> crate::Config {
        let text = d.to_string();
        // The templates may live elsewhere: check with a stub template in front.
        match crate::parse_str("x.conf", &format!("[endpoint-tmpl](!)\n{text}")) {
            Ok(c) => c,
            Err(e) => panic!("{e}\n---\n{text}"),
        }
    }

    #[test]
    fn unedited_is_byte_for_byte() {
        for text in [
            SAMPLE,
            "",
            "\n",
            "[a]\r\nx=1\r\n",
            "[a]\nx=1",
            "  ; only\n\n",
            "k=v\n[a]",
            "\u{feff}[a]\nk=v\n",
        ] {
            assert_eq!(doc(text).to_string(), text);
        }
    }

    #[test]
    fn syntax_errors_are_reported() {
        let e = Document::parse("x.conf", "[a\nb\n;-- open\n")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert_eq!(
            e,
            "x.conf:1:1: expected ']' to close category name\nx.conf:2:1: missing '=' after option name\n\
             x.conf:3:1: block comment ';--' is never closed: expected '--;'"
        );
    }

    #[test]
    fn set_variable_replaces_the_last_value_keeping_comments() {
        let mut d = doc(SAMPLE);
        assert_eq!(
            d.set_variable("TRANSPORT-UDP", "TYPE", "transport2"),
            Ok(())
        );
        assert_eq!(d.set_variable("6001", "allow", "g722;x"), Ok(()));
        let out = d.to_string();
        assert!(out.contains("type = transport2   ; the type\n"), "{out}");
        assert!(out.contains("allow = ulaw\nallow = g722\\;x\n"), "{out}");
        assert_eq!(
            out.replace("transport2", "transport")
                .replace("g722\\;x", "alaw"),
            SAMPLE
        );
        assert_eq!(reparse(&d).get("6001", "allow"), Some("g722;x"));
    }

    #[test]
    fn set_variable_appends_when_missing() {
        let mut d = doc(SAMPLE);
        assert_eq!(d.set_variable("6002", "callerid", "Bob <6002>"), Ok(()));
        assert!(
            d.to_string()
                .ends_with("context=from-internal\ncallerid=Bob <6002>\n"),
            "{d}"
        );
        assert_eq!(
            d.set_variable("nope", "a", "b"),
            Err(DocumentError::CategoryNotFound("nope".into()))
        );
    }

    #[test]
    fn set_variable_on_an_empty_value_and_tricky_values() {
        let mut d = doc("[a]\nk=\nm=x;c\nn=v\n");
        assert_eq!(d.set_variable("a", "k", "new"), Ok(()));
        assert_eq!(d.set_variable("a", "m", "ends\\"), Ok(()));
        assert_eq!(d.set_variable("a", "n", ">arrow"), Ok(()));
        let c = crate::parse_str("t", &d.to_string()).unwrap_or_default();
        assert_eq!(c.get("a", "k"), Some("new"));
        assert_eq!(c.get("a", "m"), Some("ends\\"));
        assert_eq!(c.get("a", "n"), Some(">arrow"));
        assert!(
            c.category("a")
                .is_some_and(|c| c.variables().iter().all(|v| !v.object))
        );
        assert_eq!(
            d.set_variable("a", "k", "two\nlines"),
            Err(DocumentError::InvalidValue)
        );
        assert!(matches!(
            d.set_variable("a", "bad=name", "v"),
            Err(DocumentError::InvalidName(_))
        ));
    }

    #[test]
    fn append_variable_follows_the_style_of_its_neighbours() {
        let mut d = doc(SAMPLE);
        assert_eq!(d.append_variable("6001", "exten", "2,1,Hangup()"), Ok(()));
        assert_eq!(d.append_variable("6001", "allow", "gsm"), Ok(()));
        let out = d.to_string();
        assert!(
            out.contains(
                "exten => 1,1,NoOp(a\\;b)\nexten => 2,1,Hangup()\nallow = gsm\n\n; about 6002"
            ),
            "{out}"
        );
        let c = reparse(&d);
        let cat = c.category("6001").expect("6001");
        assert_eq!(
            cat.get_all("allow").collect::<Vec<_>>(),
            ["ulaw", "alaw", "gsm"]
        );
        assert!(
            cat.variables()
                .iter()
                .any(|v| v.object && v.value == "2,1,Hangup()")
        );
    }

    #[test]
    fn append_keeps_crlf_and_a_missing_final_newline() {
        let mut d = doc("[a]\r\nx = 1\r\n");
        assert_eq!(d.append_variable("a", "y", "2"), Ok(()));
        assert_eq!(d.to_string(), "[a]\r\nx = 1\r\ny = 2\r\n");
        let mut d = doc("[a]\nx=1");
        assert_eq!(d.append_variable("a", "y", "2"), Ok(()));
        assert_eq!(d.to_string(), "[a]\nx=1\ny=2");
        let mut d = doc("[a]\r\nx=1");
        assert_eq!(d.append_variable("a", "y", "2"), Ok(()));
        assert_eq!(d.new_category("b", &[]), Ok(()));
        assert_eq!(d.to_string(), "[a]\r\nx=1\r\ny=2\r\n\r\n[b]");
    }

    #[test]
    fn append_goes_after_a_block_comment_that_ends_the_category() {
        let mut d = doc("[a]\nx=1 ;-- open\nstill comment --;\n[b]\n");
        assert_eq!(d.append_variable("a", "y", "2"), Ok(()));
        assert_eq!(
            d.to_string(),
            "[a]\nx=1 ;-- open\nstill comment --;\ny=2\n[b]\n"
        );
    }

    #[test]
    fn delete_variable_removes_every_match() {
        let mut d = doc(SAMPLE);
        assert_eq!(d.delete_variable("6001", "ALLOW", Some("ALAW")), Ok(1));
        assert!(!d.to_string().contains("alaw"));
        assert_eq!(d.delete_variable("6001", "allow", None), Ok(1));
        assert_eq!(
            d.delete_variable("6001", "allow", None),
            Err(DocumentError::VariableNotFound {
                category: "6001".into(),
                key: "allow".into()
            })
        );
        let expected = SAMPLE.replace("allow = ulaw\nallow = alaw\n", "");
        assert_eq!(d.to_string(), expected);
    }

    #[test]
    fn delete_keeps_block_comment_structure() {
        let mut d = doc("[a]\nx=1 ;-- open\nclose --; y=2\nz=3\n");
        assert_eq!(d.delete_variable("a", "x", None), Ok(1));
        assert_eq!(d.delete_variable("a", "y", None), Ok(1));
        assert_eq!(d.to_string(), "[a]\n ;-- open\nclose --; \nz=3\n");
        assert_eq!(
            crate::parse_str("t", &d.to_string())
                .ok()
                .and_then(|c| c.get("a", "z").map(str::to_string)),
            Some("3".into())
        );
    }

    #[test]
    fn new_category_is_appended() {
        let mut d = doc(SAMPLE);
        assert_eq!(d.new_category("6003", &["endpoint-tmpl"]), Ok(()));
        assert_eq!(d.append_variable("6003", "context", "x"), Ok(()));
        assert_eq!(d.new_category("tmpl", &["!"]), Ok(()));
        assert!(
            d.to_string().ends_with(
                "context=from-internal\n\n[6003](endpoint-tmpl)\ncontext = x\n\n[tmpl](!)\n"
            ),
            "{d}"
        );
        assert_eq!(reparse(&d).get("6003", "context"), Some("x"));
        assert!(matches!(
            d.new_category("a]b", &[]),
            Err(DocumentError::InvalidName(_))
        ));
        assert!(matches!(
            d.new_category("ok", &["a,b"]),
            Err(DocumentError::InvalidName(_))
        ));
    }

    #[test]
    fn delete_category_keeps_the_comments_of_the_next_one() {
        let mut d = doc(SAMPLE);
        assert_eq!(d.delete_category("6001"), Ok(()));
        let out = d.to_string();
        assert!(
            out.contains("    spanning lines --;\n\n; about 6002\n[6002]"),
            "{out}"
        );
        assert!(!out.contains("6001"));
        assert_eq!(
            d.delete_category("6001"),
            Err(DocumentError::CategoryNotFound("6001".into()))
        );
        let mut d = doc("[a]\nx=1\n[a](+)\ny=2\n[b]\nz=3\n");
        assert_eq!(d.delete_category("a"), Ok(()));
        assert_eq!(d.to_string(), "[b]\nz=3\n");
    }

    #[test]
    fn deleting_a_header_takes_the_text_asterisk_ignores_after_it() {
        // Found by fuzzing: `[x]junk` on a line that closes a block comment. Removing
        // only `[x]` left `junk`, which then read as an option without '='.
        let mut d = doc("[a]\n;-- c\n--;[x]junk\nk=v\n[b]\n");
        assert_eq!(d.delete_category("x"), Ok(()));
        assert_eq!(d.to_string(), "[a]\n;-- c\n--;\n[b]\n");
    }

    #[test]
    fn spans_that_start_with_an_escaped_semicolon_include_its_backslash() {
        // Found by fuzzing: deleting `\;k = v` left its `\` behind.
        let mut d = doc("[a]\n\\;k = v ;-- open\n--;\n\\;v = \\;x\n");
        assert_eq!(d.delete_variable("a", ";k", None), Ok(1));
        assert_eq!(d.set_variable("a", ";v", "y"), Ok(()));
        assert_eq!(d.to_string(), "[a]\n ;-- open\n--;\n\\;v = y\n");
    }

    #[test]
    fn rename_category_renames_headers_and_template_uses() {
        let mut d = doc("[t](!)\na=1\n[o](t) ; uses t\n[t](+) \nb=2\n");
        assert_eq!(d.rename_category("T", "base"), Ok(2));
        assert_eq!(
            d.to_string(),
            "[base](!)\na=1\n[o](base) ; uses t\n[base](+) \nb=2\n"
        );
        assert_eq!(
            d.rename_category("zz", "y"),
            Err(DocumentError::CategoryNotFound("zz".into()))
        );
    }

    #[test]
    fn edits_inside_plus_blocks() {
        let mut d = doc("[a]\nx=1\n[b]\n[a](+)\nx=2\n");
        assert_eq!(d.get("a", "x"), Some("2"));
        assert_eq!(d.set_variable("a", "x", "3"), Ok(()));
        assert_eq!(d.append_variable("a", "y", "4"), Ok(()));
        assert_eq!(d.to_string(), "[a]\nx=1\n[b]\n[a](+)\nx=3\ny=4\n");
        assert_eq!(d.category_names().collect::<Vec<_>>(), ["a", "b"]);
    }
}
