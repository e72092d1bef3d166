//! A connection class of `res_odbc.conf` at run time: at most
//! `max_connections` connections, idle ones reused as `cache_type` says, every
//! ODBC call on a blocking thread, and failed connects retried with a backoff
//! that grows up to `negative_connection_cache`, so a dead DSN costs a request
//! nothing but an immediate "unavailable".

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::Semaphore;

use super::conn::{self, Conn};
use super::error::OdbcError;
use super::settings::{CacheType, OdbcSettings};
use crate::sql::{Bind, RawRow, Syntax};

/// The first wait after a failed connect; it doubles with every further
/// failure, up to `negative_connection_cache`.
const FIRST_BACKOFF: Duration = Duration::from_secs(1);

/// Query counters kept with `logging = yes`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryLog {
    /// Statements prepared.
    pub prepares: u64,
    /// Statements executed.
    pub queries: u64,
    /// The slowest statement and how long it took.
    pub longest: Option<(String, Duration)>,
}

/// A snapshot of a class for `odbc show`.
#[derive(Debug, Clone)]
pub struct OdbcStatus {
    /// The class (section) name.
    pub class: String,
    /// The DSN, a connection string's password hidden.
    pub dsn: String,
    /// The DBMS behind it, once a connection opened.
    pub dbms: Option<String>,
    /// When connecting last failed.
    pub last_failure: Option<SystemTime>,
    /// Open connections, in use or idle.
    pub active: u32,
    /// `max_connections`.
    pub max_connections: u32,
    /// `cache_type`.
    pub cache_type: CacheType,
    /// Idle connections kept for reuse.
    pub cached: usize,
    /// `cache_size` (`None`: no limit).
    pub cache_size: Option<u32>,
    /// Query counters, with `logging = yes`.
    pub log: Option<QueryLog>,
}

struct State {
    idle: VecDeque<Conn>,
    open: u32,
    dbms: Option<String>,
    syntax: Option<Syntax>,
    last_failure: Option<SystemTime>,
    /// The last connect error, returned without trying until `retry_at`.
    failure: Option<(OdbcError, Instant)>,
    backoff: Duration,
    log: QueryLog,
}

struct Inner {
    class: String,
    settings: OdbcSettings,
    permits: Arc<Semaphore>,
    state: Mutex<State>,
}

/// One connection class; cheap to clone (shared).
#[derive(Clone)]
pub struct OdbcPool {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for OdbcPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OdbcPool")
            .field("class", &self.inner.class)
            .field("settings", &self.inner.settings)
            .finish_non_exhaustive()
    }
}

impl OdbcPool {
    /// A class that connects on first use.
    pub fn new(class: &str, settings: OdbcSettings) -> Self {
        let permits = Arc::new(Semaphore::new(settings.max_connections as usize));
        Self {
            inner: Arc::new(Inner {
                class: class.to_owned(),
                settings,
                permits,
                state: Mutex::new(State {
                    idle: VecDeque::new(),
                    open: 0,
                    dbms: None,
                    syntax: None,
                    last_failure: None,
                    failure: None,
                    backoff: Duration::ZERO,
                    log: QueryLog::default(),
                }),
            }),
        }
    }

    /// The class's settings.
    pub fn settings(&self) -> &OdbcSettings {
        &self.inner.settings
    }

    /// The SQL the DBMS behind the DSN speaks; connects to find out if no
    /// connection has opened yet.
    pub async fn syntax(&self) -> Result<Syntax, OdbcError> {
        if let Some(syntax) = self.inner.lock().syntax {
            return Ok(syntax);
        }
        self.run(None, |_| Ok(())).await?;
        self.inner
            .lock()
            .syntax
            .ok_or_else(|| OdbcError::Connect("no connection opened".into()))
    }

    /// Prepares and runs a query; every row as text.
    pub async fn fetch(&self, sql: &str, binds: &[Bind]) -> Result<Vec<RawRow>, OdbcError> {
        let (text, binds) = (sql.to_owned(), binds.to_vec());
        self.run(Some(sql), move |c| c.fetch(&text, &binds)).await
    }

    /// Prepares and runs a statement; the rows it changed.
    pub async fn execute(&self, sql: &str, binds: &[Bind]) -> Result<u64, OdbcError> {
        let (text, binds) = (sql.to_owned(), binds.to_vec());
        self.run(Some(sql), move |c| c.execute(&text, &binds)).await
    }

    /// Open and idle connections, for `db show`.
    pub fn usage(&self) -> (u32, usize) {
        let state = self.inner.lock();
        (state.open, state.idle.len())
    }

    /// A snapshot for `odbc show`.
    pub fn status(&self) -> OdbcStatus {
        let settings = &self.inner.settings;
        let state = self.inner.lock();
        OdbcStatus {
            class: self.inner.class.clone(),
            dsn: settings.display_dsn(),
            dbms: state.dbms.clone(),
            last_failure: state.last_failure,
            active: state.open,
            max_connections: settings.max_connections,
            cache_type: settings.cache_type,
            cached: state.idle.len(),
            cache_size: settings.cache_size,
            log: settings.logging.then(|| state.log.clone()),
        }
    }

    /// Runs `op` on a connection of the class, on a blocking thread. Waits
    /// at most `connect_timeout` for a free connection.
    async fn run<T, F>(&self, sql: Option<&str>, op: F) -> Result<T, OdbcError>
    where
        T: Send + 'static,
        F: FnOnce(&Conn) -> Result<T, OdbcError> + Send + 'static,
    {
        let settings = &self.inner.settings;
        let permit = tokio::time::timeout(
            settings.connect_timeout,
            Arc::clone(&self.inner.permits).acquire_owned(),
        )
        .await;
        let Ok(Ok(permit)) = permit else {
            return Err(OdbcError::Busy(format!(
                "all {} connection(s) of '{}' stayed busy for {} s (raise max_connections)",
                settings.max_connections,
                self.inner.class,
                settings.connect_timeout.as_secs()
            )));
        };
        let inner = Arc::clone(&self.inner);
        let sql = sql.map(str::to_owned);
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            inner.run_blocking(sql, op)
        })
        .await
        .unwrap_or_else(|e| Err(OdbcError::Lost(format!("the ODBC worker failed: {e}"))))
    }
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn run_blocking<T>(
        &self,
        sql: Option<String>,
        op: impl FnOnce(&Conn) -> Result<T, OdbcError>,
    ) -> Result<T, OdbcError> {
        let conn = self.checkout()?;
        let started = Instant::now();
        let result = match op(&conn) {
            // A statement error on a link that no longer answers is a lost
            // connection (the next priority may be tried), not a bad statement.
            Err(e @ OdbcError::Statement { .. }) if !conn.is_alive(&self.settings.sanity_sql) => {
                Err(OdbcError::Lost(e.to_string()))
            }
            other => other,
        };
        if let Some(sql) = sql {
            self.log_query(sql, started.elapsed());
        }
        let lost = matches!(result, Err(OdbcError::Lost(_)));
        self.checkin(conn, lost);
        result
    }

    /// An idle connection that still works, or a new one.
    fn checkout(&self) -> Result<Conn, OdbcError> {
        let idle = {
            let mut state = self.lock();
            match self.settings.cache_type {
                CacheType::Stack => state.idle.pop_back(),
                CacheType::RoundRobin => state.idle.pop_front(),
            }
        };
        if let Some(conn) = idle {
            // As res_odbc: a connection idle for less than connect_timeout is
            // trusted; an older one must pass the sanity check first.
            if conn.last_used.elapsed() < self.settings.connect_timeout
                || conn.is_alive(&self.settings.sanity_sql)
            {
                return Ok(conn);
            }
            tracing::debug!(
                "ODBC class '{}': an idle connection failed its sanity check; reconnecting",
                self.class
            );
            self.lock().open -= 1;
            drop(conn);
        }
        {
            let mut state = self.lock();
            if let Some((error, retry_at)) = &state.failure
                && Instant::now() < *retry_at
            {
                return Err(error.clone());
            }
            state.open += 1;
        }
        match conn::connect(&self.settings) {
            Ok(opened) => {
                let mut state = self.lock();
                if state.dbms.as_deref() != Some(opened.dbms.as_str()) {
                    tracing::info!(
                        "ODBC class '{}' connected to {} ({})",
                        self.class,
                        opened.dbms,
                        self.settings.display_dsn()
                    );
                }
                state.dbms = Some(opened.dbms);
                state.syntax = Some(opened.syntax);
                state.failure = None;
                state.backoff = Duration::ZERO;
                Ok(opened.conn)
            }
            Err(error) => {
                let mut state = self.lock();
                state.open -= 1;
                state.last_failure = Some(SystemTime::now());
                let cap = self.settings.negative_connection_cache;
                state.backoff = (state.backoff * 2).clamp(FIRST_BACKOFF.min(cap), cap);
                state.failure = Some((error.clone(), Instant::now() + state.backoff));
                Err(error)
            }
        }
    }

    /// Hands a connection back: kept for reuse unless it is broken or the
    /// cache is full.
    fn checkin(&self, mut conn: Conn, lost: bool) {
        let mut state = self.lock();
        let room = self
            .settings
            .cache_size
            .is_none_or(|max| state.idle.len() < max as usize);
        if lost || !room {
            state.open -= 1;
            drop(state);
            drop(conn);
            return;
        }
        conn.last_used = Instant::now();
        state.idle.push_back(conn);
    }

    fn log_query(&self, sql: String, took: Duration) {
        if !self.settings.logging {
            return;
        }
        if took >= self.settings.slow_query_limit {
            tracing::warn!(
                "ODBC class '{}': SQL query took {} ms: {sql}",
                self.class,
                took.as_millis()
            );
        }
        let mut state = self.lock();
        state.log.prepares += 1;
        state.log.queries += 1;
        if state.log.longest.as_ref().is_none_or(|(_, t)| took > *t) {
            state.log.longest = Some((sql, took));
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Disconnecting is network I/O: keep it off the async threads.
        let idle = std::mem::take(&mut self.lock().idle);
        if idle.is_empty() {
            return;
        }
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => drop(handle.spawn_blocking(move || drop(idle))),
            Err(_) => drop(idle),
        }
    }
}
