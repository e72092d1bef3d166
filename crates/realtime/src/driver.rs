//! A realtime driver: the operations of Asterisk's realtime API on one
//! database connection, with its health tracked for `db show`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::SystemTime;

use async_trait::async_trait;

use crate::config::{ConnectionSpec, DriverKind, Target};
use crate::criteria::{Criterion, identifier};
use crate::error::RealtimeError;
use crate::escape;
use crate::row::{Row, StaticRow};
use crate::sql::{self, BackendError, Bind, ColumnInfo, Pool, Syntax};

/// Asterisk's realtime operations on one database. Implemented by
/// [`SqlDriver`] for every backend: the sqlx pools (SQLite, PostgreSQL,
/// MySQL) and ODBC classes, which share the SQL builders, the column cache
/// and the health tracking and differ only in their [`Pool`].
#[async_trait]
pub trait Driver: Send + Sync {
    /// The connection name (`sqlite3/obelus`).
    fn name(&self) -> &str;
    /// One row matching every criterion, or none.
    async fn load(&self, table: &str, criteria: &[Criterion])
    -> Result<Option<Row>, RealtimeError>;
    /// Every matching row, ordered by the first criterion's column.
    async fn load_multi(
        &self,
        table: &str,
        criteria: &[Criterion],
    ) -> Result<Vec<Row>, RealtimeError>;
    /// Sets `fields` on the rows matching `criteria`; returns how many changed.
    async fn update(
        &self,
        table: &str,
        criteria: &[Criterion],
        fields: &[(String, String)],
    ) -> Result<u64, RealtimeError>;
    /// Inserts one row; returns how many were inserted.
    async fn store(&self, table: &str, fields: &[(String, String)]) -> Result<u64, RealtimeError>;
    /// Deletes the rows matching `criteria`; returns how many.
    async fn destroy(&self, table: &str, criteria: &[Criterion]) -> Result<u64, RealtimeError>;
    /// The lines of a configuration file kept in a static realtime table.
    async fn load_static(&self, table: &str, file: &str) -> Result<Vec<StaticRow>, RealtimeError>;
    /// Forgets cached table metadata (Asterisk's `unload`).
    fn unload(&self, table: &str);
    /// The connection's health.
    fn status(&self) -> ConnectionStatus;
}

/// Health of a connection, for `db show` and the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionStatus {
    /// `driver/database`.
    pub name: String,
    /// Where it goes, without secrets.
    pub target: String,
    /// Whether the last operation reached the database (`None`: not used yet).
    pub up: Option<bool>,
    /// The last error, if the connection is down.
    pub last_error: Option<String>,
    /// When the state last changed.
    pub since: Option<SystemTime>,
    /// Open connections.
    pub open: u32,
    /// Idle connections.
    pub idle: usize,
}

#[derive(Default)]
struct Health {
    up: Option<bool>,
    last_error: Option<String>,
    since: Option<SystemTime>,
}

/// A driver over a pool: an sqlx pool or an ODBC class (Asterisk's
/// res_config_odbc over res_odbc).
pub struct SqlDriver {
    spec: ConnectionSpec,
    pool: Pool,
    columns: RwLock<HashMap<String, Arc<Vec<ColumnInfo>>>>,
    health: Mutex<Health>,
}

impl SqlDriver {
    /// A driver for a connection; connects lazily.
    pub fn new(spec: ConnectionSpec) -> Result<Self, RealtimeError> {
        let pool = Pool::connect_lazy(&spec).map_err(|e| RealtimeError::Unavailable {
            connection: spec.name.clone(),
            message: e.to_string(),
        })?;
        Ok(Self {
            spec,
            pool,
            columns: RwLock::new(HashMap::new()),
            health: Mutex::new(Health::default()),
        })
    }

    /// The pool, for migrations.
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// The connection's specification.
    pub fn spec(&self) -> &ConnectionSpec {
        &self.spec
    }

    fn encoder(&self) -> fn(&str) -> String {
        if self.spec.driver.encodes_values() {
            escape::encode
        } else {
            str::to_owned
        }
    }

    /// Records the outcome of an operation; logs once per change of state,
    /// naming the connection, so a flapping database does not flood the log.
    fn record<T>(&self, result: Result<T, BackendError>) -> Result<T, RealtimeError> {
        let mut health = self.health.lock().unwrap_or_else(|e| e.into_inner());
        match result {
            Ok(value) => {
                if health.up != Some(true) {
                    if health.up == Some(false) {
                        tracing::info!("realtime connection '{}' is back up", self.spec.name);
                    }
                    health.up = Some(true);
                    health.last_error = None;
                    health.since = Some(SystemTime::now());
                }
                Ok(value)
            }
            Err(e) => {
                let message = e.to_string();
                if e.is_unavailable() {
                    if health.up != Some(false) {
                        let retry = match &self.spec.target {
                            Target::Odbc(odbc) => format!(
                                "reconnecting with a backoff of up to {} s",
                                odbc.negative_connection_cache.as_secs()
                            ),
                            _ => "retrying on every request".to_owned(),
                        };
                        tracing::error!(
                            "realtime connection '{}' ({}) is down: {message}; {retry}",
                            self.spec.name,
                            self.spec.describe()
                        );
                        health.up = Some(false);
                        health.since = Some(SystemTime::now());
                    }
                    health.last_error = Some(message.clone());
                    Err(RealtimeError::Unavailable {
                        connection: self.spec.name.clone(),
                        message,
                    })
                } else {
                    Err(RealtimeError::Query {
                        connection: self.spec.name.clone(),
                        message,
                    })
                }
            }
        }
    }

    /// The connection's SQL syntax (an ODBC class connects to learn it).
    /// Only a failure counts for the health: a syntax already known says
    /// nothing about the database being up.
    pub async fn syntax(&self) -> Result<Syntax, RealtimeError> {
        match self.pool.syntax().await {
            Ok(syntax) => Ok(syntax),
            Err(e) => self.record(Err(e)),
        }
    }

    /// Connects an ODBC class that has not connected yet (`pre-connect`);
    /// the outcome shows in `db show` and the log.
    pub async fn connect(&self) -> Result<(), RealtimeError> {
        self.record(self.pool.syntax().await).map(|_| ())
    }

    /// The columns of a table, fetched once and cached.
    pub async fn table_columns(&self, table: &str) -> Result<Arc<Vec<ColumnInfo>>, RealtimeError> {
        identifier(table)?;
        if let Some(columns) = self
            .columns
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(table)
        {
            return Ok(Arc::clone(columns));
        }
        let columns = self.record(self.pool.columns(table).await)?;
        if columns.is_empty() {
            return Err(RealtimeError::Query {
                connection: self.spec.name.clone(),
                message: format!("table '{table}' does not exist (run 'obelus db upgrade')"),
            });
        }
        let columns = Arc::new(columns);
        self.columns
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(table.to_owned(), Arc::clone(&columns));
        Ok(columns)
    }

    fn to_row(&self, raw: Vec<(String, Option<String>)>) -> Row {
        let mut fields = Vec::with_capacity(raw.len());
        for (column, value) in raw {
            // SQL NULL: "not set", the option's default applies.
            let Some(value) = value else { continue };
            if self.spec.driver == DriverKind::Odbc {
                for part in escape::split_column_odbc(&column, &value) {
                    fields.push((column.clone(), part));
                }
            } else if self.spec.driver.encodes_values() {
                for part in escape::split_column(&column, &value) {
                    fields.push((column.clone(), part));
                }
            } else {
                fields.push((column, value));
            }
        }
        Row { fields }
    }

    async fn fetch(
        &self,
        table: &str,
        criteria: &[Criterion],
        single: bool,
    ) -> Result<Vec<Row>, RealtimeError> {
        let columns = self.table_columns(table).await?;
        let encode = self.encoder();
        let query = sql::select(
            self.syntax().await?,
            table,
            &columns,
            criteria,
            &encode,
            single,
        )?;
        let rows = self.record(self.pool.fetch(&query.sql, &query.binds).await)?;
        Ok(rows.into_iter().map(|raw| self.to_row(raw)).collect())
    }

    fn skipped(&self, table: &str, skipped: &[String]) {
        if !skipped.is_empty() {
            tracing::debug!(
                "realtime '{}': table '{table}' has no column {}; value not stored",
                self.spec.name,
                skipped.join(", ")
            );
        }
    }
}

#[async_trait]
impl Driver for SqlDriver {
    fn name(&self) -> &str {
        &self.spec.name
    }

    async fn load(
        &self,
        table: &str,
        criteria: &[Criterion],
    ) -> Result<Option<Row>, RealtimeError> {
        Ok(self.fetch(table, criteria, true).await?.into_iter().next())
    }

    async fn load_multi(
        &self,
        table: &str,
        criteria: &[Criterion],
    ) -> Result<Vec<Row>, RealtimeError> {
        self.fetch(table, criteria, false).await
    }

    async fn update(
        &self,
        table: &str,
        criteria: &[Criterion],
        fields: &[(String, String)],
    ) -> Result<u64, RealtimeError> {
        let columns = self.table_columns(table).await?;
        let encode = self.encoder();
        let (query, skipped) = sql::update(
            self.syntax().await?,
            table,
            &columns,
            criteria,
            fields,
            &encode,
        )?;
        self.skipped(table, &skipped);
        self.record(self.pool.execute(&query.sql, &query.binds).await)
    }

    async fn store(&self, table: &str, fields: &[(String, String)]) -> Result<u64, RealtimeError> {
        let columns = self.table_columns(table).await?;
        let encode = self.encoder();
        let (query, skipped) = sql::insert(self.syntax().await?, table, &columns, fields, &encode)?;
        self.skipped(table, &skipped);
        self.record(self.pool.execute(&query.sql, &query.binds).await)
    }

    async fn destroy(&self, table: &str, criteria: &[Criterion]) -> Result<u64, RealtimeError> {
        let columns = self.table_columns(table).await?;
        let encode = self.encoder();
        let query = sql::delete(self.syntax().await?, table, &columns, criteria, &encode)?;
        self.record(self.pool.execute(&query.sql, &query.binds).await)
    }

    async fn load_static(&self, table: &str, file: &str) -> Result<Vec<StaticRow>, RealtimeError> {
        identifier(table)?;
        let syntax = self.syntax().await?;
        let dialect = syntax.dialect;
        let q = |c: &str| dialect.quote(c);
        // SQLite3 orders categories ascending, the others descending, as the
        // respective Asterisk drivers do.
        let direction = if dialect == sql::Dialect::Sqlite {
            "ASC"
        } else {
            "DESC"
        };
        let text = |c: &str| match dialect {
            sql::Dialect::Postgres => format!("{}::text", q(c)),
            sql::Dialect::MySql => format!("CAST({} AS CHAR)", q(c)),
            sql::Dialect::Sqlite => q(c),
        };
        let statement = format!(
            "SELECT {}, {}, {}, {} FROM {} WHERE {} = {} AND {} = 0 ORDER BY {} {direction}, {} ASC, {}, {}",
            text("cat_metric"),
            text("category"),
            text("var_name"),
            text("var_val"),
            q(table),
            q("filename"),
            syntax.placeholder(1),
            q("commented"),
            q("cat_metric"),
            q("var_metric"),
            q("category"),
            q("var_name"),
        );
        let rows = self.record(
            self.pool
                .fetch(&statement, &[Bind::Text(file.to_owned())])
                .await,
        )?;
        Ok(rows
            .into_iter()
            .map(|row| {
                let mut values = row.into_iter().map(|(_, v)| v.unwrap_or_default());
                let mut next = || values.next().unwrap_or_default();
                let cat_metric = next().trim().parse().unwrap_or(0);
                let category = next();
                let var_name = next();
                let mut var_val = next();
                if self.spec.driver.encodes_values() {
                    var_val = escape::decode(&var_val);
                }
                StaticRow {
                    cat_metric,
                    category,
                    var_name,
                    var_val,
                }
            })
            .collect())
    }

    fn unload(&self, table: &str) {
        self.columns
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(table);
    }

    fn status(&self) -> ConnectionStatus {
        let health = self.health.lock().unwrap_or_else(|e| e.into_inner());
        let (open, idle) = self.pool.usage();
        ConnectionStatus {
            name: self.spec.name.clone(),
            target: self.spec.describe(),
            up: health.up,
            last_error: health.last_error.clone(),
            since: health.since,
            open,
            idle,
        }
    }
}
