//! ODBC as Asterisk users set it up: a named DSN in odbc.ini, its driver in
//! odbcinst.ini, `res_odbc.conf` naming the DSN. The ini files are private to
//! the test; `[ENV]` in `res_odbc.conf` points unixODBC at them
//! (ODBCSYSINI/ODBCINI), so nothing root-owned is read or written. Followed by
//! the seed tutorial's data steps against MariaDB (127.0.0.1:3306).
//!
//! One test in this binary: `[ENV]` changes the process environment.

#![cfg(feature = "odbc")]

use std::path::Path;
use std::sync::Arc;

use obelus_core::settings::Settings;
use obelus_realtime::driver::Driver as _;
use obelus_realtime::schema::{ALEMBIC_HEAD, migrate};
use obelus_realtime::{Criterion, Realtime, Row};
use sqlx::Connection as _;

const MY_ADMIN: &str = "mysql://root@127.0.0.1:3306/test";

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).expect("write");
}

/// Debian's MariaDB Connector/ODBC library (`dpkg -L odbc-mariadb`).
fn mariadb_driver() -> String {
    std::fs::read_dir("/usr/lib")
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path().join("odbc/libmaodbc.so"))
        .find(|path| path.exists())
        .map(|path| path.display().to_string())
        .expect("libmaodbc.so not found: install odbc-mariadb (scripts/test does)")
}

async fn mariadb(dbname: &str, statement: &str) {
    let url = format!("mysql://root@127.0.0.1:3306/{dbname}");
    let mut c = sqlx::MySqlConnection::connect(&url).await.expect("mysql");
    sqlx::raw_sql(sqlx::AssertSqlSafe(statement.to_owned()))
        .execute(&mut c)
        .await
        .expect(statement);
}

/// The non-NULL columns of a row, sorted, as `name=value`.
fn fields(row: &Row) -> Vec<String> {
    let mut out: Vec<String> = row.fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
    out.sort();
    out
}

fn id(value: &str) -> Vec<Criterion> {
    vec![Criterion::eq("id", value).unwrap()]
}

#[tokio::test]
async fn seed_tutorial_through_a_named_dsn() {
    let dir = tempfile::tempdir().expect("tempdir");
    let odbc_dir = dir.path().join("odbc");
    std::fs::create_dir(&odbc_dir).unwrap();
    let dbname = format!("obelus_dsn_{}", std::process::id());
    let mut admin = sqlx::MySqlConnection::connect(MY_ADMIN)
        .await
        .expect("MariaDB must be running on 127.0.0.1:3306 (root, no password)");
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {dbname}; CREATE DATABASE {dbname}"
    )))
    .execute(&mut admin)
    .await
    .expect("create database");

    write(
        &odbc_dir,
        "odbcinst.ini",
        &format!(
            "[MariaDB Obelus]\nDescription = MariaDB Connector/ODBC\nDriver = {}\n",
            mariadb_driver()
        ),
    );
    write(
        &odbc_dir,
        "odbc.ini",
        &format!(
            "[obelus-asterisk]\nDescription = Obelus realtime\nDriver = MariaDB Obelus\nServer = 127.0.0.1\nPort = 3306\nDatabase = {dbname}\n"
        ),
    );
    write(
        dir.path(),
        "res_odbc.conf",
        &format!(
            "[ENV]\nODBCSYSINI => {0}\nODBCINI => {0}/odbc.ini\n\n[asterisk]\nenabled => yes\ndsn => obelus-asterisk\nusername => root\npassword =>\npre-connect => yes\nmax_connections => 2\nlogging => yes\n\n[down]\ndsn => no-such-dsn\nnegative_connection_cache => 600\n",
            odbc_dir.display()
        ),
    );
    write(
        dir.path(),
        "extconfig.conf",
        "[settings]\nps_endpoints => odbc,asterisk\nps_auths => odbc,asterisk\nps_aors => odbc,asterisk\nps_contacts => odbc,down,ps_contacts,1\nps_contacts => odbc,asterisk,ps_contacts,2\n",
    );
    let settings = Settings::defaults(&dir.path().join("asterisk.conf"));
    let (realtime, problems) = Realtime::configure(&settings);
    assert!(problems.is_empty(), "{problems:?}");
    let realtime = Arc::new(realtime);
    let driver = realtime
        .drivers()
        .find(|d| d.spec().name == "odbc/asterisk")
        .expect("the asterisk class");

    // `obelus db upgrade` on the DSN: the dialect comes from the DBMS.
    let applied = migrate::upgrade(driver, &mut |_| {})
        .await
        .expect("upgrade through the DSN");
    assert_eq!(applied, [1, 2, 3]);
    let current = migrate::current(driver).await.unwrap();
    assert_eq!(current.obelus, Some(3));
    assert_eq!(current.alembic.as_deref(), Some(ALEMBIC_HEAD));
    assert!(
        migrate::upgrade(driver, &mut |_| {})
            .await
            .unwrap()
            .is_empty()
    );

    // The seed tutorial's rows, inserted with plain SQL.
    mariadb(
        &dbname,
        "INSERT INTO ps_aors (id, max_contacts) VALUES ('101', 1), ('102', 1)",
    )
    .await;
    mariadb(&dbname, "INSERT INTO ps_auths (id, auth_type, password, username) VALUES ('101', 'userpass', '101', '101'), ('102', 'userpass', '102', '102')").await;
    mariadb(&dbname, "INSERT INTO ps_endpoints (id, transport, aors, auth, context, disallow, allow, direct_media) VALUES ('101', 'transport-udp', '101', '101', 'testing', 'all', 'g722', 'no'), ('102', 'transport-udp', '102', '102', 'testing', 'all', 'g722', 'no')").await;

    // Loaded through the realtime layer with all their fields, NULLs left out.
    for n in ["101", "102"] {
        let endpoint = realtime
            .load_all("ps_endpoints", &id(n))
            .await
            .unwrap()
            .expect("endpoint");
        assert_eq!(
            fields(&endpoint),
            [
                "allow=g722".to_owned(),
                format!("aors={n}"),
                format!("auth={n}"),
                "context=testing".to_owned(),
                "direct_media=no".to_owned(),
                "disallow=all".to_owned(),
                format!("id={n}"),
                "transport=transport-udp".to_owned(),
            ]
        );
        let auth = realtime
            .load("ps_auths", &id(n))
            .await
            .unwrap()
            .expect("auth");
        assert_eq!(
            fields(&auth),
            [
                "auth_type=userpass".to_owned(),
                format!("id={n}"),
                format!("password={n}"),
                format!("username={n}"),
            ]
        );
        let aor = realtime
            .load("ps_aors", &id(n))
            .await
            .unwrap()
            .expect("aor");
        assert_eq!(
            fields(&aor),
            [format!("id={n}"), "max_contacts=1".to_owned()]
        );
    }
    let all = realtime
        .load_multi(
            "ps_endpoints",
            &[Criterion::parse("id LIKE", "10%").unwrap()],
        )
        .await
        .unwrap();
    assert_eq!(
        all.iter().map(|r| r.get("id").unwrap()).collect::<Vec<_>>(),
        ["101", "102"]
    );

    // Failover: the class whose DSN does not exist is skipped, priority 2 answers.
    let stored = realtime
        .store(
            "ps_contacts",
            &[
                ("id".to_owned(), "101;@abc".to_owned()),
                ("uri".to_owned(), "sip:101@127.0.0.1:5062".to_owned()),
                ("endpoint".to_owned(), "101".to_owned()),
            ],
        )
        .await
        .expect("served by priority 2");
    assert_eq!(stored, 1);
    let contact = realtime
        .load("ps_contacts", &id("101;@abc"))
        .await
        .unwrap()
        .expect("contact");
    assert_eq!(contact.get("uri"), Some("sip:101@127.0.0.1:5062"));
    let down = realtime
        .status()
        .into_iter()
        .find(|s| s.name == "odbc/down")
        .unwrap();
    assert_eq!(down.up, Some(false));
    assert!(
        down.last_error.as_deref().unwrap_or("").contains("IM002"),
        "{down:?}"
    );

    // The column cache: a column added later is skipped until `unload`.
    mariadb(
        &dbname,
        "ALTER TABLE ps_aors ADD COLUMN obelus_note VARCHAR(40)",
    )
    .await;
    let note = |n: &str| {
        vec![
            ("id".to_owned(), n.to_owned()),
            ("obelus_note".to_owned(), "hello".to_owned()),
        ]
    };
    realtime.store("ps_aors", &note("104")).await.unwrap();
    let a104 = realtime.load("ps_aors", &id("104")).await.unwrap().unwrap();
    assert_eq!(
        a104.get("obelus_note"),
        None,
        "unknown (cached) column skipped"
    );
    driver.unload("ps_aors");
    realtime.store("ps_aors", &note("105")).await.unwrap();
    let a105 = realtime.load("ps_aors", &id("105")).await.unwrap().unwrap();
    assert_eq!(a105.get("obelus_note"), Some("hello"));

    // Concurrent requests share at most max_connections connections.
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let realtime = Arc::clone(&realtime);
            tokio::spawn(async move { realtime.load("ps_endpoints", &id("101")).await })
        })
        .collect();
    for task in tasks {
        assert!(task.await.unwrap().unwrap().is_some());
    }

    // `odbc show`.
    let classes = realtime.odbc_status();
    let text = obelus_realtime::odbc::render(&classes);
    assert!(
        text.starts_with("ODBC DSN Settings\n-----------------\n\n  Name:   asterisk\n  DSN:    obelus-asterisk\n"),
        "{text}"
    );
    let asterisk = classes.iter().find(|c| c.class == "asterisk").unwrap();
    assert!(asterisk.active >= 1 && asterisk.active <= 2, "{asterisk:?}");
    assert_eq!(asterisk.dbms.as_deref(), Some("MariaDB"));
    let log = asterisk.log.as_ref().expect("logging = yes");
    assert!(log.queries > 10 && log.longest.is_some(), "{log:?}");
    assert!(
        text.contains("    Number of active connections: "),
        "{text}"
    );
    assert!(
        text.contains("  Name:   down\n  DSN:    no-such-dsn\n    Last fail connection attempt: ")
    );

    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP DATABASE {dbname}")))
        .execute(&mut admin)
        .await
        .expect("drop database");
}
