//! CoreSettings, CoreStatus, CoreShowChannels, Reload, ModuleCheck, ModuleLoad.

use std::time::SystemTime;

use chrono::{DateTime, Local};
use obelus_core::module::{ModuleState, ReloadOutcome, same_module};

use super::Req;
use crate::session::Outbound;

/// The Asterisk release whose AMI Obelus speaks (clients look at it).
const ASTERISK_COMPAT: &str = "23.0.0";

/// `Action: CoreSettings`.
pub async fn core_settings(req: Req) -> Outbound {
    let options = &req.ami.core.settings.options;
    Outbound::Text(
        req.success()
            .header("AMIversion", crate::AMI_VERSION)
            .header("AsteriskVersion", ASTERISK_COMPAT)
            .header("ObelusVersion", obelus_core::VERSION)
            .header("SystemName", &options.system_name)
            .header("CoreMaxCalls", &options.max_calls.unwrap_or(0).to_string())
            .header(
                "CoreMaxLoadAvg",
                &format!("{:.6}", options.max_load.unwrap_or(0.0)),
            )
            .header("CoreRunUser", options.run_user.as_deref().unwrap_or(""))
            .header("CoreRunGroup", options.run_group.as_deref().unwrap_or(""))
            .header("CoreMaxFilehandles", "0")
            .header("CoreRealTimeEnabled", "Yes")
            .header("CoreCDRenabled", "No")
            .header("CoreHTTPenabled", "No")
            .finish(),
    )
}

/// `Action: CoreStatus`.
pub async fn core_status(req: Req) -> Outbound {
    let core = &req.ami.core;
    let local = |t: SystemTime| -> DateTime<Local> { t.into() };
    let (started, reloaded) = (local(core.started()), local(core.last_reload()));
    Outbound::Text(
        req.success()
            .header("CoreStartupDate", &started.format("%Y-%m-%d").to_string())
            .header("CoreStartupTime", &started.format("%H:%M:%S").to_string())
            .header("CoreReloadDate", &reloaded.format("%Y-%m-%d").to_string())
            .header("CoreReloadTime", &reloaded.format("%H:%M:%S").to_string())
            .header(
                "CoreCurrentCalls",
                &core.shutdown.active_calls().to_string(),
            )
            .finish(),
    )
}

/// `Action: Reload`.
pub async fn reload(req: Req) -> Outbound {
    let module = req.msg.value("Module").trim().to_owned();
    let core = std::sync::Arc::clone(&req.ami.core);
    if module.is_empty() {
        core.modules.reload_all(&core).await;
        core.mark_reloaded();
        return Outbound::Text(req.success().header("Message", "Module Reloaded").finish());
    }
    match core.modules.reload(&core, &module).await {
        ReloadOutcome::Success => {
            core.mark_reloaded();
            Outbound::Text(req.success().header("Message", "Module Reloaded").finish())
        }
        ReloadOutcome::NotFound => req.error("No such module"),
        ReloadOutcome::NotRunning => req.error("Module not initialized"),
        ReloadOutcome::Failed(why) => req.error(&format!("Reload failed: {why}")),
    }
}

/// `Action: ModuleCheck`.
pub async fn module_check(req: Req) -> Outbound {
    let name = req.msg.value("Module").trim().to_owned();
    if name.is_empty() {
        return req.error("Module not specified");
    }
    let running = req
        .ami
        .core
        .modules
        .list()
        .into_iter()
        .any(|(m, state)| same_module(m.name(), &name) && state == ModuleState::Running);
    if running {
        Outbound::Text(req.success().header("Version", "").finish())
    } else {
        req.error("Module not loaded")
    }
}

/// `Action: ModuleLoad`: `reload` works; modules are chosen by modules.conf at start.
pub async fn module_load(req: Req) -> Outbound {
    match req.msg.value("LoadType").to_ascii_lowercase().as_str() {
        "reload" | "refresh" => reload(req).await,
        "load" | "unload" => req.error(
            "Obelus loads modules at start as modules.conf says; change modules.conf and restart instead",
        ),
        _ => req.error("Incomplete ModuleLoad action."),
    }
}
