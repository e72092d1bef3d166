//! The realtime layer through the real binary: `obelus db ...` and the
//! `realtime` console commands.

use crate::common::ConfDir;

fn with_sqlite(conf: &ConfDir) {
    conf.write(
        "res_config_sqlite3.conf",
        "[obelus]\ndbfile => obelus.sqlite3\n",
    );
    conf.write(
        "extconfig.conf",
        "[settings]\nps_aors => sqlite3,obelus\nps_endpoints => sqlite3,obelus\n",
    );
}

/// The embedded SQLite database is created with its schema on first start and
/// the realtime console commands work on it.
#[test]
fn embedded_sqlite_works_out_of_the_box() {
    let conf = ConfDir::new();
    with_sqlite(&conf);
    let _daemon = conf.start_foreground();
    let (_, out, _) = conf.rx("realtime store ps_aors id 101 max_contacts 1");
    assert_eq!(out, "Stored RealTime record.\n");
    let (_, out, _) = conf.rx("realtime load ps_aors id 101");
    assert!(out.contains("Column Name"), "{out}");
    assert!(
        out.contains(&format!("{:>30}  {:<30}", "max_contacts", "1")),
        "{out}"
    );
    let (_, out, _) = conf.rx("realtime update ps_aors id 101 max_contacts 2");
    assert_eq!(out, "Updated 1 RealTime record.\n");
    let (_, out, _) = conf.rx("realtime load ps_aors id 999");
    assert_eq!(out, "No rows found matching search criteria.\n");
    let (_, out, _) = conf.rx("realtime destroy ps_aors id 101");
    assert_eq!(out, "Destroyed 1 RealTime record.\n");
    let (_, out, _) = conf.rx("db show");
    assert!(out.contains("sqlite3/obelus"), "{out}");
    assert!(out.contains(" Up "), "{out}");
    let (_, out, _) = conf.rx("core show config mappings");
    assert!(
        out.contains("===> ps_aors (db=obelus, table=ps_aors)"),
        "{out}"
    );
    let (_, out, _) = conf.rx("realtime load ps_aors nosuchcolumn 1");
    assert!(out.contains("has no column 'nosuchcolumn'"), "{out}");

    let current = conf.run(&["db", "current"]);
    let stdout = String::from_utf8_lossy(&current.stdout);
    assert!(
        stdout.contains("obelus schema 3, alembic 2285f2ace275"),
        "{stdout}"
    );
    assert!(stdout.contains(": current"), "{stdout}");
}

/// `obelus db upgrade` on MariaDB: a progress line per table, idempotent,
/// history recorded.
#[test]
fn db_upgrade_on_mariadb() {
    use sqlx::Connection as _;
    let dbname = format!("obelus_e2e_{}", std::process::id());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut admin = sqlx::MySqlConnection::connect("mysql://root@127.0.0.1:3306/test")
            .await
            .expect("MariaDB must be running on 127.0.0.1:3306");
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {dbname}")))
            .execute(&mut admin)
            .await
            .unwrap();
    });
    let conf = ConfDir::new();
    conf.write(
        "res_config_mysql.conf",
        &format!("[general]\ndbhost=127.0.0.1\ndbport=3306\ndbname={dbname}\ndbuser=root\n"),
    );
    conf.write(
        "extconfig.conf",
        "[settings]\nps_endpoints => mysql,general\nps_auths => mysql,general\n",
    );

    let first = conf.run(&["db", "upgrade"]);
    let stdout = String::from_utf8_lossy(&first.stdout);
    assert!(
        first.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(stdout.contains("mysql/general: applying 1:"), "{stdout}");
    assert!(
        stdout.contains("mysql/general:   [1/26] ps_endpoints"),
        "{stdout}"
    );
    assert!(stdout.contains("applied 3 migration(s)"), "{stdout}");

    let second = conf.run(&["db", "upgrade", "--db", "general"]);
    assert!(String::from_utf8_lossy(&second.stdout).contains("already current"));

    let history = conf.run(&["db", "history"]);
    let stdout = String::from_utf8_lossy(&history.stdout);
    assert!(stdout.contains("Asterisk realtime schema"), "{stdout}");

    let unknown = conf.run(&["db", "upgrade", "--db", "nope"]);
    assert_eq!(unknown.status.code(), Some(1));

    runtime.block_on(async {
        let mut admin = sqlx::MySqlConnection::connect("mysql://root@127.0.0.1:3306/test")
            .await
            .unwrap();
        let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP DATABASE {dbname}")))
            .execute(&mut admin)
            .await;
    });
}

/// The seed tutorial's endpoints, defined only in the database, seen by the
/// running daemon through sorcery; a row added later appears without reload.
#[test]
fn realtime_endpoints_in_pjsip_show() {
    let conf = ConfDir::new();
    conf.write(
        "res_config_sqlite3.conf",
        "[obelus]\ndbfile => obelus.sqlite3\n",
    );
    conf.write(
        "extconfig.conf",
        "[settings]\nps_endpoints => sqlite3,obelus\nps_auths => sqlite3,obelus\nps_aors => sqlite3,obelus\n",
    );
    conf.write(
        "sorcery.conf",
        "[res_pjsip]\nendpoint = realtime,ps_endpoints\nauth = realtime,ps_auths\naor = realtime,ps_aors\n",
    );
    let _daemon = conf.start_foreground();
    for id in ["101", "102"] {
        for command in [
            format!("realtime store ps_aors id {id} max_contacts 1"),
            format!(
                "realtime store ps_auths id {id} auth_type userpass username {id} password {id}"
            ),
            format!(
                "realtime store ps_endpoints id {id} transport transport-udp aors {id} auth {id} context testing disallow all allow g722 direct_media no"
            ),
        ] {
            let (_, out, _) = conf.rx(&command);
            assert_eq!(out, "Stored RealTime record.\n", "{command}");
        }
    }
    let (_, out, _) = conf.rx("pjsip show endpoints");
    assert!(out.contains(" Endpoint:  <Endpoint/CID.....................................>  <State.....>  <Channels.>"), "{out}");
    assert!(
        out.contains(&format!(
            " Endpoint:  {:<51}  {:<12}  0 of inf",
            "101", "Unavailable"
        )),
        "{out}"
    );
    assert!(out.contains("     InAuth:  102/102"), "{out}");
    assert!(
        out.contains(&format!("        Aor:  {:<49}  1", "102")),
        "{out}"
    );
    assert!(out.ends_with("\nObjects found: 2\n"), "{out}");

    let (_, out, _) = conf.rx("pjsip show endpoint 101");
    assert!(out.contains(" context "), "{out}");
    assert!(out.contains(": testing"), "{out}");
    assert!(out.contains(": g722"), "{out}");

    let (_, out, _) = conf.rx("realtime store ps_endpoints id 103 aors 103 context testing");
    assert_eq!(out, "Stored RealTime record.\n");
    let (_, out, _) = conf.rx("pjsip show endpoints");
    assert!(
        out.ends_with("\nObjects found: 3\n"),
        "added without reload:\n{out}"
    );

    let (_, out, _) = conf.rx("pjsip show aor 101");
    assert!(
        out.contains(&format!("      Aor:  {:<51}  1", "101")),
        "{out}"
    );
    assert!(out.contains(" max_contacts "), "{out}");
    let (_, out, _) = conf.rx("pjsip show auth 101");
    assert!(out.contains("     Auth:  101/101\n"), "{out}");
    assert!(out.contains(" auth_type "), "{out}");
    let (_, out, _) = conf.rx("pjsip show auths");
    assert!(out.contains("     Auth:  101/101"), "{out}");
    let (_, out, _) = conf.rx("pjsip show aors");
    assert!(
        out.contains(&format!("      Aor:  {:<51}  1", "101")),
        "{out}"
    );
}

/// Static realtime: extensions.conf kept in the ast_config table is read as
/// the file would be, and `dialplan reload` picks up new rows.
#[test]
fn extensions_conf_from_a_table() {
    let conf = ConfDir::new();
    conf.write(
        "res_config_sqlite3.conf",
        "[obelus]\ndbfile => obelus.sqlite3\n",
    );
    conf.write(
        "extconfig.conf",
        "[settings]\nextensions.conf => sqlite3,obelus,ast_config\nast_config => sqlite3,obelus\n",
    );
    // A file on disk that must NOT be used.
    conf.write("extensions.conf", "[ondisk]\nexten => 999,1,NoOp()\n");
    let _daemon = conf.start_foreground();
    for (metric, name, value) in [
        (0, "exten", "_1XX,1,NoOp()"),
        (1, "same", "n,Dial(PJSIP/${EXTEN})"),
    ] {
        let (_, out, _) = conf.rx(&format!(
            "realtime store ast_config filename extensions.conf category testing var_metric {metric} var_name {name} var_val {value}"
        ));
        assert_eq!(out, "Stored RealTime record.\n");
    }
    let (_, out, _) = conf.rx("dialplan reload");
    assert_eq!(out, "Dialplan reloaded.\n");
    let (_, out, _) = conf.rx("dialplan show");
    assert!(
        out.contains("[ Context 'testing' created by 'pbx_config' ]"),
        "{out}"
    );
    assert!(out.contains("Dial(PJSIP/${EXTEN})"), "{out}");
    assert!(!out.contains("ondisk"), "the table, not the file:\n{out}");
}
