//! `module show`, `module load`, `module unload`, `module reload`,
//! `core reload`.

use std::sync::Arc;

use super::with_core;
use crate::Core;
use crate::cli::{CliCommand, CliError};
use crate::module::{LoadOutcome, ReloadOutcome, UnloadOutcome};

pub(super) fn commands(core: &Arc<Core>) -> Vec<CliCommand> {
    let module_names = {
        let weak = Arc::downgrade(core);
        move |args: &[String]| {
            let partial = args.last().map(String::as_str).unwrap_or("");
            weak.upgrade()
                .map(|c| c.modules.names())
                .unwrap_or_default()
                .into_iter()
                .filter(|n| n.starts_with(partial))
                .collect()
        }
    };
    vec![
        with_core(
            core,
            "module show",
            "List modules and info",
            "Usage: module show [like keyword]\n       Shows Obelus modules currently in use, and usage statistics.",
            |core, args| async move {
                match args.args.as_slice() {
                    [] => Ok(core.modules.show(None)),
                    [like, pattern] if like.eq_ignore_ascii_case("like") => {
                        Ok(core.modules.show(Some(pattern)))
                    }
                    _ => Err(CliError::ShowUsage),
                }
            },
        )
        .with_args(),
        with_core(
            core,
            "module load",
            "Load a module by name",
            "Usage: module load <module name>\n       Loads the named module (one that modules.conf left out,\n       that failed, or that was unloaded).",
            |core, args| async move {
                let [name] = args.args.as_slice() else {
                    return Err(CliError::ShowUsage);
                };
                Ok(match core.modules.load(&core, name).await {
                    LoadOutcome::Loaded => format!("Loaded {name}\n"),
                    LoadOutcome::NotFound => {
                        format!("No such module '{name}' (see 'module show').\n")
                    }
                    LoadOutcome::AlreadyRunning => format!("Module '{name}' is already running.\n"),
                    LoadOutcome::Failed(why) => format!("Unable to load module {name}: {why}\n"),
                })
            },
        )
        .with_completer(module_names.clone()),
        with_core(
            core,
            "module unload",
            "Unload a module by name",
            "Usage: module unload <module name>\n       Unloads the named module; modules in use refuse.",
            |core, args| async move {
                let [name] = args.args.as_slice() else {
                    return Err(CliError::ShowUsage);
                };
                Ok(match core.modules.unload(&core, name).await {
                    UnloadOutcome::Unloaded => format!("Unloaded {name}\n"),
                    UnloadOutcome::NotRunning => {
                        format!("Unable to unload resource {name}: not running\n")
                    }
                    UnloadOutcome::Refused(why) => {
                        format!("Unable to unload resource {name}: {why}\n")
                    }
                })
            },
        )
        .with_completer(module_names.clone()),
        with_core(
            core,
            "module reload",
            "Reload configuration for a module",
            "Usage: module reload [module ...]\n       Reloads configuration files for the named modules, or for all\n       modules if none is named. Calls in progress are not affected.",
            |core, args| async move {
                if args.args.is_empty() {
                    return Ok(reload_all(&core).await);
                }
                let mut out = String::new();
                for name in &args.args {
                    let outcome = core.modules.reload(&core, name).await;
                    if outcome == ReloadOutcome::Success {
                        core.mark_reloaded();
                    }
                    out.push_str(&describe(name, &outcome));
                }
                Ok(out)
            },
        )
        .with_completer(module_names),
        with_core(
            core,
            "core reload",
            "Global reload",
            "Usage: core reload\n       Reloads the configuration of every running module without\n       dropping calls in progress.",
            |core, _| async move { Ok(reload_all(&core).await) },
        ),
    ]
}

async fn reload_all(core: &Arc<Core>) -> String {
    let outcomes = core.modules.reload_all(core).await;
    core.mark_reloaded();
    let mut out = String::new();
    let mut ok = 0;
    for (name, outcome) in &outcomes {
        if *outcome == ReloadOutcome::Success {
            ok += 1;
        } else {
            out.push_str(&describe(name, outcome));
        }
    }
    out.push_str(&format!("Reloaded {ok} of {} modules.\n", outcomes.len()));
    out
}

fn describe(name: &str, outcome: &ReloadOutcome) -> String {
    match outcome {
        ReloadOutcome::Success => format!("Module '{name}' reloaded successfully.\n"),
        ReloadOutcome::NotFound => format!("No such module '{name}' (see 'module show').\n"),
        ReloadOutcome::NotRunning => format!(
            "The module '{name}' is not running: it was left out by modules.conf or failed to load (see 'module show').\n"
        ),
        ReloadOutcome::Failed(why) => {
            format!(
                "Module '{name}' failed to reload: {why}\nThe previous configuration is still in force.\n"
            )
        }
    }
}
