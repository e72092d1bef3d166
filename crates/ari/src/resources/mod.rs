//! The handlers, one file per ARI resource (`res_ari_channels` is
//! [`channels`]). [`dispatch`] maps an operation of the route table to its
//! handler; an operation without one answers 501, so clients still find
//! every method of the published API and learn plainly what is missing.

mod applications;
mod asterisk;
mod bridges;
mod channels;
mod config;
mod device_states;
mod endpoints;
mod events;
mod external_media;
mod mailboxes;
mod moh;
mod playbacks;
mod recordings;
mod rtp_statistics;
mod snoop;
mod sounds;

use std::sync::Arc;

pub(crate) use endpoints::contact_changed;

use obelus_apps::pbx::Executor;
use obelus_apps::registry::FunctionContext;
use obelus_core::channel::Channel;

use crate::api::Operation;
use crate::error::{AriError, AriResult, Reply};
use crate::params::Params;
use crate::recording::Operation as RecordingOp;
use crate::state::Ari;

/// Runs the handler of `op` (of `resource`).
pub(crate) async fn dispatch(
    ari: &Arc<Ari>,
    resource: &str,
    op: &Operation,
    p: &Params,
) -> AriResult {
    match (resource, op.nickname) {
        ("asterisk", "getInfo") => asterisk::info(ari, p),
        ("asterisk", "ping") => asterisk::ping(ari),
        ("asterisk", "getGlobalVar") => asterisk::get_global(ari, p),
        ("asterisk", "setGlobalVar") => asterisk::set_global(ari, p),
        ("asterisk", "listModules") => asterisk::list_modules(ari),
        ("asterisk", "getModule") => asterisk::get_module(ari, p),
        ("asterisk", "reloadModule") => asterisk::reload_module(ari, p).await,
        ("asterisk", "loadModule") => asterisk::load_module(ari, p).await,
        ("asterisk", "unloadModule") => asterisk::unload_module(ari, p).await,
        ("asterisk", "listLogChannels") => asterisk::list_log_channels(ari),
        ("asterisk", "addLog") => asterisk::add_log(ari, p),
        ("asterisk", "deleteLog") => asterisk::delete_log(ari, p),
        ("asterisk", "rotateLog") => asterisk::rotate_log(ari, p),
        ("asterisk", "getObject") => config::get_object(ari, p).await,
        ("asterisk", "updateObject") => config::update_object(ari, p).await,
        ("asterisk", "deleteObject") => config::delete_object(ari, p).await,

        ("endpoints", "list") => endpoints::list(ari, None).await,
        ("endpoints", "listByTech") => endpoints::list(ari, Some(p.path("tech"))).await,
        ("endpoints", "get") => endpoints::get(ari, p).await,
        ("endpoints", "sendMessage") => endpoints::send_message_to(ari, p).await,
        ("endpoints", "sendMessageToEndpoint") => endpoints::send_message_to_endpoint(ari, p).await,
        ("endpoints", "refer") => endpoints::refer_to(ari, p).await,
        ("endpoints", "referToEndpoint") => endpoints::refer_to_endpoint(ari, p).await,

        ("channels", "list") => channels::list(ari),
        ("channels", "get") => channels::get(ari, p),
        ("channels", "originate") => channels::originate(ari, p, p.string("channelId")).await,
        ("channels", "originateWithId") => {
            channels::originate(ari, p, Some(p.path("channelId"))).await
        }
        ("channels", "create") => channels::create(ari, p).await,
        ("channels", "dial") => channels::dial(ari, p).await,
        ("channels", "redirect") => channels::redirect(ari, p).await,
        ("channels", "transfer_progress") => channels::transfer_progress(ari, p).await,
        ("channels", "hangup") => channels::hangup(ari, p),
        ("channels", "continueInDialplan") => channels::continue_in_dialplan(ari, p).await,
        ("channels", "move") => channels::move_to(ari, p).await,
        ("channels", "answer") => channels::answer(ari, p).await,
        ("channels", "ring") => {
            channels::indicate(ari, p, Some(obelus_core::channel::Indication::Ringing)).await
        }
        ("channels", "ringStop") => channels::indicate(ari, p, None).await,
        ("channels", "progress") => {
            channels::indicate(ari, p, Some(obelus_core::channel::Indication::Progress)).await
        }
        ("channels", "hold") => {
            channels::indicate(ari, p, Some(obelus_core::channel::Indication::Hold)).await
        }
        ("channels", "unhold") => {
            channels::indicate(ari, p, Some(obelus_core::channel::Indication::Unhold)).await
        }
        ("channels", "sendDTMF") => channels::send_dtmf(ari, p).await,
        ("channels", "play") => channels::play(ari, p, p.string("playbackId")),
        ("channels", "playWithId") => channels::play(ari, p, Some(p.path("playbackId"))),
        ("channels", "record") => channels::record(ari, p),
        ("channels", "getChannelVar") => channels::get_var(ari, p),
        ("channels", "setChannelVar") => channels::set_var(ari, p),
        ("channels", "getChannelVars") => channels::get_vars(ari, p),
        ("channels", "setChannelVars") => channels::set_vars(ari, p),
        ("channels", "snoopChannel") => snoop::snoop(ari, p, p.string("snoopId")).await,
        ("channels", "snoopChannelWithId") => snoop::snoop(ari, p, Some(p.path("snoopId"))).await,
        ("channels", "externalMedia") => external_media::external_media(ari, p).await,
        ("channels", "rtpstatistics") => rtp_statistics::rtp_statistics(ari, p),
        ("channels", "startMoh") => moh::start_channel(ari, p).await,
        ("channels", "stopMoh") => moh::stop_channel(ari, p).await,
        ("channels", "startSilence") => moh::start_silence(ari, p).await,
        ("channels", "stopSilence") => moh::stop_silence(ari, p).await,
        ("channels", "mute") => moh::mute(ari, p, true).await,
        ("channels", "unmute") => moh::mute(ari, p, false).await,

        ("bridges", "list") => bridges::list(ari),
        ("bridges", "create") => bridges::create(ari, p, p.string("bridgeId")),
        ("bridges", "createWithId") => bridges::create(ari, p, Some(p.path("bridgeId"))),
        ("bridges", "get") => bridges::get(ari, p),
        ("bridges", "destroy") => bridges::destroy(ari, p).await,
        ("bridges", "addChannel") => bridges::add_channel(ari, p),
        ("bridges", "removeChannel") => bridges::remove_channel(ari, p),
        ("bridges", "play") => bridges::play(ari, p, p.string("playbackId")),
        ("bridges", "playWithId") => bridges::play(ari, p, Some(p.path("playbackId"))),
        ("bridges", "record") => bridges::record(ari, p),
        ("bridges", "getBridgeVar") => bridges::get_var(ari, p),
        ("bridges", "setBridgeVar") => bridges::set_var(ari, p),
        ("bridges", "getBridgeVars") => bridges::get_vars(ari, p),
        ("bridges", "setBridgeVars") => bridges::set_vars(ari, p),
        ("bridges", "setVideoSource") => bridges::set_video_source(ari, p),
        ("bridges", "clearVideoSource") => bridges::clear_video_source(ari, p),
        ("bridges", "startMoh") => moh::start_bridge(ari, p),
        ("bridges", "stopMoh") => moh::stop_bridge(ari, p),

        ("sounds", "list") => sounds::list(ari, p).await,
        ("sounds", "get") => sounds::get(ari, p).await,

        ("playbacks", "get") => playbacks::get(ari, p),
        ("playbacks", "stop") => playbacks::stop(ari, p),
        ("playbacks", "control") => playbacks::control(ari, p),

        ("recordings", "listStored") => recordings::list_stored(ari).await,
        ("recordings", "getStored") => recordings::get_stored(ari, p).await,
        ("recordings", "deleteStored") => recordings::delete_stored(ari, p).await,
        ("recordings", "getStoredFile") => recordings::get_stored_file(ari, p).await,
        ("recordings", "copyStored") => recordings::copy_stored(ari, p).await,
        ("recordings", "getLive") => recordings::get_live(ari, p),
        ("recordings", "cancel") => recordings::stop(ari, p, true).await,
        ("recordings", "stop") => recordings::stop(ari, p, false).await,
        ("recordings", "pause") => recordings::control(ari, p, RecordingOp::Pause),
        ("recordings", "unpause") => recordings::control(ari, p, RecordingOp::Unpause),
        ("recordings", "mute") => recordings::control(ari, p, RecordingOp::Mute),
        ("recordings", "unmute") => recordings::control(ari, p, RecordingOp::Unmute),

        ("deviceStates", "list") => device_states::list(ari),
        ("deviceStates", "get") => device_states::get(ari, p),
        ("deviceStates", "update") => device_states::update(ari, p).await,
        ("deviceStates", "delete") => device_states::delete(ari, p).await,

        ("applications", "list") => applications::list(ari),
        ("applications", "get") => applications::get(ari, p),
        ("applications", "subscribe") => applications::subscribe(ari, p).await,
        ("applications", "unsubscribe") => applications::unsubscribe(ari, p),
        ("applications", "filter") => applications::filter(ari, p),

        ("mailboxes", "list") => mailboxes::list(ari).await,
        ("mailboxes", "get") => mailboxes::get(ari, p).await,
        ("mailboxes", "update") => mailboxes::update(ari, p).await,
        ("mailboxes", "delete") => mailboxes::delete(ari, p).await,

        ("events", "userEvent") => events::user_event(ari, p).await,
        ("events", "claimChannel") => events::claim(ari, p),

        (resource, nickname) => Err(AriError::not_implemented(format!(
            "{resource}.{nickname} is not implemented"
        ))),
    }
}

/// Loads the device states saved in AstDB.
pub(crate) async fn restore_device_states(ari: &Ari) {
    device_states::restore(ari).await;
}

/// Starts handing the text messages endpoints send to the applications.
pub(crate) fn take_messages(ari: &Arc<Ari>) {
    endpoints::take_messages(ari);
}

/// A model as a 200 reply.
fn ok<T: serde::Serialize + ?Sized>(ari: &Ari, value: &T) -> AriResult {
    ari.encode(value).map(Reply::Json)
}

/// The dialplan executor: variables and functions go through it.
fn executor(ari: &Ari) -> Result<Arc<Executor>, AriError> {
    ari.core
        .service::<Executor>()
        .ok_or_else(|| AriError::internal("The dialplan executor (pbx_builtins) is not loaded"))
}

/// Functions that reach outside the PBX; like Asterisk, ARI may not use
/// them unless `live_dangerously` is set in `asterisk.conf`.
const DANGEROUS: &[&str] = &[
    "SHELL",
    "FILE",
    "EVAL",
    "ODBC",
    "CURL",
    "SYSINFO",
    "DB_DELETE",
];

/// Splits `NAME(args)` into the function name and its arguments.
fn function_call(name: &str) -> Option<(&str, &str)> {
    let open = name.find('(')?;
    let args = name.strip_suffix(')')?.get(open + 1..)?;
    Some((name.get(..open)?.trim(), args))
}

fn check_allowed(ari: &Ari, function: &str) -> Result<(), AriError> {
    if !ari.core.settings.options.live_dangerously
        && DANGEROUS.iter().any(|d| d.eq_ignore_ascii_case(function))
    {
        return Err(AriError::bad_request(format!(
            "Function {function} may not be used from ARI (live_dangerously is off)"
        )));
    }
    Ok(())
}

/// Reads a variable or a function (`CALLERID(num)`) of a channel, or a
/// global variable without a channel.
fn read_var(
    ari: &Ari,
    channel: Option<&Arc<Channel>>,
    name: &str,
) -> Result<Option<String>, AriError> {
    let executor = executor(ari)?;
    if let Some((function, args)) = function_call(name) {
        check_allowed(ari, function)?;
        let f = executor
            .registry
            .function(function)
            .ok_or_else(|| AriError::not_found(format!("Function {function} not found")))?;
        let cx = FunctionContext {
            core: &ari.core,
            channel,
            globals: &executor.globals,
        };
        return Ok(f.read(&cx, args).ok());
    }
    Ok(match channel {
        Some(c) => c.var(name),
        None => executor.globals.get(name),
    })
}

/// Sets a variable or writes a function, as `Set()` does.
fn write_var(
    ari: &Ari,
    channel: Option<&Arc<Channel>>,
    name: &str,
    value: &str,
) -> Result<(), AriError> {
    let executor = executor(ari)?;
    if let Some((function, _)) = function_call(name) {
        check_allowed(ari, function)?;
    }
    executor.set(channel, name, value);
    Ok(())
}

/// A new random id (UUID v4 form), for playbacks and bridges.
fn new_id() -> String {
    let n: u128 = rand::random();
    let n = (n & !(0xf << 76) | (0x4 << 76)) & !(0x3 << 62) | (0x2 << 62);
    let hex = format!("{n:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_uuid_v4() {
        let id = new_id();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"), "{id}");
        assert_ne!(id, new_id());
    }

    #[test]
    fn function_calls_are_split() {
        assert_eq!(function_call("CALLERID(num)"), Some(("CALLERID", "num")));
        assert_eq!(function_call("PLAIN"), None);
    }
}
