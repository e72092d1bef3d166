//! A private database per test and a configuration directory pointing at it
//! (the pattern of crates/realtime/tests/drivers.rs, copied, not shared).

#![allow(dead_code)]

use std::path::Path;
use std::sync::Arc;

use obelus_core::settings::Settings;
use obelus_realtime::{Realtime, RealtimeService};
use obelus_sorcery::Sorcery;
use sqlx::Connection as _;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Backend {
    Sqlite,
    Postgres,
    MariaDb,
}

pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub settings: Settings,
    pub backend: Backend,
    pub dbname: String,
}

fn unique_name() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "obelus_s{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

const PG_ADMIN: &str = "postgres://postgres@127.0.0.1:5432/test";
const MY_ADMIN: &str = "mysql://root@127.0.0.1:3306/test";

pub fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).expect("write");
}

impl Fixture {
    /// A config dir without any database (config/memory/astdb tests).
    pub fn plain() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut settings = Settings::defaults(&dir.path().join("asterisk.conf"));
        settings.dirs.etc = dir.path().to_path_buf();
        settings.dirs.db = dir.path().to_path_buf();
        Self {
            dir,
            settings,
            backend: Backend::Sqlite,
            dbname: String::new(),
        }
    }

    pub async fn new(backend: Backend) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let dbname = unique_name();
        let (driver, database) = match backend {
            Backend::Sqlite => {
                write(
                    dir.path(),
                    "res_config_sqlite3.conf",
                    "[obelus]\ndbfile => realtime.sqlite3\n",
                );
                ("sqlite3", "obelus")
            }
            Backend::Postgres => {
                let mut admin = sqlx::PgConnection::connect(PG_ADMIN)
                    .await
                    .expect("PostgreSQL must be running on 127.0.0.1:5432 (user postgres, trust)");
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {dbname}")))
                    .execute(&mut admin)
                    .await
                    .expect("create database");
                write(
                    dir.path(),
                    "res_pgsql.conf",
                    &format!(
                        "[general]\ndbhost=127.0.0.1\ndbport=5432\ndbname={dbname}\ndbuser=postgres\ndbpass=\n"
                    ),
                );
                ("pgsql", "general")
            }
            Backend::MariaDb => {
                let mut admin = sqlx::MySqlConnection::connect(MY_ADMIN)
                    .await
                    .expect("MariaDB must be running on 127.0.0.1:3306 (root, no password)");
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {dbname}")))
                    .execute(&mut admin)
                    .await
                    .expect("create database");
                write(
                    dir.path(),
                    "res_config_mysql.conf",
                    &format!(
                        "[general]\ndbhost=127.0.0.1\ndbport=3306\ndbname={dbname}\ndbuser=root\n"
                    ),
                );
                ("mysql", "general")
            }
        };
        let mut families = String::from("[settings]\n");
        for family in ["ps_endpoints", "ps_auths", "ps_aors", "ps_contacts"] {
            families.push_str(&format!("{family} => {driver},{database}\n"));
        }
        write(dir.path(), "extconfig.conf", &families);
        let mut settings = Settings::defaults(&dir.path().join("asterisk.conf"));
        settings.dirs.etc = dir.path().to_path_buf();
        settings.dirs.db = dir.path().to_path_buf();
        Self {
            dir,
            settings,
            backend,
            dbname,
        }
    }

    pub fn realtime(&self) -> Realtime {
        let (realtime, problems) = Realtime::configure(&self.settings);
        assert!(problems.is_empty(), "{problems:?}");
        realtime
    }

    pub fn service(&self) -> Arc<RealtimeService> {
        let service = Arc::new(RealtimeService::default());
        service.set(self.realtime());
        service
    }

    /// Creates Asterisk's tables with the realtime schema upgrade.
    pub async fn upgrade(&self) {
        let realtime = self.realtime();
        let driver = realtime.drivers().next().expect("one connection");
        obelus_realtime::schema::migrate::upgrade(driver, &mut |_| {})
            .await
            .expect("upgrade");
    }

    pub fn write(&self, name: &str, text: &str) {
        write(self.dir.path(), name, text);
    }

    /// Runs SQL directly, as an administrator inserting rows by hand would.
    pub async fn sql(&self, statement: &str) {
        match self.backend {
            Backend::Sqlite => {
                let url = format!(
                    "sqlite://{}",
                    self.settings.dirs.db.join("realtime.sqlite3").display()
                );
                let mut c = sqlx::SqliteConnection::connect(&url).await.expect("sqlite");
                sqlx::raw_sql(sqlx::AssertSqlSafe(statement.to_owned()))
                    .execute(&mut c)
                    .await
                    .expect(statement);
            }
            Backend::Postgres => {
                let url = format!("postgres://postgres@127.0.0.1:5432/{}", self.dbname);
                let mut c = sqlx::PgConnection::connect(&url).await.expect("pg");
                sqlx::raw_sql(sqlx::AssertSqlSafe(statement.to_owned()))
                    .execute(&mut c)
                    .await
                    .expect(statement);
            }
            Backend::MariaDb => {
                let url = format!("mysql://root@127.0.0.1:3306/{}", self.dbname);
                let mut c = sqlx::MySqlConnection::connect(&url).await.expect("mysql");
                sqlx::raw_sql(sqlx::AssertSqlSafe(statement.to_owned()))
                    .execute(&mut c)
                    .await
                    .expect(statement);
            }
        }
    }

    pub async fn drop_database(&self) {
        let statement = format!("DROP DATABASE IF EXISTS {}", self.dbname);
        match self.backend {
            Backend::Sqlite => {}
            Backend::Postgres => {
                if let Ok(mut admin) = sqlx::PgConnection::connect(PG_ADMIN).await {
                    let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!("{statement} WITH (FORCE)")))
                        .execute(&mut admin)
                        .await;
                }
            }
            Backend::MariaDb => {
                if let Ok(mut admin) = sqlx::MySqlConnection::connect(MY_ADMIN).await {
                    let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
                        .execute(&mut admin)
                        .await;
                }
            }
        }
    }

    /// Sorcery with the PJSIP types, as the daemon builds it.
    pub async fn sorcery(
        &self,
        realtime: Arc<RealtimeService>,
    ) -> (Arc<Sorcery>, Vec<obelus_core::diagnostic::Diagnostic>) {
        Sorcery::builder(&self.settings, realtime)
            .register_all(obelus_pjsip::objects::registrations().expect("pjsip types"))
            .build()
            .await
    }
}
