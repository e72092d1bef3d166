//! `core show settings`, in Asterisk's layout (two-space indent, 29-column
//! labels) with Obelus's values.

use std::sync::Arc;
use std::time::SystemTime;

use super::with_core;
use crate::cli::CliCommand;
use crate::{Core, VERSION};

fn row(label: &str, value: &str) -> String {
    format!("  {label:<29}{value}\n")
}

fn time_of_day(t: SystemTime) -> String {
    let secs = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    format!(
        "{:02}:{:02}:{:02}",
        secs / 3600 % 24,
        secs / 60 % 60,
        secs % 60
    )
}

fn settings(core: &Core) -> String {
    let s = &core.settings;
    let o = &s.options;
    let dir = |p: &std::path::Path| p.display().to_string();
    let mut out = String::from("\nPBX Core settings\n-----------------\n");
    out.push_str(&row("Version:", VERSION));
    out.push_str(&row(
        "Maximum calls:",
        &o.max_calls.map_or("Not set".to_owned(), |n| n.to_string()),
    ));
    out.push_str(&row("Root console verbosity:", &o.verbose.to_string()));
    out.push_str(&row(
        "Current console verbosity:",
        &core.verbosity().to_string(),
    ));
    out.push_str(&row("Debug level:", &o.debug.to_string()));
    out.push_str(&row(
        "Maximum load average:",
        &format!("{:.6}", o.max_load.unwrap_or(0.0)),
    ));
    out.push_str(&row("Startup time:", &time_of_day(core.started())));
    out.push_str(&row("Last reload time:", &time_of_day(core.last_reload())));
    out.push_str(&row(
        "System:",
        &format!("{}/{}", std::env::consts::OS, std::env::consts::ARCH),
    ));
    out.push_str(&row("System name:", &o.system_name));
    out.push_str(&row(
        "User name and group:",
        &format!(
            "{}/{}",
            o.run_user.as_deref().unwrap_or(""),
            o.run_group.as_deref().unwrap_or("")
        ),
    ));
    out.push_str(&row(
        "Executable includes:",
        if o.exec_includes {
            "Enabled"
        } else {
            "Disabled"
        },
    ));
    out.push_str("\n* Subsystems\n  -------------\n");
    for (name, module) in [
        ("Manager (AMI):", "manager"),
        ("Realtime Architecture (ARA):", "extconfig"),
    ] {
        let running =
            core.modules.list().iter().any(|(m, state)| {
                m.name() == module && *state == crate::module::ModuleState::Running
            });
        out.push_str(&row(name, if running { "Enabled" } else { "Disabled" }));
    }
    out.push_str("\n* Directories\n  -------------\n");
    out.push_str(&row("Configuration file:", &dir(&s.master_file)));
    out.push_str(&row("Configuration directory:", &dir(&s.dirs.etc)));
    out.push_str(&row("Spool directory:", &dir(&s.dirs.spool)));
    out.push_str(&row("Log directory:", &dir(&s.dirs.log)));
    out.push_str(&row("Run/Sockets directory:", &dir(&s.dirs.run)));
    out.push_str(&row("PID file:", &dir(&s.pid_file())));
    out.push_str(&row("VarLib directory:", &dir(&s.dirs.varlib)));
    out.push_str(&row("Data directory:", &dir(&s.dirs.data)));
    out.push_str(&row("ASTDB:", &dir(&s.dirs.db.join("astdb.sqlite3"))));
    out.push_str(&row("Cache directory:", &dir(&s.dirs.cache)));
    out.push('\n');
    out
}

pub(super) fn commands(core: &Arc<Core>) -> Vec<CliCommand> {
    vec![with_core(
        core,
        "core show settings",
        "Show some core settings",
        "Usage: core show settings\n       Show core system settings and directories.",
        |core, _| async move { Ok(settings(&core)) },
    )]
}
