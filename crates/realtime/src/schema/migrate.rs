//! Versioned, idempotent migrations: `obelus db upgrade|current|history`.
//!
//! Obelus records what it applied in `obelus_schema_version`, and keeps
//! Asterisk's own Alembic marker (`alembic_version_config`) at the head it
//! matches, so a database upgraded by Obelus is "current" for Asterisk's
//! tooling and one created by Asterisk's tooling is upgraded in place: tables
//! that exist are kept, and only missing columns are added.

use super::asterisk::{ALEMBIC_HEAD, TABLES};
use super::ddl;
use super::model::Table;
use super::static_config::{AST_CONFIG, MANAGER_QUEUE};
use crate::driver::SqlDriver;
use crate::error::RealtimeError;
use crate::sql::{BackendError, Bind, Dialect, Pool};

/// One migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Migration {
    /// Its version; applied in increasing order.
    pub version: u32,
    /// What it does.
    pub description: &'static str,
}

/// Every migration Obelus knows, oldest first.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        description: "Asterisk realtime schema (config tree, Alembic 2285f2ace275)",
    },
    Migration {
        version: 2,
        description: "static realtime table ast_config",
    },
    Migration {
        version: 3,
        description: "AMI durable action queue table manager_queue",
    },
];

/// A migration that was applied, as `db history` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// Its version.
    pub version: u32,
    /// What it did.
    pub description: String,
    /// When (UTC, `YYYY-MM-DD HH:MM:SS`).
    pub applied_at: String,
}

/// What `db current` reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Current {
    /// The newest Obelus migration applied, if any.
    pub obelus: Option<u32>,
    /// Asterisk's Alembic revision, if the database has one.
    pub alembic: Option<String>,
}

const VERSION_TABLE: &str = "obelus_schema_version";

fn err(driver: &SqlDriver, e: BackendError) -> RealtimeError {
    RealtimeError::Query {
        connection: driver.spec().name.clone(),
        message: e.to_string(),
    }
}

async fn exec(driver: &SqlDriver, sql: &str, binds: &[Bind]) -> Result<u64, RealtimeError> {
    driver
        .pool()
        .execute(sql, binds)
        .await
        .map_err(|e| err(driver, e))
}

async fn ensure_bookkeeping(driver: &SqlDriver) -> Result<(), RealtimeError> {
    let d = driver.syntax().await?.dialect;
    let q = |n: &str| d.quote(n);
    exec(
        driver,
        &format!(
            "CREATE TABLE IF NOT EXISTS {} ({} INTEGER NOT NULL PRIMARY KEY, {} VARCHAR(255) NOT NULL, {} VARCHAR(40) NOT NULL)",
            q(VERSION_TABLE),
            q("version"),
            q("description"),
            q("applied_at")
        ),
        &[],
    )
    .await?;
    exec(
        driver,
        &format!(
            "CREATE TABLE IF NOT EXISTS {} ({} VARCHAR(32) NOT NULL, CONSTRAINT {} PRIMARY KEY ({}))",
            q("alembic_version_config"),
            q("version_num"),
            q("alembic_version_config_pkc"),
            q("version_num")
        ),
        &[],
    )
    .await?;
    Ok(())
}

/// What is applied.
pub async fn history(driver: &SqlDriver) -> Result<Vec<Applied>, RealtimeError> {
    let d = driver.syntax().await?.dialect;
    let q = |n: &str| d.quote(n);
    let text = |n: &str| match d {
        Dialect::Postgres => format!("{}::text", q(n)),
        Dialect::MySql => format!("CAST({} AS CHAR)", q(n)),
        Dialect::Sqlite => q(n),
    };
    let exists = driver
        .pool()
        .columns(VERSION_TABLE)
        .await
        .map_err(|e| err(driver, e))?;
    if exists.is_empty() {
        return Ok(Vec::new());
    }
    let rows = driver
        .pool()
        .fetch(
            &format!(
                "SELECT {}, {}, {} FROM {} ORDER BY {}",
                text("version"),
                text("description"),
                text("applied_at"),
                q(VERSION_TABLE),
                q("version")
            ),
            &[],
        )
        .await
        .map_err(|e| err(driver, e))?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let mut values = row.into_iter().map(|(_, v)| v.unwrap_or_default());
            let version = values.next().unwrap_or_default().parse().unwrap_or(0);
            Applied {
                version,
                description: values.next().unwrap_or_default(),
                applied_at: values.next().unwrap_or_default(),
            }
        })
        .collect())
}

/// The newest applied versions, Obelus's and Alembic's.
pub async fn current(driver: &SqlDriver) -> Result<Current, RealtimeError> {
    let obelus = history(driver).await?.iter().map(|a| a.version).max();
    let alembic_exists = !driver
        .pool()
        .columns("alembic_version_config")
        .await
        .map_err(|e| err(driver, e))?
        .is_empty();
    let alembic = if alembic_exists {
        let d = driver.syntax().await?.dialect;
        let rows = driver
            .pool()
            .fetch(
                &format!(
                    "SELECT {} FROM {}",
                    d.quote("version_num"),
                    d.quote("alembic_version_config")
                ),
                &[],
            )
            .await
            .map_err(|e| err(driver, e))?;
        rows.into_iter()
            .next()
            .and_then(|r| r.into_iter().next())
            .and_then(|(_, v)| v)
    } else {
        None
    };
    Ok(Current { obelus, alembic })
}

/// Creates tables that are missing and adds columns that are missing.
async fn reconcile_table(driver: &SqlDriver, table: &Table) -> Result<usize, RealtimeError> {
    let dialect = driver.syntax().await?.dialect;
    let existing = driver
        .pool()
        .columns(table.name)
        .await
        .map_err(|e| err(driver, e))?;
    if existing.is_empty() {
        for statement in ddl::create_table(dialect, table) {
            exec(driver, &statement, &[]).await?;
        }
        return Ok(0);
    }
    let mut added = 0;
    for column in table.columns {
        if !existing
            .iter()
            .any(|c| c.name.eq_ignore_ascii_case(column.name))
        {
            exec(driver, &ddl::add_column(dialect, table, column), &[]).await?;
            added += 1;
        }
    }
    // Indexes of a table created elsewhere may be missing too (harmless to re-run).
    if dialect != Dialect::MySql {
        for statement in ddl::create_table(dialect, table).into_iter().skip(1) {
            exec(driver, &statement, &[]).await?;
        }
    }
    Ok(added)
}

/// Brings the database to the newest schema; reports each step through
/// `progress`. Returns the versions applied now (empty if already current).
pub async fn upgrade(
    driver: &SqlDriver,
    progress: &mut (dyn FnMut(&str) + Send),
) -> Result<Vec<u32>, RealtimeError> {
    ensure_bookkeeping(driver).await?;
    let done: Vec<u32> = history(driver).await?.iter().map(|a| a.version).collect();
    let syntax = driver.syntax().await?;
    let dialect = syntax.dialect;
    let pool: &Pool = driver.pool();
    let mut applied = Vec::new();
    for migration in MIGRATIONS {
        if done.contains(&migration.version) {
            continue;
        }
        progress(&format!(
            "applying {}: {}",
            migration.version, migration.description
        ));
        let tables: Vec<&Table> = match migration.version {
            1 => {
                let enums = ddl::create_enums(dialect);
                for (i, statement) in enums.iter().enumerate() {
                    if i == 0 {
                        progress(&format!("  enum types ({})", enums.len()));
                    }
                    exec(driver, statement, &[]).await?;
                }
                TABLES.iter().collect()
            }
            2 => vec![&AST_CONFIG],
            _ => vec![&MANAGER_QUEUE],
        };
        let total = tables.len();
        for (i, table) in tables.into_iter().enumerate() {
            let added = reconcile_table(driver, table).await?;
            let note = if added > 0 {
                format!(" ({added} columns added)")
            } else {
                String::new()
            };
            progress(&format!("  [{}/{total}] {}{note}", i + 1, table.name));
        }
        let now = chrono::Utc::now().format("%Y-%m-%d %H:%M:%S").to_string();
        let (p1, p2, p3) = (
            syntax.placeholder(1),
            syntax.placeholder(2),
            syntax.placeholder(3),
        );
        let cast = |p: &str| {
            if dialect == Dialect::Postgres {
                format!("CAST({p} AS INTEGER)")
            } else {
                p.to_owned()
            }
        };
        pool.execute(
            &format!(
                "INSERT INTO {} ({}, {}, {}) VALUES ({}, {p2}, {p3})",
                dialect.quote(VERSION_TABLE),
                dialect.quote("version"),
                dialect.quote("description"),
                dialect.quote("applied_at"),
                cast(&p1)
            ),
            &[
                Bind::Text(migration.version.to_string()),
                Bind::Text(migration.description.to_owned()),
                Bind::Text(now),
            ],
        )
        .await
        .map_err(|e| err(driver, e))?;
        applied.push(migration.version);
    }
    let current = current(driver).await?;
    if current.alembic.as_deref() != Some(ALEMBIC_HEAD) {
        let table = dialect.quote("alembic_version_config");
        exec(driver, &format!("DELETE FROM {table}"), &[]).await?;
        exec(
            driver,
            &format!(
                "INSERT INTO {table} ({}) VALUES ({})",
                dialect.quote("version_num"),
                syntax.placeholder(1)
            ),
            &[Bind::Text(ALEMBIC_HEAD.to_owned())],
        )
        .await?;
        progress(&format!("  alembic_version_config set to {ALEMBIC_HEAD}"));
    }
    Ok(applied)
}
