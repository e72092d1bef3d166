//! The action registry and dispatch: one file per group of actions; each
//! action registers its name, write classes and synopsis here.

mod basic;
mod bridges;
mod channels;
mod command;
mod config;
mod core_status;
mod db;
mod devices;
mod dialplan;
mod login;
mod mailbox;
mod mixmonitor;
mod parking;
mod pjsip;
mod pjsip_endpoint;
mod pjsip_registration;
mod sorcery;
mod wait_event;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::classes;
use crate::message::{Message, Response};
use crate::server::Ami;
use crate::session::{Outbound, Session};

/// A request as handlers see it.
pub struct Req {
    /// The manager.
    pub ami: Arc<Ami>,
    /// The session.
    pub session: Arc<Session>,
    /// The message.
    pub msg: Message,
    /// Its ActionID, echoed in the response.
    pub id: Option<String>,
}

impl Req {
    /// The ActionID as the response builders take it.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// `Response: Success` with the ActionID.
    pub fn success(&self) -> Response {
        Response::success(self.id())
    }

    /// An error response.
    pub fn error(&self, message: &str) -> Outbound {
        Outbound::Text(Response::error(self.id(), message).finish())
    }
}

type Handler = fn(Req) -> Pin<Box<dyn Future<Output = Outbound> + Send>>;

/// One action.
pub struct Action {
    /// Its name (matched case-insensitively).
    pub name: &'static str,
    /// Write classes of which the user needs any one; 0 = every logged-in user.
    pub classes: u32,
    /// One line for `ListCommands`.
    pub synopsis: &'static str,
    handler: Handler,
}

macro_rules! action {
    ($name:literal, $classes:expr, $synopsis:literal, $handler:path) => {
        Action {
            name: $name,
            classes: $classes,
            synopsis: $synopsis,
            handler: |req| Box::pin($handler(req)),
        }
    };
}

/// Every action Obelus answers.
pub static ACTIONS: &[Action] = &[
    action!("Login", 0, "Login Manager.", login::login),
    action!(
        "Challenge",
        0,
        "Generate Challenge for MD5 Auth.",
        login::challenge
    ),
    action!("Logoff", 0, "Logoff Manager.", login::logoff),
    action!("Ping", 0, "Keepalive command.", basic::ping),
    action!("Events", 0, "Control Event Flow.", basic::events),
    action!(
        "ListCommands",
        0,
        "List available manager commands.",
        basic::list_commands
    ),
    action!(
        "UserEvent",
        classes::USER,
        "Send an arbitrary event.",
        basic::user_event
    ),
    action!(
        "Filter",
        classes::SYSTEM,
        "Dynamically add filters for the current manager session.",
        basic::filter
    ),
    action!(
        "Command",
        classes::COMMAND,
        "Execute Asterisk CLI Command.",
        command::command
    ),
    action!(
        "CoreSettings",
        classes::SYSTEM | classes::REPORTING,
        "Show PBX core settings (version etc).",
        core_status::core_settings
    ),
    action!(
        "CoreStatus",
        classes::SYSTEM | classes::REPORTING,
        "Show PBX core status variables.",
        core_status::core_status
    ),
    action!(
        "CoreShowChannels",
        classes::SYSTEM | classes::REPORTING,
        "List currently active channels.",
        channels::core_show_channels
    ),
    action!(
        "DeviceStateList",
        classes::CALL | classes::REPORTING,
        "List the current known device states.",
        devices::device_state_list
    ),
    action!(
        "ExtensionState",
        classes::CALL | classes::REPORTING,
        "Check Extension Status.",
        devices::extension_state
    ),
    action!(
        "ExtensionStateList",
        classes::CALL | classes::REPORTING,
        "List the current known extension states.",
        devices::extension_state_list
    ),
    action!(
        "Hangup",
        classes::SYSTEM | classes::CALL,
        "Hangup channel.",
        channels::hangup
    ),
    action!(
        "Setvar",
        classes::CALL,
        "Sets a channel variable or function value.",
        channels::setvar
    ),
    action!(
        "Getvar",
        classes::CALL | classes::REPORTING,
        "Gets a channel variable or function value.",
        channels::getvar
    ),
    action!(
        "Status",
        classes::SYSTEM | classes::CALL | classes::REPORTING,
        "List channel status.",
        channels::status
    ),
    action!(
        "Originate",
        classes::ORIGINATE,
        "Originate a call.",
        channels::originate_action
    ),
    action!(
        "PlayDTMF",
        classes::CALL,
        "Play DTMF signal on a specific channel.",
        channels::play_dtmf
    ),
    action!(
        "Redirect",
        classes::CALL,
        "Redirect (transfer) a call.",
        channels::redirect
    ),
    action!(
        "Reload",
        classes::CONFIG | classes::SYSTEM,
        "Send a reload event.",
        core_status::reload
    ),
    action!(
        "ModuleCheck",
        classes::SYSTEM,
        "Check if module is loaded.",
        core_status::module_check
    ),
    action!(
        "ModuleLoad",
        classes::SYSTEM,
        "Module management.",
        core_status::module_load
    ),
    action!(
        "GetConfig",
        classes::SYSTEM | classes::CONFIG,
        "Retrieve configuration.",
        config::get_config
    ),
    action!(
        "GetConfigJSON",
        classes::SYSTEM | classes::CONFIG,
        "Retrieve configuration (JSON format).",
        config::get_config_json
    ),
    action!(
        "ListCategories",
        classes::CONFIG,
        "List categories in configuration file.",
        config::list_categories
    ),
    action!(
        "SorceryMemoryCacheExpire",
        classes::SYSTEM,
        "Expire (remove) ALL objects from a sorcery memory cache.",
        sorcery::expire
    ),
    action!(
        "SorceryMemoryCacheExpireObject",
        classes::SYSTEM,
        "Expire (remove) an object from a sorcery memory cache.",
        sorcery::expire_object
    ),
    action!(
        "SorceryMemoryCacheStale",
        classes::SYSTEM,
        "Marks ALL objects in a sorcery memory cache as stale.",
        sorcery::stale
    ),
    action!(
        "SorceryMemoryCacheStaleObject",
        classes::SYSTEM,
        "Mark an object in a sorcery memory cache as stale.",
        sorcery::stale_object
    ),
    action!(
        "SorceryMemoryCachePopulate",
        classes::SYSTEM,
        "Expire all objects from a memory cache and populate it with all objects from the backend.",
        sorcery::populate
    ),
    action!(
        "ShowDialPlan",
        classes::CONFIG | classes::REPORTING,
        "Show dialplan contexts and extensions",
        dialplan::show_dialplan
    ),
    action!(
        "PJSIPShowContacts",
        classes::SYSTEM,
        "Lists PJSIP Contacts.",
        pjsip::show_contacts
    ),
    action!(
        "UpdateConfig",
        classes::CONFIG,
        "Update basic configuration.",
        config::update_config
    ),
    action!(
        "DBGet",
        classes::SYSTEM | classes::REPORTING,
        "Get DB Entry.",
        db::db_get
    ),
    action!("DBPut", classes::SYSTEM, "Put DB entry.", db::db_put),
    action!("DBDel", classes::SYSTEM, "Delete DB entry.", db::db_del),
    action!(
        "DBDelTree",
        classes::SYSTEM,
        "Delete DB Tree.",
        db::db_del_tree
    ),
    action!(
        "PJSIPShowEndpoints",
        classes::SYSTEM,
        "Lists PJSIP endpoints.",
        pjsip::show_endpoints
    ),
    action!(
        "PJSIPShowEndpoint",
        classes::SYSTEM,
        "Detail listing of an endpoint and its objects.",
        pjsip_endpoint::show_endpoint
    ),
    action!(
        "PJSIPQualify",
        classes::SYSTEM | classes::REPORTING,
        "Qualify a chan_pjsip endpoint.",
        pjsip_endpoint::qualify
    ),
    action!(
        "PJSIPShowRegistrationsOutbound",
        classes::SYSTEM,
        "Lists PJSIP outbound registrations.",
        pjsip_registration::show_outbound
    ),
    action!(
        "PJSIPRegister",
        classes::SYSTEM,
        "Register an outbound registration.",
        pjsip_registration::register
    ),
    action!(
        "PJSIPUnregister",
        classes::SYSTEM,
        "Unregister an outbound registration.",
        pjsip_registration::unregister
    ),
    action!(
        "BridgeList",
        0,
        "Get a list of bridges in the system.",
        bridges::bridge_list
    ),
    action!(
        "BridgeInfo",
        0,
        "Get information about a bridge.",
        bridges::bridge_info
    ),
    action!(
        "MailboxStatus",
        classes::CALL | classes::REPORTING,
        "Check mailbox.",
        mailbox::mailbox_status
    ),
    action!(
        "MailboxCount",
        classes::CALL | classes::REPORTING,
        "Check Mailbox Message Count.",
        mailbox::mailbox_count
    ),
    action!(
        "WaitEvent",
        0,
        "Wait for an event to occur.",
        wait_event::wait_event
    ),
    action!(
        "PJSIPShowAors",
        classes::SYSTEM,
        "Lists PJSIP AORs.",
        pjsip::show_aors
    ),
    action!(
        "PJSIPShowAuths",
        classes::SYSTEM,
        "Lists PJSIP Auths.",
        pjsip::show_auths
    ),
    action!(
        "MixMonitor",
        classes::SYSTEM,
        "Record a call and mix the audio during the recording.  Use of StopMixMonitor is required to guarantee the audio file is available for processing during dialplan execution.",
        mixmonitor::mix_monitor
    ),
    action!(
        "StopMixMonitor",
        classes::SYSTEM | classes::CALL,
        "Stop recording a call through MixMonitor, and free the recording's file handle.",
        mixmonitor::stop_mix_monitor
    ),
    action!(
        "MixMonitorMute",
        classes::SYSTEM | classes::CALL,
        "Mute / unMute a Mixmonitor recording.",
        mixmonitor::mix_monitor_mute
    ),
    action!(
        "Parkinglots",
        classes::CALL,
        "Get a list of parking lots",
        parking::parkinglots
    ),
    action!(
        "ParkedCalls",
        classes::CALL,
        "List parked calls.",
        parking::parked_calls
    ),
    action!("Park", classes::CALL, "Park a channel.", parking::park),
];

/// Runs one message: finds the action, checks login and permissions, runs it.
pub async fn dispatch(ami: &Arc<Ami>, session: &Arc<Session>, msg: Message) -> Outbound {
    let id = msg.get("ActionID").map(str::to_owned);
    let name = msg.value("Action").trim().to_owned();
    let error = |text: &str| Outbound::Text(Response::error(id.as_deref(), text).finish());
    if name.is_empty() {
        return error("Missing action in request");
    }
    let Some(action) = ACTIONS.iter().find(|a| a.name.eq_ignore_ascii_case(&name)) else {
        if session.user().is_none() {
            return error("Permission denied");
        }
        return error(&format!(
            "Invalid/unknown command: {name}. Use Action: ListCommands to show available commands."
        ));
    };
    let logged_in = session.user().is_some();
    if !logged_in && !matches!(action.name, "Login" | "Challenge" | "Logoff") {
        return error("Permission denied");
    }
    if logged_in && action.classes != 0 && session.state().write & action.classes == 0 {
        return error("Permission denied");
    }
    if ami.core.shutdown.refusing_calls() && action.name != "Logoff" {
        return error("Obelus is shutting down");
    }
    let req = Req {
        ami: Arc::clone(ami),
        session: Arc::clone(session),
        msg,
        id,
    };
    (action.handler)(req).await
}
