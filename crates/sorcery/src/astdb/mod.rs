//! Asterisk's astdb: a persistent key/value store.
//!
//! Same file layout as Asterisk 10+: an SQLite database `astdb.sqlite3` in
//! the `astdbdir`/`astvarlibdir` directory (`settings.dirs.db`) holding one
//! table `astdb(key VARCHAR(256) PRIMARY KEY, value VARCHAR(256))`. Keys are
//! `/family/key`, families may nest (`/registrar/contact`). Used by the
//! `astdb` sorcery wizard, `DB()`, `database show` and AMI `DBGet`/`DBPut`.

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use sqlx::Row as _;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use tokio::sync::{Notify, RwLock, RwLockMappedWriteGuard, RwLockReadGuard, RwLockWriteGuard};

mod packed;

use packed::{Packed, Shapes};

/// Why an astdb operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AstdbError {
    /// The database file could not be opened or queried.
    #[error("astdb {path}: {message}")]
    Database {
        /// The file.
        path: String,
        /// What SQLite said.
        message: String,
    },
}

/// The astdb file, opened lazily, with every entry also held in memory.
///
/// Reads are answered from memory (a dial reads the AOR's contacts from
/// here, so the file must not be on the call path). Writes change memory at
/// once and reach the file in batches: a background task writes every
/// change made in the last [`BATCH_WINDOW`] in one transaction, as
/// Asterisk's astdb commits from a sync thread, so a REGISTER does not wait
/// for a disk write ([`Astdb::flush`] waits for the file; the daemon
/// flushes when it stops). All handles on one file in a process share the
/// same copy, so a `DB()` write is seen at once by the sorcery wizard. Like
/// Asterisk, the daemon owns the file while it runs: change it through the
/// daemon (`database put`, AMI `DBPut`, `DB()`), not behind its back.
#[derive(Debug, Clone)]
pub struct Astdb {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    pool: SqlitePool,
    path: PathBuf,
    /// Every entry; `None` until first used.
    entries: RwLock<Option<Entries>>,
    /// Changes made in memory and not yet written, in order.
    pending: Mutex<Vec<Change>>,
    /// Whether a batch writer task is on its way (at most one at a time).
    scheduled: AtomicBool,
    /// Told after every batch written, for [`Astdb::flush`].
    written: Notify,
}

/// The in-memory copy: values packed (see [`packed`]), as a registrar
/// with tens of thousands of contacts keeps them all here.
#[derive(Debug, Default)]
struct Entries {
    /// Every value by full key (`/family/key`).
    values: BTreeMap<Box<str>, Packed>,
    /// The shapes the packed values refer to.
    shapes: Shapes,
}

impl Entries {
    fn insert(&mut self, key: &str, value: &str) {
        let packed = self.shapes.pack(value);
        self.values.insert(Box::from(key), packed);
    }

    fn get(&self, key: &str) -> Option<String> {
        self.values.get(key).map(|v| self.shapes.unpack(v))
    }
}

/// One change waiting for the file.
#[derive(Debug)]
enum Change {
    Put(String, String),
    Delete(String),
    /// A whole subtree (the empty prefix: everything).
    DeleteTree(String),
}

/// How long changes gather before they are written together.
pub const BATCH_WINDOW: Duration = Duration::from_millis(20);

/// How long a failed write waits before it is tried again.
const RETRY_AFTER: Duration = Duration::from_secs(1);

impl Inner {
    /// Starts a batch writer unless one is on its way. It holds the file
    /// open until its batch is written, even if every handle goes.
    fn schedule(inner: &Arc<Inner>) {
        if inner
            .scheduled
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            return;
        }
        let inner = Arc::clone(inner);
        // Made before the task so that dropping it unpolled drops the guard.
        let writing = Writing(Arc::clone(&inner));
        tokio::spawn(async move {
            tokio::time::sleep(BATCH_WINDOW).await;
            inner.write_pending().await;
            drop(writing);
            // A change queued after the batch was taken found a writer on
            // its way and did not start one: start it now.
            let more = !inner
                .pending
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .is_empty();
            if more {
                Inner::schedule(&inner);
            }
        });
    }

    /// Writes every pending change in one transaction, trying again until
    /// the file takes them (a full disk, a locked file).
    async fn write_pending(&self) {
        let mut batch =
            std::mem::take(&mut *self.pending.lock().unwrap_or_else(|p| p.into_inner()));
        let mut failing = false;
        while !batch.is_empty() {
            match self.apply(&batch).await {
                Ok(()) => {
                    if failing {
                        tracing::info!("astdb {}: changes written again", self.path.display());
                    }
                    batch.clear();
                }
                Err(e) => {
                    if !failing {
                        tracing::error!(
                            "astdb {}: {} changes not written ({e}); kept in memory, retrying every {} s",
                            self.path.display(),
                            batch.len(),
                            RETRY_AFTER.as_secs()
                        );
                        failing = true;
                    }
                    tokio::time::sleep(RETRY_AFTER).await;
                    // Later changes go after these, in order.
                    let mut later = std::mem::take(
                        &mut *self.pending.lock().unwrap_or_else(|p| p.into_inner()),
                    );
                    batch.append(&mut later);
                }
            }
        }
    }

    async fn apply(&self, batch: &[Change]) -> Result<(), sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        for step in plan(batch) {
            match step {
                Step::Put(rows) => {
                    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
                        let mut sql =
                            String::from("INSERT OR REPLACE INTO astdb (key, value) VALUES ");
                        for i in 0..chunk.len() {
                            sql.push_str(if i == 0 { "(?, ?)" } else { ", (?, ?)" });
                        }
                        // Built of placeholders only: the values are bound.
                        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
                        for (key, value) in chunk {
                            query = query.bind(*key).bind(*value);
                        }
                        query.execute(&mut *tx).await?;
                    }
                }
                Step::Delete(keys) => {
                    for chunk in keys.chunks(ROWS_PER_STATEMENT) {
                        let marks = vec!["?"; chunk.len()].join(", ");
                        let sql = format!("DELETE FROM astdb WHERE key IN ({marks})");
                        // Built of placeholders only: the keys are bound.
                        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
                        for key in chunk {
                            query = query.bind(*key);
                        }
                        query.execute(&mut *tx).await?;
                    }
                }
                Step::DeleteTree("") => {
                    sqlx::query("DELETE FROM astdb").execute(&mut *tx).await?;
                }
                Step::DeleteTree(prefix) => {
                    sqlx::query(
                        "DELETE FROM astdb WHERE key = ?1 OR substr(key, 1, length(?1) + 1) = ?1 || '/'",
                    )
                    .bind(prefix)
                    .execute(&mut *tx)
                    .await?;
                }
            }
        }
        tx.commit().await
    }
}

/// Rows per multi-row statement (SQLite allows 32,766 bound values).
const ROWS_PER_STATEMENT: usize = 500;

/// One statement's worth of a batch.
#[derive(Debug, PartialEq, Eq)]
enum Step<'a> {
    Put(Vec<(&'a str, &'a str)>),
    Delete(Vec<&'a str>),
    DeleteTree(&'a str),
}

/// Turns a batch into few statements: between subtree deletions (which
/// keep their place), only the last change of each key counts, and the
/// puts and the deletions each go in one statement. A REGISTER burst then
/// costs one round trip to SQLite per batch, not one per contact.
fn plan(batch: &[Change]) -> Vec<Step<'_>> {
    let mut steps = Vec::new();
    let mut last: BTreeMap<&str, Option<&str>> = BTreeMap::new();
    fn flush<'a>(last: &mut BTreeMap<&'a str, Option<&'a str>>, steps: &mut Vec<Step<'a>>) {
        let puts: Vec<(&str, &str)> = last
            .iter()
            .filter_map(|(k, v)| v.map(|v| (*k, v)))
            .collect();
        let deletes: Vec<&str> = last
            .iter()
            .filter(|(_, v)| v.is_none())
            .map(|(k, _)| *k)
            .collect();
        if !deletes.is_empty() {
            steps.push(Step::Delete(deletes));
        }
        if !puts.is_empty() {
            steps.push(Step::Put(puts));
        }
        last.clear();
    }
    for change in batch {
        match change {
            Change::Put(key, value) => {
                last.insert(key, Some(value));
            }
            Change::Delete(key) => {
                last.insert(key, None);
            }
            Change::DeleteTree(prefix) => {
                flush(&mut last, &mut steps);
                steps.push(Step::DeleteTree(prefix));
            }
        }
    }
    flush(&mut last, &mut steps);
    steps
}

/// A batch writer on its way. Dropped when the batch is written, or when
/// the task is cancelled (its runtime shut down): either way the next
/// change may start a writer, and [`Astdb::flush`] stops waiting.
struct Writing(Arc<Inner>);

impl Drop for Writing {
    fn drop(&mut self) {
        self.0.scheduled.store(false, Ordering::Release);
        self.0.written.notify_waiters();
    }
}

/// The file name Asterisk uses.
pub const FILE_NAME: &str = "astdb.sqlite3";

/// The files open in this process, so that every handle on one shares its copy.
static OPEN: Mutex<Option<HashMap<PathBuf, Weak<Inner>>>> = Mutex::new(None);

fn full_key(family: &str, key: &str) -> String {
    format!("/{}/{}", family.trim_matches('/'), key)
}

fn family_prefix(family: &str) -> String {
    let f = family.trim_matches('/');
    if f.is_empty() {
        String::new()
    } else {
        format!("/{f}")
    }
}

/// Whether `key` is `prefix` itself or lies under it (`prefix/...`); the
/// empty prefix holds everything.
fn is_under(key: &str, prefix: &str) -> bool {
    prefix.is_empty()
        || key
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

impl Astdb {
    /// The astdb in `dir` (`settings.dirs.db`); the file is created on first
    /// use. Opening a file already open in this process shares its handle.
    pub fn open(dir: &Path) -> Result<Self, AstdbError> {
        let path = dir.join(FILE_NAME);
        let mut open = OPEN.lock().unwrap_or_else(|p| p.into_inner());
        let open = open.get_or_insert_with(HashMap::new);
        open.retain(|_, inner| inner.strong_count() > 0);
        if let Some(inner) = open.get(&path).and_then(Weak::upgrade) {
            return Ok(Self { inner });
        }
        let err = |e: sqlx::Error| AstdbError::Database {
            path: path.display().to_string(),
            message: e.to_string(),
        };
        let options = SqliteConnectOptions::from_str("sqlite://")
            .map_err(err)?
            .filename(&path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // With WAL, NORMAL cannot corrupt the file on power loss; it
            // only may lose the last commits, which batching risks anyway.
            .synchronous(SqliteSynchronous::Normal);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .after_connect(|conn, _| {
                Box::pin(async move {
                    sqlx::query("CREATE TABLE IF NOT EXISTS astdb(key VARCHAR(256), value VARCHAR(256), PRIMARY KEY(key))")
                        .execute(conn)
                        .await
                        .map(|_| ())
                })
            })
            .connect_lazy_with(options);
        let inner = Arc::new(Inner {
            pool,
            path: path.clone(),
            entries: RwLock::new(None),
            pending: Mutex::new(Vec::new()),
            scheduled: AtomicBool::new(false),
            written: Notify::new(),
        });
        open.insert(path, Arc::downgrade(&inner));
        Ok(Self { inner })
    }

    fn err(&self, e: sqlx::Error) -> AstdbError {
        AstdbError::Database {
            path: self.inner.path.display().to_string(),
            message: e.to_string(),
        }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Every entry of the file, read once.
    async fn load(&self) -> Result<Entries, AstdbError> {
        let rows = sqlx::query("SELECT key, value FROM astdb")
            .fetch_all(&self.inner.pool)
            .await
            .map_err(|e| self.err(e))?;
        let mut entries = Entries::default();
        for row in rows {
            entries.insert(row.get::<&str, _>(0), row.get::<&str, _>(1));
        }
        Ok(entries)
    }

    /// The entries behind a write lock, read from the file on first use.
    async fn loaded(&self) -> Result<RwLockWriteGuard<'_, Option<Entries>>, AstdbError> {
        let mut guard = self.inner.entries.write().await;
        if guard.is_none() {
            *guard = Some(self.load().await?);
        }
        Ok(guard)
    }

    /// The entries, for reading.
    async fn read(&self) -> Result<RwLockReadGuard<'_, Entries>, AstdbError> {
        static EMPTY: std::sync::LazyLock<Entries> = std::sync::LazyLock::new(Entries::default);
        if let Ok(entries) =
            RwLockReadGuard::try_map(self.inner.entries.read().await, Option::as_ref)
        {
            return Ok(entries);
        }
        let loaded = self.loaded().await?;
        Ok(RwLockWriteGuard::downgrade_map(loaded, |e| {
            e.as_ref().unwrap_or(&*EMPTY)
        }))
    }

    /// The entries for a change. Held across the SQL statement, so memory
    /// and file change in the same order.
    async fn write(&self) -> Result<RwLockMappedWriteGuard<'_, Entries>, AstdbError> {
        let loaded = self.loaded().await?;
        Ok(RwLockWriteGuard::map(loaded, |e| {
            e.get_or_insert_with(Entries::default)
        }))
    }

    /// `DB(family/key)`: the value, if set.
    pub async fn get(&self, family: &str, key: &str) -> Result<Option<String>, AstdbError> {
        Ok(self.read().await?.get(&full_key(family, key)))
    }

    /// Whether `family/key` is set (without reading the value back).
    pub async fn contains(&self, family: &str, key: &str) -> Result<bool, AstdbError> {
        Ok(self
            .read()
            .await?
            .values
            .contains_key(full_key(family, key).as_str()))
    }

    /// `DB(family/key)=value`: sets (or replaces) a value.
    pub async fn put(&self, family: &str, key: &str, value: &str) -> Result<(), AstdbError> {
        let mut entries = self.write().await?;
        let key = full_key(family, key);
        entries.insert(&key, value);
        self.queue(Change::Put(key, value.to_owned()));
        Ok(())
    }

    /// `DB_DELETE(family/key)`: removes a value; false if it was not there.
    pub async fn del(&self, family: &str, key: &str) -> Result<bool, AstdbError> {
        let mut entries = self.write().await?;
        let key = full_key(family, key);
        let was = entries.values.remove(key.as_str()).is_some();
        if was {
            self.queue(Change::Delete(key));
        }
        Ok(was)
    }

    /// `database deltree family [keytree]`: removes a family (or a subtree of
    /// it) and returns how many entries went. An empty family removes everything.
    pub async fn deltree(&self, family: &str, subtree: Option<&str>) -> Result<u64, AstdbError> {
        let prefix = match subtree {
            Some(sub) if !sub.is_empty() => full_key(family, sub.trim_matches('/')),
            _ => family_prefix(family),
        };
        let mut entries = self.write().await?;
        let before = entries.values.len();
        entries.values.retain(|key, _| !is_under(key, &prefix));
        let removed = (before - entries.values.len()) as u64;
        if removed > 0 {
            self.queue(Change::DeleteTree(prefix));
        }
        Ok(removed)
    }

    /// Waits until every change made so far is in the file (or failed to
    /// get there and was logged).
    pub async fn flush(&self) {
        loop {
            let written = self.inner.written.notified();
            let idle = !self.inner.scheduled.load(Ordering::Acquire)
                && self
                    .inner
                    .pending
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .is_empty();
            if idle {
                return;
            }
            written.await;
        }
    }

    /// Queues a change for the file; called with the entries' write lock
    /// held, so the file sees changes in the order memory did.
    fn queue(&self, change: Change) {
        self.inner
            .pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(change);
        Inner::schedule(&self.inner);
    }

    /// `database show [family]`: `(full key, value)` pairs under a family
    /// (nested families included), ordered by key. An empty family lists all.
    pub async fn list(&self, family: &str) -> Result<Vec<(String, String)>, AstdbError> {
        let prefix = family_prefix(family);
        self.list_from(&format!("{prefix}/")).await
    }

    /// The entries of `family` whose key starts with `key_prefix`, ordered
    /// by key: the contacts of one AOR (`<aor>;@`) without the others.
    pub async fn list_prefix(
        &self,
        family: &str,
        key_prefix: &str,
    ) -> Result<Vec<(String, String)>, AstdbError> {
        let prefix = family_prefix(family);
        self.list_from(&format!("{prefix}/{key_prefix}")).await
    }

    /// Entries whose key starts with `start`, in key order.
    async fn list_from(&self, start: &str) -> Result<Vec<(String, String)>, AstdbError> {
        let entries = self.read().await?;
        Ok(entries
            .values
            .range::<str, _>((Bound::Included(start), Bound::Unbounded))
            .take_while(|(key, _)| key.starts_with(start))
            .map(|(k, v)| (k.to_string(), entries.shapes.unpack(v)))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_keeps_the_last_change_per_key_and_the_place_of_tree_deletions() {
        let put = |k: &str, v: &str| Change::Put(k.to_owned(), v.to_owned());
        let batch = vec![
            put("/a/1", "x"),
            put("/a/2", "y"),
            Change::Delete("/a/1".to_owned()),
            put("/a/2", "z"),
            Change::DeleteTree("/a".to_owned()),
            put("/a/3", "w"),
            Change::Delete("/b/1".to_owned()),
        ];
        assert_eq!(
            plan(&batch),
            vec![
                Step::Delete(vec!["/a/1"]),
                Step::Put(vec![("/a/2", "z")]),
                Step::DeleteTree("/a"),
                Step::Delete(vec!["/b/1"]),
                Step::Put(vec![("/a/3", "w")]),
            ]
        );
    }

    #[tokio::test]
    async fn astdb_get_put_del_deltree_list() {
        let dir = tempfile::tempdir().unwrap();
        let db = Astdb::open(dir.path()).unwrap();
        assert_eq!(db.get("cidname", "1000").await.unwrap(), None);
        db.put("cidname", "1000", "Alice").await.unwrap();
        db.put("cidname", "1000", "Alice B").await.unwrap();
        db.put("registrar/contact", "101;@abc", "{}").await.unwrap();
        db.put("registrar/contact", "102;@def", "{}").await.unwrap();
        db.put("registrarx", "k", "not under registrar")
            .await
            .unwrap();
        assert_eq!(
            db.get("cidname", "1000").await.unwrap().as_deref(),
            Some("Alice B")
        );
        let under = db.list("registrar").await.unwrap();
        assert_eq!(under.len(), 2, "{under:?}");
        assert_eq!(under[0].0, "/registrar/contact/101;@abc");
        assert_eq!(db.list("").await.unwrap().len(), 4);
        assert!(db.del("cidname", "1000").await.unwrap());
        assert!(!db.del("cidname", "1000").await.unwrap());
        assert_eq!(db.deltree("registrar", Some("contact")).await.unwrap(), 2);
        assert_eq!(db.list("registrarx").await.unwrap().len(), 1);
        // Asterisk's table layout, so existing astdb.sqlite3 files work as they are.
        db.flush().await;
        drop(db);
        let again = Astdb::open(dir.path()).unwrap();
        assert_eq!(
            again.get("registrarx", "k").await.unwrap().as_deref(),
            Some("not under registrar")
        );
    }

    #[tokio::test]
    async fn handles_on_one_file_share_their_entries() {
        let dir = tempfile::tempdir().unwrap();
        let writer = Astdb::open(dir.path()).unwrap();
        let reader = Astdb::open(dir.path()).unwrap();
        // Loaded before the write: the write must still be seen.
        assert_eq!(reader.get("cidname", "1000").await.unwrap(), None);
        writer.put("cidname", "1000", "Alice").await.unwrap();
        assert_eq!(
            reader.get("cidname", "1000").await.unwrap().as_deref(),
            Some("Alice")
        );
        writer.del("cidname", "1000").await.unwrap();
        assert_eq!(reader.get("cidname", "1000").await.unwrap(), None);
    }

    #[tokio::test]
    async fn list_prefix_keeps_to_one_range() {
        let dir = tempfile::tempdir().unwrap();
        let db = Astdb::open(dir.path()).unwrap();
        for key in ["101;@a", "101;@b", "1010;@c", "102;@d"] {
            db.put("registrar/contact", key, "{}").await.unwrap();
        }
        db.put("registrar/contactx", "101;@z", "{}").await.unwrap();
        let keys: Vec<String> = db
            .list_prefix("registrar/contact", "101;@")
            .await
            .unwrap()
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(
            keys,
            ["/registrar/contact/101;@a", "/registrar/contact/101;@b"]
        );
    }

    #[tokio::test]
    async fn changes_reach_the_file_even_if_every_handle_went() {
        let dir = tempfile::tempdir().unwrap();
        let db = Astdb::open(dir.path()).unwrap();
        for n in 0..200 {
            db.put("registrar/contact", &format!("{n};@x"), "{}")
                .await
                .unwrap();
        }
        db.del("registrar/contact", "7;@x").await.unwrap();
        drop(db);
        let url = format!("sqlite://{}", dir.path().join(FILE_NAME).display());
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(&url)
                .await
                .unwrap();
            let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM astdb")
                .fetch_one(&mut conn)
                .await
                .unwrap_or(0);
            if rows == 199 {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{rows} rows in the file"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    #[test]
    fn a_writer_cut_short_by_its_runtime_does_not_stop_later_writes() {
        let dir = tempfile::tempdir().unwrap();
        let first = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        // sqlx opens its pool within a runtime.
        let db = first.block_on(async { Astdb::open(dir.path()) }).unwrap();
        // The writer sleeps out its window; the runtime goes first.
        first.block_on(db.put("family", "lost", "maybe")).unwrap();
        drop(first);
        let second = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        second.block_on(async {
            db.put("family", "kept", "yes").await.unwrap();
            tokio::time::timeout(Duration::from_secs(10), db.flush())
                .await
                .expect("flush returns");
            // sqlx closes its pool within a runtime.
            drop(db);
            let again = Astdb::open(dir.path()).unwrap();
            let value = again.get("family", "kept").await.unwrap();
            assert_eq!(value.as_deref(), Some("yes"));
        });
    }
}
