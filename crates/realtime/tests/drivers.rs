//! The realtime driver suite, run for real against SQLite, PostgreSQL
//! (127.0.0.1:5432) and MariaDB (127.0.0.1:3306), the last two also through
//! ODBC (unixODBC with Debian's `odbc-mariadb` and `odbc-postgresql`
//! drivers, DSN-less: `tests/odbc_dsn.rs` goes through a named DSN). Each run
//! gets a database of its own, created and dropped here, so runs never see
//! each other's rows.

use std::path::Path;

use obelus_core::settings::Settings;
use obelus_realtime::schema::migrate;
use obelus_realtime::{Criterion, Realtime, RealtimeError};
use sqlx::Connection as _;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Backend {
    Sqlite,
    Postgres,
    MariaDb,
    /// PostgreSQL through unixODBC and psqlODBC.
    #[cfg_attr(not(feature = "odbc"), allow(dead_code))]
    PostgresOdbc,
    /// MariaDB through unixODBC and MariaDB Connector/ODBC.
    #[cfg_attr(not(feature = "odbc"), allow(dead_code))]
    MariaDbOdbc,
}

impl Backend {
    fn is_odbc(self) -> bool {
        matches!(self, Backend::PostgresOdbc | Backend::MariaDbOdbc)
    }
}

/// The ODBC driver library a Debian package installs, found without reading
/// root-owned configuration (`/usr/lib/<triplet>/odbc/<file>`).
fn odbc_driver(file: &str, package: &str) -> String {
    let found = std::fs::read_dir("/usr/lib")
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path().join("odbc").join(file))
        .chain([Path::new("/usr/lib/odbc").join(file)])
        .find(|path| path.exists());
    match found {
        Some(path) => path.display().to_string(),
        None => panic!("{file} not found: install {package} (scripts/test does)"),
    }
}

/// A private database and a configuration directory pointing at it.
struct Fixture {
    _dir: tempfile::TempDir,
    settings: Settings,
    backend: Backend,
    dbname: String,
}

fn unique_name() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "obelus_t{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

const PG_ADMIN: &str = "postgres://postgres@127.0.0.1:5432/test";
const MY_ADMIN: &str = "mysql://root@127.0.0.1:3306/test";

impl Fixture {
    async fn new(backend: Backend) -> Self {
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
            Backend::Postgres | Backend::PostgresOdbc => {
                let mut admin = sqlx::PgConnection::connect(PG_ADMIN)
                    .await
                    .expect("PostgreSQL must be running on 127.0.0.1:5432 (user postgres, trust)");
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {dbname}")))
                    .execute(&mut admin)
                    .await
                    .expect("create database");
                if backend == Backend::PostgresOdbc {
                    let driver = odbc_driver("psqlodbcw.so", "odbc-postgresql");
                    write(
                        dir.path(),
                        "res_odbc.conf",
                        &format!(
                            "[obelus]\ndsn => Driver={driver}\\;Servername=127.0.0.1\\;Port=5432\\;Database={dbname}\nusername => postgres\n"
                        ),
                    );
                    ("odbc", "obelus")
                } else {
                    write(
                        dir.path(),
                        "res_pgsql.conf",
                        &format!(
                            "[general]\ndbhost=127.0.0.1\ndbport=5432\ndbname={dbname}\ndbuser=postgres\ndbpass=\n"
                        ),
                    );
                    ("pgsql", "general")
                }
            }
            Backend::MariaDb | Backend::MariaDbOdbc => {
                let mut admin = sqlx::MySqlConnection::connect(MY_ADMIN)
                    .await
                    .expect("MariaDB must be running on 127.0.0.1:3306 (root, no password)");
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {dbname}")))
                    .execute(&mut admin)
                    .await
                    .expect("create database");
                if backend == Backend::MariaDbOdbc {
                    let driver = odbc_driver("libmaodbc.so", "odbc-mariadb");
                    write(
                        dir.path(),
                        "res_odbc.conf",
                        &format!(
                            "[obelus]\ndsn => Driver={driver}\\;Server=127.0.0.1\\;Port=3306\\;Database={dbname}\nusername => root\nmax_connections => 4\n"
                        ),
                    );
                    ("odbc", "obelus")
                } else {
                    write(
                        dir.path(),
                        "res_config_mysql.conf",
                        &format!(
                            "[general]\ndbhost=127.0.0.1\ndbport=3306\ndbname={dbname}\ndbuser=root\n"
                        ),
                    );
                    ("mysql", "general")
                }
            }
        };
        let mut families = String::from("[settings]\n");
        for family in ["ps_endpoints", "ps_auths", "ps_aors", "ps_contacts"] {
            families.push_str(&format!("{family} => {driver},{database}\n"));
        }
        families.push_str(&format!(
            "extensions.conf => {driver},{database},ast_config\n"
        ));
        write(dir.path(), "extconfig.conf", &families);
        let mut settings = Settings::defaults(&dir.path().join("asterisk.conf"));
        settings.dirs.db = dir.path().to_path_buf();
        Self {
            _dir: dir,
            settings,
            backend,
            dbname,
        }
    }

    fn realtime(&self) -> Realtime {
        let (realtime, problems) = Realtime::configure(&self.settings);
        assert!(problems.is_empty(), "{problems:?}");
        realtime
    }

    /// Runs SQL directly, as an administrator inserting rows by hand would.
    async fn sql(&self, statement: &str) {
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
            Backend::Postgres | Backend::PostgresOdbc => {
                let url = format!("postgres://postgres@127.0.0.1:5432/{}", self.dbname);
                let mut c = sqlx::PgConnection::connect(&url).await.expect("pg");
                sqlx::raw_sql(sqlx::AssertSqlSafe(statement.to_owned()))
                    .execute(&mut c)
                    .await
                    .expect(statement);
            }
            Backend::MariaDb | Backend::MariaDbOdbc => {
                let url = format!("mysql://root@127.0.0.1:3306/{}", self.dbname);
                let mut c = sqlx::MySqlConnection::connect(&url).await.expect("mysql");
                sqlx::raw_sql(sqlx::AssertSqlSafe(statement.to_owned()))
                    .execute(&mut c)
                    .await
                    .expect(statement);
            }
        }
    }

    /// The raw text stored in one column, bypassing realtime's decoding.
    async fn raw(&self, query: &str) -> String {
        use sqlx::Row as _;
        match self.backend {
            Backend::Sqlite => {
                let url = format!(
                    "sqlite://{}",
                    self.settings.dirs.db.join("realtime.sqlite3").display()
                );
                let mut c = sqlx::SqliteConnection::connect(&url).await.expect("sqlite");
                sqlx::query(sqlx::AssertSqlSafe(query.to_owned()))
                    .fetch_one(&mut c)
                    .await
                    .expect(query)
                    .get(0)
            }
            Backend::Postgres | Backend::PostgresOdbc => {
                let url = format!("postgres://postgres@127.0.0.1:5432/{}", self.dbname);
                let mut c = sqlx::PgConnection::connect(&url).await.expect("pg");
                sqlx::query(sqlx::AssertSqlSafe(query.to_owned()))
                    .fetch_one(&mut c)
                    .await
                    .expect(query)
                    .get(0)
            }
            Backend::MariaDb | Backend::MariaDbOdbc => {
                let url = format!("mysql://root@127.0.0.1:3306/{}", self.dbname);
                let mut c = sqlx::MySqlConnection::connect(&url).await.expect("mysql");
                sqlx::query(sqlx::AssertSqlSafe(query.to_owned()))
                    .fetch_one(&mut c)
                    .await
                    .expect(query)
                    .get(0)
            }
        }
    }

    async fn drop_database(&self) {
        let statement = format!("DROP DATABASE IF EXISTS {}", self.dbname);
        match self.backend {
            Backend::Sqlite => {}
            Backend::Postgres | Backend::PostgresOdbc => {
                if let Ok(mut admin) = sqlx::PgConnection::connect(PG_ADMIN).await {
                    let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!("{statement} WITH (FORCE)")))
                        .execute(&mut admin)
                        .await;
                }
            }
            Backend::MariaDb | Backend::MariaDbOdbc => {
                if let Ok(mut admin) = sqlx::MySqlConnection::connect(MY_ADMIN).await {
                    let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
                        .execute(&mut admin)
                        .await;
                }
            }
        }
    }
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).expect("write");
}

fn fields(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn id(value: &str) -> Vec<Criterion> {
    vec![Criterion::eq("id", value).unwrap()]
}

async fn suite(backend: Backend) {
    let fx = Fixture::new(backend).await;
    let realtime = fx.realtime();
    let driver = realtime.drivers().next().expect("one connection");

    // Migrations: versioned, idempotent, Alembic-compatible.
    let mut lines = Vec::new();
    let applied = migrate::upgrade(driver, &mut |l| lines.push(l.to_owned()))
        .await
        .expect("upgrade");
    assert_eq!(applied, [1, 2, 3]);
    assert!(
        lines.iter().any(|l| l.contains("ps_endpoints")),
        "{lines:?}"
    );
    let again = migrate::upgrade(driver, &mut |_| {})
        .await
        .expect("second upgrade");
    assert!(again.is_empty(), "a second upgrade applies nothing");
    let current = migrate::current(driver).await.unwrap();
    assert_eq!(current.obelus, Some(3));
    assert_eq!(
        current.alembic.as_deref(),
        Some(obelus_realtime::schema::ALEMBIC_HEAD)
    );
    assert_eq!(migrate::history(driver).await.unwrap().len(), 3);

    // The seed tutorial's rows, inserted with plain SQL.
    fx.sql("INSERT INTO ps_aors (id, max_contacts) VALUES ('101', 1), ('102', 1)")
        .await;
    fx.sql("INSERT INTO ps_auths (id, auth_type, password, username) VALUES ('101', 'userpass', '101', '101'), ('102', 'userpass', '102', '102')").await;
    fx.sql("INSERT INTO ps_endpoints (id, transport, aors, auth, context, disallow, allow, direct_media) VALUES ('101', 'transport-udp', '101', '101', 'testing', 'all', 'g722', 'no'), ('102', 'transport-udp', '102', '102', 'testing', 'all', 'g722', NULL)").await;

    let e101 = realtime
        .load("ps_endpoints", &id("101"))
        .await
        .unwrap()
        .expect("101 exists");
    assert_eq!(e101.get("context"), Some("testing"));
    assert_eq!(e101.get("allow"), Some("g722"));
    assert_eq!(e101.get("direct_media"), Some("no"));
    assert_eq!(e101.get("callerid"), None, "NULL columns are not set");

    // NULL is "not set" in multi-row reads too (Asterisk's sqlite3 driver gets this wrong).
    let all = realtime
        .load_multi("ps_endpoints", &[Criterion::parse("id LIKE", "%").unwrap()])
        .await
        .unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(
        all[0].get("id"),
        Some("101"),
        "ordered by the first lookup column"
    );
    assert_eq!(all[1].get("direct_media"), None);
    assert_eq!(all[1].get("callerid"), None);

    // Operators.
    let big = realtime
        .load_multi("ps_aors", &[Criterion::parse("id !=", "101").unwrap()])
        .await
        .unwrap();
    assert_eq!(big.len(), 1);
    assert_eq!(big[0].get("id"), Some("102"));
    let none = realtime
        .load_multi(
            "ps_aors",
            &[Criterion::parse("max_contacts >", "1").unwrap()],
        )
        .await
        .unwrap();
    assert!(none.is_empty());

    // Store, with `;` in the id as the registrar writes contacts.
    let contact_id = "101;@5f1a2b";
    let stored = realtime
        .store(
            "ps_contacts",
            &fields(&[
                ("id", contact_id),
                ("uri", "sip:101@127.0.0.1:5061"),
                ("expiration_time", "1900000000"),
                ("qualify_frequency", ""),
                ("endpoint", "101"),
                ("not_a_column", "ignored"),
            ]),
        )
        .await
        .unwrap();
    assert_eq!(stored, 1);
    let raw = fx.raw("SELECT id FROM ps_contacts").await;
    if backend == Backend::Sqlite {
        assert_eq!(raw, contact_id, "SQLite stores values verbatim");
    } else {
        assert_eq!(raw, "101^3B@5f1a2b", "server drivers store ';' as ^3B");
    }
    let prefix = realtime
        .load_multi(
            "ps_contacts",
            &[Criterion::parse("id LIKE", "101;@%").unwrap()],
        )
        .await
        .unwrap();
    assert_eq!(prefix.len(), 1);
    assert_eq!(prefix[0].get("id"), Some(contact_id));
    assert_eq!(
        prefix[0].get("qualify_frequency"),
        None,
        "empty integer stored as NULL"
    );

    // Update and destroy.
    let changed = realtime
        .update(
            "ps_contacts",
            &id(contact_id),
            &fields(&[("uri", "sip:101@127.0.0.1:5070")]),
        )
        .await
        .unwrap();
    assert_eq!(changed, 1);
    let c = realtime
        .load("ps_contacts", &id(contact_id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.get("uri"), Some("sip:101@127.0.0.1:5070"));
    assert_eq!(
        realtime
            .destroy("ps_contacts", &id(contact_id))
            .await
            .unwrap(),
        1
    );
    assert!(
        realtime
            .load("ps_contacts", &id(contact_id))
            .await
            .unwrap()
            .is_none()
    );

    // Text that is not ASCII arrives in the database as UTF-8, and back.
    realtime
        .update(
            "ps_endpoints",
            &id("101"),
            &fields(&[("callerid", "\"Zoë Ångström\" <101>")]),
        )
        .await
        .unwrap();
    assert_eq!(
        fx.raw("SELECT callerid FROM ps_endpoints WHERE id = '101'")
            .await,
        "\"Zoë Ångström\" <101>"
    );
    let e101 = realtime
        .load("ps_endpoints", &id("101"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(e101.get("callerid"), Some("\"Zoë Ångström\" <101>"));

    // A row added after start is visible at once: nothing is cached.
    fx.sql("INSERT INTO ps_aors (id, max_contacts) VALUES ('103', 2)")
        .await;
    let a103 = realtime.load("ps_aors", &id("103")).await.unwrap().unwrap();
    assert_eq!(a103.get("max_contacts"), Some("2"));

    // Single-row semantics: empty dropped, a single space means empty.
    fx.sql("INSERT INTO ps_endpoints (id, context, callerid) VALUES ('104', '', ' ')")
        .await;
    let e104 = realtime
        .load("ps_endpoints", &id("104"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(e104.get("context"), None);
    if backend.is_odbc() {
        // res_config_odbc trims every `;`-separated chunk and drops blank
        // ones: a lone space is "not set" through ODBC.
        assert_eq!(e104.get("callerid"), None);
    } else {
        assert_eq!(e104.get("callerid"), Some(""));
    }

    // Bad requests are errors, never SQL.
    let bad = realtime
        .load("ps_endpoints", &[Criterion::eq("nope", "1").unwrap()])
        .await;
    assert!(matches!(bad, Err(RealtimeError::BadRequest(_))), "{bad:?}");
    assert!(matches!(
        realtime.load("unmapped_family", &id("1")).await,
        Err(RealtimeError::NotMapped(_))
    ));

    // Static realtime: extensions.conf kept in ast_config.
    fx.sql("INSERT INTO ast_config (cat_metric, var_metric, filename, category, var_name, var_val) VALUES (0, 0, 'extensions.conf', 'testing', 'exten', '_1XX,1,NoOp()'), (0, 1, 'extensions.conf', 'testing', 'same', 'n,Dial(PJSIP/${EXTEN})'), (0, 2, 'other.conf', 'x', 'y', 'z')").await;
    fx.sql("INSERT INTO ast_config (cat_metric, var_metric, commented, filename, category, var_name, var_val) VALUES (0, 3, 1, 'extensions.conf', 'testing', 'exten', 'commented out')").await;
    let lines = realtime
        .load_static("extensions.conf")
        .await
        .unwrap()
        .expect("mapped");
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0].var_name, "exten");
    assert_eq!(lines[1].var_val, "n,Dial(PJSIP/${EXTEN})");
    assert!(
        realtime
            .load_static("not_mapped.conf")
            .await
            .unwrap()
            .is_none()
    );

    assert_eq!(realtime.status()[0].up, Some(true));
    fx.drop_database().await;
}

#[tokio::test]
async fn sqlite_driver() {
    suite(Backend::Sqlite).await;
}

#[tokio::test]
async fn postgres_driver() {
    suite(Backend::Postgres).await;
}

#[tokio::test]
async fn mariadb_driver() {
    suite(Backend::MariaDb).await;
}

#[cfg(feature = "odbc")]
#[tokio::test]
async fn mariadb_through_odbc() {
    suite(Backend::MariaDbOdbc).await;
}

#[cfg(feature = "odbc")]
#[tokio::test]
async fn postgres_through_odbc() {
    suite(Backend::PostgresOdbc).await;
}

/// A database that is down never blocks: priority 1 is unreachable, priority
/// 2 answers, and the connection's state says why.
#[tokio::test]
async fn failover_to_the_next_priority_when_a_database_is_down() {
    let fx = Fixture::new(Backend::Sqlite).await;
    let dir = fx.settings.dirs.etc.clone();
    write(
        &dir,
        "res_config_mysql.conf",
        "[down]\ndbhost=127.0.0.1\ndbport=1\ndbname=nothing\ndbuser=root\n",
    );
    write(
        &dir,
        "extconfig.conf",
        "[settings]\nps_aors => mysql,down,ps_aors,1\nps_aors => sqlite3,obelus,ps_aors,2\n",
    );
    let realtime = fx.realtime();
    let sqlite = realtime
        .drivers()
        .find(|d| d.spec().name == "sqlite3/obelus")
        .unwrap();
    migrate::upgrade(sqlite, &mut |_| {}).await.unwrap();
    fx.sql("INSERT INTO ps_aors (id, max_contacts) VALUES ('101', 1)")
        .await;
    let row = realtime
        .load("ps_aors", &id("101"))
        .await
        .unwrap()
        .expect("served by priority 2");
    assert_eq!(row.get("max_contacts"), Some("1"));
    let down = realtime
        .status()
        .into_iter()
        .find(|s| s.name == "mysql/down")
        .unwrap();
    assert_eq!(down.up, Some(false));
    assert!(down.last_error.is_some());
}

/// A TCP relay to MariaDB that can be cut and restored, standing in for a
/// database that goes away and comes back.
#[cfg(feature = "odbc")]
struct Relay {
    port: u16,
    task: Option<tokio::task::JoinHandle<()>>,
}

#[cfg(feature = "odbc")]
impl Relay {
    async fn start(port: u16) -> Self {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("relay port");
        let port = listener.local_addr().unwrap().port();
        let task = tokio::spawn(async move {
            let mut links = tokio::task::JoinSet::new();
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    return;
                };
                links.spawn(async move {
                    if let Ok(mut server) = tokio::net::TcpStream::connect("127.0.0.1:3306").await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
            }
        });
        Self {
            port,
            task: Some(task),
        }
    }

    /// Closes the listener and every relayed connection.
    async fn cut(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = task.await;
        }
    }
}

/// The database behind a DSN goes away: requests fail at once as
/// "unavailable" (never hang, never crash), `db show` says down, and once it
/// is back the class reconnects by itself.
#[cfg(feature = "odbc")]
#[tokio::test]
async fn odbc_reconnects_when_the_database_comes_back() {
    let fx = Fixture::new(Backend::MariaDbOdbc).await;
    let mut relay = Relay::start(0).await;
    let driver = odbc_driver("libmaodbc.so", "odbc-mariadb");
    write(
        &fx.settings.dirs.etc,
        "res_odbc.conf",
        &format!(
            "[obelus]\ndsn => Driver={driver}\\;Server=127.0.0.1\\;Port={}\\;Database={}\nusername => root\nconnect_timeout => 5\n",
            relay.port, fx.dbname
        ),
    );
    let realtime = fx.realtime();
    let connection = realtime.drivers().next().unwrap();
    migrate::upgrade(connection, &mut |_| {}).await.unwrap();
    fx.sql("INSERT INTO ps_aors (id, max_contacts) VALUES ('101', 1)")
        .await;
    assert!(
        realtime
            .load("ps_aors", &id("101"))
            .await
            .unwrap()
            .is_some()
    );

    relay.cut().await;
    let lost = realtime.load("ps_aors", &id("101")).await;
    assert!(
        matches!(lost, Err(RealtimeError::Unavailable { .. })),
        "{lost:?}"
    );
    let again = realtime.load("ps_aors", &id("101")).await;
    assert!(
        matches!(again, Err(RealtimeError::Unavailable { .. })),
        "{again:?}"
    );
    let status = &realtime.status()[0];
    assert_eq!(status.up, Some(false));
    assert_eq!(status.open, 0, "the broken connection was dropped");

    let _relay = Relay::start(relay.port).await;
    let mut back = None;
    for _ in 0..120 {
        match realtime.load("ps_aors", &id("101")).await {
            Ok(row) => {
                back = row;
                break;
            }
            Err(RealtimeError::Unavailable { .. }) => {
                tokio::time::sleep(std::time::Duration::from_millis(250)).await
            }
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(back.expect("reconnected").get("max_contacts"), Some("1"));
    assert_eq!(realtime.status()[0].up, Some(true));
    fx.drop_database().await;
}
