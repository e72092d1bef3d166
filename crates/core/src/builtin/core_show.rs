//! `core show version`, `core show uptime`, `core show help`.

use std::sync::Arc;
use std::time::SystemTime;

use super::{format_duration, with_core};
use crate::cli::{CliCommand, CliError};
use crate::{Core, VERSION};

/// The first line of `core show version`; scripts match on `Obelus <version>`.
pub fn version_line() -> String {
    format!(
        "Obelus {VERSION} built for {}-{} (Asterisk-compatible PBX and media application server)",
        std::env::consts::ARCH,
        std::env::consts::OS
    )
}

pub(super) fn commands(core: &Arc<Core>) -> Vec<CliCommand> {
    vec![
        CliCommand::new(
            "core show version",
            "Display version info",
            "Usage: core show version\n       Shows Obelus version information.",
            |_| async { Ok(format!("{}\n", version_line())) },
        ),
        with_core(
            core,
            "core show uptime",
            "Show uptime information",
            "Usage: core show uptime [seconds]\n       Shows Obelus uptime information.\n       The seconds word returns the uptime in seconds only.",
            |core, args| async move {
                let seconds = match args.args.as_slice() {
                    [] => false,
                    [word] if word.eq_ignore_ascii_case("seconds") => true,
                    _ => return Err(CliError::ShowUsage),
                };
                let since = |t: SystemTime| SystemTime::now().duration_since(t).unwrap_or_default();
                let (up, reload) = (since(core.started()), since(core.last_reload()));
                Ok(if seconds {
                    format!("System uptime: {}\nLast reload: {}\n", up.as_secs(), reload.as_secs())
                } else {
                    format!(
                        "System uptime: {}\nLast reload: {}\n",
                        format_duration(up),
                        format_duration(reload)
                    )
                })
            },
        )
        .with_args(),
        help_command(core, "core show help"),
        help_command(core, "help"),
    ]
}

fn help_command(core: &Arc<Core>, words: &str) -> CliCommand {
    let names = {
        let weak = Arc::downgrade(core);
        move |_: &[String]| weak.upgrade().map(|c| c.cli.names()).unwrap_or_default()
    };
    with_core(
        core,
        words,
        "Display help list, or specific help on a command",
        "Usage: core show help [topic]\n       When called with a topic as an argument, displays usage\n       information on the given command. If called without a\n       topic, it provides a list of commands.",
        |core, args| async move { Ok(core.cli.help(&args.args)) },
    )
    .with_completer(names)
}
