//! `obelus db upgrade|current|history`: the realtime schema in every database
//! `extconfig.conf` points at.

use obelus_core::settings::Settings;
use obelus_realtime::Realtime;
use obelus_realtime::driver::SqlDriver;
use obelus_realtime::schema::{ALEMBIC_HEAD, migrate};

/// What to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Create or upgrade the schema.
    Upgrade,
    /// Show the version each database is at.
    Current,
    /// List the migrations each database has had.
    History,
}

/// Runs the action on every database in use (or the one named by `--db`);
/// returns the exit code.
pub fn run(settings: &Settings, action: Action, only: Option<&str>) -> i32 {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("obelus db: cannot start a runtime: {e}");
            return 1;
        }
    };
    runtime.block_on(run_async(settings, action, only))
}

async fn run_async(settings: &Settings, action: Action, only: Option<&str>) -> i32 {
    let (realtime, problems) = Realtime::configure(settings);
    for problem in &problems {
        eprintln!("{problem}");
    }
    if problems.iter().any(|p| p.is_error()) {
        eprintln!("obelus db: fix the configuration above first (see 'obelus config check').");
        return 1;
    }
    let used: Vec<String> = realtime
        .extconfig()
        .mappings()
        .iter()
        .map(|m| m.connection())
        .collect();
    let targets: Vec<&SqlDriver> = realtime
        .drivers()
        .map(|d| d.as_ref())
        .filter(|d| match only {
            Some(name) => d.spec().name == name || d.spec().database == name,
            None => used.contains(&d.spec().name),
        })
        .collect();
    if targets.is_empty() {
        eprintln!(
            "obelus db: {}",
            match only {
                Some(name) => format!(
                    "no database connection named '{name}' (see 'db show' or res_config_*.conf)"
                ),
                None => "extconfig.conf maps no family to a database; nothing to do".to_owned(),
            }
        );
        return i32::from(only.is_some());
    }
    let mut code = 0;
    for driver in targets {
        let name = &driver.spec().name;
        let target = driver.spec().describe();
        let result = match action {
            Action::Upgrade => {
                println!("{name} ({target}): upgrading");
                migrate::upgrade(driver, &mut |line| println!("{name}: {line}"))
                    .await
                    .map(|applied| {
                        if applied.is_empty() {
                            println!("{name}: already current");
                        } else {
                            println!("{name}: applied {} migration(s); schema is current", applied.len());
                        }
                    })
            }
            Action::Current => migrate::current(driver).await.map(|c| {
                let obelus = c.obelus.map_or("none".to_owned(), |v| v.to_string());
                let alembic = c.alembic.unwrap_or_else(|| "none".to_owned());
                let newest = migrate::MIGRATIONS.last().map_or(0, |m| m.version);
                let state = if c.obelus == Some(newest) { "current" } else { "needs 'obelus db upgrade'" };
                println!("{name} ({target}): obelus schema {obelus}, alembic {alembic} (head {ALEMBIC_HEAD}): {state}");
            }),
            Action::History => migrate::history(driver).await.map(|applied| {
                println!("{name} ({target}):");
                if applied.is_empty() {
                    println!("  no migration applied");
                }
                for a in applied {
                    println!("  {:>3}  {}  {}", a.version, a.applied_at, a.description);
                }
            }),
        };
        if let Err(e) = result {
            eprintln!("{name}: {e}");
            code = 1;
        }
    }
    code
}
