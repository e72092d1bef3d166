//! Sorcery errors: bad objects (with where they came from) and failed operations.

use std::fmt;

use obelus_conf::Location;
use obelus_core::diagnostic::Diagnostic;
use obelus_realtime::RealtimeError;

/// Where an object's data came from, so an error names the place to fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A line of a configuration file (`pjsip.conf:12`).
    File(Location),
    /// A realtime row: table and the row's id (the column is the field).
    Realtime {
        /// The table (the extconfig family's table).
        table: String,
        /// The row's `id`.
        id: String,
    },
    /// An astdb entry (`/registrar/contact/<id>`).
    Astdb {
        /// The full astdb key.
        key: String,
    },
    /// A program (an API call, AMI, ARI).
    Api,
}

/// An object that cannot be built: unknown option, malformed value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ObjectError {
    /// The object type (`endpoint`).
    pub type_name: String,
    /// The object's id.
    pub id: String,
    /// The option concerned.
    pub field: Option<String>,
    /// Where the bad data is.
    pub origin: Origin,
    /// What is wrong.
    pub reason: String,
}

impl fmt::Display for ObjectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.origin {
            Origin::File(location) => write!(f, "{}:{}: ", location.file, location.line)?,
            Origin::Realtime { table, id } => {
                write!(f, "table {table}, id {id}")?;
                if let Some(field) = &self.field {
                    write!(f, ", column {field}")?;
                }
                f.write_str(": ")?;
            }
            Origin::Astdb { key } => write!(f, "astdb {key}: ")?,
            Origin::Api => {}
        }
        if !self.id.is_empty() {
            write!(f, "{} '{}'", self.type_name, self.id)?;
            if let Some(field) = &self.field {
                write!(f, " option '{field}'")?;
            }
            f.write_str(": ")?;
        }
        f.write_str(&self.reason)
    }
}

impl ObjectError {
    /// The error as a configuration diagnostic (`obelus config check`).
    pub fn to_diagnostic(&self) -> Diagnostic {
        match &self.origin {
            Origin::File(location) => Diagnostic::error_at(
                location,
                self.field.as_deref().unwrap_or(""),
                format!("{} '{}': {}", self.type_name, self.id, self.reason),
            ),
            _ => Diagnostic::file(
                obelus_core::diagnostic::Severity::Error,
                "sorcery",
                self.to_string(),
            ),
        }
    }
}

impl From<ObjectError> for SorceryError {
    fn from(e: ObjectError) -> Self {
        Self::Object(Box::new(e))
    }
}

/// Why a sorcery operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SorceryError {
    /// No object type of that name is registered.
    #[error("unknown object type '{0}'")]
    UnknownType(String),
    /// The object data is invalid.
    #[error(transparent)]
    Object(Box<ObjectError>),
    /// A realtime backend failed.
    #[error("realtime: {0}")]
    Realtime(#[from] RealtimeError),
    /// The realtime layer is not configured (no `RealtimeService` value yet).
    #[error("realtime is not configured")]
    NoRealtime,
    /// astdb failed.
    #[error("astdb: {0}")]
    Astdb(String),
    /// Every wizard of the type is read-only (`config`), so nothing can be written.
    #[error("no writable wizard for object type '{0}'")]
    NotWritable(String),
    /// An object with that id already exists.
    #[error("{type_name} '{id}' already exists")]
    Exists {
        /// Its type.
        type_name: String,
        /// Its id.
        id: String,
    },
    /// The object to update or delete does not exist.
    #[error("{type_name} '{id}' not found")]
    NotFound {
        /// Its type.
        type_name: String,
        /// Its id.
        id: String,
    },
    /// A regular expression did not compile.
    #[error("bad regular expression: {0}")]
    Regex(String),
    /// A configuration file could not be read.
    #[error("{0}")]
    Config(String),
}
