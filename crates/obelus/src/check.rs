//! `obelus config check`: read every configuration file of every enabled
//! module and report every problem, without starting anything.

use std::sync::Arc;

use obelus_core::diagnostic::{Diagnostic, Severity};
use obelus_core::module::{Module, ModulesConf};
use obelus_core::settings::Settings;

/// Checks everything; prints the problems; returns the process exit code
/// (1 if any is an error).
pub fn run(settings: &Settings, mut problems: Vec<Diagnostic>, modules: &[Arc<dyn Module>]) -> i32 {
    let (modules_conf, conf_problems) = read_modules_conf(settings);
    problems.extend(conf_problems);
    let mut checked = 2;
    for module in modules {
        if modules_conf.wants(module.name()) {
            problems.extend(module.check(settings));
            checked += 1;
        }
    }
    for problem in &problems {
        println!("{problem}");
    }
    let errors = problems.iter().filter(|p| p.is_error()).count();
    let warnings = problems.len() - errors;
    println!(
        "Checked {} ({} configuration sources): {errors} error(s), {warnings} warning(s).",
        settings.dirs.etc.display(),
        checked
    );
    i32::from(errors > 0)
}

/// Reads `modules.conf`; a missing one means "load everything".
pub fn read_modules_conf(settings: &Settings) -> (ModulesConf, Vec<Diagnostic>) {
    match settings.load_conf("modules.conf") {
        Ok(config) => ModulesConf::from_config(&config),
        Err(e) if e.is_not_found() => (
            ModulesConf::default(),
            vec![Diagnostic::file(
                Severity::Warning,
                "modules.conf",
                "not found; loading every module",
            )],
        ),
        Err(e) => (ModulesConf::default(), Diagnostic::from_conf_errors(&e)),
    }
}
