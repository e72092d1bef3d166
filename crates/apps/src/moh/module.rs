//! The `res_musiconhold.so` module: loads the classes of
//! `musiconhold.conf` at start and on reload (`moh reload`, `core
//! reload`), provides the [`MusicOnHold`] service and its console
//! commands.

use std::sync::Arc;

use async_trait::async_trait;
use obelus_core::Core;
use obelus_core::diagnostic::Diagnostic;
use obelus_core::module::{Module, ModuleError};
use obelus_core::settings::Settings;

use super::config::MohConfig;
use super::{MusicOnHold, cli, forget_on_hangup};

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

    /// The file's problems. Class directories are looked at when the
    /// module loads (an empty or missing one is a logged warning: its class
    /// plays the built-in melody), not here: they are the state of the
    /// installation, not configuration errors.
    fn check(&self, settings: &Settings) -> Vec<Diagnostic> {
        MohConfig::load(settings).1
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
