//! Wizards: where objects live. One trait, five implementations, chosen per
//! object type by `sorcery.conf`.

pub mod astdb;
pub mod config;
pub mod memory;
pub mod memory_cache;
pub mod realtime;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use obelus_realtime::{Criterion, Op};
use regex::Regex;

use crate::error::{ObjectError, SorceryError};
use crate::object::Object;

/// What a retrieval asks for.
#[derive(Debug, Clone)]
pub enum Query {
    /// The object with this id.
    Id(String),
    /// Objects whose options match every criterion (`"max_contacts >" = 1`);
    /// the column `id` is the object id.
    Fields(Vec<Criterion>),
    /// Objects whose id matches the regular expression.
    Regex(Regex),
    /// Objects whose id starts with the prefix.
    Prefix(String),
    /// Every object.
    All,
}

impl Query {
    /// Whether `object` is an answer, for wizards that hold objects in memory.
    pub fn matches(&self, object: &Object) -> bool {
        match self {
            Query::Id(id) => object.id() == id,
            Query::Fields(criteria) => criteria.iter().all(|c| criterion_matches(c, object)),
            Query::Regex(re) => re.is_match(object.id()),
            Query::Prefix(prefix) => object.id().starts_with(prefix.as_str()),
            Query::All => true,
        }
    }
}

/// One criterion against an object in memory, with SQL's meaning: an unset
/// option (SQL NULL) matches nothing.
fn criterion_matches(c: &Criterion, object: &Object) -> bool {
    let text = if c.column == "id" {
        Some(object.id().to_owned())
    } else {
        object.text(&c.column)
    };
    let Some(text) = text else { return false };
    // In memory, booleans compare by meaning: `direct_media = no` matches a
    // stored `false` (every Asterisk spelling is accepted).
    if let Some(crate::field::Value::Bool(b)) = object.get(&c.column)
        && matches!(c.op, Op::Eq | Op::Ne)
        && let Some(wanted) = crate::field::parse_bool(&c.value)
    {
        return (*b == wanted) == (c.op == Op::Eq);
    }
    let ordering = || match (text.trim().parse::<f64>(), c.value.trim().parse::<f64>()) {
        (Ok(a), Ok(b)) => a.partial_cmp(&b),
        _ => Some(text.as_str().cmp(c.value.as_str())),
    };
    use std::cmp::Ordering::{Equal, Greater, Less};
    match c.op {
        Op::Eq => text == c.value,
        Op::Ne => text != c.value,
        Op::Lt => ordering() == Some(Less),
        Op::Le => matches!(ordering(), Some(Less | Equal)),
        Op::Gt => ordering() == Some(Greater),
        Op::Ge => matches!(ordering(), Some(Greater | Equal)),
        Op::Like => like(&text, &c.value),
        Op::NotLike => !like(&text, &c.value),
    }
}

/// SQL `LIKE` with `%`, `_` and `\` as the escape character (what every
/// Asterisk driver sets with `ESCAPE '\'`).
pub fn like(text: &str, pattern: &str) -> bool {
    let t: Vec<char> = text.chars().collect();
    let mut p: Vec<(char, bool)> = Vec::new();
    let mut chars = pattern.chars();
    while let Some(ch) = chars.next() {
        if ch == '\\' {
            if let Some(next) = chars.next() {
                p.push((next, true));
            }
        } else {
            p.push((ch, false));
        }
    }
    // Iterative wildcard matching with backtracking to the last `%`.
    let (mut ti, mut pi) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some(('%', false)) => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(('_', false)) => {
                ti += 1;
                pi += 1;
            }
            Some((c, _)) if Some(c) == t.get(ti) => {
                ti += 1;
                pi += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p.get(pi..)
        .is_some_and(|rest| rest.iter().all(|&(c, lit)| c == '%' && !lit))
}

/// Escapes `%`, `_` and `\` so a literal prefix can go into a `LIKE` pattern.
pub fn like_escape(literal: &str) -> String {
    let mut out = String::with_capacity(literal.len());
    for c in literal.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A place that stores and finds objects of one type.
///
/// Implementations: [`config::ConfigWizard`] (read-only, a `.conf` file),
/// [`realtime::RealtimeWizard`] (a realtime family), [`memory::MemoryWizard`],
/// [`memory_cache::MemoryCache`] and [`astdb::AstdbWizard`].
#[async_trait]
pub trait Wizard: Send + Sync {
    /// The wizard's name as written in `sorcery.conf` (`config`, `realtime` ...).
    fn name(&self) -> &'static str;
    /// Whether writes are refused (the `config` wizard).
    fn read_only(&self) -> bool {
        false
    }
    /// Loads what the wizard holds at start; returns the bad objects it skipped.
    async fn load(&self) -> Vec<ObjectError> {
        Vec::new()
    }
    /// Re-reads the backing store (`module reload`); returns the bad objects skipped.
    async fn reload(&self) -> Vec<ObjectError> {
        Vec::new()
    }
    /// The objects answering `query` (at most one for [`Query::Id`]).
    async fn retrieve(&self, query: &Query) -> Result<Vec<Arc<Object>>, SorceryError>;
    /// Stores a new object.
    async fn create(&self, object: Arc<Object>) -> Result<(), SorceryError>;
    /// Replaces an object; `Ok(false)` when there was none with that id.
    async fn update(&self, object: Arc<Object>) -> Result<bool, SorceryError>;
    /// Removes an object; `Ok(false)` when there was none with that id.
    async fn delete(&self, id: &str) -> Result<bool, SorceryError>;
}

/// The most recent bad objects, kept so that a console command or a test
/// can show what was skipped, and logged as they happen.
#[derive(Debug, Default)]
pub struct Problems {
    recent: Mutex<VecDeque<ObjectError>>,
}

impl Problems {
    /// How many problems are remembered.
    pub const KEEP: usize = 256;

    /// Logs a bad object and remembers it.
    pub fn report(&self, error: ObjectError) {
        tracing::warn!("{error}");
        let mut recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        if recent.len() >= Self::KEEP {
            recent.pop_front();
        }
        recent.push_back(error);
    }

    /// The remembered problems, oldest first.
    pub fn recent(&self) -> Vec<ObjectError> {
        self.recent
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .cloned()
            .collect()
    }

    /// Forgets everything remembered.
    pub fn clear(&self) {
        self.recent
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_follows_sql() {
        assert!(like("101", "%"));
        assert!(like("101;@abc", "101;@%"));
        assert!(!like("1011;@abc", "101;@%"));
        assert!(like("abc", "a_c"));
        assert!(!like("a_c", "a\\_x"));
        assert!(like("a_c", "a\\_c"));
        assert!(like("xaby", "%ab%"));
        assert!(!like("xay", "%ab%"));
        assert!(like("", "%"));
        assert!(!like("", "_"));
    }

    #[test]
    fn like_escape_makes_literals() {
        assert_eq!(like_escape("a%b_c\\"), "a\\%b\\_c\\\\");
        assert!(like("a%b", &format!("{}%", like_escape("a%"))));
        assert!(!like("ab", &format!("{}%", like_escape("a%"))));
    }
}
