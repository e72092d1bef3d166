//! `/asterisk`: system information, ping, global variables, modules, log
//! channels.

use std::sync::Arc;

use obelus_core::logging::{LogChannelError, LogService};
use obelus_core::module::{LoadOutcome, ModuleState, ReloadOutcome, UnloadOutcome};
use serde::Serialize;

use super::ok;
use crate::error::{AriError, AriResult, Reply};
use crate::json;
use crate::params::Params;
use crate::state::Ari;

#[derive(Serialize)]
struct BuildInfo {
    os: String,
    kernel: String,
    machine: &'static str,
    options: &'static str,
    date: &'static str,
    user: String,
}

#[derive(Serialize)]
struct SystemInfo {
    version: &'static str,
    entity_id: String,
}

#[derive(Serialize)]
struct SetId {
    user: String,
    group: String,
}

#[derive(Serialize)]
struct ConfigInfo {
    name: String,
    default_language: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_channels: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_load: Option<f64>,
    setid: SetId,
}

#[derive(Serialize)]
struct StatusInfo {
    startup_time: String,
    last_reload_time: String,
}

#[derive(Serialize)]
struct AsteriskInfo {
    #[serde(skip_serializing_if = "Option::is_none")]
    build: Option<BuildInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    system: Option<SystemInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    config: Option<ConfigInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<StatusInfo>,
}

fn proc_text(path: &str) -> String {
    std::fs::read_to_string(path)
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}

/// `GET /asterisk/info[?only=build,system,config,status]`.
pub(super) fn info(ari: &Ari, p: &Params) -> AriResult {
    let only = p.list("only");
    let wants = |part: &str| only.is_empty() || only.iter().any(|o| o == part);
    let options = &ari.core.settings.options;
    let info = AsteriskInfo {
        build: wants("build").then(|| BuildInfo {
            os: proc_text("/proc/sys/kernel/ostype"),
            kernel: proc_text("/proc/sys/kernel/osrelease"),
            machine: std::env::consts::ARCH,
            options: "",
            date: "",
            user: options.run_user.clone().unwrap_or_default(),
        }),
        system: wants("system").then(|| SystemInfo {
            version: obelus_core::VERSION,
            entity_id: ari.entity_id().to_owned(),
        }),
        config: wants("config").then(|| ConfigInfo {
            name: options.system_name.clone(),
            default_language: "en",
            max_channels: options.max_calls,
            max_load: options.max_load,
            setid: SetId {
                user: options.run_user.clone().unwrap_or_default(),
                group: options.run_group.clone().unwrap_or_default(),
            },
        }),
        status: wants("status").then(|| StatusInfo {
            startup_time: json::timestamp(ari.core.started()),
            last_reload_time: json::timestamp(ari.core.last_reload()),
        }),
    };
    ok(ari, &info)
}

#[derive(Serialize)]
struct Ping {
    asterisk_id: String,
    ping: &'static str,
    timestamp: String,
}

/// `GET /asterisk/ping`.
pub(super) fn ping(ari: &Ari) -> AriResult {
    ok(
        ari,
        &Ping {
            asterisk_id: ari.entity_id().to_owned(),
            ping: "pong",
            timestamp: json::timestamp(std::time::SystemTime::now()),
        },
    )
}

/// `GET /asterisk/variable?variable=NAME`: a global variable, or a
/// function read without a channel.
pub(super) fn get_global(ari: &Ari, p: &Params) -> AriResult {
    let name = p.require("variable", "Variable name is required")?;
    let value = super::read_var(ari, None, name)?.unwrap_or_default();
    ok(ari, &json::Variable { value })
}

/// `POST /asterisk/variable?variable=NAME&value=V`.
pub(super) fn set_global(ari: &Ari, p: &Params) -> AriResult {
    let name = p.require("variable", "Variable name is required")?;
    super::write_var(ari, None, name, p.get("value").unwrap_or_default())?;
    Ok(Reply::NoContent)
}

#[derive(Serialize)]
struct Module {
    name: String,
    description: String,
    use_count: u32,
    status: &'static str,
    support_level: String,
}

fn module_json(module: &dyn obelus_core::module::Module, state: &ModuleState) -> Module {
    let status = match state {
        ModuleState::Running => "Running",
        ModuleState::NotRunning => "Not Running",
        ModuleState::Failed(_) => "Failed",
    };
    Module {
        name: module.name().to_owned(),
        description: module.description().to_owned(),
        use_count: 0,
        status,
        support_level: format!("{:?}", module.support_level()).to_ascii_lowercase(),
    }
}

/// `GET /asterisk/modules`.
pub(super) fn list_modules(ari: &Ari) -> AriResult {
    let modules: Vec<Module> = ari
        .core
        .modules
        .list()
        .iter()
        .map(|(m, s)| module_json(m.as_ref(), s))
        .collect();
    ok(ari, &modules)
}

/// `GET /asterisk/modules/{moduleName}`.
pub(super) fn get_module(ari: &Ari, p: &Params) -> AriResult {
    let name = p.path("moduleName");
    let (module, state) = ari
        .core
        .modules
        .list()
        .into_iter()
        .find(|(m, _)| obelus_core::module::same_module(m.name(), name))
        .ok_or_else(|| AriError::not_found("Module could not be found in running modules"))?;
    ok(ari, &module_json(module.as_ref(), &state))
}

/// `PUT /asterisk/modules/{moduleName}`: reloads it now.
pub(super) async fn reload_module(ari: &Arc<Ari>, p: &Params) -> AriResult {
    match ari
        .core
        .modules
        .reload(&ari.core, p.path("moduleName"))
        .await
    {
        ReloadOutcome::Success => Ok(Reply::NoContent),
        ReloadOutcome::NotFound | ReloadOutcome::NotRunning => {
            Err(AriError::not_found("Module not found in running modules"))
        }
        ReloadOutcome::Failed(e) => Err(AriError::conflict(format!(
            "Module could not be reloaded: {e}"
        ))),
    }
}

/// `POST /asterisk/modules/{moduleName}`: loads a module that is not
/// running. Asterisk declines (409) a module it does not have as well as
/// one already running.
pub(super) async fn load_module(ari: &Arc<Ari>, p: &Params) -> AriResult {
    match ari.core.modules.load(&ari.core, p.path("moduleName")).await {
        LoadOutcome::Loaded => Ok(Reply::NoContent),
        LoadOutcome::NotFound | LoadOutcome::AlreadyRunning => {
            Err(AriError::conflict("Module load declined"))
        }
        LoadOutcome::Failed(e) => Err(AriError::conflict(format!(
            "Module could not be loaded properly: {e}"
        ))),
    }
}

/// `DELETE /asterisk/modules/{moduleName}`: 404 unless it runs, 409 if it
/// refuses (in use).
pub(super) async fn unload_module(ari: &Arc<Ari>, p: &Params) -> AriResult {
    match ari
        .core
        .modules
        .unload(&ari.core, p.path("moduleName"))
        .await
    {
        UnloadOutcome::Unloaded => Ok(Reply::NoContent),
        UnloadOutcome::NotRunning => {
            Err(AriError::not_found("Module not found in running modules"))
        }
        UnloadOutcome::Refused(e) => Err(AriError::conflict(format!(
            "Module could not be unloaded: {e}"
        ))),
    }
}

/// `LogChannel`.
#[derive(Serialize)]
struct LogChannel {
    channel: String,
    #[serde(rename = "type")]
    kind: &'static str,
    status: &'static str,
    configuration: String,
}

fn logger(ari: &Ari) -> Result<Arc<LogService>, AriError> {
    ari.core
        .service::<LogService>()
        .ok_or_else(|| AriError::internal("The logger is not loaded"))
}

fn log_error(e: LogChannelError) -> AriError {
    match e {
        LogChannelError::BadLevels(why) => AriError::bad_request(why),
        LogChannelError::Exists => AriError::conflict("Log channel already exists"),
        LogChannelError::NotFound => AriError::not_found("Log channel does not exist"),
    }
}

/// `GET /asterisk/logging`.
pub(super) fn list_log_channels(ari: &Ari) -> AriResult {
    let channels: Vec<LogChannel> = logger(ari)?
        .channels()
        .list()
        .into_iter()
        .map(|c| LogChannel {
            channel: c.channel,
            kind: c.kind,
            status: if c.enabled { "Enabled" } else { "Disabled" },
            configuration: c.configuration,
        })
        .collect();
    ok(ari, &channels)
}

/// `POST /asterisk/logging/{logChannelName}?configuration=notice,warning`.
pub(super) fn add_log(ari: &Ari, p: &Params) -> AriResult {
    logger(ari)?
        .channels()
        .add(
            p.path("logChannelName"),
            p.get("configuration").unwrap_or_default(),
        )
        .map_err(log_error)?;
    Ok(Reply::NoContent)
}

/// `DELETE /asterisk/logging/{logChannelName}`.
pub(super) fn delete_log(ari: &Ari, p: &Params) -> AriResult {
    logger(ari)?
        .channels()
        .remove(p.path("logChannelName"))
        .map_err(log_error)?;
    Ok(Reply::NoContent)
}

/// `PUT /asterisk/logging/{logChannelName}/rotate`.
pub(super) fn rotate_log(ari: &Ari, p: &Params) -> AriResult {
    logger(ari)?
        .channels()
        .rotate(p.path("logChannelName"))
        .map_err(log_error)?;
    Ok(Reply::NoContent)
}
