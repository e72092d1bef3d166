//! obelus-dialplan: the pure core of Asterisk's dialplan (layer "core", no I/O, no
//! channels).
//!
//! * [`Pattern`]: extension names and `_` patterns (`X Z N [..] . !`), compiled once,
//!   matched without allocating; [`ordering`] is Asterisk's precedence among patterns.
//! * [`Dialplan`] / [`Context`] / [`Extension`] / [`Priority`]: the model built from
//!   `extensions.conf` ([`Dialplan::from_config`] over `obelus-conf`, or
//!   [`Dialplan::from_entries`] / [`Builder`]); errors name
//!   file:line ([`ParseError`]).
//! * Lookup: [`Dialplan::find`], [`Dialplan::find_label`], [`Dialplan::exists`],
//!   [`Dialplan::can_match`], [`Dialplan::match_more`], [`Dialplan::next_priority`],
//!   and the resumable [`Search`] that yields switches to ask ([`Hit::Switch`]) in
//!   Asterisk's order (extensions, switches, includes; timed includes via [`Clock`]).
//! * [`substitute`]: `${VAR}`, `${VAR:o:l}`, `${FUNC(args)}`, `$[expr]`, through the
//!   [`Scope`] trait the executor implements; [`expr::evaluate`] for `$[...]` alone.
//! * [`args::standard_args`]: application argument splitting (`AST_STANDARD_APP_ARGS`).
//! * [`Dialplan::show`]: `dialplan show` output, byte-compatible with Asterisk.
//! * [`module`]: the `pbx_config` module (`extensions.conf`, `dialplan show|reload`).
//!
//! The executor (running applications on a channel), the application and function
//! registries and the realtime switch live above this crate.

pub mod args;
mod conf;
pub mod expr;
mod lookup;
mod model;
pub mod module;
pub mod ordering;
mod parse;
mod pattern;
mod scope;
mod show;
mod subst;
mod timerange;

pub use lookup::{Hit, LookupError, MAX_INCLUDE_STACK, Query, Search, Target};
pub use model::{
    Context, Dialplan, Extension, General, Hint, IgnorePattern, Include, Location, Priority,
    Switch, SwitchKind,
};
pub use parse::{Builder, Entry, OwnedEntry, ParseError, ParseErrorKind, from_text, minimal_lines};
pub use pattern::{MatchMode, MatchOutcome, Pattern};
pub use scope::{FunctionError, MapFunction, MapScope, Scope};
pub use subst::{MAX_SUBST_DEPTH, substitute, substitute_into, substring};
pub use timerange::{Clock, LocalTime, TimeSpec};
