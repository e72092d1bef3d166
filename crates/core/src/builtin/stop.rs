//! `core stop now|gracefully|when convenient` and `core set verbose`.

use std::sync::Arc;

use super::with_core;
use crate::Core;
use crate::cli::{CliCommand, CliError};
use crate::shutdown::ShutdownMode;

pub(super) fn commands(core: &Arc<Core>) -> Vec<CliCommand> {
    let stop = |words: &str, summary: &str, usage: &str, mode: ShutdownMode| {
        with_core(core, words, summary, usage, move |core, _| async move {
            core.shutdown.request(mode);
            Ok(match mode {
                ShutdownMode::Now => "Shutting down Obelus now.\n".to_owned(),
                _ => format!(
                    "Obelus will stop when the last of {} active call(s) ends.\n",
                    core.shutdown.active_calls()
                ),
            })
        })
    };
    vec![
        stop(
            "core stop now",
            "Shut down Obelus immediately",
            "Usage: core stop now\n       Shuts down a running Obelus immediately, hanging up all active calls.",
            ShutdownMode::Now,
        ),
        stop(
            "core stop gracefully",
            "Gracefully shut down Obelus",
            "Usage: core stop gracefully\n       Causes Obelus to not accept new calls, and exit when all\n       active calls have terminated normally.",
            ShutdownMode::Gracefully,
        ),
        stop(
            "core stop when convenient",
            "Shut down Obelus at empty call volume",
            "Usage: core stop when convenient\n       Causes Obelus to perform a shutdown when all active calls have ended.",
            ShutdownMode::WhenConvenient,
        ),
        with_core(
            core,
            "core set verbose",
            "Set level of verbose chattiness",
            "Usage: core set verbose [atleast] <level>\n       core set verbose off\n       Sets level of verbose messages to be displayed.\n       0 or off means no messages should be displayed.",
            |core, args| async move {
                let level = match args.args.as_slice() {
                    [word] if word.eq_ignore_ascii_case("off") => 0,
                    [n] => n.parse().map_err(|_| CliError::ShowUsage)?,
                    [atleast, n] if atleast.eq_ignore_ascii_case("atleast") => {
                        let n: u8 = n.parse().map_err(|_| CliError::ShowUsage)?;
                        n.max(core.verbosity())
                    }
                    _ => return Err(CliError::ShowUsage),
                };
                let was = core.set_verbosity(level);
                Ok(if was == level {
                    format!("Verbosity is at least {level}\n")
                } else if level == 0 {
                    "Verbosity is now OFF\n".to_owned()
                } else {
                    format!("Console verbose was {was} and is now {level}.\n")
                })
            },
        )
        .with_args(),
    ]
}
