//! The `astdb` module: opens Asterisk's key/value store at start, provides it
//! to other modules (`DB()`, AMI `DBGet`...) and registers the `database`
//! console commands with Asterisk's wording.

use std::sync::Arc;

use async_trait::async_trait;
use obelus_core::Core;
use obelus_core::cli::{CliCommand, CliError};
use obelus_core::diagnostic::Diagnostic;
use obelus_core::module::{Module, ModuleError};
use obelus_core::settings::Settings;

use crate::astdb::Astdb;

/// The astdb as a module.
#[derive(Default)]
pub struct AstdbModule;

fn db(weak: &std::sync::Weak<Core>) -> Result<Arc<Astdb>, CliError> {
    weak.upgrade()
        .and_then(|core| core.service::<Astdb>())
        .ok_or_else(|| CliError::Failed("The astdb is not open.".into()))
}

fn failed(e: impl std::fmt::Display) -> CliError {
    CliError::Failed(format!("astdb: {e}"))
}

/// `database show|get|put|del|deltree`.
fn commands(core: &Arc<Core>) -> Vec<CliCommand> {
    let w = Arc::downgrade(core);
    let show = CliCommand::new(
        "database show",
        "Shows database contents",
        "Usage: database show [family [keytree]]\n   OR: database show [family[/keytree]]\n       Shows Obelus database contents, optionally restricted\n       to a given family, or family and keytree.",
        move |args| {
            let w = w.clone();
            async move {
                let family = match args.args.as_slice() {
                    [] => String::new(),
                    [family] => family.clone(),
                    [family, tree] => format!("{family}/{tree}"),
                    _ => return Err(CliError::ShowUsage),
                };
                let entries = db(&w)?.list(&family).await.map_err(failed)?;
                let mut out = String::new();
                for (key, value) in &entries {
                    out.push_str(&format!("{key:<50}: {value:<25}\n"));
                }
                out.push_str(&format!("{} results found.\n", entries.len()));
                Ok(out)
            }
        },
    )
    .with_args();
    let w = Arc::downgrade(core);
    let get = CliCommand::new(
        "database get",
        "Gets database value",
        "Usage: database get <family> <key>\n       Retrieves an entry in the Obelus database for a given family and key.",
        move |args| {
            let w = w.clone();
            async move {
                let [family, key] = args.args.as_slice() else {
                    return Err(CliError::ShowUsage);
                };
                Ok(match db(&w)?.get(family, key).await.map_err(failed)? {
                    Some(value) => format!("Value: {value}\n"),
                    None => "Database entry not found.\n".into(),
                })
            }
        },
    )
    .with_args();
    let w = Arc::downgrade(core);
    let put = CliCommand::new(
        "database put",
        "Adds/updates database value",
        "Usage: database put <family> <key> <value>\n       Adds or updates an entry in the Obelus database for a given family, key, and value.",
        move |args| {
            let w = w.clone();
            async move {
                let [family, key, value] = args.args.as_slice() else {
                    return Err(CliError::ShowUsage);
                };
                db(&w)?.put(family, key, value).await.map_err(failed)?;
                Ok("Updated database successfully\n".into())
            }
        },
    )
    .with_args();
    let w = Arc::downgrade(core);
    let del = CliCommand::new(
        "database del",
        "Removes database key/value",
        "Usage: database del <family> <key>\n       Deletes an entry in the Obelus database for a given family and key.",
        move |args| {
            let w = w.clone();
            async move {
                let [family, key] = args.args.as_slice() else {
                    return Err(CliError::ShowUsage);
                };
                Ok(if db(&w)?.del(family, key).await.map_err(failed)? {
                    "Database entry removed.\n".into()
                } else {
                    "Database entry does not exist.\n".into()
                })
            }
        },
    )
    .with_args();
    let w = Arc::downgrade(core);
    let deltree = CliCommand::new(
        "database deltree",
        "Removes database keytree/values",
        "Usage: database deltree <family> [keytree]\n       Deletes a family or specific keytree within a family in the Obelus database.",
        move |args| {
            let w = w.clone();
            async move {
                let (family, tree) = match args.args.as_slice() {
                    [family] => (family.clone(), None),
                    [family, tree] => (family.clone(), Some(tree.clone())),
                    _ => return Err(CliError::ShowUsage),
                };
                let n = db(&w)?.deltree(&family, tree.as_deref()).await.map_err(failed)?;
                Ok(if n == 0 {
                    "Database entries do not exist.\n".into()
                } else {
                    format!("{n} database entries removed.\n")
                })
            }
        },
    )
    .with_args();
    vec![show, get, put, del, deltree]
}

#[async_trait]
impl Module for AstdbModule {
    fn name(&self) -> &'static str {
        "astdb"
    }

    fn description(&self) -> &'static str {
        "Internal key/value database (astdb)"
    }

    fn check(&self, _settings: &Settings) -> Vec<Diagnostic> {
        Vec::new()
    }

    async fn load(&self, core: &Arc<Core>) -> Result<(), ModuleError> {
        let astdb =
            Astdb::open(&core.settings.dirs.db).map_err(|e| ModuleError::Failed(e.to_string()))?;
        core.provide(Arc::new(astdb));
        for command in commands(core) {
            core.cli
                .register(command)
                .map_err(|e| ModuleError::Failed(e.to_string()))?;
        }
        Ok(())
    }

    async fn reload(&self, _core: &Arc<Core>) -> Result<(), ModuleError> {
        Ok(())
    }
}
