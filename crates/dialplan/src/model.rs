//! The extensions model: a [`Dialplan`] of [`Context`]s holding [`Extension`]s (each a
//! name, an optional caller-id filter, [`Priority`] steps and an optional [`Hint`]),
//! [`Include`]s, [`Switch`]es and ignore patterns.
//!
//! Extensions of a context are kept in Asterisk's order ([`crate::ordering`]), so the
//! first matching entry is the one Asterisk picks; literal names are also indexed by
//! their fluff-free text for O(1) exact lookup.

use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use crate::ordering::cmp_entries;
use crate::pattern::{Elem, Pattern};
use crate::timerange::TimeSpec;

/// A fast hasher for the literal index (keys come from the configuration; lookups
/// never insert, so dialled strings cannot degrade the table).
#[derive(Default, Clone, Copy)]
pub(crate) struct FxHasher(u64);

const FX_SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            for (d, s) in word.iter_mut().zip(chunk) {
                *d = *s;
            }
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(word)).wrapping_mul(FX_SEED);
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.0 = (self.0.rotate_left(5) ^ u64::from(i)).wrapping_mul(FX_SEED);
    }

    fn write_usize(&mut self, i: usize) {
        self.0 = (self.0.rotate_left(5) ^ i as u64).wrapping_mul(FX_SEED);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type FxBuild = BuildHasherDefault<FxHasher>;

/// Where a line came from (`dialplan show` prints it as `[file:line]`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Location {
    /// File name as the configuration loader reported it (`extensions.conf`).
    pub file: Arc<str>,
    /// 1-based line number.
    pub line: u32,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// One step of an extension: `App(args)` at a priority, with an optional label.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Priority {
    /// 1, 2, ...
    pub number: i32,
    /// `n(label)` name, usable as a Goto target.
    pub label: Option<String>,
    /// Application name as written (`Dial`); looked up case-insensitively at run time.
    pub app: String,
    /// Raw argument text, substituted and split at execution time.
    pub data: String,
    /// Source line.
    pub location: Location,
}

/// `exten => 200,hint,PJSIP/alice&Custom:dnd200[,presence]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hint {
    /// Device list joined by `&`.
    pub devices: String,
    /// Presence provider, if given after a comma.
    pub presence: Option<String>,
    /// Source line.
    pub location: Location,
}

/// An extension: a name (literal or pattern), an optional caller-id filter, its steps.
#[derive(Clone, Debug)]
pub struct Extension {
    pub(crate) name: Pattern,
    pub(crate) cid: Option<Pattern>,
    pub(crate) priorities: Vec<Priority>,
    pub(crate) hint: Option<Hint>,
}

impl Extension {
    pub(crate) fn new(name: Pattern, cid: Option<Pattern>) -> Extension {
        Extension {
            name,
            cid,
            priorities: Vec::new(),
            hint: None,
        }
    }

    /// The compiled name.
    pub fn name(&self) -> &Pattern {
        &self.name
    }

    /// The caller-id filter (`exten => 300/5551212,...`).
    pub fn caller_id(&self) -> Option<&Pattern> {
        self.cid.as_ref()
    }

    /// Steps in priority order.
    pub fn priorities(&self) -> &[Priority] {
        &self.priorities
    }

    /// The hint, if any.
    pub fn hint(&self) -> Option<&Hint> {
        self.hint.as_ref()
    }

    /// The step with this priority number.
    pub fn priority(&self, number: i32) -> Option<&Priority> {
        self.priorities
            .binary_search_by_key(&number, |p| p.number)
            .ok()
            .and_then(|i| self.priorities.get(i))
    }

    /// The step with this label.
    pub fn label(&self, label: &str) -> Option<&Priority> {
        self.priorities
            .iter()
            .find(|p| p.label.as_deref() == Some(label))
    }

    /// Asterisk's `matchcid`: no caller id matches only an empty filter.
    pub(crate) fn cid_matches(&self, caller_id: Option<&str>) -> bool {
        match (&self.cid, caller_id) {
            (None, _) => true,
            (Some(p), None) => p.as_str().is_empty(),
            (Some(p), Some("")) => p.as_str().is_empty(),
            (Some(p), Some(c)) => p.matches(c),
        }
    }

    pub(crate) fn same_entry(&self, name: &Pattern, cid: Option<&Pattern>) -> bool {
        cmp_entries((&self.name, self.cid.as_ref()), (name, cid)).is_eq()
    }
}

/// `include => ctx[,times,weekdays,mdays,months[,tz]]`.
#[derive(Clone, Debug)]
pub struct Include {
    /// The value as written (`dialplan show` prints it).
    pub name: String,
    /// The included context's name.
    pub context: String,
    /// Time restriction, if any.
    pub time: Option<TimeSpec>,
    /// Source line.
    pub location: Location,
}

/// Which switch directive declared a [`Switch`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SwitchKind {
    /// `switch =>`: data passed as written (`${}` substituted only if it contains `$`).
    Switch,
    /// `lswitch =>`: data passed literally.
    LSwitch,
    /// `eswitch =>`: data substituted at run time.
    ESwitch,
}

/// `switch => Realtime/context@family`: an alternative source of extensions, asked
/// after the context's own extensions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Switch {
    /// Directive used.
    pub kind: SwitchKind,
    /// Switch module (`Realtime`, `DUNDi`, `IAX2`, `Loopback`).
    pub module: String,
    /// Its data (`@extensions`, `context@family/options`).
    pub data: String,
    /// Source line.
    pub location: Location,
}

impl Switch {
    /// True when the data must go through `${}` substitution before use.
    pub fn needs_substitution(&self) -> bool {
        match self.kind {
            SwitchKind::ESwitch => true,
            SwitchKind::LSwitch => false,
            SwitchKind::Switch => self.data.contains('$'),
        }
    }
}

/// `ignorepat => 9`: keep dial tone after these digits.
#[derive(Clone, Debug)]
pub struct IgnorePattern {
    /// The compiled pattern.
    pub pattern: Pattern,
    /// Source line.
    pub location: Location,
}

/// A context.
#[derive(Clone, Debug)]
pub struct Context {
    pub(crate) name: String,
    pub(crate) registrar: String,
    pub(crate) extensions: Vec<Extension>,
    /// Literal key -> range of indexes in `extensions` (CID variants of one name).
    pub(crate) literal_index: HashMap<Box<[u8]>, (usize, usize), FxBuild>,
    /// Index of the first pattern in `extensions`.
    pub(crate) first_pattern: usize,
    /// For full matches: by first dialled byte (256: the empty string), the indexes
    /// of the patterns that can match it, in order.
    pub(crate) by_first_byte: Vec<Vec<u32>>,
    pub(crate) includes: Vec<Include>,
    pub(crate) switches: Vec<Switch>,
    pub(crate) ignore_patterns: Vec<IgnorePattern>,
}

impl Context {
    pub(crate) fn new(name: &str) -> Context {
        Context {
            name: name.to_owned(),
            registrar: "pbx_config".to_owned(),
            extensions: Vec::new(),
            literal_index: HashMap::default(),
            first_pattern: 0,
            by_first_byte: Vec::new(),
            includes: Vec::new(),
            switches: Vec::new(),
            ignore_patterns: Vec::new(),
        }
    }

    /// Context name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Who created it (`pbx_config` for extensions.conf).
    pub fn registrar(&self) -> &str {
        &self.registrar
    }

    /// Extensions in Asterisk's order.
    pub fn extensions(&self) -> &[Extension] {
        &self.extensions
    }

    /// Includes in file order.
    pub fn includes(&self) -> &[Include] {
        &self.includes
    }

    /// Switches in file order.
    pub fn switches(&self) -> &[Switch] {
        &self.switches
    }

    /// Ignore patterns in file order.
    pub fn ignore_patterns(&self) -> &[IgnorePattern] {
        &self.ignore_patterns
    }

    /// True when `digits` matches an ignore pattern (keep dial tone).
    pub fn ignores(&self, digits: &str) -> bool {
        self.ignore_patterns
            .iter()
            .any(|p| p.pattern.matches(digits))
    }

    /// The extension with this exact name and caller-id filter, created if missing,
    /// at its sorted position.
    pub(crate) fn extension_mut(&mut self, name: Pattern, cid: Option<Pattern>) -> &mut Extension {
        let pos = self
            .extensions
            .binary_search_by(|e| cmp_entries((&e.name, e.cid.as_ref()), (&name, cid.as_ref())));
        let idx = match pos {
            Ok(i) => i,
            Err(i) => {
                self.extensions.insert(i, Extension::new(name, cid));
                i
            }
        };
        // `idx` is in bounds: found or just inserted.
        let len = self.extensions.len();
        &mut self.extensions[idx.min(len - 1)]
    }

    /// Rebuilds the literal index after extensions changed.
    pub(crate) fn reindex(&mut self) {
        self.literal_index.clear();
        self.first_pattern = self.extensions.len();
        for (i, e) in self.extensions.iter().enumerate() {
            match e.name.literal_key() {
                Some(key) => {
                    let entry = self.literal_index.entry(key.into()).or_insert((i, i));
                    entry.1 = i + 1;
                }
                None => {
                    self.first_pattern = i;
                    break;
                }
            }
        }
        let mut index: Vec<Vec<u32>> = vec![Vec::new(); 257];
        for (i, e) in self.extensions.iter().enumerate().skip(self.first_pattern) {
            let Ok(i) = u32::try_from(i) else { break };
            let elems = e.name.elems().unwrap_or_default();
            let mut add = |b: usize| {
                if let Some(list) = index.get_mut(b) {
                    list.push(i);
                }
            };
            match elems.first() {
                None => add(256),
                Some(Elem::Lit(c)) => add(usize::from(*c)),
                Some(Elem::Set { set, .. }) => (0..=255u8)
                    .filter(|&c| set.contains(c))
                    .for_each(|c| add(usize::from(c))),
                Some(Elem::Dot) => (0..256).for_each(&mut add),
                Some(Elem::Bang) => (0..257).for_each(&mut add),
                Some(Elem::Broken) => {}
            }
        }
        self.by_first_byte = index;
    }

    /// Patterns that can fully match a dialled string starting with `first` (`None`:
    /// the empty string), in order.
    pub(crate) fn pattern_candidates(&self, first: Option<u8>) -> &[u32] {
        let slot = first.map_or(256, usize::from);
        self.by_first_byte.get(slot).map_or(&[], Vec::as_slice)
    }
}

/// `[general]` options of extensions.conf.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct General {
    /// `static`: `dialplan save` may rewrite the file.
    pub static_config: bool,
    /// `writeprotect`: refuse `dialplan save`.
    pub writeprotect: bool,
    /// `autofallthrough` (default yes): hang up when an extension runs out of steps.
    pub autofallthrough: bool,
    /// `extenpatternmatchnew`: Asterisk's trie matcher (same answers; informational).
    pub extenpatternmatchnew: bool,
    /// `clearglobalvars`: a reload drops globals not in the file.
    pub clearglobalvars: bool,
    /// `userscontext` (default `default`).
    pub userscontext: String,
}

impl Default for General {
    fn default() -> Self {
        General {
            static_config: false,
            writeprotect: false,
            autofallthrough: true,
            extenpatternmatchnew: false,
            clearglobalvars: false,
            userscontext: "default".to_owned(),
        }
    }
}

/// A whole dialplan.
#[derive(Clone, Debug, Default)]
pub struct Dialplan {
    pub(crate) general: General,
    pub(crate) globals: Vec<(String, String)>,
    pub(crate) contexts: Vec<Context>,
    pub(crate) index: HashMap<String, usize, FxBuild>,
}

impl Dialplan {
    /// `[general]` options.
    pub fn general(&self) -> &General {
        &self.general
    }

    /// `[globals]` in file order, values substituted as pbx_config does at load (a
    /// later duplicate overrides an earlier one when applied in order).
    pub fn globals(&self) -> &[(String, String)] {
        &self.globals
    }

    /// Contexts in the order they first appeared.
    pub fn contexts(&self) -> &[Context] {
        &self.contexts
    }

    /// A context by (case-sensitive) name.
    pub fn context(&self, name: &str) -> Option<&Context> {
        self.index.get(name).and_then(|&i| self.contexts.get(i))
    }

    pub(crate) fn context_index(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }

    pub(crate) fn context_mut(&mut self, name: &str) -> &mut Context {
        let idx = match self.index.get(name) {
            Some(&i) => i,
            None => {
                self.contexts.push(Context::new(name));
                let i = self.contexts.len() - 1;
                self.index.insert(name.to_owned(), i);
                i
            }
        };
        &mut self.contexts[idx]
    }
}
