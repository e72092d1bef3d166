//! Statements to categories: templates, `(+)`, `+=`, includes, error recovery.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::MAX_ERRORS;
use crate::include;
use crate::line::{self, Op, Scanner, Stmt};
use crate::model::{Category, Config, Variable};
use crate::{ConfError, ConfErrorKind, ConfErrors, LoadOptions, Location};

/// Deepest include nesting (Asterisk stops at 10; a little more is harmless).
pub(crate) const MAX_INCLUDE_DEPTH: usize = 32;
/// Most files read for one load, so that globs including each other cannot explode.
pub(crate) const MAX_LOADS: usize = 1000;

/// Where `#include` may look.
pub(crate) enum Source<'a> {
    /// Text not read from disk: every directive is an error.
    Text,
    /// A config directory.
    Dir {
        dir: &'a Path,
        opts: &'a LoadOptions,
    },
}

/// The categories sharing one (lower-cased) name.
struct Named {
    /// The first of them, template or not: what `[x](name)` inherits from.
    first: usize,
    /// Those created as regular categories, in order (some may have become
    /// templates since, through `(+,!)`).
    regular: Vec<usize>,
    /// Entries of `regular` before this one are known to be templates now.
    cursor: usize,
}

/// Builds a [`Config`] from one or more files.
pub(crate) struct Loader<'a> {
    pub(crate) source: Source<'a>,
    cats: Vec<Category>,
    /// Lower-cased name -> the categories of that name.
    names: HashMap<String, Named>,
    /// Asterisk's `cfg->current`: the last category started or added to, anywhere.
    current: Option<usize>,
    errors: Vec<ConfError>,
    stopped: bool,
    files: Vec<Arc<str>>,
    paths: Vec<PathBuf>,
    /// Identities of the files being read (for loop detection).
    pub(crate) stack: Vec<PathBuf>,
    pub(crate) loads: usize,
}

impl<'a> Loader<'a> {
    pub(crate) fn new(source: Source<'a>) -> Self {
        Self {
            source,
            cats: Vec::new(),
            names: HashMap::new(),
            current: None,
            errors: Vec::new(),
            stopped: false,
            files: Vec::new(),
            paths: Vec::new(),
            stack: Vec::new(),
            loads: 0,
        }
    }

    /// Record an error; past [`MAX_ERRORS`] stop reading.
    pub(crate) fn error(&mut self, location: Location, kind: ConfErrorKind) {
        if self.stopped {
            return;
        }
        if self.errors.len() + 1 >= MAX_ERRORS {
            self.errors.push(ConfError {
                location,
                kind: ConfErrorKind::TooManyErrors(MAX_ERRORS),
            });
            self.stopped = true;
        } else {
            self.errors.push(ConfError { location, kind });
        }
    }

    pub(crate) fn stopped(&self) -> bool {
        self.stopped
    }

    /// Remember a file that was read (once).
    pub(crate) fn record_file(&mut self, name: &Arc<str>, path: PathBuf) {
        if !self.paths.contains(&path) {
            self.files.push(name.clone());
            self.paths.push(path);
        }
    }

    pub(crate) fn finish(self) -> Result<Config, ConfErrors> {
        if self.errors.is_empty() {
            let cats = self.cats;
            let index = self
                .names
                .into_iter()
                .filter_map(|(k, n)| {
                    let regular: Vec<usize> = n
                        .regular
                        .into_iter()
                        .filter(|&i| cats.get(i).is_some_and(|c| !c.template))
                        .collect();
                    (!regular.is_empty()).then_some((k, regular))
                })
                .collect();
            Ok(Config {
                cats,
                index,
                files: self.files,
                paths: self.paths,
            })
        } else {
            Err(ConfErrors(self.errors))
        }
    }

    /// Read the text of one file named `file`.
    pub(crate) fn parse_text(&mut self, file: &Arc<str>, text: &str) {
        let mut scanner = Scanner::new();
        // Asterisk starts each file in the current category of the whole load, and
        // after an `#include` goes on in the category it was in before.
        let mut cur = self.current;
        let mut skip = false;
        let mut lineno: u32 = 0;
        // A UTF-8 byte order mark (Windows editors add one) is not part of line 1.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        for raw in text.split('\n') {
            if self.stopped {
                return;
            }
            lineno = lineno.saturating_add(1);
            let cooked = scanner.cook(raw, lineno);
            let stmt = line::parse_stmt(cooked.text);
            let loc =
                |p: usize| Location::new(file.clone(), lineno, line::column(raw, cooked.orig(p)));
            match stmt {
                Stmt::Empty => {}
                Stmt::Error { at, kind } => {
                    // A broken header makes its body meaningless: skip it quietly.
                    if matches!(
                        kind,
                        ConfErrorKind::UnclosedCategory | ConfErrorKind::UnclosedOptions
                    ) {
                        skip = true;
                        cur = None;
                    }
                    let l = loc(at);
                    self.error(l, kind);
                }
                Stmt::Header {
                    open, name, opts, ..
                } => {
                    let name = cooked.text.get(name).unwrap_or("").to_string();
                    let opts = opts.map(|r| (r.start, cooked.text.get(r).unwrap_or("")));
                    match self.header(name, opts, loc(open), &loc) {
                        Some(i) => {
                            cur = Some(i);
                            skip = false;
                        }
                        None => {
                            cur = None;
                            skip = true;
                        }
                    }
                }
                Stmt::Directive { start, name, arg } => {
                    let name = cooked.text.get(name).unwrap_or("");
                    let arg = arg.and_then(|r| cooked.text.get(r));
                    let l = loc(start);
                    self.directive(name, arg, l);
                }
                Stmt::Var {
                    start,
                    name,
                    value,
                    op,
                } => {
                    if skip {
                        continue;
                    }
                    let Some(ci) = cur else {
                        self.error(loc(start), ConfErrorKind::NoCategory);
                        skip = true;
                        continue;
                    };
                    let name = cooked.text.get(name).unwrap_or("");
                    let value = cooked.text.get(value).unwrap_or("");
                    let l = loc(start);
                    self.variable(ci, name, value, op, l);
                }
            }
        }
        if scanner.depth() > 0 {
            let (l, off) = scanner.open_at().unwrap_or((lineno, 0));
            let col = text
                .split('\n')
                .nth(l.saturating_sub(1) as usize)
                .map_or(1, |r| line::column(r, off));
            self.error(
                Location::new(file.clone(), l, col),
                ConfErrorKind::UnterminatedComment,
            );
        }
    }

    fn variable(&mut self, ci: usize, name: &str, value: &str, op: Op, location: Location) {
        let Some(cat) = self.cats.get_mut(ci) else {
            return;
        };
        if op == Op::Append {
            // `name += more`: append to the last variable of exactly that name
            // (Asterisk compares case-sensitively here), keeping its place and flag.
            if let Some(v) = cat.vars.iter_mut().rev().find(|v| v.name == name) {
                let mut joined = std::mem::take(&mut v.value);
                joined.push_str(value);
                v.value = line::strip(&joined).to_string();
                v.inherited = false;
                return;
            }
        }
        cat.vars.push(Variable {
            name: name.to_string(),
            value: line::strip(value).to_string(),
            object: op == Op::Object,
            inherited: false,
            location,
        });
    }

    /// A `[name](options)` header; returns the category that following lines go to.
    fn header(
        &mut self,
        name: String,
        opts: Option<(usize, &str)>,
        location: Location,
        loc: &dyn Fn(usize) -> Location,
    ) -> Option<usize> {
        let mut new = Category::new(name, location);
        let mut target: Option<usize> = None;
        if let Some((base_off, opts)) = opts {
            let mut off = base_off;
            for tok in opts.split(',') {
                let tok_off = off;
                off += tok.len() + 1;
                let t = line::strip(tok);
                if t == "!" {
                    match target.and_then(|i| self.cats.get_mut(i)) {
                        Some(c) => c.template = true,
                        None => new.template = true,
                    }
                } else if let Some(filter) = t.strip_prefix('+') {
                    if !filter.is_empty() {
                        self.error(
                            loc(tok_off),
                            ConfErrorKind::UnsupportedFilter(t.to_string()),
                        );
                        return None;
                    }
                    if target.is_some() {
                        continue;
                    }
                    let key = new.name.to_ascii_lowercase();
                    // The first regular category of that name (Asterisk 13+); failing
                    // that a template of that name (what older Asterisk allowed).
                    let Some(i) = self
                        .first_regular(&key)
                        .or_else(|| self.names.get(&key).map(|n| n.first))
                    else {
                        self.error(loc(tok_off), ConfErrorKind::AddToMissing(new.name));
                        return None;
                    };
                    let existing = self.cats.get_mut(i)?;
                    existing.template |= new.template;
                    existing.vars.append(&mut new.vars);
                    existing.templates.append(&mut new.templates);
                    target = Some(i);
                } else if t.is_empty() {
                    self.error(loc(tok_off), ConfErrorKind::EmptyOption);
                    return None;
                } else {
                    let Some(base) = self
                        .names
                        .get(&t.to_ascii_lowercase())
                        .and_then(|n| self.cats.get(n.first))
                    else {
                        self.error(loc(tok_off), ConfErrorKind::TemplateNotFound(t.to_string()));
                        return None;
                    };
                    let copied: Vec<Variable> = base
                        .vars
                        .iter()
                        .map(|v| Variable {
                            inherited: true,
                            ..v.clone()
                        })
                        .collect();
                    let dest = match target {
                        Some(i) => self.cats.get_mut(i)?,
                        None => &mut new,
                    };
                    dest.vars.extend(copied);
                    dest.templates.push(t.to_string());
                }
            }
        }
        let idx = match target {
            Some(i) => i,
            None => {
                let i = self.cats.len();
                let key = new.name.to_ascii_lowercase();
                let named = self.names.entry(key).or_insert_with(|| Named {
                    first: i,
                    regular: Vec::new(),
                    cursor: 0,
                });
                if !new.template {
                    named.regular.push(i);
                }
                self.cats.push(new);
                i
            }
        };
        self.current = Some(idx);
        Some(idx)
    }

    /// The first category called `key` that is not a template (now).
    fn first_regular(&mut self, key: &str) -> Option<usize> {
        let named = self.names.get_mut(key)?;
        while let Some(&i) = named.regular.get(named.cursor) {
            if self.cats.get(i).is_some_and(|c| !c.template) {
                return Some(i);
            }
            named.cursor += 1;
        }
        None
    }

    fn directive(&mut self, name: &str, arg: Option<&str>, at: Location) {
        let kind = name.to_ascii_lowercase();
        if !matches!(kind.as_str(), "include" | "tryinclude" | "exec") {
            self.error(at, ConfErrorKind::UnknownDirective(name.to_string()));
            return;
        }
        let arg = arg.map(dequote).filter(|a| !a.is_empty());
        let Some(arg) = arg else {
            self.error(at, ConfErrorKind::MissingArgument(kind));
            return;
        };
        let (dir, opts) = match self.source {
            Source::Text => {
                self.error(at, ConfErrorKind::IncludeNotAllowed(kind));
                return;
            }
            Source::Dir { dir, opts } => (dir, opts),
        };
        if kind == "exec" {
            if opts.exec_enabled {
                include::exec(self, arg, &at);
            } else {
                self.error(at, ConfErrorKind::ExecDisabled(arg.to_string()));
            }
        } else {
            include::include(self, dir, arg, kind == "tryinclude", &at);
        }
    }
}

/// Asterisk strips one pair of `"..."` or `<...>` around a directive's argument.
fn dequote(arg: &str) -> &str {
    for (open, close) in [('"', '"'), ('<', '>')] {
        if let Some(rest) = arg.strip_prefix(open) {
            return rest.strip_suffix(close).unwrap_or(arg);
        }
    }
    arg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dequote_strips_one_pair() {
        assert_eq!(dequote("\"a b.conf\""), "a b.conf");
        assert_eq!(dequote("<x.conf>"), "x.conf");
        assert_eq!(dequote("\"x.conf"), "\"x.conf");
        assert_eq!(dequote("x.conf"), "x.conf");
        assert_eq!(dequote("\""), "\"");
    }
}
