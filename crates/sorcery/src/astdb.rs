//! Asterisk's astdb: a persistent key/value store.
//!
//! Same file layout as Asterisk 10+: an SQLite database `astdb.sqlite3` in
//! the `astdbdir`/`astvarlibdir` directory (`settings.dirs.db`) holding one
//! table `astdb(key VARCHAR(256) PRIMARY KEY, value VARCHAR(256))`. Keys are
//! `/family/key`, families may nest (`/registrar/contact`). Used by the
//! `astdb` sorcery wizard, `DB()`, `database show` and AMI `DBGet`/`DBPut`.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use sqlx::Row as _;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};

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

/// The astdb file, opened lazily.
#[derive(Debug, Clone)]
pub struct Astdb {
    pool: SqlitePool,
    path: PathBuf,
}

/// The file name Asterisk uses.
pub const FILE_NAME: &str = "astdb.sqlite3";

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

impl Astdb {
    /// The astdb in `dir` (`settings.dirs.db`); the file is created on first use.
    pub fn open(dir: &Path) -> Result<Self, AstdbError> {
        let path = dir.join(FILE_NAME);
        let err = |e: sqlx::Error| AstdbError::Database {
            path: path.display().to_string(),
            message: e.to_string(),
        };
        let options = SqliteConnectOptions::from_str("sqlite://")
            .map_err(err)?
            .filename(&path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal);
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
        Ok(Self { pool, path })
    }

    fn err(&self, e: sqlx::Error) -> AstdbError {
        AstdbError::Database {
            path: self.path.display().to_string(),
            message: e.to_string(),
        }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `DB(family/key)`: the value, if set.
    pub async fn get(&self, family: &str, key: &str) -> Result<Option<String>, AstdbError> {
        let row = sqlx::query("SELECT value FROM astdb WHERE key = ?")
            .bind(full_key(family, key))
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| self.err(e))?;
        Ok(row.map(|r| r.get::<String, _>(0)))
    }

    /// `DB(family/key)=value`: sets (or replaces) a value.
    pub async fn put(&self, family: &str, key: &str, value: &str) -> Result<(), AstdbError> {
        sqlx::query("INSERT OR REPLACE INTO astdb (key, value) VALUES (?, ?)")
            .bind(full_key(family, key))
            .bind(value)
            .execute(&self.pool)
            .await
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// `DB_DELETE(family/key)`: removes a value; false if it was not there.
    pub async fn del(&self, family: &str, key: &str) -> Result<bool, AstdbError> {
        let done = sqlx::query("DELETE FROM astdb WHERE key = ?")
            .bind(full_key(family, key))
            .execute(&self.pool)
            .await
            .map_err(|e| self.err(e))?;
        Ok(done.rows_affected() > 0)
    }

    /// `database deltree family [keytree]`: removes a family (or a subtree of
    /// it) and returns how many entries went. An empty family removes everything.
    pub async fn deltree(&self, family: &str, subtree: Option<&str>) -> Result<u64, AstdbError> {
        let prefix = match subtree {
            Some(sub) if !sub.is_empty() => full_key(family, sub.trim_matches('/')),
            _ => family_prefix(family),
        };
        let done = if prefix.is_empty() {
            sqlx::query("DELETE FROM astdb").execute(&self.pool).await
        } else {
            sqlx::query(
                "DELETE FROM astdb WHERE key = ?1 OR substr(key, 1, length(?1) + 1) = ?1 || '/'",
            )
            .bind(&prefix)
            .execute(&self.pool)
            .await
        }
        .map_err(|e| self.err(e))?;
        Ok(done.rows_affected())
    }

    /// `database show [family]`: `(full key, value)` pairs under a family
    /// (nested families included), ordered by key. An empty family lists all.
    pub async fn list(&self, family: &str) -> Result<Vec<(String, String)>, AstdbError> {
        let prefix = family_prefix(family);
        let rows = if prefix.is_empty() {
            sqlx::query("SELECT key, value FROM astdb ORDER BY key").fetch_all(&self.pool).await
        } else {
            sqlx::query("SELECT key, value FROM astdb WHERE substr(key, 1, length(?1) + 1) = ?1 || '/' ORDER BY key")
                .bind(&prefix)
                .fetch_all(&self.pool)
                .await
        }
        .map_err(|e| self.err(e))?;
        Ok(rows
            .into_iter()
            .map(|r| (r.get::<String, _>(0), r.get::<String, _>(1)))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        drop(db);
        let again = Astdb::open(dir.path()).unwrap();
        assert_eq!(
            again.get("registrarx", "k").await.unwrap().as_deref(),
            Some("not under registrar")
        );
    }
}
