//! The Asterisk `.conf` file format, read the way Asterisk reads it.
//!
//! Obelus reads the same configuration files as Asterisk (`pjsip.conf`,
//! `extensions.conf`, `manager.conf`, ...), so this crate sits at the bottom of
//! the **data** layer: sorcery's `config` wizard, the dialplan loader and every
//! module with a `.conf` file build on it. It knows nothing about what the
//! options mean.
//!
//! What it understands (the exact comment rules are in `line.rs`):
//! - `[category]`, `[name](template,...)`, `[name](!)` (template only), `[name](+)`
//!   (add to an existing category). A template's variables are copied in when the
//!   header is read, before the category's own.
//! - `name = value`, `name => value` (the "object" flag), `name += more`;
//!   repeated names are kept in order; a `\` escapes the first character of a name.
//! - `;` comments, nested `;-- ... --;` block comments, `\;` for a literal `;`.
//! - `#include` and `#tryinclude` (globs allowed, relative to the config
//!   directory) and `#exec` (only when enabled). Include loops are errors.
//!
//! Main types: [`load`] and [`parse_str`] give a [`Config`] of [`Category`]s of
//! [`Variable`]s, each with a [`Location`]. Failures come back as [`ConfErrors`],
//! each naming file:line:column. [`Document`] keeps a file's exact text, for edits
//! that keep its comments and layout (AMI `UpdateConfig`).
//!
//! Where Obelus is stricter than Asterisk: Asterisk only logs a warning for a line
//! without `=`, an unknown `#directive` or an unclosed block comment and goes on;
//! here they are errors, so `obelus config check` reports them. Where it is more
//! lenient: names inside `( )` may have blanks around them, `(+)` may add to a
//! template (as older Asterisk allowed), and lines longer than 8 KiB are read
//! instead of skipped. A `--;` outside any block comment starts a plain comment
//! (Asterisk's nesting counter would go negative and swallow the rest of the file).
//! `#exec` reads the command's standard output only, and a command that fails is
//! an error.

mod document;
mod error;
mod include;
mod line;
mod location;
mod model;
mod parser;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use document::{Document, DocumentError};
pub use error::{ConfError, ConfErrorKind, ConfErrors, MAX_ERRORS};
pub use location::Location;
pub use model::{Category, Config, Variable};

/// How [`load`] may read files.
#[derive(Debug, Default, Clone)]
pub struct LoadOptions {
    /// Allow `#exec` (Asterisk's `execincludes=yes` in `asterisk.conf`). Off by
    /// default because it runs commands named in configuration files.
    pub exec_enabled: bool,
}

/// Load `file_name` from `config_dir` with everything it includes.
///
/// `file_name` may also be absolute. Every error found is returned (up to
/// [`MAX_ERRORS`]); [`ConfErrors::is_not_found`] tells a missing file apart.
pub fn load(config_dir: &Path, file_name: &str, opts: &LoadOptions) -> Result<Config, ConfErrors> {
    let path = if Path::new(file_name).is_absolute() {
        PathBuf::from(file_name)
    } else {
        config_dir.join(file_name)
    };
    let mut loader = parser::Loader::new(parser::Source::Dir {
        dir: config_dir,
        opts,
    });
    include::load_file(&mut loader, &path, file_name, None);
    loader.finish()
}

/// Parse configuration text that was not read from a directory (tests, text held
/// in a database). `file_name` names it in locations; any directive
/// (`#include`, `#exec`) is an error. [`Config::files`] is empty.
pub fn parse_str(file_name: &str, text: &str) -> Result<Config, ConfErrors> {
    let mut loader = parser::Loader::new(parser::Source::Text);
    let name: Arc<str> = file_name.into();
    loader.parse_text(&name, text);
    loader.finish()
}
