//! Alternative switches (`switch => Realtime/context@family`): sources of
//! extensions asked after a context's own, in the dialplan's order.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use obelus_dialplan::Target;

use crate::pbx::Step;

/// A switch module (`Realtime`).
#[async_trait]
pub trait SwitchProvider: Send + Sync {
    /// The module name used in `switch => Name/data`.
    fn name(&self) -> &'static str;
    /// The step for `(exten, target)` that the switch knows, if any. `data`
    /// is the switch's data (`context@family`), `context` the dialplan
    /// context holding the switch.
    async fn find(
        &self,
        data: &str,
        context: &str,
        exten: &str,
        target: Target<'_>,
    ) -> Option<Step>;
}

/// The registered switch modules.
#[derive(Default)]
pub struct Switches {
    providers: RwLock<HashMap<String, Arc<dyn SwitchProvider>>>,
}

impl Switches {
    /// Registers a switch module.
    pub fn add(&self, provider: Arc<dyn SwitchProvider>) {
        self.providers
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(provider.name().to_ascii_lowercase(), provider);
    }

    /// Asks switch `module`; an unknown module knows nothing (and says so
    /// once per ask, as Asterisk warns).
    pub async fn ask(
        &self,
        module: &str,
        data: &str,
        context: &str,
        exten: &str,
        target: Target<'_>,
    ) -> Option<Step> {
        let provider = self
            .providers
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&module.to_ascii_lowercase())
            .cloned();
        match provider {
            Some(p) => p.find(data, context, exten, target).await,
            None => {
                tracing::warn!("No such switch '{module}'");
                None
            }
        }
    }
}
