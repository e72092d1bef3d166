//! SQL for the three dialects: quoting, placeholders, casts, and the
//! statements realtime needs, always with bound parameters. The same builders
//! serve the native drivers and ODBC (which speaks the dialect of the DBMS
//! behind its DSN, with `?` placeholders).

mod backend;
mod query;

pub use backend::{BackendError, Bind, ColumnInfo, Pool, RawRow};
pub use query::{Query, delete, insert, select, update};

/// The SQL dialect of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite 3.
    Sqlite,
    /// PostgreSQL.
    Postgres,
    /// MySQL / MariaDB.
    MySql,
}

impl Dialect {
    /// Quotes an identifier already checked by [`crate::criteria::identifier`].
    pub fn quote(self, name: &str) -> String {
        match self {
            Dialect::MySql => format!("`{name}`"),
            Dialect::Sqlite | Dialect::Postgres => format!("\"{name}\""),
        }
    }

    /// The placeholder of the n-th bound parameter (1-based) in the dialect's
    /// native protocol.
    pub fn placeholder(self, n: usize) -> String {
        match self {
            Dialect::Postgres => format!("${n}"),
            Dialect::Sqlite | Dialect::MySql => "?".to_owned(),
        }
    }

    /// The `ESCAPE` clause that makes `\_` and `\%` literal in LIKE patterns.
    pub fn like_escape(self) -> &'static str {
        match self {
            Dialect::MySql => " ESCAPE '\\\\'",
            Dialect::Sqlite | Dialect::Postgres => " ESCAPE '\\'",
        }
    }
}

/// How a connection writes bound parameters. PostgreSQL's own protocol
/// numbers them (`$1`); ODBC always uses `?`, whatever the DBMS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placeholders {
    /// `$1`, `$2`, ...
    Numbered,
    /// `?`.
    Question,
}

/// What the SQL builders need to know of a connection: its dialect and how
/// it writes placeholders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Syntax {
    /// Quoting, casts and clauses.
    pub dialect: Dialect,
    /// Placeholder style.
    pub placeholders: Placeholders,
}

impl Syntax {
    /// The dialect as an ODBC driver speaks it: `?` placeholders.
    pub fn odbc(dialect: Dialect) -> Self {
        Self {
            dialect,
            placeholders: Placeholders::Question,
        }
    }

    /// The placeholder of the n-th bound parameter (1-based).
    pub fn placeholder(self, n: usize) -> String {
        match self.placeholders {
            Placeholders::Numbered => format!("${n}"),
            Placeholders::Question => "?".to_owned(),
        }
    }
}

impl From<Dialect> for Syntax {
    /// The dialect over its native protocol (sqlx).
    fn from(dialect: Dialect) -> Self {
        let placeholders = match dialect {
            Dialect::Postgres => Placeholders::Numbered,
            Dialect::Sqlite | Dialect::MySql => Placeholders::Question,
        };
        Self {
            dialect,
            placeholders,
        }
    }
}
