//! The `extconfig` module: reads `extconfig.conf` and the drivers' files,
//! provides [`RealtimeService`] to other modules, and registers the realtime
//! console commands. `module reload extconfig` re-reads them.

use std::sync::Arc;

use async_trait::async_trait;
use obelus_core::Core;
use obelus_core::diagnostic::Diagnostic;
use obelus_core::module::{Module, ModuleError};
use obelus_core::settings::Settings;

use crate::config::DriverKind;
use crate::registry::{Realtime, RealtimeService};
use crate::schema::migrate;

/// The realtime layer as a module.
#[derive(Default)]
pub struct RealtimeModule {
    service: Arc<RealtimeService>,
}

impl RealtimeModule {
    fn configure(settings: &Settings) -> Result<Realtime, ModuleError> {
        let (realtime, problems) = Realtime::configure(settings);
        ModuleError::check(problems)?;
        Ok(realtime)
    }

    /// The embedded SQLite databases get their schema on first start, so
    /// Obelus runs out of the box; shared server databases are only changed
    /// by an explicit `obelus db upgrade`.
    async fn prepare_embedded(realtime: &Realtime) {
        for driver in realtime.drivers() {
            if driver.spec().driver != DriverKind::Sqlite3 {
                continue;
            }
            let name = driver.spec().name.clone();
            match migrate::upgrade(driver, &mut |_| {}).await {
                Ok(applied) if !applied.is_empty() => {
                    tracing::info!(
                        "created the realtime schema in {name} ({})",
                        driver.spec().describe()
                    );
                }
                Ok(_) => {}
                Err(e) => tracing::error!("cannot prepare the embedded database {name}: {e}"),
            }
        }
    }
}

#[async_trait]
impl Module for RealtimeModule {
    fn name(&self) -> &'static str {
        "extconfig"
    }

    fn description(&self) -> &'static str {
        "Realtime Architecture (extconfig.conf)"
    }

    fn check(&self, settings: &Settings) -> Vec<Diagnostic> {
        Realtime::read_config(settings).2
    }

    async fn load(&self, core: &Arc<Core>) -> Result<(), ModuleError> {
        let realtime = Self::configure(&core.settings)?;
        Self::prepare_embedded(&realtime).await;
        self.service.set(realtime);
        core.provide(Arc::clone(&self.service));
        for command in crate::cli::commands(&self.service) {
            core.cli
                .register(command)
                .map_err(|e| ModuleError::Failed(e.to_string()))?;
        }
        Ok(())
    }

    async fn reload(&self, core: &Arc<Core>) -> Result<(), ModuleError> {
        let realtime = Self::configure(&core.settings)?;
        Self::prepare_embedded(&realtime).await;
        self.service.set(realtime);
        Ok(())
    }
}
