//! The durable AMI action queue survives a crash: every row ends exactly once.

use std::time::{Duration, Instant};

use sqlx::Connection as _;

use crate::common::{ConfDir, free_port};

const ROWS: usize = 400;

fn query(db: &str, sql: &str) -> i64 {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{db}"))
            .await
            .unwrap();
        sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.to_owned()))
            .fetch_one(&mut c)
            .await
            .unwrap()
    })
}

fn execute(db: &str, sql: &str) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{db}"))
            .await
            .unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
            .execute(&mut c)
            .await
            .unwrap();
    });
}

#[test]
fn queued_actions_run_exactly_once_across_a_crash() {
    let conf = ConfDir::new();
    conf.write(
        "res_config_sqlite3.conf",
        "[obelus]\ndbfile => obelus.sqlite3\n",
    );
    conf.write(
        "extconfig.conf",
        "[settings]\nmanager_queue => sqlite3,obelus\nps_aors => sqlite3,obelus\n",
    );
    conf.write(
        "manager.conf",
        &format!("[general]\nenabled=yes\nport={}\nbindaddr=127.0.0.1\n[queue]\nsecret=q\nread=all\nwrite=all\n", free_port()),
    );
    let db = conf.path().join("lib/obelus.sqlite3").display().to_string();
    let daemon = conf.start_foreground();

    let mut insert = String::from("INSERT INTO manager_queue (action, headers, username) VALUES ");
    for i in 0..ROWS {
        if i > 0 {
            insert.push(',');
        }
        insert.push_str(&format!(
            "('Command', 'Command: realtime store ps_aors id q{i} max_contacts 1', 'queue')"
        ));
    }
    execute(&db, &insert);

    // Crash (SIGKILL) once part of the queue has run.
    let deadline = Instant::now() + Duration::from_secs(60);
    while query(
        &db,
        "SELECT COUNT(*) FROM manager_queue WHERE status = 'done'",
    ) < 20
    {
        assert!(Instant::now() < deadline, "the queue did not start running");
        std::thread::sleep(Duration::from_millis(5));
    }
    drop(daemon);
    let at_crash = query(
        &db,
        "SELECT COUNT(*) FROM manager_queue WHERE status = 'done'",
    );
    assert!(
        (at_crash as usize) < ROWS,
        "the crash came too late to test anything"
    );

    let _daemon = conf.start_foreground();
    let deadline = Instant::now() + Duration::from_secs(120);
    while query(
        &db,
        "SELECT COUNT(*) FROM manager_queue WHERE status IN ('new', 'claimed')",
    ) > 0
    {
        assert!(
            Instant::now() < deadline,
            "the queue did not finish after the restart"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let done = query(
        &db,
        "SELECT COUNT(*) FROM manager_queue WHERE status = 'done'",
    );
    let interrupted = query(
        &db,
        "SELECT COUNT(*) FROM manager_queue WHERE status = 'interrupted'",
    );
    let failed = query(
        &db,
        "SELECT COUNT(*) FROM manager_queue WHERE status = 'failed'",
    );
    assert_eq!(failed, 0);
    assert_eq!(done + interrupted, ROWS as i64, "every row ended");
    assert!(
        interrupted <= 1,
        "only the row running at the crash can be interrupted"
    );
    // Running a row twice would store the same aor twice: the second store fails.
    let doubled = query(
        &db,
        "SELECT COUNT(*) FROM manager_queue WHERE response LIKE '%Failed%'",
    );
    assert_eq!(doubled, 0, "no action ran twice");
    let aors = query(&db, "SELECT COUNT(*) FROM ps_aors WHERE id LIKE 'q%'");
    assert!(
        aors >= done && aors <= done + interrupted,
        "aors {aors}, done {done}"
    );
    let with_results = query(
        &db,
        "SELECT COUNT(*) FROM manager_queue WHERE status = 'done' AND response LIKE 'Response: Success%Stored RealTime record.%'",
    );
    assert_eq!(with_results, done, "each done row carries its response");
}
