//! Where a category, a variable or an error came from.

use std::fmt;
use std::sync::Arc;

/// A position in a configuration file.
///
/// Every category, variable and error carries one, so that a message about a bad
/// option can name the exact file, line and column the person has to edit.
/// `line` and `column` count from 1; a `line` of 0 means "the file as a whole"
/// (for example a file that cannot be opened) and is displayed as the file name alone.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Location {
    /// The file as it was opened: relative to the config directory when it was
    /// named relatively (`pjsip.conf`, `pjsip.d/trunks.conf`), absolute otherwise.
    /// Text produced by `#exec` is named `#exec <command>`.
    pub file: Arc<str>,
    /// Line number, from 1 (0: the whole file).
    pub line: u32,
    /// Column in characters, from 1 (0 together with line 0).
    pub column: u32,
}

impl Location {
    /// A location in `file` at `line`, `column`.
    pub fn new(file: Arc<str>, line: u32, column: u32) -> Self {
        Self { file, line, column }
    }

    /// The file as a whole, used for errors that concern no particular line.
    pub fn whole_file(file: Arc<str>) -> Self {
        Self {
            file,
            line: 0,
            column: 0,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}", self.file)
        } else {
            write!(f, "{}:{}:{}", self.file, self.line, self.column)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_file_line_column() {
        let l = Location::new("extensions.conf".into(), 12, 1);
        assert_eq!(l.to_string(), "extensions.conf:12:1");
        assert_eq!(Location::whole_file("x.conf".into()).to_string(), "x.conf");
    }
}
