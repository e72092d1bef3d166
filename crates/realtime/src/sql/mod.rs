//! SQL for the three server dialects: quoting, placeholders, casts, and the
//! statements realtime needs, always with bound parameters.

mod backend;
mod query;

pub use backend::{Bind, ColumnInfo, Pool};
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

    /// The placeholder of the n-th bound parameter (1-based).
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
