//! The PJSIP dialplan functions, registered into the executor when
//! `res_pjsip.so` loads: `PJSIP_HEADER(read,name[,n])` reads a header of the
//! INVITE that created the channel, `PJSIP_DIAL_CONTACTS(endpoint[,aor[,
//! request_user]])` lists `PJSIP/endpoint/<contact>` for every registered
//! contact (for `Dial` to ring them all).

use std::sync::Arc;

use obelus_apps::functions::access::{channel, wait_for};
use obelus_apps::registry::{Function, FunctionContext};
use obelus_dialplan::FunctionError;
use obelus_sorcery::SorceryService;

/// `PJSIP_HEADER`.
pub struct PjsipHeader;

impl Function for PjsipHeader {
    fn name(&self) -> &'static str {
        "PJSIP_HEADER"
    }

    fn synopsis(&self) -> &'static str {
        "Gets headers from an inbound PJSIP channel."
    }

    fn read(&self, cx: &FunctionContext<'_>, args: &str) -> Result<String, FunctionError> {
        let args = obelus_dialplan::args::standard_args(args);
        let action = args.first().map(|a| a.trim().to_ascii_lowercase());
        if action.as_deref() != Some("read") {
            return Err(FunctionError::Failed(
                "PJSIP_HEADER: only 'read' is supported on a received request".to_owned(),
            ));
        }
        let name = args
            .get(1)
            .map(|n| n.trim())
            .filter(|n| !n.is_empty())
            .ok_or_else(|| FunctionError::Failed("PJSIP_HEADER: header name required".into()))?;
        let number = args
            .get(2)
            .and_then(|n| n.trim().parse::<usize>().ok())
            .unwrap_or(1)
            .max(1);
        let channel = channel(cx, "PJSIP_HEADER")?;
        if channel.tech() != "PJSIP" {
            return Err(FunctionError::Failed(
                "PJSIP_HEADER: this function requires a PJSIP channel".into(),
            ));
        }
        Ok(channel
            .driver()
            .info(&format!("header,{name},{number}"))
            .unwrap_or_default())
    }
}

/// `PJSIP_DIAL_CONTACTS`.
pub struct PjsipDialContacts {
    pub(crate) sorcery: Arc<SorceryService>,
}

impl Function for PjsipDialContacts {
    fn name(&self) -> &'static str {
        "PJSIP_DIAL_CONTACTS"
    }

    fn synopsis(&self) -> &'static str {
        "Return a dial string for dialing all contacts on an AOR."
    }

    fn read(&self, _cx: &FunctionContext<'_>, args: &str) -> Result<String, FunctionError> {
        let args = obelus_dialplan::args::standard_args(args);
        let endpoint_id = args
            .first()
            .map(|e| e.trim().to_owned())
            .filter(|e| !e.is_empty())
            .ok_or_else(|| {
                FunctionError::Failed("PJSIP_DIAL_CONTACTS: endpoint required".into())
            })?;
        let aor = args
            .get(1)
            .map(|a| a.trim().to_owned())
            .filter(|a| !a.is_empty());
        let user = args
            .get(2)
            .map(|u| u.trim().to_owned())
            .filter(|u| !u.is_empty());
        let sorcery = self
            .sorcery
            .get()
            .ok_or_else(|| FunctionError::Failed("PJSIP is not configured".into()))?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let uris = wait_for(async {
            let endpoint = sorcery
                .retrieve_by_id("endpoint", &endpoint_id)
                .await
                .ok()
                .flatten()?;
            let aors: Vec<String> = match &aor {
                Some(a) => vec![a.clone()],
                None => endpoint.list("aors").to_vec(),
            };
            let mut uris = Vec::new();
            for aor in &aors {
                if let Ok(bindings) = crate::contacts::bindings(&sorcery, aor, now).await {
                    uris.extend(bindings.into_iter().map(|b| b.uri));
                }
                if let Ok(Some(object)) = sorcery.retrieve_by_id("aor", aor).await {
                    uris.extend(object.list("contact").iter().cloned());
                }
            }
            Some(uris)
        })?
        .ok_or_else(|| {
            FunctionError::Failed(format!(
                "PJSIP_DIAL_CONTACTS: endpoint '{endpoint_id}' does not exist"
            ))
        })?;
        let prefix = match &user {
            Some(u) => format!("PJSIP/{u}@{endpoint_id}"),
            None => format!("PJSIP/{endpoint_id}"),
        };
        Ok(uris
            .iter()
            .map(|uri| format!("{prefix}/{uri}"))
            .collect::<Vec<_>>()
            .join("&"))
    }
}

/// `PJSIP_TRANSFER_HANDLING`.
pub struct PjsipTransferHandling;

impl Function for PjsipTransferHandling {
    fn name(&self) -> &'static str {
        "PJSIP_TRANSFER_HANDLING"
    }

    fn synopsis(&self) -> &'static str {
        "Set how transfers are handled for a PJSIP channel."
    }

    fn read(&self, cx: &FunctionContext<'_>, _args: &str) -> Result<String, FunctionError> {
        let channel = channel(cx, "PJSIP_TRANSFER_HANDLING")?;
        channel.driver().info("transfer_handling").ok_or_else(|| {
            FunctionError::Failed(
                "PJSIP_TRANSFER_HANDLING: this function requires a PJSIP channel".into(),
            )
        })
    }

    fn write(
        &self,
        cx: &FunctionContext<'_>,
        _args: &str,
        value: &str,
    ) -> Result<(), FunctionError> {
        let channel = channel(cx, "PJSIP_TRANSFER_HANDLING")?;
        if channel.tech() != "PJSIP" {
            return Err(FunctionError::Failed(
                "PJSIP_TRANSFER_HANDLING: this function requires a PJSIP channel".into(),
            ));
        }
        if channel.driver().set_option("transfer_handling", value) {
            Ok(())
        } else {
            Err(FunctionError::Failed(format!(
                "PJSIP_TRANSFER_HANDLING: unknown mode '{value}' (core or ari-only)"
            )))
        }
    }
}

/// Registers the functions into the executor, if one is loaded.
pub fn register(core: &obelus_core::Core, sorcery: Arc<SorceryService>) {
    if let Some(executor) = core.service::<obelus_apps::pbx::Executor>() {
        executor.registry.add_function(Arc::new(PjsipHeader));
        executor
            .registry
            .add_function(Arc::new(PjsipTransferHandling));
        executor
            .registry
            .add_function(Arc::new(PjsipDialContacts { sorcery }));
    }
}
