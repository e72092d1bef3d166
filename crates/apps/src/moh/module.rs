//! The `res_musiconhold.so` module: loads the classes of
//! `musiconhold.conf` at start and on reload (`moh reload`, `core
//! reload`), provides the [`MusicOnHold`] service and its console
//! commands.

use std::sync::Arc;

use async_trait::async_trait;
use obelus_core::Core;
use obelus_core::diagnostic::{Diagnostic, Severity};
use obelus_core::module::{Module, ModuleError};
use obelus_core::settings::Settings;

use super::config::{self, Mode, MohConfig};
use super::{MusicOnHold, classes, cli, forget_on_hangup};

/// The module's name, as `module reload` takes it.
pub(super) const NAME: &str = "res_musiconhold.so";

/// `res_musiconhold.so`.
#[derive(Default)]
pub struct MusicOnHoldModule;

/// Loads the classes on a blocking thread (files are read and decoded).
async fn load_classes(core: &Arc<Core>, moh: &Arc<MusicOnHold>) -> Result<(), ModuleError> {
    let (moh, settings) = (Arc::clone(moh), core.settings.clone());
    let loaded = tokio::task::spawn_blocking(move || moh.load(&settings))
        .await
        .map_err(|e| ModuleError::Failed(format!("loading the classes failed: {e}")))?;
    match loaded {
        Ok(warnings) => ModuleError::check(warnings),
        Err(errors) => Err(ModuleError::Config(errors)),
    }
}

#[async_trait]
impl Module for MusicOnHoldModule {
    fn name(&self) -> &'static str {
        NAME
    }

    fn description(&self) -> &'static str {
        "Music On Hold Resource"
    }

    /// The file's problems, and class directories that do not exist
    /// (their class would play the built-in melody).
    fn check(&self, settings: &Settings) -> Vec<Diagnostic> {
        let (moh, mut problems) = MohConfig::load(settings);
        for class in moh.classes.iter().filter(|c| c.mode == Mode::Files) {
            let dir = classes::resolve_directory(&settings.dirs.data, &class.directory);
            if !dir.is_dir() {
                let message = format!(
                    "class '{}': directory {} does not exist; the class plays the built-in melody",
                    class.name,
                    dir.display()
                );
                problems.push(match &class.location {
                    Some(at) => Diagnostic::warning_at(at, "directory", message),
                    None => Diagnostic::file(Severity::Warning, config::FILE, message),
                });
            }
        }
        problems
    }

    async fn load(&self, core: &Arc<Core>) -> Result<(), ModuleError> {
        let moh = MusicOnHold::new(core.settings.dirs.data.clone());
        load_classes(core, &moh).await?;
        for command in cli::commands(core, &moh) {
            core.cli
                .register(command)
                .map_err(|e| ModuleError::Failed(e.to_string()))?;
        }
        forget_on_hangup(core, &moh);
        core.provide(moh);
        Ok(())
    }

    async fn reload(&self, core: &Arc<Core>) -> Result<(), ModuleError> {
        let moh = core
            .service::<MusicOnHold>()
            .ok_or_else(|| ModuleError::Failed("res_musiconhold.so is not loaded".into()))?;
        load_classes(core, &moh).await
    }
}
