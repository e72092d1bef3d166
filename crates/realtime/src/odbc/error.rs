//! Why an ODBC operation failed, and whether another priority should be tried.

/// An ODBC failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OdbcError {
    /// Connecting failed, or a recent failure is still being waited out.
    #[error("cannot connect: {0}")]
    Connect(String),
    /// The link broke while a statement ran (SQLSTATE class 08, or the
    /// sanity check failed afterwards).
    #[error("connection lost: {0}")]
    Lost(String),
    /// Every connection stayed busy for `connect_timeout`.
    #[error("{0}")]
    Busy(String),
    /// The DBMS behind the DSN is not one Obelus writes SQL for.
    #[error(
        "the DBMS behind this DSN is '{0}'; Obelus speaks MySQL/MariaDB, PostgreSQL and SQLite over ODBC"
    )]
    UnsupportedDbms(String),
    /// The database rejected the statement.
    #[error("{message}")]
    Statement {
        /// The SQLSTATE.
        state: String,
        /// The driver's message, with the SQLSTATE.
        message: String,
    },
}

impl OdbcError {
    /// Whether the database could not be reached (the next priority may
    /// answer), as opposed to a statement it refused.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::Connect(_) | Self::Lost(_) | Self::Busy(_))
    }
}
