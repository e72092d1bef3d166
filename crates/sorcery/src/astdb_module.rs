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

/// A command whose handler needs the astdb (looked up at each call, so a
/// command typed while the daemon stops gets a message, not a panic).
fn with_astdb<F, Fut>(core: &Arc<Core>, words: &str, summary: &str, usage: &str, f: F) -> CliCommand
where
    F: Fn(Arc<Astdb>, Vec<String>) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<String, CliError>> + Send + 'static,
{
    let weak = Arc::downgrade(core);
    let f = Arc::new(f);
    CliCommand::new(words, summary, usage, move |args| {
        let weak = weak.clone();
        let f = Arc::clone(&f);
        async move {
            let astdb = weak
                .upgrade()
                .and_then(|core| core.service::<Astdb>())
                .ok_or_else(|| CliError::Failed("The astdb is not open.".into()))?;
            f(astdb, args.args).await
        }
    })
}

fn failed(e: impl std::fmt::Display) -> CliError {
    CliError::Failed(format!("astdb: {e}"))
}

/// `database show|get|put|del|deltree`.
fn commands(core: &Arc<Core>) -> Vec<CliCommand> {
    let show = with_astdb(
        core,
        "database show",
        "Shows database contents",
        "Usage: database show [family [keytree]]\n   OR: database show [family[/keytree]]\n       Shows Obelus database contents, optionally restricted\n       to a given family, or family and keytree.",
        |db, args| async move {
                let family = match args.as_slice() {
                    [] => String::new(),
                    [family] => family.clone(),
                    [family, tree] => format!("{family}/{tree}"),
                    _ => return Err(CliError::ShowUsage),
                };
                let entries = db.list(&family).await.map_err(failed)?;
                let mut out = String::new();
                for (key, value) in &entries {
                    out.push_str(&format!("{key:<50}: {value:<25}\n"));
                }
                out.push_str(&format!("{} results found.\n", entries.len()));
                Ok(out)
        },
    )
    .with_args();
    let get = with_astdb(
        core,
        "database get",
        "Gets database value",
        "Usage: database get <family> <key>\n       Retrieves an entry in the Obelus database for a given family and key.",
        |db, args| async move {
                let [family, key] = args.as_slice() else {
                    return Err(CliError::ShowUsage);
                };
                Ok(match db.get(family, key).await.map_err(failed)? {
                    Some(value) => format!("Value: {value}\n"),
                    None => "Database entry not found.\n".into(),
                })
        },
    )
    .with_args();
    let put = with_astdb(
        core,
        "database put",
        "Adds/updates database value",
        "Usage: database put <family> <key> <value>\n       Adds or updates an entry in the Obelus database for a given family, key, and value.",
        |db, args| async move {
                let [family, key, value] = args.as_slice() else {
                    return Err(CliError::ShowUsage);
                };
                db.put(family, key, value).await.map_err(failed)?;
                Ok("Updated database successfully\n".into())
        },
    )
    .with_args();
    let del = with_astdb(
        core,
        "database del",
        "Removes database key/value",
        "Usage: database del <family> <key>\n       Deletes an entry in the Obelus database for a given family and key.",
        |db, args| async move {
                let [family, key] = args.as_slice() else {
                    return Err(CliError::ShowUsage);
                };
                Ok(if db.del(family, key).await.map_err(failed)? {
                    "Database entry removed.\n".into()
                } else {
                    "Database entry does not exist.\n".into()
                })
        },
    )
    .with_args();
    let deltree = with_astdb(
        core,
        "database deltree",
        "Removes database keytree/values",
        "Usage: database deltree <family> [keytree]\n       Deletes a family or specific keytree within a family in the Obelus database.",
        |db, args| async move {
                let (family, tree) = match args.as_slice() {
                    [family] => (family.clone(), None),
                    [family, tree] => (family.clone(), Some(tree.clone())),
                    _ => return Err(CliError::ShowUsage),
                };
                let n = db.deltree(&family, tree.as_deref()).await.map_err(failed)?;
                Ok(if n == 0 {
                    "Database entries do not exist.\n".into()
                } else {
                    format!("{n} database entries removed.\n")
                })
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

    /// Closes the database: its commands go, and `DB()`, AMI `DBGet` and
    /// ARI device states find no astdb until it is loaded again (the file
    /// is closed once the last request using it ends).
    async fn unload(&self, core: &Arc<Core>) -> Result<(), ModuleError> {
        for command in commands(core) {
            core.cli.unregister(&command.name());
        }
        core.withdraw::<Astdb>();
        Ok(())
    }
}
