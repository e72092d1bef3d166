//! One ODBC connection and the blocking calls made on it. Everything here
//! runs on a blocking thread, never on the async runtime.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::RwLock;
use std::time::Instant;

use odbc_api::parameter::VarCharBox;
use odbc_api::{Connection, ConnectionOptions, Cursor, ResultSetMetadata};

use super::error::OdbcError;
use super::settings::OdbcSettings;
use crate::sql::{Bind, Dialect, RawRow, Syntax};

/// Serialises changes of the process environment (`[ENV]`) against the
/// driver manager reading it while it connects (see [`apply_env`]).
static ENVIRONMENT: RwLock<()> = RwLock::new(());

/// An open connection with what was learnt when it opened.
pub(super) struct Conn {
    connection: Option<Connection<'static>>,
    /// When it was last handed back to the pool.
    pub last_used: Instant,
}

/// What connecting tells about the data source.
pub(super) struct Opened {
    /// The connection.
    pub conn: Conn,
    /// The DBMS name the driver reports (`MariaDB`, `PostgreSQL`).
    pub dbms: String,
    /// The SQL the DBMS speaks, with ODBC's `?` placeholders.
    pub syntax: Syntax,
}

/// The dialect of a DBMS name as SQLGetInfo(SQL_DBMS_NAME) reports it.
pub(super) fn dialect_of(dbms: &str) -> Option<Dialect> {
    let name = dbms.to_ascii_lowercase();
    if name.contains("mysql") || name.contains("mariadb") {
        Some(Dialect::MySql)
    } else if name.contains("postgres") {
        Some(Dialect::Postgres)
    } else if name.contains("sqlite") {
        Some(Dialect::Sqlite)
    } else {
        None
    }
}

/// Sets the `[ENV]` variables that differ from the process environment
/// (names were checked when `res_odbc.conf` was read).
fn apply_env(env: &[(String, String)]) {
    let settable =
        |k: &str, v: &str| !k.is_empty() && !k.contains(['=', '\0']) && !v.contains('\0');
    let differs = |(k, v): &&(String, String)| {
        settable(k, v) && std::env::var(k).ok().as_deref() != Some(v.as_str())
    };
    if !env.iter().any(|kv| differs(&kv)) {
        return;
    }
    let _exclusive = ENVIRONMENT.write().unwrap_or_else(|e| e.into_inner());
    for (key, value) in env.iter().filter(differs) {
        // SAFETY: `set_var` is unsound while another thread reads the
        // environment through libc (`getenv`) at the same moment; Rust's own
        // readers take std's environment lock. The readers that matter here,
        // the driver manager and the drivers while they connect, hold
        // `ENVIRONMENT` shared, which this excludes. A variable is written only
        // when `[ENV]` changes it (the first connect after a load or a reload
        // that changed it), never on the request path otherwise; C code outside
        // ODBC reading the environment at that instant remains the residual
        // risk, as with Asterisk's own `setenv` of `[ENV]`.
        #[allow(unsafe_code)]
        unsafe {
            std::env::set_var(key, value)
        };
    }
}

/// Opens a connection: `[ENV]` first, then the DSN (SQLConnect with the
/// class's user and password, as Asterisk does) or, for a connection string,
/// SQLDriverConnect. Detects the DBMS behind it.
pub(super) fn connect(settings: &OdbcSettings) -> Result<Opened, OdbcError> {
    apply_env(&settings.env);
    let _shared = ENVIRONMENT.read().unwrap_or_else(|e| e.into_inner());
    let env = odbc_api::environment().map_err(|e| OdbcError::Connect(message(&e)))?;
    let options = ConnectionOptions {
        login_timeout_sec: Some(u32::try_from(settings.connect_timeout.as_secs()).unwrap_or(10)),
        packet_size: None,
    };
    let connection = if settings.is_connection_string() {
        let mut text = settings.dsn.trim().trim_end_matches(';').to_owned();
        if !settings.username.is_empty() {
            text.push_str(";UID=");
            text.push_str(&odbc_api::escape_attribute_value(&settings.username));
        }
        if !settings.password.is_empty() {
            text.push_str(";PWD=");
            text.push_str(&odbc_api::escape_attribute_value(&settings.password));
        }
        // MariaDB Connector/ODBC reads the last attribute past the end of
        // the string unless a `;` closes it ("Access denied for user
        // 'root?'"): close every attribute.
        text.push(';');
        env.connect_with_connection_string(&text, options)
    } else {
        env.connect(
            &settings.dsn,
            &settings.username,
            &settings.password,
            options,
        )
    }
    .map_err(|e| OdbcError::Connect(message(&e)))?;
    let conn = Conn {
        connection: Some(connection),
        last_used: Instant::now(),
    };
    let dbms = conn
        .get()
        .database_management_system_name()
        .map_err(|e| OdbcError::Connect(message(&e)))?;
    let dialect = dialect_of(&dbms).ok_or_else(|| OdbcError::UnsupportedDbms(dbms.clone()))?;
    Ok(Opened {
        conn,
        dbms,
        syntax: Syntax::odbc(dialect),
    })
}

/// A one-line description of an ODBC error: `[SQLSTATE] message`.
pub(super) fn message(error: &odbc_api::Error) -> String {
    match error {
        odbc_api::Error::Diagnostics { record, .. } => format!(
            "[{}] {}",
            String::from_utf8_lossy(&record.state.0),
            String::from_utf8_lossy(&record.message).trim()
        ),
        other => other.to_string().replace('\n', " "),
    }
}

fn statement_error(error: &odbc_api::Error) -> OdbcError {
    let state = match error {
        odbc_api::Error::Diagnostics { record, .. } => {
            String::from_utf8_lossy(&record.state.0).into_owned()
        }
        _ => String::new(),
    };
    if state.starts_with("08") {
        OdbcError::Lost(message(error))
    } else {
        OdbcError::Statement {
            state,
            message: message(error),
        }
    }
}

fn parameters(binds: &[Bind]) -> Vec<VarCharBox> {
    binds
        .iter()
        .map(|bind| match bind {
            Bind::Text(text) => VarCharBox::from_string(text.clone()),
            Bind::Null => VarCharBox::null(),
        })
        .collect()
}

impl Conn {
    fn get(&self) -> &Connection<'static> {
        // Only `Drop` takes the connection out.
        self.connection
            .as_ref()
            .expect("an ODBC connection is present until dropped")
    }

    /// Prepares `sql`, binds `binds` and returns every row as text.
    pub fn fetch(&self, sql: &str, binds: &[Bind]) -> Result<Vec<RawRow>, OdbcError> {
        let params = parameters(binds);
        let mut prepared = self.get().prepare(sql).map_err(|e| statement_error(&e))?;
        let Some(mut cursor) = prepared
            .execute(&params[..])
            .map_err(|e| statement_error(&e))?
        else {
            return Ok(Vec::new());
        };
        let names: Vec<String> = cursor
            .column_names()
            .and_then(|names| names.collect())
            .map_err(|e| statement_error(&e))?;
        let mut rows = Vec::new();
        let mut buffer = Vec::new();
        while let Some(mut row) = cursor.next_row().map_err(|e| statement_error(&e))? {
            let mut raw = Vec::with_capacity(names.len());
            for (i, name) in names.iter().enumerate() {
                let column = u16::try_from(i + 1).unwrap_or(u16::MAX);
                let present = row
                    .get_text(column, &mut buffer)
                    .map_err(|e| statement_error(&e))?;
                let value = present.then(|| String::from_utf8_lossy(&buffer).into_owned());
                raw.push((name.clone(), value));
            }
            rows.push(raw);
        }
        Ok(rows)
    }

    /// Prepares `sql`, binds `binds`, runs it and returns the rows it changed.
    pub fn execute(&self, sql: &str, binds: &[Bind]) -> Result<u64, OdbcError> {
        let params = parameters(binds);
        let mut prepared = self.get().prepare(sql).map_err(|e| statement_error(&e))?;
        drop(
            prepared
                .execute(&params[..])
                .map_err(|e| statement_error(&e))?,
        );
        let count = prepared.row_count().map_err(|e| statement_error(&e))?;
        Ok(count.map_or(0, |n| n as u64))
    }

    /// Asterisk's liveness test: the driver does not report the link dead,
    /// and `sanitysql` returns a first column that is not zero.
    pub fn is_alive(&self, sanity_sql: &str) -> bool {
        if self.get().is_dead().unwrap_or(false) {
            return false;
        }
        match self.fetch(sanity_sql, &[]) {
            Ok(rows) => rows
                .first()
                .and_then(|row| row.first())
                .and_then(|(_, value)| value.as_deref())
                .is_some_and(|v| {
                    let v = v.trim();
                    !v.is_empty() && v.parse::<f64>() != Ok(0.0)
                }),
            Err(_) => false,
        }
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        if let Some(connection) = self.connection.take() {
            // odbc-api panics if SQLDisconnect fails in an unexpected way (a
            // link that died mid-transaction); a broken link must never take
            // the daemon down, so such a panic is caught and logged.
            if catch_unwind(AssertUnwindSafe(move || drop(connection))).is_err() {
                tracing::warn!("an ODBC connection did not disconnect cleanly; handle dropped");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dbms_names_map_to_dialects() {
        assert_eq!(dialect_of("MariaDB"), Some(Dialect::MySql));
        assert_eq!(dialect_of("MySQL"), Some(Dialect::MySql));
        assert_eq!(dialect_of("PostgreSQL"), Some(Dialect::Postgres));
        assert_eq!(dialect_of("SQLite"), Some(Dialect::Sqlite));
        assert_eq!(dialect_of("Microsoft SQL Server"), None);
    }
}
