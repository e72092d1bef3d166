//! Console commands of the realtime layer: `realtime load|update|update2|
//! store|destroy` (Asterisk's res_realtime test commands), `db show`,
//! `odbc show` (res_odbc) and `core show config mappings`.

use std::sync::Arc;

use obelus_core::cli::{CliCommand, CliError};

use crate::criteria::Criterion;
use crate::registry::RealtimeService;

type Service = Arc<RealtimeService>;

fn current(service: &Service) -> Result<Arc<crate::Realtime>, CliError> {
    service
        .get()
        .ok_or_else(|| CliError::Failed("The realtime layer is not loaded.".into()))
}

fn pairs(words: &[String]) -> Result<Vec<(String, String)>, CliError> {
    if words.is_empty() || !words.len().is_multiple_of(2) {
        return Err(CliError::ShowUsage);
    }
    Ok(words
        .chunks(2)
        .map(|p| (p[0].clone(), p[1].clone()))
        .collect())
}

fn criteria(words: &[String]) -> Result<Vec<Criterion>, CliError> {
    pairs(words)?
        .iter()
        .map(|(field, value)| {
            Criterion::parse(field, value).map_err(|e| CliError::Failed(e.to_string()))
        })
        .collect()
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Every realtime console command, bound to the service.
pub fn commands(service: &Service) -> Vec<CliCommand> {
    let s = Arc::clone(service);
    let load = CliCommand::new(
        "realtime load",
        "Used to print out RealTime variables.",
        "Usage: realtime load <family> <colmatch> <value>\n       Prints out a list of variables using the RealTime driver.\n       You must supply a family name, a column to match on, and a value to match to.",
        move |args| {
            let s = Arc::clone(&s);
            async move {
                let [family, field, value] = args.args.as_slice() else {
                    return Err(CliError::ShowUsage);
                };
                let realtime = current(&s)?;
                let criterion = Criterion::parse(field, value).map_err(|e| CliError::Failed(e.to_string()))?;
                match realtime.load_all(family, &[criterion]).await {
                    Ok(Some(row)) => {
                        let mut out = format!("{:>30}  {:<30}\n", "Column Name", "Column Value");
                        out.push_str(&format!("{:>30}  {:<30}\n", "--------------------", "--------------------"));
                        for (name, value) in &row.fields {
                            out.push_str(&format!("{name:>30}  {value:<30}\n"));
                        }
                        Ok(out)
                    }
                    Ok(None) => Ok("No rows found matching search criteria.\n".into()),
                    Err(e) => Err(CliError::Failed(e.to_string())),
                }
            }
        },
    )
    .with_args();

    let s = Arc::clone(service);
    let update = CliCommand::new(
        "realtime update",
        "Used to update RealTime variables.",
        "Usage: realtime update <family> <colmatch> <valuematch> <colupdate> <newvalue>\n       Update a single variable using the RealTime driver.",
        move |args| {
            let s = Arc::clone(&s);
            async move {
                let [family, field, value, column, new_value] = args.args.as_slice() else {
                    return Err(CliError::ShowUsage);
                };
                let realtime = current(&s)?;
                let criterion = Criterion::parse(field, value).map_err(|e| CliError::Failed(e.to_string()))?;
                let n = realtime
                    .update(family, &[criterion], &[(column.clone(), new_value.clone())])
                    .await
                    .map_err(|e| CliError::Failed(format!("Failed to update RealTime record: {e}")))?;
                Ok(format!("Updated {n} RealTime record{}.\n", plural(n)))
            }
        },
    )
    .with_args();

    let s = Arc::clone(service);
    let update2 = CliCommand::new(
        "realtime update2",
        "Used to test the RealTime update2 method",
        "Usage: realtime update2 <family> <colmatch> <valuematch> [... <colmatch5> <valuematch5>] NULL <colupdate> <newvalue>\n       Update a single variable, matching on several fields, using the RealTime driver.",
        move |args| {
            let s = Arc::clone(&s);
            async move {
                let Some((family, rest)) = args.args.split_first() else {
                    return Err(CliError::ShowUsage);
                };
                let Some(split) = rest.iter().position(|w| w == "NULL") else {
                    return Err(CliError::ShowUsage);
                };
                let lookup = criteria(&rest[..split])?;
                let fields = pairs(&rest[split + 1..])?;
                let realtime = current(&s)?;
                let n = realtime
                    .update(family, &lookup, &fields)
                    .await
                    .map_err(|e| CliError::Failed(format!("Failed to update RealTime record: {e}")))?;
                Ok(format!("Updated {n} RealTime record{}.\n", plural(n)))
            }
        },
    )
    .with_args();

    let s = Arc::clone(service);
    let store = CliCommand::new(
        "realtime store",
        "Store a RealTime variable",
        "Usage: realtime store <family> <colname1> <value1> [<colname2> <value2> [... <colname12> <value12>]]\n       Create a stored row using the RealTime driver.",
        move |args| {
            let s = Arc::clone(&s);
            async move {
                let Some((family, rest)) = args.args.split_first() else {
                    return Err(CliError::ShowUsage);
                };
                let fields = pairs(rest)?;
                let realtime = current(&s)?;
                realtime
                    .store(family, &fields)
                    .await
                    .map_err(|e| CliError::Failed(format!("Failed to store record: {e}")))?;
                Ok("Stored RealTime record.\n".into())
            }
        },
    )
    .with_args();

    let s = Arc::clone(service);
    let destroy = CliCommand::new(
        "realtime destroy",
        "Delete a RealTime variable",
        "Usage: realtime destroy <family> <colmatch> <value> [... <colmatch5> <value5>]\n       Remove a stored row using the RealTime driver.",
        move |args| {
            let s = Arc::clone(&s);
            async move {
                let Some((family, rest)) = args.args.split_first() else {
                    return Err(CliError::ShowUsage);
                };
                let lookup = criteria(rest)?;
                let realtime = current(&s)?;
                let n = realtime
                    .destroy(family, &lookup)
                    .await
                    .map_err(|e| CliError::Failed(format!("Failed to remove record: {e}")))?;
                Ok(format!("Destroyed {n} RealTime record{}.\n", plural(n)))
            }
        },
    )
    .with_args();

    let s = Arc::clone(service);
    let show = CliCommand::new(
        "db show",
        "Show realtime database connections",
        "Usage: db show\n       Lists every realtime database connection with its state, pool usage and last error.",
        move |_| {
            let s = Arc::clone(&s);
            async move {
                let realtime = current(&s)?;
                let status = realtime.status();
                if status.is_empty() {
                    return Ok("No realtime database connections are configured (see res_config_sqlite3.conf, res_pgsql.conf, res_config_mysql.conf, res_odbc.conf).\n".into());
                }
                let mut out = format!(
                    "{:<24} {:<8} {:<10} {:<40} {}\n",
                    "Name", "State", "Open/Idle", "Target", "Last error"
                );
                for c in &status {
                    let state = match c.up {
                        None => "Unused",
                        Some(true) => "Up",
                        Some(false) => "Down",
                    };
                    out.push_str(&format!(
                        "{:<24} {:<8} {:<10} {:<40} {}\n",
                        c.name,
                        state,
                        format!("{}/{}", c.open, c.idle),
                        c.target,
                        c.last_error.as_deref().unwrap_or("")
                    ));
                }
                out.push_str(&format!("{} connection(s)\n", status.len()));
                Ok(out)
            }
        },
    );

    let s = Arc::clone(service);
    let odbc = CliCommand::new(
        "odbc show",
        "List ODBC DSN(s)",
        "Usage: odbc show [class]\n       List settings of a particular ODBC class or,\n       if not specified, all classes.",
        move |args| {
            let s = Arc::clone(&s);
            async move {
                let only = match args.args.as_slice() {
                    [] => None,
                    [name] if name.eq_ignore_ascii_case("all") => None,
                    [name] => Some(name.clone()),
                    _ => return Err(CliError::ShowUsage),
                };
                odbc_show(&*current(&s)?, only)
            }
        },
    )
    .with_args();

    let s = Arc::clone(service);
    let mappings = CliCommand::new(
        "core show config mappings",
        "Display config mappings (file names to config engines)",
        "Usage: core show config mappings\n       Shows the filenames to config engines.",
        move |_| {
            let s = Arc::clone(&s);
            async move {
                let realtime = current(&s)?;
                let mut out = String::new();
                let mut engine = "";
                for m in realtime.extconfig().mappings() {
                    if m.driver.name() != engine {
                        engine = m.driver.name();
                        out.push_str(&format!("\nConfig Engine: {engine}\n"));
                    }
                    out.push_str(&format!(
                        "===> {} (db={}, table={})\n",
                        m.key, m.database, m.table
                    ));
                }
                if out.is_empty() {
                    out.push_str("No realtime mappings in extconfig.conf.\n");
                }
                Ok(out)
            }
        },
    );
    vec![load, update, update2, store, destroy, show, odbc, mappings]
}

#[cfg(feature = "odbc")]
fn odbc_show(realtime: &crate::Realtime, only: Option<String>) -> Result<String, CliError> {
    let mut classes = realtime.odbc_status();
    if let Some(name) = only {
        classes.retain(|c| c.class == name);
    }
    Ok(crate::odbc::render(&classes))
}

#[cfg(not(feature = "odbc"))]
fn odbc_show(_: &crate::Realtime, _: Option<String>) -> Result<String, CliError> {
    Ok(format!("{}.\n", crate::odbc::NOT_BUILT))
}
