//! The loaded configuration: categories of variables, in file order.

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use crate::Location;

/// One `name = value` (or `name => value`) line, after template inheritance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variable {
    /// The option name as written (lookups ignore ASCII case, as Asterisk's do).
    pub name: String,
    /// The value: trimmed, comments removed, `\;` turned into `;`, otherwise verbatim.
    pub value: String,
    /// Written with `=>` instead of `=` (Asterisk's "object" flag, used by
    /// `exten =>` in the dialplan and by object-style configs).
    pub object: bool,
    /// Copied from a template named in the category header.
    pub inherited: bool,
    /// Where the line was written (for an inherited variable: in the template).
    pub location: Location,
}

/// A `[name]` section with its variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Category {
    /// The name between the brackets, exactly as written.
    pub name: String,
    /// Templates named in the header (`[name](a,b)`), in order.
    pub templates: Vec<String>,
    /// Where the `[` of the header is.
    pub location: Location,
    pub(crate) vars: Vec<Variable>,
    pub(crate) template: bool,
}

impl Category {
    /// An empty category, for configurations built from another source (realtime
    /// `ast_config` rows, tests); [`Config::push`] adds it to a [`Config`].
    pub fn new(name: String, location: Location) -> Self {
        Self {
            name,
            templates: Vec::new(),
            location,
            vars: Vec::new(),
            template: false,
        }
    }

    /// Append a variable (after those already there, so it wins in [`Category::get`]).
    pub fn push(&mut self, var: Variable) {
        self.vars.push(var);
    }

    /// Make this a template-only category (as `(!)` does) or a regular one.
    pub fn set_template(&mut self, template: bool) {
        self.template = template;
    }

    /// The effective variables: inherited ones first (in template order), then the
    /// category's own, each in file order. Repeated names (several `allow=`) are kept.
    pub fn variables(&self) -> &[Variable] {
        &self.vars
    }

    /// The value of `key` (ASCII case-insensitive); the last one wins, so a
    /// category's own setting overrides its template's (Asterisk's `ast_variable_retrieve`).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.vars
            .iter()
            .rev()
            .find(|v| v.name.eq_ignore_ascii_case(key))
            .map(|v| v.value.as_str())
    }

    /// Every value of `key` in order, for options that may repeat (`allow`, `match`, `exten`).
    pub fn get_all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.vars
            .iter()
            .filter(move |v| v.name.eq_ignore_ascii_case(key))
            .map(|v| v.value.as_str())
    }

    /// True for a template-only category (`[name](!)`): it can be inherited from but
    /// is not one of [`Config::categories`].
    pub fn is_template(&self) -> bool {
        self.template
    }
}

/// A loaded configuration file (with everything it includes).
#[derive(Debug, Clone, Default)]
pub struct Config {
    pub(crate) cats: Vec<Category>,
    /// Lower-cased name -> indexes of the non-template categories of that name.
    pub(crate) index: HashMap<String, Vec<usize>>,
    pub(crate) files: Vec<Arc<str>>,
    pub(crate) paths: Vec<PathBuf>,
}

impl Config {
    /// An empty configuration (what a file without categories gives).
    pub fn new() -> Self {
        Self::default()
    }

    /// Append a category (for configurations built from another source). Names and
    /// values no file could produce (line breaks, `=` inside an option name, `]` in a
    /// category name) are kept as given but do not print back faithfully.
    pub fn push(&mut self, cat: Category) {
        let i = self.cats.len();
        if !cat.template {
            self.index
                .entry(cat.name.to_ascii_lowercase())
                .or_default()
                .push(i);
        }
        self.cats.push(cat);
    }

    /// The categories in file order, template-only ones (`(!)`) excluded.
    pub fn categories(&self) -> impl Iterator<Item = &Category> {
        self.cats.iter().filter(|c| !c.template)
    }

    /// The template-only categories (`[name](!)`), in file order.
    pub fn templates(&self) -> impl Iterator<Item = &Category> {
        self.cats.iter().filter(|c| c.template)
    }

    /// Every category, templates included, in file order (what the printer writes).
    pub fn all_categories(&self) -> impl Iterator<Item = &Category> {
        self.cats.iter()
    }

    /// The first category called `name` (ASCII case-insensitive), templates excluded.
    pub fn category(&self, name: &str) -> Option<&Category> {
        self.indexes(name).first().and_then(|&i| self.cats.get(i))
    }

    /// Every category called `name`, in file order: Asterisk allows the same name
    /// more than once (each is a separate object, e.g. several `[general]`).
    pub fn categories_named<'a>(
        &'a self,
        name: &'a str,
    ) -> impl Iterator<Item = &'a Category> + 'a {
        self.indexes(name).iter().filter_map(|&i| self.cats.get(i))
    }

    fn indexes(&self, name: &str) -> &[usize] {
        let found = if name.bytes().any(|b| b.is_ascii_uppercase()) {
            self.index.get(&name.to_ascii_lowercase())
        } else {
            self.index.get(name)
        };
        found.map_or(&[], |v| v.as_slice())
    }

    /// `category(category)?.get(key)`: the last value of `key` in the first such category.
    pub fn get(&self, category: &str, key: &str) -> Option<&str> {
        self.category(category)?.get(key)
    }

    /// Every file read (the main file first, then includes in the order first read),
    /// named as in [`Location::file`], so a reload can tell whether anything changed.
    pub fn files(&self) -> &[Arc<str>] {
        &self.files
    }

    /// The same files as [`Config::files`], as full paths that can be `stat`ed.
    pub fn paths(&self) -> &[PathBuf] {
        &self.paths
    }

    /// How many of category `i`'s first variables a re-read of its printed header
    /// `[name](templates)` would copy in, when they are exactly those; `None` when
    /// the header cannot reproduce the inheritance (then it is spelled out).
    /// `first` maps lower-cased names to the first category of that name before `i`.
    fn inherited_prefix(&self, i: usize, first: &HashMap<String, usize>) -> Option<usize> {
        let cat = self.cats.get(i)?;
        let mut n = 0usize;
        for t in &cat.templates {
            if !printable_template_name(t) {
                return None;
            }
            let base = first
                .get(&t.to_ascii_lowercase())
                .and_then(|&j| self.cats.get(j))?;
            for bv in &base.vars {
                let v = cat.vars.get(n)?;
                if !v.inherited || v.name != bv.name || v.value != bv.value || v.object != bv.object
                {
                    return None;
                }
                n += 1;
            }
        }
        if cat.vars.get(n..)?.iter().any(|v| v.inherited) {
            return None;
        }
        Some(n)
    }
}

fn printable_template_name(t: &str) -> bool {
    !t.is_empty()
        && t != "!"
        && !t.starts_with('+')
        && !t.contains([',', ')', '\n'])
        && crate::line::strip(t).len() == t.len()
}

/// Write `s` with every `;` escaped as `\;`.
pub(crate) fn write_escaped(f: &mut impl fmt::Write, s: &str) -> fmt::Result {
    let mut rest = s;
    while let Some(k) = rest.find(';') {
        f.write_str(rest.get(..k).unwrap_or(""))?;
        f.write_str("\\;")?;
        rest = rest.get(k + 1..).unwrap_or("");
    }
    f.write_str(rest)
}

/// Write an option name so that it reads back the same (first-character escape).
pub(crate) fn write_name(f: &mut impl fmt::Write, name: &str) -> fmt::Result {
    if name.starts_with(['[', '#', '\\', '=']) {
        f.write_char('\\')?;
    }
    write_escaped(f, name)
}

/// Prints the configuration in `.conf` syntax; reading the text back gives the
/// same categories and variables. Templates are written as `[name](!)` and
/// inheritance as `[name](a,b)` when that reproduces the variables exactly;
/// otherwise the category is written with all its variables spelled out.
impl fmt::Display for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first: HashMap<String, usize> = HashMap::new();
        for (i, cat) in self.cats.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            let prefix = self.inherited_prefix(i, &first);
            first.entry(cat.name.to_ascii_lowercase()).or_insert(i);
            f.write_str("[")?;
            write_escaped(f, &cat.name)?;
            f.write_str("]")?;
            let mut opts: Vec<&str> = Vec::new();
            if cat.template {
                opts.push("!");
            }
            if prefix.is_some() {
                opts.extend(cat.templates.iter().map(String::as_str));
            }
            if !opts.is_empty() {
                f.write_str("(")?;
                for (k, o) in opts.iter().enumerate() {
                    if k > 0 {
                        f.write_str(",")?;
                    }
                    write_escaped(f, o)?;
                }
                f.write_str(")")?;
            }
            writeln!(f)?;
            for v in cat.vars.get(prefix.unwrap_or(0)..).unwrap_or(&[]) {
                write_name(f, &v.name)?;
                f.write_str(if v.object { " => " } else { " = " })?;
                write_escaped(f, &v.value)?;
                writeln!(f)?;
            }
        }
        Ok(())
    }
}
