//! The `logger` module: reads `logger.conf` at load and reload, and provides
//! `logger show channels` and `logger reload`.

use std::sync::Arc;

use async_trait::async_trait;
use obelus_core::Core;
use obelus_core::cli::CliCommand;
use obelus_core::diagnostic::{Diagnostic, Severity};
use obelus_core::logging::LogService;
use obelus_core::module::{Module, ModuleError};
use obelus_core::settings::Settings;

use super::{Logger, LoggerChannels, LoggerConf};

const FILE: &str = "logger.conf";

/// The logger as a module, so `module reload logger` works as in Asterisk.
pub struct LoggerModule {
    logger: Arc<Logger>,
}

impl LoggerModule {
    /// Wraps the running logger.
    pub fn new(logger: Arc<Logger>) -> Self {
        Self { logger }
    }

    /// Reads `logger.conf`; without one, Asterisk's fallback applies.
    fn read(settings: &Settings) -> (LoggerConf, Vec<Diagnostic>) {
        match settings.load_conf(FILE) {
            Ok(config) => LoggerConf::from_config(&config, &settings.dirs.log),
            Err(e) if e.is_not_found() => (
                LoggerConf::fallback(),
                vec![Diagnostic::file(
                    Severity::Warning,
                    FILE,
                    "not found; logging errors, warnings and notices to the console only",
                )],
            ),
            Err(e) => (LoggerConf::fallback(), Diagnostic::from_conf_errors(&e)),
        }
    }

    fn apply(&self, settings: &Settings) -> Result<(), ModuleError> {
        let (conf, problems) = Self::read(settings);
        ModuleError::check(problems)?;
        self.logger.configure(conf);
        Ok(())
    }
}

#[async_trait]
impl Module for LoggerModule {
    fn name(&self) -> &'static str {
        "logger"
    }

    fn description(&self) -> &'static str {
        "Logger"
    }

    fn check(&self, settings: &Settings) -> Vec<Diagnostic> {
        Self::read(settings).1
    }

    async fn load(&self, core: &Arc<Core>) -> Result<(), ModuleError> {
        self.apply(&core.settings)?;
        core.provide(Arc::new(LogService::new(Arc::new(LoggerChannels::new(
            Arc::clone(&self.logger),
            &core.settings.dirs.log,
        )))));
        let logger = Arc::clone(&self.logger);
        let show = CliCommand::new(
            "logger show channels",
            "List configured log channels",
            "Usage: logger show channels\n       List configured logger channels.",
            move |_| {
                let logger = Arc::clone(&logger);
                async move { Ok(logger.show_channels()) }
            },
        );
        let weak = Arc::downgrade(core);
        let reload = CliCommand::new(
            "logger reload",
            "Reopens the log files",
            "Usage: logger reload\n       Reloads the logger subsystem state. Use after restarting syslogd(8) or rotating log files.",
            move |_| {
                let weak = weak.clone();
                async move {
                    let Some(core) = weak.upgrade() else {
                        return Ok(String::new());
                    };
                    Ok(match core.modules.reload(&core, "logger").await {
                        obelus_core::module::ReloadOutcome::Success => String::new(),
                        other => format!("Failed to reload the logger: {other:?}\n"),
                    })
                }
            },
        );
        for command in [show, reload] {
            core.cli
                .register(command)
                .map_err(|e| ModuleError::Failed(e.to_string()))?;
        }
        Ok(())
    }

    async fn reload(&self, core: &Arc<Core>) -> Result<(), ModuleError> {
        self.apply(&core.settings)
    }
}
