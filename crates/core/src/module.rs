//! Modules and their lifecycle: which run (`modules.conf`), load, reload, show.
//!
//! A module is a unit an Asterisk administrator recognises by name
//! (`res_pjsip.so`, `pbx_config.so`, `logger`): it owns configuration files,
//! registers console commands and reacts to `module reload NAME` and
//! `core reload` by re-reading its configuration without dropping what is
//! running.

use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use obelus_conf::Config;

use crate::Core;
use crate::diagnostic::Diagnostic;
use crate::settings::Settings;

/// Asterisk's support levels, shown by `module show`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SupportLevel {
    /// Maintained with the core.
    Core,
    /// Maintained by its own contributors.
    Extended,
    /// Kept for compatibility, to be removed.
    Deprecated,
}

impl SupportLevel {
    fn as_str(self) -> &'static str {
        match self {
            Self::Core => "core",
            Self::Extended => "extended",
            Self::Deprecated => "deprecated",
        }
    }
}

/// Why a module could not load or reload.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModuleError {
    /// Its configuration is unusable; the diagnostics say where.
    #[error("configuration error: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Config(Vec<Diagnostic>),
    /// It declined to run (e.g. its config file says `enabled = no`).
    #[error("declined: {0}")]
    Declined(String),
    /// Anything else, with what to do about it.
    #[error("{0}")]
    Failed(String),
}

impl ModuleError {
    /// What every module does with its configuration's diagnostics at load
    /// and reload: refuse the configuration if any is an error (naming them
    /// all), otherwise log the warnings and go on.
    pub fn check(problems: Vec<Diagnostic>) -> Result<(), ModuleError> {
        if problems.iter().any(Diagnostic::is_error) {
            return Err(ModuleError::Config(problems));
        }
        for problem in &problems {
            tracing::warn!("{problem}");
        }
        Ok(())
    }
}

/// A loadable part of the daemon.
#[async_trait]
pub trait Module: Send + Sync + 'static {
    /// The name `module show` lists and `module reload` takes (`res_pjsip.so`).
    fn name(&self) -> &'static str;
    /// One line for `module show`.
    fn description(&self) -> &'static str;
    /// Support level for `module show`.
    fn support_level(&self) -> SupportLevel {
        SupportLevel::Core
    }
    /// Reads the module's configuration without applying it, for
    /// `obelus config check`: every problem, with file and line.
    fn check(&self, settings: &Settings) -> Vec<Diagnostic>;
    /// Starts the module: read configuration, register commands, open sockets.
    async fn load(&self, core: &Arc<Core>) -> Result<(), ModuleError>;
    /// Re-reads configuration and applies it without dropping live calls or
    /// sessions. On error the previous configuration stays in force.
    async fn reload(&self, core: &Arc<Core>) -> Result<(), ModuleError>;
    /// Stops the module so that a later [`Module::load`] starts it afresh:
    /// what it registered (commands, services) goes away. Most modules are
    /// used by others while the daemon runs and refuse, as Asterisk refuses
    /// to unload a module in use.
    async fn unload(&self, core: &Arc<Core>) -> Result<(), ModuleError> {
        let _ = core;
        Err(ModuleError::Declined(format!(
            "{} is in use and cannot be unloaded",
            self.name()
        )))
    }
}

/// What `modules.conf` says about which modules run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModulesConf {
    /// `autoload`: load every module not named by `noload`.
    pub autoload: bool,
    /// `preload`: load these first.
    pub preload: Vec<String>,
    /// `load`: load these (needed when `autoload = no`).
    pub load: Vec<String>,
    /// `noload`: never load these.
    pub noload: Vec<String>,
    /// `require`: the daemon refuses to start if one of these fails.
    pub require: Vec<String>,
}

impl Default for ModulesConf {
    /// No `modules.conf` at all means every module loads, as in Asterisk.
    fn default() -> Self {
        Self {
            autoload: true,
            preload: Vec::new(),
            load: Vec::new(),
            noload: Vec::new(),
            require: Vec::new(),
        }
    }
}

impl ModulesConf {
    /// Reads the `[modules]` section.
    pub fn from_config(config: &Config) -> (Self, Vec<Diagnostic>) {
        let mut conf = Self::default();
        let mut problems = Vec::new();
        if let Some(section) = config.category("modules") {
            for var in section.variables() {
                let value = var.value.trim().to_owned();
                match var.name.to_ascii_lowercase().as_str() {
                    "autoload" => match crate::settings::parse_bool(&value) {
                        Some(b) => conf.autoload = b,
                        None => problems.push(Diagnostic::error_at(
                            &var.location,
                            "autoload",
                            format!("expected yes or no, got '{value}'"),
                        )),
                    },
                    "preload" | "preload-require" => conf.preload.push(value),
                    "load" => conf.load.push(value),
                    "noload" => conf.noload.push(value),
                    "require" => conf.require.push(value),
                    other => problems.push(Diagnostic::warning_at(
                        &var.location,
                        other,
                        "unknown option (expected autoload, preload, load, noload or require)",
                    )),
                }
            }
        }
        (conf, problems)
    }

    /// Whether the module of this name runs.
    pub fn wants(&self, name: &str) -> bool {
        let named = |list: &[String]| list.iter().any(|n| same_module(n, name));
        if named(&self.noload) {
            return false;
        }
        self.autoload || named(&self.load) || named(&self.preload) || named(&self.require)
    }

    fn is_preload(&self, name: &str) -> bool {
        self.preload.iter().any(|n| same_module(n, name))
    }

    fn is_required(&self, name: &str) -> bool {
        self.require.iter().any(|n| same_module(n, name))
    }
}

/// Module names match with or without the `.so` suffix Asterisk users type.
pub fn same_module(a: &str, b: &str) -> bool {
    a.trim_end_matches(".so") == b.trim_end_matches(".so")
}

/// Where a module is in its life.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModuleState {
    /// Not loaded: `modules.conf` left it out, or it has not loaded yet.
    NotRunning,
    /// Loaded and working.
    Running,
    /// Its load failed; the message says why.
    Failed(String),
}

struct Entry {
    module: Arc<dyn Module>,
    state: ModuleState,
}

/// Every module the daemon knows, in registration order.
#[derive(Default)]
pub struct ModuleRegistry {
    entries: RwLock<Vec<Entry>>,
    /// Serialises loads and reloads: `core reload` typed twice does not run two
    /// reloads of one module at once.
    lifecycle: tokio::sync::Mutex<()>,
}

/// The result of reloading one module, worded as Asterisk's console words it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReloadOutcome {
    /// Reloaded.
    Success,
    /// No module has this name.
    NotFound,
    /// The module is known but not running.
    NotRunning,
    /// The reload failed; the old configuration stays.
    Failed(String),
}

/// The result of loading one module at run time (`module load`, ARI).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadOutcome {
    /// Loaded and running.
    Loaded,
    /// No module has this name.
    NotFound,
    /// It runs already.
    AlreadyRunning,
    /// Its load failed; it is not running.
    Failed(String),
}

/// The result of unloading one module at run time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnloadOutcome {
    /// Stopped.
    Unloaded,
    /// No running module has this name.
    NotRunning,
    /// The module refused (in use) or failed to stop; it keeps running.
    Refused(String),
}

impl ModuleRegistry {
    /// Makes a module known. Whether it runs is decided by [`ModuleRegistry::load_all`].
    pub fn register(&self, module: Arc<dyn Module>) {
        self.write().push(Entry {
            module,
            state: ModuleState::NotRunning,
        });
    }

    /// Every module with its state.
    pub fn list(&self) -> Vec<(Arc<dyn Module>, ModuleState)> {
        self.read()
            .iter()
            .map(|e| (Arc::clone(&e.module), e.state.clone()))
            .collect()
    }

    /// Names of every module, for completion.
    pub fn names(&self) -> Vec<String> {
        self.read()
            .iter()
            .map(|e| e.module.name().to_owned())
            .collect()
    }

    /// Loads the modules `modules.conf` wants: preloads first, then the rest in
    /// registration order. A failing module is logged and left out, unless it
    /// is `require`d: then the error is returned and the daemon must stop.
    pub async fn load_all(&self, core: &Arc<Core>, conf: &ModulesConf) -> Result<(), ModuleError> {
        let _guard = self.lifecycle.lock().await;
        let mut order = self.list();
        order.sort_by_key(|(m, _)| !conf.is_preload(m.name()));
        for (module, _) in order {
            let name = module.name();
            if !conf.wants(name) {
                tracing::debug!(module = name, "not loading: excluded by modules.conf");
                continue;
            }
            match module.load(core).await {
                Ok(()) => {
                    tracing::info!(verbose = 1, "Loaded {name} => ({})", module.description());
                    self.set_state(name, ModuleState::Running);
                }
                Err(e) => {
                    self.set_state(name, ModuleState::Failed(e.to_string()));
                    if conf.is_required(name) {
                        return Err(ModuleError::Failed(format!(
                            "required module {name} failed to load: {e}"
                        )));
                    }
                    tracing::error!("Module {name} failed to load: {e}");
                }
            }
        }
        Ok(())
    }

    /// Loads one module by name at run time: one that `modules.conf` left
    /// out, one that failed, or one unloaded earlier.
    pub async fn load(&self, core: &Arc<Core>, name: &str) -> LoadOutcome {
        let _guard = self.lifecycle.lock().await;
        let Some((module, state)) = self.find(name) else {
            return LoadOutcome::NotFound;
        };
        if state == ModuleState::Running {
            return LoadOutcome::AlreadyRunning;
        }
        match module.load(core).await {
            Ok(()) => {
                tracing::info!(
                    verbose = 1,
                    "Loaded {} => ({})",
                    module.name(),
                    module.description()
                );
                self.set_state(module.name(), ModuleState::Running);
                LoadOutcome::Loaded
            }
            Err(e) => {
                tracing::error!("Module {} failed to load: {e}", module.name());
                self.set_state(module.name(), ModuleState::Failed(e.to_string()));
                LoadOutcome::Failed(e.to_string())
            }
        }
    }

    /// Unloads one running module by name.
    pub async fn unload(&self, core: &Arc<Core>, name: &str) -> UnloadOutcome {
        let _guard = self.lifecycle.lock().await;
        let Some((module, state)) = self.find(name) else {
            return UnloadOutcome::NotRunning;
        };
        if state != ModuleState::Running {
            return UnloadOutcome::NotRunning;
        }
        match module.unload(core).await {
            Ok(()) => {
                tracing::info!(verbose = 1, "Unloaded {}", module.name());
                self.set_state(module.name(), ModuleState::NotRunning);
                UnloadOutcome::Unloaded
            }
            Err(e) => {
                tracing::warn!("Unable to unload {}: {e}", module.name());
                UnloadOutcome::Refused(e.to_string())
            }
        }
    }

    fn find(&self, name: &str) -> Option<(Arc<dyn Module>, ModuleState)> {
        self.list()
            .into_iter()
            .find(|(m, _)| same_module(m.name(), name))
    }

    /// Reloads one module by name.
    pub async fn reload(&self, core: &Arc<Core>, name: &str) -> ReloadOutcome {
        let _guard = self.lifecycle.lock().await;
        self.reload_locked(core, name).await
    }

    /// Reloads every running module (`core reload`); returns each outcome.
    pub async fn reload_all(&self, core: &Arc<Core>) -> Vec<(String, ReloadOutcome)> {
        let _guard = self.lifecycle.lock().await;
        let running: Vec<String> = self
            .list()
            .into_iter()
            .filter(|(_, s)| *s == ModuleState::Running)
            .map(|(m, _)| m.name().to_owned())
            .collect();
        let mut outcomes = Vec::new();
        for name in running {
            let outcome = self.reload_locked(core, &name).await;
            outcomes.push((name, outcome));
        }
        outcomes
    }

    async fn reload_locked(&self, core: &Arc<Core>, name: &str) -> ReloadOutcome {
        let Some((module, state)) = self.find(name) else {
            return ReloadOutcome::NotFound;
        };
        if state != ModuleState::Running {
            return ReloadOutcome::NotRunning;
        }
        tracing::info!(
            verbose = 3,
            "Reloading module '{}' ({})",
            module.name(),
            module.description()
        );
        let result = module.reload(core).await;
        core.events.publish(crate::events::Event::Reload {
            module: module.name().to_owned(),
            // Asterisk's reload result codes: 0 success, 3 error.
            status: if result.is_ok() { 0 } else { 3 },
        });
        match result {
            Ok(()) => ReloadOutcome::Success,
            Err(e) => {
                tracing::error!(
                    "Reload of {} failed, previous configuration kept: {e}",
                    module.name()
                );
                ReloadOutcome::Failed(e.to_string())
            }
        }
    }

    /// `module show [like pattern]` in Asterisk's layout.
    pub fn show(&self, like: Option<&str>) -> String {
        let mut out = format!(
            "{:<30} {:<40.40} {:<10} {:<11} {:>13}\n",
            "Module", "Description", "Use Count", "Status", "Support Level"
        );
        let mut count = 0;
        for (module, state) in self.list() {
            if like.is_some_and(|pattern| !module.name().contains(pattern)) {
                continue;
            }
            let status = match state {
                ModuleState::Running => "Running",
                ModuleState::NotRunning => "Not Running",
                ModuleState::Failed(_) => "Failed",
            };
            if state == ModuleState::Running {
                count += 1;
            }
            out.push_str(&format!(
                "{:<30} {:<40.40} {:<10} {:<11} {:>13}\n",
                module.name(),
                module.description(),
                0,
                status,
                module.support_level().as_str()
            ));
        }
        out.push_str(&format!("{count} modules loaded\n"));
        out
    }

    fn set_state(&self, name: &str, state: ModuleState) {
        if let Some(entry) = self.write().iter_mut().find(|e| e.module.name() == name) {
            entry.state = state;
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Vec<Entry>> {
        self.entries.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Vec<Entry>> {
        self.entries.write().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conf(text: &str) -> (ModulesConf, Vec<Diagnostic>) {
        ModulesConf::from_config(&obelus_conf::parse_str("modules.conf", text).expect("parses"))
    }

    #[test]
    fn autoload_with_noload() {
        let (c, problems) = conf("[modules]\nautoload=yes\nnoload => chan_sip.so\n");
        assert!(problems.is_empty());
        assert!(c.wants("logger"));
        assert!(!c.wants("chan_sip"));
        assert!(!c.wants("chan_sip.so"));
    }

    #[test]
    fn explicit_load_list() {
        let (c, _) = conf("[modules]\nautoload=no\nload => res_pjsip.so\npreload => logger\n");
        assert!(c.wants("res_pjsip.so"));
        assert!(c.wants("logger"));
        assert!(!c.wants("pbx_config.so"));
        assert!(c.is_preload("logger.so"));
    }

    #[test]
    fn bad_values_are_reported() {
        let (_, problems) = conf("[modules]\nautoload=perhaps\nloadd => x\n");
        assert_eq!(problems.len(), 2);
        assert!(problems[0].is_error());
        assert_eq!(
            problems[0].to_string(),
            "modules.conf:2: option 'autoload': expected yes or no, got 'perhaps'"
        );
        assert!(!problems[1].is_error());
    }
}
