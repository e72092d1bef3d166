//! Building a [`Dialplan`] from `extensions.conf` entries, as `pbx_config` does.
//!
//! Input is a sequence of [`Entry`] (category, name, value, file, line) as a `.conf`
//! reader produces them. `[general]` and `[globals]` are options and variables; every
//! other category is a context whose entries are:
//!
//! * `exten => name[/cid],priority[(label)],App(args)` — priority is a number, `n`
//!   (previous line's priority + 1, whatever its extension), `s` (same as previous),
//!   `hint`, or a label of this extension; `+N` adds to it (`n+2`, `s+1`, `label+1`);
//! * `same => priority[(label)],App(args)` — the previous `exten`'s name;
//! * `include => ctx[,times,weekdays,mdays,months[,tz]]`;
//! * `switch` / `lswitch` / `eswitch => Module/data`;
//! * `ignorepat => pattern`.
//!
//! Like Asterisk, a bad line is reported and skipped; the rest still loads.

use std::sync::Arc;

use thiserror::Error;

use crate::model::{
    Dialplan, Hint, IgnorePattern, Include, Location, Priority, Switch, SwitchKind,
};
use crate::pattern::Pattern;
use crate::scope::MapScope;
use crate::subst::substitute;
use crate::timerange::TimeSpec;

/// One `name = value` / `name => value` line of a category.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry<'a> {
    /// Category (`general`, `globals` or a context name).
    pub category: &'a str,
    /// Option name (`exten`, `same`, `include`, ...).
    pub name: &'a str,
    /// Value (right of `=>`).
    pub value: &'a str,
    /// File name.
    pub file: &'a str,
    /// Line number.
    pub line: u32,
}

/// What is wrong with a line.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum ParseErrorKind {
    /// `exten => 100` without priority or application.
    #[error("no priority given")]
    MissingPriority,
    /// Priority not a number, `n`, `s`, `hint` or a known label.
    #[error("invalid priority/label '{0}'")]
    InvalidPriority(String),
    /// `n`/`s` on the first line of a context.
    #[error("can't use '{0}' priority on the first entry")]
    NoPreviousPriority(String),
    /// `same =>` before any `exten =>`.
    #[error("cannot use 'same' without a previous 'exten'")]
    SameWithoutExten,
    /// Empty extension name.
    #[error("empty extension name")]
    EmptyExtension,
    /// Two steps with the same priority.
    #[error(
        "unable to register extension '{exten}' priority {priority} in '{context}', already in use"
    )]
    DuplicatePriority {
        /// Extension name.
        exten: String,
        /// Priority number.
        priority: i32,
        /// Context name.
        context: String,
    },
    /// Two steps with the same label in one extension.
    #[error("extension '{exten}' label '{label}' in '{context}' already in use")]
    DuplicateLabel {
        /// Extension name.
        exten: String,
        /// Label.
        label: String,
        /// Context name.
        context: String,
    },
    /// Two hints for one extension.
    #[error("extension '{0}' already has a hint")]
    DuplicateHint(String),
    /// `include =>` with nothing.
    #[error("empty include")]
    EmptyInclude,
    /// Time specification items that were skipped.
    #[error("include time specification: {0}")]
    BadTimeSpec(String),
    /// `switch =>` with nothing.
    #[error("empty switch")]
    EmptySwitch,
    /// `App(args` without `)` (the line is still loaded).
    #[error("no closing parenthesis in '{0}'")]
    MissingParenthesis(String),
    /// A name pbx_config does not know in a context.
    #[error("unknown directive '{0}', ignored")]
    UnknownDirective(String),
}

/// A reported line: where and what.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("{location}: {kind}")]
pub struct ParseError {
    /// File and line.
    pub location: Location,
    /// The problem.
    pub kind: ParseErrorKind,
}

/// Incremental builder: feed entries in file order, then [`Builder::finish`].
#[derive(Debug, Default)]
pub struct Builder {
    dp: Dialplan,
    errors: Vec<ParseError>,
    category: Option<String>,
    last_priority: Option<i32>,
    last_exten: Option<String>,
    file: Option<Arc<str>>,
    dirty: Vec<String>,
    globals: MapScope,
}

/// `ast_true`.
fn is_true(v: &str) -> bool {
    ["yes", "true", "y", "t", "1", "on"]
        .iter()
        .any(|t| v.trim().eq_ignore_ascii_case(t))
}

/// `ast_shrink_phone_number` for caller-id filters: drops `(`, `)`, unbracketed `-`
/// and a `.` that is not last.
fn shrink_phone_number(n: &str) -> String {
    let mut out = String::with_capacity(n.len());
    let mut bracketed = 0i32;
    let mut it = n.chars().peekable();
    while let Some(c) = it.next() {
        match c {
            '[' => {
                bracketed += 1;
                out.push(c);
            }
            ']' => {
                bracketed -= 1;
                out.push(c);
            }
            '-' => {
                if bracketed > 0 {
                    out.push(c);
                }
            }
            '.' => {
                if it.peek().is_none() {
                    out.push(c);
                }
            }
            '(' | ')' => {}
            _ => out.push(c),
        }
    }
    out
}

impl Builder {
    /// An empty builder.
    pub fn new() -> Builder {
        Builder::default()
    }

    fn location(&mut self, e: &Entry<'_>) -> Location {
        let file = match &self.file {
            Some(f) if **f == *e.file => f.clone(),
            _ => {
                let f: Arc<str> = e.file.into();
                self.file = Some(f.clone());
                f
            }
        };
        Location { file, line: e.line }
    }

    fn error(&mut self, location: Location, kind: ParseErrorKind) {
        self.errors.push(ParseError { location, kind });
    }

    /// Starts a category (`[name]`): resets `n`/`same` state and creates the context,
    /// so an empty `[ctx]` still exists (as in Asterisk). [`Builder::add`] calls it
    /// when the category of an entry changes.
    pub fn category(&mut self, name: &str) {
        self.category = Some(name.to_owned());
        self.last_priority = None;
        self.last_exten = None;
        if !name.eq_ignore_ascii_case("general") && !name.eq_ignore_ascii_case("globals") {
            self.dp.context_mut(name);
        }
    }

    /// Adds one entry.
    pub fn add(&mut self, e: Entry<'_>) {
        if self.category.as_deref() != Some(e.category) {
            self.category(e.category);
        }
        let location = self.location(&e);
        let name = e.name.trim();
        let value = e.value.trim();
        if e.category.eq_ignore_ascii_case("general") {
            let g = &mut self.dp.general;
            match name.to_ascii_lowercase().as_str() {
                "static" => g.static_config = is_true(value),
                "writeprotect" => g.writeprotect = is_true(value),
                "autofallthrough" => g.autofallthrough = is_true(value),
                "extenpatternmatchnew" => g.extenpatternmatchnew = is_true(value),
                "clearglobalvars" => g.clearglobalvars = is_true(value),
                "userscontext" => g.userscontext = value.to_owned(),
                _ => {}
            }
            return;
        }
        if e.category.eq_ignore_ascii_case("globals") {
            // pbx_config substitutes global values (against the globals set so far).
            let value = substitute(value, &mut self.globals);
            self.globals.vars.insert(name.to_owned(), value.clone());
            self.dp.globals.push((name.to_owned(), value));
            return;
        }
        let context = e.category;
        self.dp.context_mut(context);
        match name.to_ascii_lowercase().as_str() {
            "exten" => self.exten(context, value, false, location),
            "same" => self.exten(context, value, true, location),
            "include" => self.include(context, value, location),
            "switch" => self.switch(context, value, SwitchKind::Switch, location),
            "lswitch" => self.switch(context, value, SwitchKind::LSwitch, location),
            "eswitch" => self.switch(context, value, SwitchKind::ESwitch, location),
            "ignorepat" => {
                let pattern = Pattern::new(value);
                self.dp
                    .context_mut(context)
                    .ignore_patterns
                    .push(IgnorePattern { pattern, location });
            }
            _ => self.error(location, ParseErrorKind::UnknownDirective(name.to_owned())),
        }
    }

    fn include(&mut self, context: &str, value: &str, location: Location) {
        let (target, timing) = match value.split_once([',', '|']) {
            Some((c, t)) => (c.trim(), Some(t)),
            None => (value, None),
        };
        if target.is_empty() {
            self.error(location, ParseErrorKind::EmptyInclude);
            return;
        }
        let time = match timing {
            Some(t) if !t.is_empty() => {
                let (spec, warnings) = TimeSpec::parse(t);
                for w in warnings {
                    self.error(location.clone(), ParseErrorKind::BadTimeSpec(w));
                }
                Some(spec)
            }
            _ => None,
        };
        self.dp.context_mut(context).includes.push(Include {
            name: value.to_owned(),
            context: target.to_owned(),
            time,
            location,
        });
    }

    fn switch(&mut self, context: &str, value: &str, kind: SwitchKind, location: Location) {
        if value.is_empty() {
            self.error(location, ParseErrorKind::EmptySwitch);
            return;
        }
        let (module, data) = value.split_once('/').unwrap_or((value, ""));
        self.dp.context_mut(context).switches.push(Switch {
            kind,
            module: module.trim().to_owned(),
            data: data.to_owned(),
            location,
        });
    }

    fn exten(&mut self, context: &str, value: &str, same: bool, location: Location) {
        let (ext, rest) = if same {
            match &self.last_exten {
                Some(x) => (x.clone(), value),
                None => {
                    self.error(location, ParseErrorKind::SameWithoutExten);
                    return;
                }
            }
        } else {
            match value.split_once(',') {
                Some((x, r)) => (x.trim().to_owned(), r),
                None => {
                    self.error(location, ParseErrorKind::MissingPriority);
                    return;
                }
            }
        };
        // pbx_config substitutes globals in extension names (`${PREFIX}100`).
        let ext = if ext.contains("${") || ext.contains("$[") {
            substitute(&ext, &mut self.globals)
        } else {
            ext
        };
        if ext.is_empty() {
            self.error(location, ParseErrorKind::EmptyExtension);
            return;
        }
        self.last_exten = Some(ext.clone());
        let (pri, appl) = match rest.split_once(',') {
            Some((p, a)) => (p.trim(), a.trim()),
            None => (rest.trim(), ""),
        };
        let (name_text, cid_text) = match ext.split_once('/') {
            Some((n, c)) => (n, Some(shrink_phone_number(c))),
            None => (ext.as_str(), None),
        };
        let name = Pattern::new(name_text);
        let cid = cid_text.as_deref().map(Pattern::new);

        // priority[(label)][+offset]
        let (pri_text, label) = match pri.split_once('(') {
            Some((p, l)) => {
                let l = match l.split_once(')') {
                    Some((l, _)) => l,
                    None => l,
                };
                (
                    p.trim(),
                    Some(l.trim().to_owned()).filter(|l| !l.is_empty()),
                )
            }
            None => (pri, None),
        };
        let (base, plus) = match pri_text.split_once('+') {
            Some((b, p)) => (b.trim(), Some(p.trim())),
            None => (pri_text, None),
        };
        if base.eq_ignore_ascii_case("hint") {
            self.last_priority = Some(-1);
            let (devices, presence) = match appl.split_once(',') {
                Some((d, p)) => (d.to_owned(), Some(p.to_owned())),
                None => (appl.to_owned(), None),
            };
            let ctx = self.dp.context_mut(context);
            let ext = ctx.extension_mut(name, cid);
            if ext.hint.is_some() {
                let n = ext.name.as_str().to_owned();
                self.error(location, ParseErrorKind::DuplicateHint(n));
                return;
            }
            ext.hint = Some(Hint {
                devices,
                presence,
                location,
            });
            self.mark_dirty(context);
            return;
        }
        let number = match base {
            "n" | "next" => match self.last_priority {
                Some(p) => Some(p.saturating_add(1)),
                None => {
                    self.error(
                        location,
                        ParseErrorKind::NoPreviousPriority(base.to_owned()),
                    );
                    return;
                }
            },
            "s" | "same" => match self.last_priority {
                Some(p) => Some(p),
                None => {
                    self.error(
                        location,
                        ParseErrorKind::NoPreviousPriority(base.to_owned()),
                    );
                    return;
                }
            },
            _ => leading_int(base).or_else(|| {
                let ctx = self.dp.context(context)?;
                let e = ctx
                    .extensions
                    .iter()
                    .find(|e| e.same_entry(&name, cid.as_ref()))?;
                e.label(base).map(|p| p.number)
            }),
        };
        let Some(mut number) = number else {
            self.error(location, ParseErrorKind::InvalidPriority(pri.to_owned()));
            return;
        };
        if let Some(p) = plus {
            number = number.saturating_add(leading_int(p).unwrap_or(0));
        }
        if number < 1 {
            self.error(location, ParseErrorKind::InvalidPriority(pri.to_owned()));
            return;
        }
        self.last_priority = Some(number);

        let (app, data) = match appl.split_once('(') {
            Some((a, rest)) => match rest.rfind(')') {
                Some(end) => (a.trim(), rest.get(..end).unwrap_or_default()),
                None => {
                    self.error(
                        location.clone(),
                        ParseErrorKind::MissingParenthesis(appl.to_owned()),
                    );
                    (a.trim(), rest)
                }
            },
            None => (appl, ""),
        };
        let step = Priority {
            number,
            label,
            app: app.to_owned(),
            data: data.to_owned(),
            location,
        };
        let ctx = self.dp.context_mut(context);
        let ctx_name = ctx.name.clone();
        let ext = ctx.extension_mut(name, cid);
        let ext_name = ext.name.as_str().to_owned();
        if let Some(l) = &step.label
            && ext.label(l).is_some()
        {
            let kind = ParseErrorKind::DuplicateLabel {
                exten: ext_name,
                label: l.clone(),
                context: ctx_name,
            };
            let loc = step.location.clone();
            self.error(loc, kind);
            return;
        }
        match ext.priorities.binary_search_by_key(&number, |p| p.number) {
            Ok(_) => {
                let loc = step.location.clone();
                self.error(
                    loc,
                    ParseErrorKind::DuplicatePriority {
                        exten: ext_name,
                        priority: number,
                        context: ctx_name,
                    },
                );
            }
            Err(i) => {
                ext.priorities.insert(i, step);
                self.mark_dirty(context);
            }
        }
    }

    fn mark_dirty(&mut self, context: &str) {
        if !self.dirty.iter().any(|c| c == context) {
            self.dirty.push(context.to_owned());
        }
    }

    /// The finished dialplan and every reported line.
    pub fn finish(mut self) -> (Dialplan, Vec<ParseError>) {
        for c in std::mem::take(&mut self.dirty) {
            self.dp.context_mut(&c).reindex();
        }
        (self.dp, self.errors)
    }
}

/// `sscanf("%d")`: leading blanks, optional sign, digits.
fn leading_int(s: &str) -> Option<i32> {
    let t = s.trim_start();
    let b = t.as_bytes();
    let start = usize::from(matches!(b.first(), Some(b'-' | b'+')));
    let digits = b
        .get(start..)
        .unwrap_or_default()
        .iter()
        .take_while(|c| c.is_ascii_digit())
        .count();
    if digits == 0 {
        return None;
    }
    let v: i64 = t
        .get(..start + digits)
        .and_then(|d| d.parse().ok())
        .unwrap_or(i64::MAX);
    i32::try_from(v.clamp(i64::from(i32::MIN), i64::from(i32::MAX))).ok()
}

impl Dialplan {
    /// Builds a dialplan from entries in file order; returns every line that was
    /// reported (and skipped, unless the error says otherwise).
    pub fn from_entries<'a, I>(entries: I) -> (Dialplan, Vec<ParseError>)
    where
        I: IntoIterator<Item = Entry<'a>>,
    {
        let mut b = Builder::new();
        for e in entries {
            b.add(e);
        }
        b.finish()
    }
}

/// A line of text split into an [`Entry`]-like owned record by [`minimal_lines`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnedEntry {
    /// Category.
    pub category: String,
    /// Name.
    pub name: String,
    /// Value.
    pub value: String,
    /// Line number.
    pub line: u32,
}

impl OwnedEntry {
    /// Borrows as an [`Entry`] of `file`.
    pub fn entry<'a>(&'a self, file: &'a str) -> Entry<'a> {
        Entry {
            category: &self.category,
            name: &self.name,
            value: &self.value,
            file,
            line: self.line,
        }
    }
}

/// A minimal `.conf` line splitter for tests, fuzzing, benchmarks and snippets:
/// `[category]` headers, `name => value` / `name = value` lines, `;` comments (no
/// `\;` escape, templates or `#include`: real files go through `obelus-conf`).
pub fn minimal_lines(text: &str) -> Vec<OwnedEntry> {
    let mut out = Vec::new();
    let mut category = String::new();
    for (n, raw) in text.lines().enumerate() {
        let line = u32::try_from(n + 1).unwrap_or(u32::MAX);
        let content = raw.split(';').next().unwrap_or_default().trim();
        if content.is_empty() {
            continue;
        }
        if let Some(rest) = content.strip_prefix('[') {
            category = rest.split(']').next().unwrap_or_default().trim().to_owned();
            continue;
        }
        let (name, value) = match content.split_once("=>") {
            Some((n, v)) if !n.contains('=') => (n, v),
            _ => match content.split_once('=') {
                Some((n, v)) => (n, v.strip_prefix('>').unwrap_or(v)),
                None => continue,
            },
        };
        out.push(OwnedEntry {
            category: category.clone(),
            name: name.trim().to_owned(),
            value: value.trim().to_owned(),
            line,
        });
    }
    out
}

/// Builds a dialplan from text with [`minimal_lines`].
pub fn from_text(text: &str, file: &str) -> (Dialplan, Vec<ParseError>) {
    let lines = minimal_lines(text);
    Dialplan::from_entries(lines.iter().map(|l| l.entry(file)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
[general]
static=yes
writeprotect=no
autofallthrough=no
extenpatternmatchnew=yes
clearglobalvars=yes

[globals]
TRUNK=PJSIP/trunk

[from-internal]
exten => 100,1,Answer()
 same => n,Playback(hello-world)
 same => n(done),Hangup()
exten => _9NXXXXXX,1,Dial(PJSIP/${EXTEN:1}@trunk,30)
exten => 200,hint,PJSIP/alice&Custom:dnd200
exten => 300/5551212,1,NoOp(only when caller id is 5551212)
exten => 300,1,NoOp(anyone else)
include => other-context
include => daytime,09:00-17:00,mon-fri,*,*
switch => Realtime/@extensions
ignorepat => 9
";

    #[test]
    fn reference_sample_loads() {
        let (dp, errors) = from_text(SAMPLE, "extensions.conf");
        assert!(errors.is_empty(), "{errors:?}");
        let g = dp.general();
        assert!(g.static_config && !g.writeprotect && !g.autofallthrough);
        assert!(g.extenpatternmatchnew && g.clearglobalvars);
        assert_eq!(
            dp.globals(),
            [("TRUNK".to_owned(), "PJSIP/trunk".to_owned())]
        );
        let c = dp.context("from-internal").expect("context");
        let names: Vec<_> = c.extensions().iter().map(|e| e.name().as_str()).collect();
        assert_eq!(names, ["100", "200", "300", "300", "_9NXXXXXX"]);
        let e100 = &c.extensions()[0];
        assert_eq!(e100.priorities().len(), 3);
        let done = e100.label("done").expect("label");
        assert_eq!(
            (done.number, done.app.as_str(), done.data.as_str()),
            (3, "Hangup", "")
        );
        assert_eq!(done.location.to_string(), "extensions.conf:14");
        assert_eq!(
            c.extensions()[1].hint().map(|h| h.devices.as_str()),
            Some("PJSIP/alice&Custom:dnd200")
        );
        assert_eq!(
            c.extensions()[2].caller_id().map(Pattern::as_str),
            Some("5551212"),
            "the CID-filtered 300 sorts first"
        );
        assert_eq!(c.includes().len(), 2);
        assert!(c.includes()[1].time.is_some());
        assert_eq!(c.switches()[0].module, "Realtime");
        assert_eq!(c.switches()[0].data, "@extensions");
        assert!(c.ignores("9"));
    }

    #[test]
    fn globals_are_substituted_at_load() {
        let text = "[globals]\nPREFIX=9\nTRUNK=PJSIP/${PREFIX}trunk\n[c]\nexten => ${PREFIX}100,1,NoOp(${TRUNK})\n";
        let (dp, errors) = from_text(text, "e.conf");
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(
            dp.globals()[1],
            ("TRUNK".to_owned(), "PJSIP/9trunk".to_owned())
        );
        let e = &dp.context("c").expect("c").extensions()[0];
        assert_eq!(e.name().as_str(), "9100");
        assert_eq!(
            e.priorities()[0].data,
            "${TRUNK}",
            "application data stays raw"
        );
    }

    #[test]
    fn priorities_n_s_labels_offsets() {
        let text = "[c]\nexten => 1,1,A()\nexten => 2,n,B()\nexten => 2,s+2,C()\n\
                    exten => 1,5(five),D()\nexten => 1,five+1,E()\nsame => n+1,F()\n";
        let (dp, errors) = from_text(text, "e.conf");
        assert!(errors.is_empty(), "{errors:?}");
        let c = dp.context("c").expect("c");
        let p = |x: usize| -> Vec<i32> {
            c.extensions()[x]
                .priorities()
                .iter()
                .map(|p| p.number)
                .collect()
        };
        assert_eq!(p(0), [1, 5, 6, 8]);
        assert_eq!(
            p(1),
            [2, 4],
            "n follows the previous line, whatever its extension"
        );
    }

    #[test]
    fn errors_name_file_and_line() {
        let text = "[c]\nsame => n,A()\nexten => 1,n,A()\nexten => 1,1,A()\nexten => 1,1,B()\n\
                    exten => 1,x,C()\nexten => 2,1,Dial(x\nbogus => 1\nexten => 3\n";
        let (dp, errors) = from_text(text, "extensions.conf");
        let shown: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "extensions.conf:2: cannot use 'same' without a previous 'exten'",
                "extensions.conf:3: can't use 'n' priority on the first entry",
                "extensions.conf:5: unable to register extension '1' priority 1 in 'c', already in use",
                "extensions.conf:6: invalid priority/label 'x'",
                "extensions.conf:7: no closing parenthesis in 'Dial(x'",
                "extensions.conf:8: unknown directive 'bogus', ignored",
                "extensions.conf:9: no priority given",
            ]
        );
        let c = dp.context("c").expect("c");
        assert_eq!(c.extensions()[1].priorities()[0].data, "x");
    }
}
