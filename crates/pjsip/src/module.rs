//! The `res_pjsip.so` module: builds sorcery with the PJSIP object types over
//! the configured wizards (`sorcery.conf`, realtime via `extconfig.conf`),
//! provides it to other modules, and registers the PJSIP and sorcery console
//! commands. The SIP stack itself (transports, registrar, sessions) joins here.

use std::sync::Arc;

use async_trait::async_trait;
use obelus_core::Core;
use obelus_core::diagnostic::{Diagnostic, Severity};
use obelus_core::module::{Module, ModuleError};
use obelus_core::settings::Settings;
use obelus_realtime::RealtimeService;
use obelus_sorcery::{Sorcery, SorceryService};

/// `res_pjsip.so`.
#[derive(Default)]
pub struct PjsipModule {
    service: Arc<SorceryService>,
}

impl PjsipModule {
    async fn build(core: &Core) -> Result<Arc<Sorcery>, ModuleError> {
        let realtime = core
            .service::<RealtimeService>()
            .unwrap_or_else(|| Arc::new(RealtimeService::default()));
        let registrations = crate::objects::registrations()
            .map_err(|e| ModuleError::Failed(format!("PJSIP object types: {e}")))?;
        let (sorcery, problems) = Sorcery::builder(&core.settings, realtime)
            .register_all(registrations)
            .build()
            .await;
        report(&problems);
        Ok(sorcery)
    }
}

fn report(problems: &[Diagnostic]) {
    for problem in problems {
        match problem.severity {
            Severity::Error => tracing::error!("{problem}"),
            Severity::Warning => tracing::warn!("{problem}"),
        }
    }
}

#[async_trait]
impl Module for PjsipModule {
    fn name(&self) -> &'static str {
        "res_pjsip.so"
    }

    fn description(&self) -> &'static str {
        "Basic SIP resource"
    }

    fn check(&self, settings: &Settings) -> Vec<Diagnostic> {
        match settings.load_conf("sorcery.conf") {
            Ok(config) => obelus_sorcery::conf::SorceryConf::from_config(&config).1,
            Err(e) if e.is_not_found() => Vec::new(),
            Err(e) => Diagnostic::from_conf_errors(&e),
        }
    }

    async fn load(&self, core: &Arc<Core>) -> Result<(), ModuleError> {
        load_acls(core);
        let sorcery = Self::build(core).await?;
        self.service.set(sorcery);
        core.provide(Arc::clone(&self.service));
        for command in crate::show::commands(&self.service, &core.channels)
            .into_iter()
            .chain(obelus_sorcery::cli_commands(Arc::clone(&self.service)))
            .chain(crate::contacts::commands(&self.service))
            .chain(crate::logger_cli::commands())
        {
            core.cli
                .register(command)
                .map_err(|e| ModuleError::Failed(e.to_string()))?;
        }
        crate::functions::register(core, Arc::clone(&self.service));
        let stack = crate::start_sip(core, Arc::clone(&self.service))
            .await
            .map_err(ModuleError::Failed)?;
        core.provide(Arc::new(stack));
        Ok(())
    }

    async fn reload(&self, core: &Arc<Core>) -> Result<(), ModuleError> {
        // sorcery.conf may have changed: build anew and swap.
        load_acls(core);
        let sorcery = Self::build(core).await?;
        self.service.set(sorcery);
        Ok(())
    }
}

/// Reads `acl.conf` (named ACLs for `acl=` and `contact_acl=`) and offers it
/// to the stack; bad lines are logged and left out.
fn load_acls(core: &Arc<Core>) {
    let (acls, problems) = obelus_core::acl::NamedAcls::load(&core.settings);
    for problem in &problems {
        tracing::warn!("{problem}");
    }
    core.provide(Arc::new(acls));
}
