//! The console commands the core itself provides: `core show version|uptime|help`,
//! `core reload`, `module show|reload`, `core stop ...`, `core set verbose`,
//! `core show channels`, `channel request hangup`.

mod channels;
mod core_show;
mod modules;
mod settings;
mod stop;
mod uptime;

use std::future::Future;
use std::sync::{Arc, Weak};

use crate::Core;
use crate::cli::{CliArgs, CliCommand, CliError, CliResult, RegisterError};

pub use uptime::format_duration;

/// Registers every built-in command on `core`.
pub fn register(core: &Arc<Core>) -> Result<(), RegisterError> {
    for command in core_show::commands(core)
        .into_iter()
        .chain(modules::commands(core))
        .chain(channels::commands(core))
        .chain(stop::commands(core))
        .chain(settings::commands(core))
    {
        core.cli.register(command)?;
    }
    Ok(())
}

/// A command whose handler needs the core. Handlers hold a weak reference so
/// the registry (owned by the core) does not keep the core alive forever.
fn with_core<F, Fut>(core: &Arc<Core>, words: &str, summary: &str, usage: &str, f: F) -> CliCommand
where
    F: Fn(Arc<Core>, CliArgs) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = CliResult> + Send + 'static,
{
    let weak: Weak<Core> = Arc::downgrade(core);
    let f = Arc::new(f);
    CliCommand::new(words, summary, usage, move |args| {
        let weak = weak.clone();
        let f = Arc::clone(&f);
        async move {
            let core = weak
                .upgrade()
                .ok_or_else(|| CliError::Failed("Obelus is shutting down.".into()))?;
            f(core, args).await
        }
    })
}
