//! `res_ari.so`: reads `ari.conf` (and `websocket_client.conf` for
//! outbound WebSockets), mounts `/ari` on the HTTP server, registers the
//! `Stasis` dialplan application and the console commands, and opens the
//! outbound connections.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use obelus_apps::pbx::Executor;
use obelus_core::Core;
use obelus_core::diagnostic::Diagnostic;
use obelus_core::module::{Module, ModuleError};
use obelus_core::settings::Settings;

use crate::broadcast::StasisBroadcast;
use crate::config::AriConf;
use crate::outbound::client_conf;
use crate::stasis::Stasis;
use crate::state::Ari;

/// The module.
#[derive(Default)]
pub struct AriModule {
    ari: Mutex<Option<Arc<Ari>>>,
}

impl AriModule {
    /// The interface, once loaded (tests, the daemon's own checks).
    pub fn ari(&self) -> Option<Arc<Ari>> {
        self.ari.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

#[async_trait]
impl Module for AriModule {
    fn name(&self) -> &'static str {
        "res_ari.so"
    }

    fn description(&self) -> &'static str {
        "Asterisk RESTful Interface"
    }

    fn check(&self, settings: &Settings) -> Vec<Diagnostic> {
        let mut problems = AriConf::read(settings).1;
        problems.extend(client_conf::read(settings).1);
        problems
    }

    async fn load(&self, core: &Arc<Core>) -> Result<(), ModuleError> {
        if let Some(ari) = self.ari() {
            return self.reload(&ari.core).await;
        }
        let (conf, problems) = AriConf::read(&core.settings);
        ModuleError::check(problems)?;
        let (clients, problems) = client_conf::read(&core.settings);
        ModuleError::check(problems)?;
        let ari = crate::start(core, conf).await;
        for command in crate::cli::commands(&ari) {
            core.cli
                .register(command)
                .map_err(|e| ModuleError::Failed(e.to_string()))?;
        }
        match core.service::<obelus_http::HttpService>() {
            Some(http) => http.add(
                crate::http::routes(&ari),
                &[("/ari/...", "Asterisk RESTful API")],
            ),
            None => tracing::warn!("ARI: the HTTP server is not loaded; /ari is not served"),
        }
        ari.outbound.apply(&ari, &ari.conf(), &clients);
        *self.ari.lock().unwrap_or_else(|e| e.into_inner()) = Some(ari);
        Ok(())
    }

    async fn reload(&self, core: &Arc<Core>) -> Result<(), ModuleError> {
        let (conf, problems) = AriConf::read(&core.settings);
        ModuleError::check(problems)?;
        let (clients, problems) = client_conf::read(&core.settings);
        ModuleError::check(problems)?;
        if let Some(ari) = self.ari() {
            ari.set_conf(conf);
            ari.outbound.apply(&ari, &ari.conf(), &clients);
        }
        Ok(())
    }
}

/// Registers `Stasis` and `StasisBroadcast` with the dialplan executor,
/// if one is loaded.
pub(crate) fn register_stasis(core: &Core, ari: &Arc<Ari>) {
    match core.service::<Executor>() {
        Some(executor) => {
            executor
                .registry
                .add_application(Arc::new(Stasis::new(ari)));
            executor
                .registry
                .add_application(Arc::new(StasisBroadcast::new(ari)));
        }
        None => tracing::warn!(
            "ARI: the dialplan executor (pbx_builtins) is not loaded; Stasis() is unavailable"
        ),
    }
}
