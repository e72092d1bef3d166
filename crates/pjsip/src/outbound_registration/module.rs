//! The `res_pjsip_outbound_registration.so` module: starts the
//! registrations when the SIP stack is up, re-reads them on reload
//! (`core reload`, `module reload res_pjsip_outbound_registration.so`),
//! and registers the console commands.

use std::sync::Arc;

use async_trait::async_trait;
use obelus_core::Core;
use obelus_core::diagnostic::Diagnostic;
use obelus_core::module::{Module, ModuleError};
use obelus_core::settings::Settings;
use obelus_sorcery::SorceryService;

use crate::stack::SipStack;

/// `res_pjsip_outbound_registration.so`; loads after `res_pjsip.so`.
#[derive(Debug, Default)]
pub struct OutboundRegistrationModule;

#[async_trait]
impl Module for OutboundRegistrationModule {
    fn name(&self) -> &'static str {
        "res_pjsip_outbound_registration.so"
    }

    fn description(&self) -> &'static str {
        "PJSIP Outbound Registration Support"
    }

    fn check(&self, _settings: &Settings) -> Vec<Diagnostic> {
        Vec::new()
    }

    async fn load(&self, core: &Arc<Core>) -> Result<(), ModuleError> {
        let (Some(stack), Some(sorcery)) =
            (core.service::<SipStack>(), core.service::<SorceryService>())
        else {
            return Err(ModuleError::Declined("res_pjsip.so is not loaded".into()));
        };
        let registrations = stack.outbound_registrations();
        core.provide(Arc::clone(&registrations));
        for command in super::show::commands(&sorcery, &registrations) {
            core.cli
                .register(command)
                .map_err(|e| ModuleError::Failed(e.to_string()))?;
        }
        registrations.sync().await;
        Ok(())
    }

    async fn reload(&self, core: &Arc<Core>) -> Result<(), ModuleError> {
        if let Some(stack) = core.service::<SipStack>() {
            stack.outbound_registrations().sync().await;
        }
        Ok(())
    }
}
