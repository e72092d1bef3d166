//! Errors of the loader: each names a file:line:column and says what was expected.

use std::fmt;

use crate::Location;

/// Most errors collected before the loader gives up on a file set.
///
/// `obelus config check` shows all of them at once; past this many the rest is
/// usually a cascade of one mistake, so the loader stops and says so.
pub const MAX_ERRORS: usize = 100;

/// What went wrong, worded as what the loader expected to find.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfErrorKind {
    /// The top-level file itself does not exist.
    #[error("file not found")]
    NotFound,
    /// A file exists but could not be read.
    #[error("cannot read file: {0}")]
    Read(String),
    /// `[name` without its `]`.
    #[error("expected ']' to close category name")]
    UnclosedCategory,
    /// `[name](a,b` without its `)`.
    #[error("expected ')' to close the category options")]
    UnclosedOptions,
    /// `[name]()` or `[name](a,,b)`.
    #[error("expected a template name, '!' or '+' between the parentheses")]
    EmptyOption,
    /// `[name](+filter)`: Asterisk's category filters are not supported.
    #[error("category filter '{0}' is not supported: expected a plain '+'")]
    UnsupportedFilter(String),
    /// `[name](tmpl)` where no category `tmpl` was defined before.
    #[error("template '{0}' not found")]
    TemplateNotFound(String),
    /// `[name](+)` where no (non-template) category `name` was defined before.
    #[error("'+' used on category '{0}' that does not exist")]
    AddToMissing(String),
    /// A line that is neither a category, a directive nor `name = value`.
    #[error("missing '=' after option name")]
    MissingEquals,
    /// `= value` with nothing before the `=`.
    #[error("missing option name before '='")]
    MissingName,
    /// A `\` at the start of an option name followed by nothing usable.
    #[error("expected a character after the '\\' that escapes the option name")]
    InvalidEscape,
    /// `name = value` before any `[category]`.
    #[error("option outside any category: expected a '[category]' line before it")]
    NoCategory,
    /// `#something` that is not a known directive.
    #[error("unknown directive '#{0}': expected #include, #tryinclude or #exec")]
    UnknownDirective(String),
    /// `#include` (or `#tryinclude`, `#exec`) with nothing after it.
    #[error("'#{0}' needs an argument")]
    MissingArgument(String),
    /// A directive in text that was not read from a config directory.
    #[error("'#{0}' is not allowed here: this text was not read from a config directory")]
    IncludeNotAllowed(String),
    /// `#include` of a file (or pattern) that matches nothing.
    #[error("included file '{0}' not found")]
    IncludeNotFound(String),
    /// An included file exists but cannot be read.
    #[error("included file '{path}' cannot be read: {message}")]
    IncludeRead {
        /// The file as named.
        path: String,
        /// Why it could not be read.
        message: String,
    },
    /// A file includes itself, directly or through others.
    #[error("include loop: '{0}' is already being read")]
    IncludeLoop(String),
    /// Includes nested too deeply.
    #[error("includes nested deeper than {0} levels")]
    IncludeTooDeep(usize),
    /// Too many files read for one load (e.g. globs that include each other).
    #[error("more than {0} files included")]
    TooManyIncludes(usize),
    /// `#exec` while execution is disabled.
    #[error("#exec is disabled: set execincludes=yes (LoadOptions::exec_enabled) to run '{0}'")]
    ExecDisabled(String),
    /// `#exec` could not run, or the command failed.
    #[error("#exec '{command}' failed: {message}")]
    ExecFailed {
        /// The command line given to `sh -c`.
        command: String,
        /// What went wrong.
        message: String,
    },
    /// A `;--` block comment still open at the end of the file.
    #[error("block comment ';--' is never closed: expected '--;'")]
    UnterminatedComment,
    /// The loader stopped collecting errors.
    #[error("too many errors; stopped after {0}")]
    TooManyErrors(usize),
}

/// One error, with where it happened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{location}: {kind}")]
pub struct ConfError {
    /// Where: file:line:column.
    pub location: Location,
    /// What.
    pub kind: ConfErrorKind,
}

/// Every error found while loading, in the order found (at most [`MAX_ERRORS`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfErrors(pub Vec<ConfError>);

impl ConfErrors {
    /// True when the top-level file itself is missing: callers such as module
    /// loaders treat that as "not configured" rather than "broken".
    pub fn is_not_found(&self) -> bool {
        self.0.len() == 1 && self.0.iter().all(|e| e.kind == ConfErrorKind::NotFound)
    }

    /// The errors, in order.
    pub fn iter(&self) -> std::slice::Iter<'_, ConfError> {
        self.0.iter()
    }
}

impl fmt::Display for ConfErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfErrors {}

impl<'a> IntoIterator for &'a ConfErrors {
    type Item = &'a ConfError;
    type IntoIter = std::slice::Iter<'a, ConfError>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_file_line_column_and_expectation() {
        let e = ConfError {
            location: Location::new("extensions.conf".into(), 12, 1),
            kind: ConfErrorKind::UnclosedCategory,
        };
        assert_eq!(
            e.to_string(),
            "extensions.conf:12:1: expected ']' to close category name"
        );
        let all = ConfErrors(vec![e.clone(), e]);
        assert_eq!(all.to_string().lines().count(), 2);
        assert!(!all.is_not_found());
    }
}
