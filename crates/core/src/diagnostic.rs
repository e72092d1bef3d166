//! Problems found in configuration, reported with the place they come from.

use std::fmt;

use obelus_conf::{ConfErrors, Location};

/// How bad a configuration problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// The option is ignored or defaulted; the daemon still runs as configured otherwise.
    Warning,
    /// The configuration cannot be used as written: `obelus config check` exits 1.
    Error,
}

/// One configuration problem: where, which option, and why.
///
/// Printed as `file:line: option 'name': why`, the form editors and people can
/// jump to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// File and line, when the problem has one (a missing file has only a file).
    pub location: Option<Location>,
    /// The file name when there is no line to point at.
    pub file: Option<String>,
    /// The option concerned, if any.
    pub option: Option<String>,
    /// What is wrong and, where possible, what would be right.
    pub message: String,
}

impl Diagnostic {
    /// An error at a place in a file, about one option.
    pub fn error_at(location: &Location, option: &str, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            location: Some(location.clone()),
            file: None,
            option: (!option.is_empty()).then(|| option.to_owned()),
            message: message.into(),
        }
    }

    /// A warning at a place in a file, about one option.
    pub fn warning_at(location: &Location, option: &str, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Warning,
            ..Self::error_at(location, option, message)
        }
    }

    /// A problem with a whole file (missing, unreadable).
    pub fn file(severity: Severity, file: &str, message: impl Into<String>) -> Self {
        Self {
            severity,
            location: None,
            file: Some(file.to_owned()),
            option: None,
            message: message.into(),
        }
    }

    /// Every syntax error of a file that failed to parse, one diagnostic each.
    pub fn from_conf_errors(errors: &ConfErrors) -> Vec<Self> {
        errors
            .0
            .iter()
            .map(|e| Self {
                severity: Severity::Error,
                location: Some(e.location.clone()),
                file: None,
                option: None,
                message: e.kind.to_string(),
            })
            .collect()
    }

    /// Whether this diagnostic makes the configuration unusable.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.location, &self.file) {
            (Some(location), _) => write!(f, "{}:{}: ", location.file, location.line)?,
            (None, Some(file)) => write!(f, "{file}: ")?,
            (None, None) => {}
        }
        if self.severity == Severity::Warning {
            f.write_str("warning: ")?;
        }
        if let Some(option) = &self.option {
            write!(f, "option '{option}': ")?;
        }
        f.write_str(&self.message)
    }
}
