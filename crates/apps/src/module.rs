//! The `pbx_builtins` module: installs the dialplan executor with every
//! application and function, keeps `[globals]` in step with `dialplan
//! reload`, and provides `core show applications|functions`.

use std::sync::Arc;

use async_trait::async_trait;
use obelus_core::Core;
use obelus_core::cli::{CliCommand, CliError};
use obelus_core::diagnostic::Diagnostic;
use obelus_core::events::Event;
use obelus_core::module::{Module, ModuleError};
use obelus_core::settings::Settings;
use obelus_dialplan::module::DialplanService;

use crate::globals::Globals;
use crate::pbx::Executor;
use crate::realtime_switch::RealtimeSwitch;
use crate::registry::Registry;
use crate::switch::Switches;

/// `pbx_builtins`.
#[derive(Default)]
pub struct PbxModule;

fn load_globals(globals: &Globals, dialplan: &DialplanService) {
    globals.replace(dialplan.get().globals().iter().cloned());
}

fn show_applications(registry: &Registry, filter: Option<&str>) -> String {
    let mut out = String::from("    -= Registered Obelus Applications =-\n");
    let mut n = 0;
    for app in registry.applications() {
        if filter.is_some_and(|f| {
            !app.name()
                .to_ascii_lowercase()
                .contains(&f.to_ascii_lowercase())
        }) {
            continue;
        }
        n += 1;
        out.push_str(&format!("{:>22}: {} \n", app.name(), app.synopsis()));
    }
    out.push_str(&format!("    -= {n} Applications Registered =-\n"));
    out
}

/// `core show hints`, laid out as Asterisk does.
fn show_hints(core: &Core, dialplan: &DialplanService) -> String {
    let mut out = String::from("\n    -= Registered Obelus Dial Plan Hints =-\n");
    let mut n = 0;
    let devices = core.channels.devices();
    for context in dialplan.get().contexts() {
        for extension in context.extensions() {
            let Some(hint) = extension.hint() else {
                continue;
            };
            n += 1;
            let state = obelus_core::devicestate::aggregate(
                hint.devices
                    .split('&')
                    .map(str::trim)
                    .filter(|d| !d.is_empty())
                    .map(|d| devices.state(d)),
            );
            let (_, text) = obelus_core::devicestate::extension_status(state);
            out.push_str(&format!(
                "{:<20.20}: {:<20.20}  State:{:<15.15} Presence:{:<15.15} Watchers {:>2}\n",
                format!("{}@{}", extension.name().as_str(), context.name()),
                hint.devices,
                text,
                "not_set",
                0
            ));
        }
    }
    out.push_str(&format!("----------------\n- {n} hints registered\n"));
    out
}

fn show_functions(registry: &Registry) -> String {
    let mut out = String::from(
        "Installed Custom Functions:\n--------------------------------------------------------------------------------\n",
    );
    let functions = registry.functions();
    for f in &functions {
        out.push_str(&format!("{:<20} {}\n", f.name(), f.synopsis()));
    }
    out.push_str(&format!(
        "{} custom functions installed.\n",
        functions.len()
    ));
    out
}

#[async_trait]
impl Module for PbxModule {
    fn name(&self) -> &'static str {
        "pbx_builtins"
    }

    fn description(&self) -> &'static str {
        "Dialplan executor, applications and functions"
    }

    fn check(&self, _settings: &Settings) -> Vec<Diagnostic> {
        Vec::new()
    }

    async fn reload(&self, _core: &Arc<Core>) -> Result<(), ModuleError> {
        // Nothing of its own to re-read: `[globals]` follow pbx_config's
        // reload event.
        Ok(())
    }

    async fn load(&self, core: &Arc<Core>) -> Result<(), ModuleError> {
        let dialplan = core.service::<DialplanService>().ok_or_else(|| {
            ModuleError::Failed("the dialplan (pbx_config.so) is not loaded".to_owned())
        })?;
        let dialplan_for_hints = Arc::clone(&dialplan);
        let registry = Arc::new(Registry::default());
        crate::applications::register_all(&registry);
        crate::functions::register_all(&registry);
        let globals = Arc::new(Globals::default());
        load_globals(&globals, &dialplan);
        crate::prompts::install_logged(&core.settings.dirs.data);
        let switches = Arc::new(Switches::default());
        if let Some(realtime) = core.service::<obelus_realtime::RealtimeService>() {
            switches.add(Arc::new(RealtimeSwitch::new(realtime)));
        }
        let executor = Executor::new(
            Arc::clone(core),
            Arc::clone(&registry),
            Arc::clone(&globals),
            switches,
            Arc::clone(&dialplan),
        );
        core.provide(Arc::clone(&executor));
        core.channels
            .register_technology(Arc::new(crate::local::LocalTechnology::new(core)));
        core.channels
            .register_technology(Arc::new(crate::unicast_rtp::UnicastRtpTechnology::new(
                core,
            )));
        core.channels.set_pbx(executor);
        // `[globals]` follow `dialplan reload`: a tap (a cheap match on each
        // event, on the publisher's thread) rather than a task woken by every
        // event of every call.
        core.events.add_tap(Box::new(move |event| {
            if let Event::Reload { module, .. } = event.as_ref()
                && module.starts_with("pbx_config")
            {
                load_globals(&globals, &dialplan);
            }
        }));
        let apps = Arc::clone(&registry);
        let show_apps = CliCommand::new(
            "core show applications",
            "Shows registered dialplan applications",
            "Usage: core show applications [like <text>]\n       List applications which are currently available.",
            move |args| {
                let apps = Arc::clone(&apps);
                async move {
                    match args.args.as_slice() {
                        [] => Ok(show_applications(&apps, None)),
                        [like, text] if like == "like" => Ok(show_applications(&apps, Some(text))),
                        _ => Err(CliError::ShowUsage),
                    }
                }
            },
        )
        .with_args();
        let funcs = Arc::clone(&registry);
        let show_funcs = CliCommand::new(
            "core show functions",
            "Shows registered dialplan functions",
            "Usage: core show functions\n       List builtin functions.",
            move |_| {
                let funcs = Arc::clone(&funcs);
                async move { Ok(show_functions(&funcs)) }
            },
        );
        let hints_core = Arc::downgrade(core);
        let hints_dialplan = Arc::clone(&dialplan_for_hints);
        let show_hints_command = CliCommand::new(
            "core show hints",
            "Show dialplan hints",
            "Usage: core show hints\n       List registered hints.",
            move |_| {
                let core = hints_core.upgrade();
                let dialplan = Arc::clone(&hints_dialplan);
                async move {
                    let core = core.ok_or_else(|| CliError::Failed("shutting down".into()))?;
                    Ok(show_hints(&core, &dialplan))
                }
            },
        );
        for command in [show_apps, show_funcs, show_hints_command] {
            core.cli
                .register(command)
                .map_err(|e| ModuleError::Failed(e.to_string()))?;
        }
        Ok(())
    }
}
