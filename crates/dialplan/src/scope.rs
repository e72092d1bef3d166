//! What substitution and expressions need from the outside world.
//!
//! The dialplan core never touches a channel: the executor implements [`Scope`] over
//! a channel (its variables, then globals, then built-ins such as `EXTEN`) and its
//! function registry (`CALLERID`, `LEN`, `PJSIP_HEADER`, ...).

use std::borrow::Cow;
use std::collections::HashMap;

use thiserror::Error;

/// Why a dialplan function read failed (Asterisk then substitutes nothing).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FunctionError {
    /// No function of that name is registered.
    #[error("Function {0} not registered")]
    NotFound(String),
    /// The function refused (bad arguments, nothing to read, ...).
    #[error("{0}")]
    Failed(String),
}

/// Variable and function lookup for `${}` substitution and `$[]` expressions.
pub trait Scope {
    /// The value of variable `name` (channel variable, then global), `None` if unset.
    /// Names are case-sensitive.
    fn var(&self, name: &str) -> Option<Cow<'_, str>>;

    /// Reads dialplan function `name` with its raw argument text (`CUT(x,-,1)` gives
    /// `name = "CUT"`, `args = "x,-,1"`); the function splits its own arguments.
    fn call_function(&mut self, name: &str, args: &str) -> Result<String, FunctionError>;

    /// A condition Asterisk would log as a warning (division by zero, syntax error,
    /// missing `}`); the default ignores it.
    fn warning(&mut self, message: &str) {
        let _ = message;
    }
}

/// A function usable by [`MapScope`].
pub type MapFunction = fn(&str) -> Result<String, FunctionError>;

/// A [`Scope`] over plain maps: for evaluating with globals only (CLI `dialplan eval`,
/// load-time substitution of `[globals]`), tests and benchmarks.
#[derive(Debug, Default, Clone)]
pub struct MapScope {
    /// Variables by name.
    pub vars: HashMap<String, String>,
    /// Functions by name.
    pub functions: HashMap<String, MapFunction>,
    /// Warnings reported so far.
    pub warnings: Vec<String>,
}

impl MapScope {
    /// A scope with these variables and no functions.
    pub fn with_vars<I, K, V>(vars: I) -> MapScope
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        MapScope {
            vars: vars
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
            ..MapScope::default()
        }
    }
}

impl Scope for MapScope {
    fn var(&self, name: &str) -> Option<Cow<'_, str>> {
        self.vars.get(name).map(|v| Cow::Borrowed(v.as_str()))
    }

    fn call_function(&mut self, name: &str, args: &str) -> Result<String, FunctionError> {
        match self.functions.get(name) {
            Some(f) => f(args),
            None => Err(FunctionError::NotFound(name.to_owned())),
        }
    }

    fn warning(&mut self, message: &str) {
        self.warnings.push(message.to_owned());
    }
}
