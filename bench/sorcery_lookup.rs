//! Sorcery endpoint lookup by id, in one run: the `config` wizard
//! (pjsip.conf), `realtime` over SQLite, `realtime` over PostgreSQL
//! (127.0.0.1:5432, user postgres; skipped if unreachable), and a
//! `memory_cache` hit in front of SQLite realtime.
//!
//! `cargo bench -j2 -p obelus-sorcery --bench sorcery_lookup`

use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use obelus_core::settings::Settings;
use obelus_realtime::{Realtime, RealtimeService};
use obelus_sorcery::Sorcery;
use sqlx::Connection as _;
use tokio::runtime::Runtime;

const ENDPOINTS: usize = 1000;

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).expect("write");
}

fn settings(dir: &Path) -> Settings {
    let mut s = Settings::defaults(&dir.join("asterisk.conf"));
    s.dirs.etc = dir.to_path_buf();
    s.dirs.db = dir.to_path_buf();
    s
}

async fn build(dir: &Path) -> Arc<Sorcery> {
    let settings = settings(dir);
    let service = Arc::new(RealtimeService::default());
    let (realtime, problems) = Realtime::configure(&settings);
    assert!(problems.is_empty(), "{problems:?}");
    service.set(realtime);
    let (sorcery, problems) = Sorcery::builder(&settings, service)
        .register_all(obelus_pjsip::objects::registrations().expect("types"))
        .build()
        .await;
    assert!(problems.is_empty(), "{problems:?}");
    sorcery
}

fn rows() -> String {
    let mut sql = String::from(
        "INSERT INTO ps_endpoints (id, transport, aors, auth, context, disallow, allow, direct_media) VALUES ",
    );
    for i in 0..ENDPOINTS {
        let id = 1000 + i;
        let _ = write!(
            sql,
            "{}('{id}', 'transport-udp', '{id}', '{id}', 'testing', 'all', 'g722', 'no')",
            if i > 0 { ", " } else { "" }
        );
    }
    sql
}

async fn realtime_dir(dir: &Path, driver: &str, database: &str, cached: bool) -> Arc<Sorcery> {
    write(
        dir,
        "extconfig.conf",
        &format!("[settings]\nps_endpoints => {driver},{database}\n"),
    );
    let sorcery_conf = if cached {
        "[res_pjsip]\nendpoint/cache=memory_cache\nendpoint=realtime,ps_endpoints\n"
    } else {
        "[res_pjsip]\nendpoint=realtime,ps_endpoints\n"
    };
    write(dir, "sorcery.conf", sorcery_conf);
    build(dir).await
}

async fn migrate(dir: &Path) {
    let (realtime, _) = Realtime::configure(&settings(dir));
    let driver = realtime.drivers().next().expect("driver");
    obelus_realtime::schema::migrate::upgrade(driver, &mut |_| {})
        .await
        .expect("upgrade");
}

async fn sqlite_setup(dir: &Path) {
    write(
        dir,
        "res_config_sqlite3.conf",
        "[obelus]\ndbfile => realtime.sqlite3\n",
    );
    write(
        dir,
        "extconfig.conf",
        "[settings]\nps_endpoints => sqlite3,obelus\n",
    );
    migrate(dir).await;
    let url = format!("sqlite://{}", dir.join("realtime.sqlite3").display());
    let mut c = sqlx::SqliteConnection::connect(&url).await.expect("sqlite");
    sqlx::raw_sql(sqlx::AssertSqlSafe(rows()))
        .execute(&mut c)
        .await
        .expect("rows");
}

async fn postgres_setup(dir: &Path, dbname: &str) -> bool {
    let Ok(mut admin) =
        sqlx::PgConnection::connect("postgres://postgres@127.0.0.1:5432/postgres").await
    else {
        return false;
    };
    let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {dbname}"
    )))
    .execute(&mut admin)
    .await;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {dbname}")))
        .execute(&mut admin)
        .await
        .expect("create");
    write(
        dir,
        "res_pgsql.conf",
        &format!(
            "[general]\ndbhost=127.0.0.1\ndbport=5432\ndbname={dbname}\ndbuser=postgres\ndbpass=\n"
        ),
    );
    write(
        dir,
        "extconfig.conf",
        "[settings]\nps_endpoints => pgsql,general\n",
    );
    migrate(dir).await;
    let mut c =
        sqlx::PgConnection::connect(&format!("postgres://postgres@127.0.0.1:5432/{dbname}"))
            .await
            .expect("pg");
    sqlx::raw_sql(sqlx::AssertSqlSafe(rows()))
        .execute(&mut c)
        .await
        .expect("rows");
    true
}

fn lookup(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut group = c.benchmark_group("sorcery_endpoint_lookup");

    let config_dir = tempfile::tempdir().expect("tempdir");
    let mut conf = String::from("[transport-udp]\ntype=transport\nbind=0.0.0.0\n");
    for i in 0..ENDPOINTS {
        let id = 1000 + i;
        let _ = write!(
            conf,
            "\n[{id}]\ntype=endpoint\ntransport=transport-udp\naors={id}\nauth={id}\ncontext=testing\ndisallow=all\nallow=g722\ndirect_media=no\n"
        );
    }
    write(config_dir.path(), "pjsip.conf", &conf);
    let config = rt.block_on(build(config_dir.path()));
    bench(&rt, &mut group, "config", &config);

    let sqlite_dir = tempfile::tempdir().expect("tempdir");
    rt.block_on(sqlite_setup(sqlite_dir.path()));
    let sqlite = rt.block_on(realtime_dir(sqlite_dir.path(), "sqlite3", "obelus", false));
    bench(&rt, &mut group, "realtime_sqlite", &sqlite);

    let pg_dir = tempfile::tempdir().expect("tempdir");
    let dbname = format!("obelus_bench_{}", std::process::id());
    if rt.block_on(postgres_setup(pg_dir.path(), &dbname)) {
        let pg = rt.block_on(realtime_dir(pg_dir.path(), "pgsql", "general", false));
        bench(&rt, &mut group, "realtime_postgres", &pg);
        drop(pg);
        rt.block_on(async {
            if let Ok(mut admin) =
                sqlx::PgConnection::connect("postgres://postgres@127.0.0.1:5432/postgres").await
            {
                let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {dbname} WITH (FORCE)"
                )))
                .execute(&mut admin)
                .await;
            }
        });
    } else {
        eprintln!("PostgreSQL not reachable on 127.0.0.1:5432: realtime_postgres skipped");
    }

    let cached = rt.block_on(realtime_dir(sqlite_dir.path(), "sqlite3", "obelus", true));
    bench(&rt, &mut group, "memory_cache_hit", &cached);
    group.finish();
}

fn bench(
    rt: &Runtime,
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    s: &Arc<Sorcery>,
) {
    // Warm (and, for the cache, fill) before measuring.
    let first = rt
        .block_on(s.retrieve_by_id("endpoint", "1500"))
        .expect("lookup")
        .expect("endpoint 1500");
    assert_eq!(first.str("context"), Some("testing"));
    group.bench_function(name, |b| {
        b.iter(|| {
            rt.block_on(s.retrieve_by_id("endpoint", std::hint::black_box("1500")))
                .expect("lookup")
        })
    });
}

criterion_group!(benches, lookup);
criterion_main!(benches);
