//! Realtime errors.

/// Why a realtime operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RealtimeError {
    /// No `extconfig.conf` mapping for this family (or file).
    #[error("no realtime mapping for '{0}' in extconfig.conf")]
    NotMapped(String),
    /// The request itself is wrong (bad column name, operator, missing key).
    #[error("{0}")]
    BadRequest(String),
    /// The database could not be reached; another priority may be tried.
    #[error("database '{connection}' unavailable: {message}")]
    Unavailable {
        /// The connection's name.
        connection: String,
        /// What the driver said.
        message: String,
    },
    /// The database answered with an error.
    #[error("database '{connection}': {message}")]
    Query {
        /// The connection's name.
        connection: String,
        /// What the driver said.
        message: String,
    },
}
