//! The connection pools (sqlx, or an ODBC class) and the three things
//! realtime asks of them: rows as text, statements that change rows, and the
//! columns of a table.

use std::str::FromStr;
use std::time::Duration;

use sqlx::mysql::{MySqlConnectOptions, MySqlPool, MySqlPoolOptions};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use sqlx::{Column as _, ValueRef as _};

use super::{Dialect, Syntax};
use crate::config::{ConnectionSpec, Target};
#[cfg(feature = "odbc")]
use crate::odbc::{OdbcError, OdbcPool};

/// Why a pool operation failed.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// From sqlx (SQLite, PostgreSQL, MySQL).
    #[error(transparent)]
    Sqlx(#[from] sqlx::Error),
    /// From an ODBC class.
    #[cfg(feature = "odbc")]
    #[error(transparent)]
    Odbc(#[from] OdbcError),
}

impl BackendError {
    /// Whether the database could not be reached (another priority may be
    /// tried), as opposed to refusing the statement.
    pub fn is_unavailable(&self) -> bool {
        match self {
            BackendError::Sqlx(e) => matches!(
                e,
                sqlx::Error::Io(_)
                    | sqlx::Error::PoolTimedOut
                    | sqlx::Error::PoolClosed
                    | sqlx::Error::Tls(_)
                    | sqlx::Error::Protocol(_)
                    | sqlx::Error::WorkerCrashed
            ),
            #[cfg(feature = "odbc")]
            BackendError::Odbc(e) => e.is_unavailable(),
        }
    }
}

/// A bound parameter: realtime values are text, or NULL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bind {
    /// A text value (the database converts it to the column's type).
    Text(String),
    /// SQL NULL.
    Null,
}

/// What realtime needs to know of a column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnInfo {
    /// Its name as the database reports it.
    pub name: String,
    /// The type name parameters are cast to on PostgreSQL (`int4`, an enum's name).
    pub type_name: String,
    /// Whether an empty string is a valid value (text columns); empty values
    /// for other columns are written as NULL.
    pub is_text: bool,
}

impl ColumnInfo {
    /// A column description.
    pub fn new(name: &str, type_name: &str, is_text: bool) -> Self {
        Self {
            name: name.to_owned(),
            type_name: type_name.to_owned(),
            is_text,
        }
    }
}

/// A raw row: every column with its text value, NULL as `None`.
pub type RawRow = Vec<(String, Option<String>)>;

/// How long an operation waits for a connection before the database counts
/// as unavailable (and the next priority, if any, is tried).
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

/// A pool of connections to one database.
#[derive(Debug, Clone)]
pub enum Pool {
    /// SQLite.
    Sqlite(SqlitePool),
    /// PostgreSQL.
    Postgres(PgPool),
    /// MySQL / MariaDB.
    MySql(MySqlPool),
    /// An ODBC connection class; its dialect is the DBMS behind the DSN.
    #[cfg(feature = "odbc")]
    Odbc(OdbcPool),
}

impl Pool {
    /// A pool that connects lazily: a database that is down at start does not
    /// delay or stop the daemon; operations fail (and are retried) until it is up.
    pub fn connect_lazy(spec: &ConnectionSpec) -> Result<Self, sqlx::Error> {
        use crate::config::DriverKind;
        Ok(match (&spec.target, spec.driver) {
            #[cfg(feature = "odbc")]
            (Target::Odbc(settings), _) => {
                Pool::Odbc(OdbcPool::new(&spec.database, settings.clone()))
            }
            #[cfg(not(feature = "odbc"))]
            (Target::Odbc(_), _) => {
                return Err(sqlx::Error::Configuration(crate::odbc::NOT_BUILT.into()));
            }
            (Target::Sqlite { path }, _) => {
                if let Some(dir) = path.parent() {
                    let _ = std::fs::create_dir_all(dir);
                }
                let options = SqliteConnectOptions::from_str("sqlite://")?
                    .filename(path)
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .busy_timeout(Duration::from_secs(5));
                Pool::Sqlite(
                    SqlitePoolOptions::new()
                        .max_connections(4)
                        .acquire_timeout(ACQUIRE_TIMEOUT)
                        .connect_lazy_with(options),
                )
            }
            (
                Target::Server {
                    host,
                    port,
                    socket,
                    dbname,
                    user,
                    password,
                    appname,
                },
                DriverKind::Pgsql,
            ) => {
                let mut options = PgConnectOptions::new()
                    .host(socket.as_deref().unwrap_or(host))
                    .port(*port)
                    .username(user)
                    .database(dbname)
                    .application_name(appname.as_deref().unwrap_or("obelus"));
                if !password.is_empty() {
                    options = options.password(password);
                }
                Pool::Postgres(
                    PgPoolOptions::new()
                        .max_connections(8)
                        .acquire_timeout(ACQUIRE_TIMEOUT)
                        .connect_lazy_with(options),
                )
            }
            (
                Target::Server {
                    host,
                    port,
                    socket,
                    dbname,
                    user,
                    password,
                    ..
                },
                _,
            ) => {
                let mut options = MySqlConnectOptions::new()
                    .host(host)
                    .port(*port)
                    .username(user)
                    .database(dbname);
                if let Some(socket) = socket {
                    options = options.socket(socket);
                }
                if !password.is_empty() {
                    options = options.password(password);
                }
                Pool::MySql(
                    MySqlPoolOptions::new()
                        .max_connections(8)
                        .acquire_timeout(ACQUIRE_TIMEOUT)
                        .connect_lazy_with(options),
                )
            }
        })
    }

    /// The pool's SQL syntax. An ODBC class connects to learn its DBMS if no
    /// connection has opened yet.
    pub async fn syntax(&self) -> Result<Syntax, BackendError> {
        Ok(match self {
            Pool::Sqlite(_) => Dialect::Sqlite.into(),
            Pool::Postgres(_) => Dialect::Postgres.into(),
            Pool::MySql(_) => Dialect::MySql.into(),
            #[cfg(feature = "odbc")]
            Pool::Odbc(pool) => pool.syntax().await?,
        })
    }

    /// Connections open and idle, for `db show`.
    pub fn usage(&self) -> (u32, usize) {
        match self {
            Pool::Sqlite(p) => (p.size(), p.num_idle()),
            Pool::Postgres(p) => (p.size(), p.num_idle()),
            Pool::MySql(p) => (p.size(), p.num_idle()),
            #[cfg(feature = "odbc")]
            Pool::Odbc(p) => p.usage(),
        }
    }

    /// Runs a query and returns its rows as text.
    pub async fn fetch(&self, sql: &str, binds: &[Bind]) -> Result<Vec<RawRow>, BackendError> {
        macro_rules! run {
            ($pool:expr) => {{
                let mut query = sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()));
                for bind in binds {
                    query = match bind {
                        Bind::Text(text) => query.bind(text.clone()),
                        Bind::Null => query.bind(Option::<String>::None),
                    };
                }
                let rows = query.fetch_all($pool).await?;
                Ok(rows
                    .iter()
                    .map(|row| decode_row(row))
                    .collect::<Result<_, _>>()?)
            }};
        }
        match self {
            Pool::Sqlite(pool) => run!(pool),
            Pool::Postgres(pool) => run!(pool),
            Pool::MySql(pool) => run!(pool),
            #[cfg(feature = "odbc")]
            Pool::Odbc(pool) => Ok(pool.fetch(sql, binds).await?),
        }
    }

    /// Runs a statement and returns the number of rows it changed.
    pub async fn execute(&self, sql: &str, binds: &[Bind]) -> Result<u64, BackendError> {
        macro_rules! run {
            ($pool:expr) => {{
                let mut query = sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()));
                for bind in binds {
                    query = match bind {
                        Bind::Text(text) => query.bind(text.clone()),
                        Bind::Null => query.bind(Option::<String>::None),
                    };
                }
                Ok(query.execute($pool).await?.rows_affected())
            }};
        }
        match self {
            Pool::Sqlite(pool) => run!(pool),
            Pool::Postgres(pool) => run!(pool),
            Pool::MySql(pool) => run!(pool),
            #[cfg(feature = "odbc")]
            Pool::Odbc(pool) => Ok(pool.execute(sql, binds).await?),
        }
    }

    /// The columns of a table, in order; empty if the table does not exist.
    pub async fn columns(&self, table: &str) -> Result<Vec<ColumnInfo>, BackendError> {
        let syntax = self.syntax().await?;
        let p = syntax.placeholder(1);
        let (sql, text_types): (String, &[&str]) = match syntax.dialect {
            Dialect::Sqlite => (
                format!("SELECT name, type, type FROM pragma_table_info({p})"),
                &["", "TEXT", "VARCHAR", "CHAR", "CLOB"],
            ),
            Dialect::Postgres => (
                format!(
                    "SELECT column_name::text, data_type::text, udt_name::text FROM information_schema.columns \
                     WHERE table_schema = current_schema() AND table_name = {p} ORDER BY ordinal_position"
                ),
                &["character varying", "text", "character"],
            ),
            Dialect::MySql => (
                format!(
                    "SELECT CAST(COLUMN_NAME AS CHAR), CAST(DATA_TYPE AS CHAR), CAST(DATA_TYPE AS CHAR) \
                     FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = {p} \
                     ORDER BY ORDINAL_POSITION"
                ),
                &[
                    "varchar",
                    "text",
                    "char",
                    "mediumtext",
                    "longtext",
                    "tinytext",
                ],
            ),
        };
        let rows = self.fetch(&sql, &[Bind::Text(table.to_owned())]).await?;
        Ok(rows
            .into_iter()
            .filter_map(|row| {
                let mut values = row.into_iter().map(|(_, v)| v.unwrap_or_default());
                let name = values.next()?;
                let data_type = values.next()?;
                let type_name = values.next()?;
                let base = data_type
                    .split('(')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_uppercase();
                let is_text = text_types.iter().any(|t| t.eq_ignore_ascii_case(&base));
                Some(ColumnInfo {
                    name,
                    type_name,
                    is_text,
                })
            })
            .collect())
    }
}

/// Every column of a row as text. PostgreSQL and MySQL rows arrive cast to
/// text by the query; SQLite's dynamic types are converted here.
fn decode_row<R>(row: &R) -> Result<RawRow, sqlx::Error>
where
    R: sqlx::Row,
    for<'r> &'r str: sqlx::ColumnIndex<R>,
    usize: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> f64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Vec<u8>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let mut out = Vec::with_capacity(row.len());
    for (i, column) in row.columns().iter().enumerate() {
        let name = column.name().to_owned();
        if row.try_get_raw(i)?.is_null() {
            out.push((name, None));
            continue;
        }
        let value = if let Ok(s) = row.try_get::<String, _>(i) {
            s
        } else if let Ok(n) = row.try_get::<i64, _>(i) {
            n.to_string()
        } else if let Ok(f) = row.try_get::<f64, _>(i) {
            f.to_string()
        } else {
            let bytes: Vec<u8> = row.try_get(i)?;
            String::from_utf8_lossy(&bytes).into_owned()
        };
        out.push((name, Some(value)));
    }
    Ok(out)
}
