//! `/channels`: listing, originating, creating, dialling and hanging up
//! channels, and controlling the ones in a Stasis application.

use std::sync::Arc;
use std::time::Duration;

use obelus_apps::pbx::{Executor, Pbx};
use obelus_apps::registry::{AppError, Application};
use obelus_core::channel::{
    Cause, Channel, ChannelState, Control as Frame, HungUp, Indication, Party, TransferState,
};
use serde_json::Value;

use super::{ok, read_var, write_var};
use crate::apps::{Interest, SourceKind};
use crate::error::{AriError, AriResult, Reply};
use crate::json::{self, Payload};
use crate::params::Params;
use crate::playback::Target;
use crate::recording::Options;
use crate::stasis::{Command, Stasis};
use crate::state::Ari;

/// `GET /channels`.
pub(super) fn list(ari: &Ari) -> AriResult {
    let channels: Vec<json::Channel> = ari
        .core
        .channels
        .all()
        .iter()
        .map(|c| ari.live_channel_json(c))
        .collect();
    ok(ari, &channels)
}

fn find(ari: &Ari, p: &Params) -> Result<Arc<Channel>, AriError> {
    ari.find_channel(p.path("channelId"))
        .ok_or_else(AriError::channel_not_found)
}

/// `GET /channels/{channelId}`.
pub(super) fn get(ari: &Ari, p: &Params) -> AriResult {
    let channel = find(ari, p)?;
    ok(ari, &ari.live_channel_json(&channel))
}

/// The Q.850 cause of a `reason` of `DELETE /channels/{id}`.
fn reason_cause(reason: &str) -> Option<Cause> {
    Some(Cause(match reason {
        "normal" => 16,
        "busy" => 17,
        "congestion" => 34,
        "no_answer" => 19,
        "timeout" => 18,
        "rejected" => 21,
        "unallocated" => 1,
        "normal_unspecified" => 31,
        "number_incomplete" => 28,
        "codec_mismatch" => 58,
        "interworking" => 127,
        "failure" => 38,
        "answered_elsewhere" => 26,
        _ => return None,
    }))
}

/// `DELETE /channels/{channelId}[?reason=|reason_code=]`: asks whoever
/// runs the channel to hang it up.
pub(super) fn hangup(ari: &Ari, p: &Params) -> AriResult {
    let cause = match (p.string("reason"), p.string("reason_code")) {
        (Some(_), Some(_)) => {
            return Err(AriError::bad_request(
                "The reason and reason_code parameters are mutually exclusive",
            ));
        }
        (Some(reason), None) => reason_cause(reason)
            .ok_or_else(|| AriError::bad_request("Invalid reason for hangup provided"))?,
        (None, Some(code)) => Cause::parse(code)
            .ok_or_else(|| AriError::bad_request("Invalid reason for hangup provided"))?,
        (None, None) => Cause::NORMAL_CLEARING,
    };
    let channel = find(ari, p)?;
    channel.request_hangup(cause);
    Ok(Reply::NoContent)
}

/// `POST /channels/{id}/answer`.
pub(super) async fn answer(ari: &Ari, p: &Params) -> AriResult {
    let control = ari.control(p.path("channelId"))?;
    control.run(Command::Answer).await?;
    Ok(Reply::NoContent)
}

/// `ring`, `ringStop`, `progress`, `hold`, `unhold`: an indication to the
/// far end (`None`: stop ringing, which needs nothing on the wire here).
pub(super) async fn indicate(ari: &Ari, p: &Params, indication: Option<Indication>) -> AriResult {
    let control = ari.control(p.path("channelId"))?;
    control
        .run(|reply| Command::Indicate(indication, reply))
        .await?;
    Ok(Reply::NoContent)
}

/// `POST /channels/{id}/dtmf`.
pub(super) async fn send_dtmf(ari: &Ari, p: &Params) -> AriResult {
    let control = ari.control(p.path("channelId"))?;
    let digits = p.require("dtmf", "DTMF is required")?.to_owned();
    let ms = |name: &str| p.int(name).map_or(0, |v| u64::try_from(v).unwrap_or(0));
    let (before, between, after) = (ms("before"), ms("between"), ms("after"));
    let duration = u32::try_from(ms("duration")).unwrap_or(u32::MAX).max(100);
    control
        .run(|reply| Command::Dtmf {
            digits,
            before,
            between,
            duration,
            after,
            reply,
        })
        .await?;
    Ok(Reply::NoContent)
}

/// `POST /channels/{id}/continue`.
pub(super) async fn continue_in_dialplan(ari: &Ari, p: &Params) -> AriResult {
    let control = ari.control(p.path("channelId"))?;
    let context = p.string("context").map(str::to_owned);
    let exten = p.string("extension").map(str::to_owned);
    let priority = p.int("priority");
    let label = p.string("label").map(str::to_owned);
    control
        .run(|reply| Command::Continue {
            context,
            exten,
            priority,
            label,
            reply,
        })
        .await?;
    Ok(Reply::NoContent)
}

/// `POST /channels/{id}/move?app=&appArgs=`.
pub(super) async fn move_to(ari: &Ari, p: &Params) -> AriResult {
    let control = ari.control(p.path("channelId"))?;
    let app = p.require("app", "Application is required")?.to_owned();
    let args = split_args(p.get("appArgs"));
    control
        .run(|reply| Command::Move { app, args, reply })
        .await?;
    Ok(Reply::NoContent)
}

/// `appArgs` as the list `StasisStart` carries.
fn split_args(args: Option<&str>) -> Vec<String> {
    match args {
        Some(a) if !a.is_empty() => obelus_dialplan::args::standard_args(a),
        _ => Vec::new(),
    }
}

/// How far `reverse` and `forward` move a playback when `skipms` is not
/// given, in ms.
pub(super) const DEFAULT_SKIP_MS: i64 = 3000;

/// `POST /channels/{id}/play[/{playbackId}]`: 201 with the playback,
/// queued; it starts on the channel's task.
pub(super) fn play(ari: &Ari, p: &Params, playback_id: Option<&str>) -> AriResult {
    let control = ari.control(p.path("channelId"))?;
    let channel = &control.channel;
    let media = p.list("media");
    if media.is_empty() {
        return Err(AriError::bad_request(
            "HTTP request is missing param: [media]",
        ));
    }
    let id = playback_id.map_or_else(super::new_id, str::to_owned);
    let language = p
        .string("lang")
        .map_or_else(|| channel.language(), str::to_owned);
    let playback = ari.playbacks.create(
        id.clone(),
        media,
        language,
        (
            Target::Channel(channel.uniqueid().to_owned()),
            format!("channel:{}", ari.channel_id(channel.uniqueid())),
        ),
        p.int("skipms").unwrap_or(DEFAULT_SKIP_MS),
    )?;
    if let Err(e) = control.send(Command::Play(id.clone())) {
        ari.playbacks.discard(&id);
        return Err(e);
    }
    Ok(Reply::Created {
        location: format!("/ari/playbacks/{id}"),
        body: ari.encode(&playback)?,
    })
}

/// `POST /channels/{id}/record`: 201 with the recording, queued; the
/// channel's task starts it. A bridged channel is not recorded (409): the
/// bridge is.
pub(super) fn record(ari: &Ari, p: &Params) -> AriResult {
    let control = ari.control(p.path("channelId"))?;
    let options = Options::from_params(p)?;
    let channel = &control.channel;
    if channel.bridge().is_some() {
        return Err(AriError::conflict("Channel is currently bridged"));
    }
    let name = options.name.clone();
    let uniqueid = channel.uniqueid();
    let recording = ari.recordings.create(
        ari,
        options,
        Target::Channel(uniqueid.to_owned()),
        format!("channel:{}", ari.channel_id(uniqueid)),
    )?;
    if let Err(e) = control.send(Command::Record(name.clone())) {
        ari.recordings.discard(&name);
        return Err(e);
    }
    Ok(Reply::Created {
        location: crate::recording::location(&name),
        body: ari.encode(&recording)?,
    })
}

/// `GET /channels/{id}/variable?variable=`.
pub(super) fn get_var(ari: &Ari, p: &Params) -> AriResult {
    let control = ari.control(p.path("channelId"))?;
    let name = p.require("variable", "Variable name is required")?;
    let value = read_var(ari, Some(&control.channel), name)?
        .ok_or_else(|| AriError::not_found("Provided variable was not found"))?;
    ok(ari, &json::Variable { value })
}

/// `POST /channels/{id}/variable?variable=&value=`.
pub(super) fn set_var(ari: &Ari, p: &Params) -> AriResult {
    let control = ari.control(p.path("channelId"))?;
    let name = p.require("variable", "Variable name is required")?;
    write_var(
        ari,
        Some(&control.channel),
        name,
        p.get("value").unwrap_or_default(),
    )?;
    Ok(Reply::NoContent)
}

/// `GET /channels/{id}/variables?variables=A,B`.
pub(super) fn get_vars(ari: &Ari, p: &Params) -> AriResult {
    let control = ari.control(p.path("channelId"))?;
    let mut values = serde_json::Map::new();
    for name in p.list("variables") {
        let value = read_var(ari, Some(&control.channel), &name)?
            .ok_or_else(|| AriError::not_found(format!("Variable {name} was not found")))?;
        values.insert(name, Value::String(value));
    }
    ok(ari, &serde_json::json!({ "variables": values }))
}

/// `POST /channels/{id}/variables` with `{"variables": {...}}`.
pub(super) fn set_vars(ari: &Ari, p: &Params) -> AriResult {
    let control = ari.control(p.path("channelId"))?;
    for (name, value) in variables(p)? {
        write_var(ari, Some(&control.channel), &name, &value)?;
    }
    Ok(Reply::NoContent)
}

/// The `variables` object of a JSON body: values are strings, or objects
/// with a `value` (`{"value": "1", "report_events": true}`).
pub(super) fn variables(p: &Params) -> Result<Vec<(String, String)>, AriError> {
    let Some(vars) = p.body_object("variables") else {
        return Ok(Vec::new());
    };
    vars.iter()
        .map(|(name, value)| {
            let text = match value {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                Value::Object(o) => match o.get("value") {
                    Some(Value::String(s)) => s.clone(),
                    Some(other) => other.to_string(),
                    None => String::new(),
                },
                _ => {
                    return Err(AriError::bad_request(format!(
                        "Variable {name} must be a string"
                    )));
                }
            };
            Ok((name.clone(), text))
        })
        .collect()
}

/// `"Alice" <101>`, `Alice <101>` or `101`.
fn parse_caller_id(text: &str) -> Party {
    match (text.find('<'), text.rfind('>')) {
        (Some(open), Some(close)) if close > open => Party {
            name: text[..open].trim().trim_matches('"').to_owned(),
            number: text[open + 1..close].trim().to_owned(),
        },
        _ => Party {
            name: String::new(),
            number: text.trim().to_owned(),
        },
    }
}

/// Where an originated channel goes once it answers.
enum Destination {
    Extension {
        context: String,
        exten: String,
        priority: Option<i64>,
        label: Option<String>,
    },
    Stasis {
        app: String,
        data: String,
    },
}

/// `POST /channels[/{channelId}]`: creates the channel at once and
/// answers with it; the call itself is placed in the background, and once
/// the far end answers the channel enters the application or the dialplan.
pub(super) async fn originate(ari: &Arc<Ari>, p: &Params, channel_id: Option<&str>) -> AriResult {
    let endpoint = p.require("endpoint", "Endpoint must be specified")?;
    if !endpoint.contains('/') {
        return Err(AriError::bad_request("Invalid endpoint specified"));
    }
    let app = p.string("app");
    let destination = match app {
        Some(app) => {
            if p.string("extension").is_some() || p.string("label").is_some() {
                return Err(AriError::bad_request(
                    "Option 'app' is mutually exclusive with 'extension' and 'label'",
                ));
            }
            let data = match p.string("appArgs") {
                Some(args) => format!("{app},{args}"),
                None => app.to_owned(),
            };
            Destination::Stasis {
                app: app.to_owned(),
                data,
            }
        }
        None => {
            let exten = p.string("extension").ok_or_else(|| {
                AriError::bad_request("Application or extension must be specified")
            })?;
            Destination::Extension {
                context: p.string("context").unwrap_or("default").to_owned(),
                exten: exten.to_owned(),
                priority: p.int("priority"),
                label: p.string("label").map(str::to_owned),
            }
        }
    };
    if let Some(id) = channel_id
        && ari.id_in_use(id)
    {
        return Err(AriError::conflict(
            "Channel with given unique ID already exists",
        ));
    }
    let executor = super::executor(ari)?;
    let timeout = match p.int("timeout") {
        Some(t) if t < 0 => None,
        Some(t) => Some(Duration::from_secs(u64::try_from(t).unwrap_or(0))),
        None => Some(Duration::from_secs(30)),
    };
    let vars = variables(p)?;
    let channel = ari
        .core
        .channels
        .request(endpoint, None)
        .await
        .map_err(|cause| {
            if cause == Cause::CHAN_NOT_IMPLEMENTED {
                AriError::bad_request(format!("Invalid endpoint specified: {endpoint}"))
            } else {
                AriError::internal(format!("Failed to originate: {}", cause.text()))
            }
        })?;
    if let Some(id) = channel_id {
        ari.add_alias(id, channel.uniqueid());
    }
    for (name, value) in &vars {
        executor.set(Some(&channel), name, value);
    }
    if let Some(caller) = p.string("callerId") {
        let caller = parse_caller_id(caller);
        channel.set_caller(caller.clone());
        channel.set_connected(caller);
    }
    if let Destination::Stasis { app, .. } = &destination {
        // The application hears the call's progress before StasisStart.
        ari.apps
            .subscribe(app, SourceKind::Channel, channel.uniqueid());
    }
    let reply = ari.encode(&ari.live_channel_json(&channel))?;
    tokio::spawn(place_call(
        Arc::clone(ari),
        executor,
        Arc::clone(&channel),
        endpoint.to_owned(),
        destination,
        timeout,
    ));
    Ok(Reply::Json(reply))
}

/// Tells the applications following the channel how the dial goes.
fn dial_event(ari: &Ari, channel: &Channel, dialstring: &str, status: &str) {
    let ids = [channel.uniqueid()];
    ari.dispatch(
        &Payload::Dial {
            caller: None,
            peer: ari.live_channel_json(channel),
            dialstring: Some(dialstring.to_owned()),
            dialstatus: status.to_owned(),
        },
        &Interest {
            channels: &ids,
            ..Interest::default()
        },
    );
}

/// Calls the channel's far end and, once it answers, runs the destination
/// on the channel's own task.
async fn place_call(
    ari: Arc<Ari>,
    executor: Arc<Executor>,
    channel: Arc<Channel>,
    dialstring: String,
    destination: Destination,
    timeout: Option<Duration>,
) {
    let Some(mut control) = channel.take_control() else {
        channel.hangup(Cause::FAILURE).await;
        return;
    };
    dial_event(&ari, &channel, &dialstring, "");
    if let Err(cause) = channel.driver().call(&channel).await {
        dial_event(&ari, &channel, &dialstring, "CHANUNAVAIL");
        channel.hangup(cause).await;
        return;
    }
    let deadline = timeout.map(|t| tokio::time::Instant::now() + t);
    let mut failure = None;
    let answered = loop {
        let frame = match deadline {
            Some(deadline) => match tokio::time::timeout_at(deadline, control.recv()).await {
                Ok(frame) => frame,
                Err(_) => {
                    dial_event(&ari, &channel, &dialstring, "NOANSWER");
                    break Err(Cause::NO_ANSWER);
                }
            },
            None => control.recv().await,
        };
        match frame {
            Ok(Frame::Answer) => break Ok(()),
            Ok(Frame::Ringing) => dial_event(&ari, &channel, &dialstring, "RINGING"),
            Ok(Frame::Progress) => dial_event(&ari, &channel, &dialstring, "PROGRESS"),
            Ok(Frame::Busy) => failure = Some(("BUSY", Cause::USER_BUSY)),
            Ok(Frame::Congestion) => failure = Some(("CONGESTION", Cause::CONGESTION)),
            Ok(_) => {}
            Err(HungUp(cause)) => {
                let (status, cause) = failure.unwrap_or(match cause {
                    Cause::USER_BUSY => ("BUSY", cause),
                    Cause::CONGESTION => ("CONGESTION", cause),
                    _ => ("CANCEL", cause),
                });
                dial_event(&ari, &channel, &dialstring, status);
                break Err(cause);
            }
        }
    };
    if let Err(cause) = answered {
        channel.hangup(cause).await;
        return;
    }
    if channel.state() != ChannelState::Up {
        channel.set_state(ChannelState::Up);
    }
    dial_event(&ari, &channel, &dialstring, "ANSWER");
    channel.return_control(control);
    let Some(mut pbx) = Pbx::new(executor, Arc::clone(&channel)) else {
        channel.hangup(Cause::FAILURE).await;
        return;
    };
    match destination {
        Destination::Extension {
            context,
            exten,
            priority,
            label,
        } => {
            let start = priority
                .and_then(|p| i32::try_from(p).ok())
                .filter(|p| *p > 0)
                .unwrap_or(1);
            channel.set_location(&context, &exten, start);
            if let Some(label) = label
                && pbx.jump(&context, &exten, &label).await.is_err()
            {
                channel.hangup(Cause::NORMAL_CLEARING).await;
                return;
            }
            obelus_apps::pbx::run(pbx).await;
        }
        Destination::Stasis { data, .. } => {
            let before = channel.location();
            channel.set_application("Stasis", &data);
            let stasis = Stasis::new(&ari);
            let channels = Arc::clone(&ari.core.channels);
            channels.call_started();
            let result = stasis.exec(&mut pbx, &data).await;
            channels.call_ended();
            match result {
                // `continue` with a location: the dialplan takes over.
                Ok(()) if channel.location() != before => obelus_apps::pbx::run(pbx).await,
                Ok(()) | Err(AppError::Detached) => channel.hangup(Cause::NORMAL_CLEARING).await,
                Err(AppError::Hangup(cause) | AppError::HungUp(cause)) => {
                    channel.hangup(cause).await;
                }
            }
        }
    }
}

/// The codec names of `formats=ulaw,g722`; 400 for one the media engine
/// does not know.
fn formats(p: &Params) -> Result<Vec<String>, AriError> {
    let list = p.list("formats");
    for name in &list {
        if obelus_media::Codec::from_name(name).is_none() {
            return Err(AriError::bad_request(format!(
                "Provided format ({name}) was not found"
            )));
        }
    }
    Ok(list)
}

/// `POST /channels/create`: makes the outbound channel without calling it
/// and puts it in the application at once (`StasisStart`, state `Down`),
/// so that it can be bridged before `dial` places the call.
pub(super) async fn create(ari: &Arc<Ari>, p: &Params) -> AriResult {
    let endpoint = p.require("endpoint", "Endpoint must be specified")?;
    let app = p.require("app", "HTTP request is missing param: [app]")?;
    if !endpoint
        .split_once('/')
        .is_some_and(|(t, r)| !t.is_empty() && !r.is_empty())
    {
        return Err(AriError::bad_request("Invalid endpoint specified"));
    }
    if p.string("originator").is_some() && p.string("formats").is_some() {
        return Err(AriError::bad_request(
            "Originator and formats can't both be specified",
        ));
    }
    let formats = formats(p)?;
    let ids = [p.string("channelId"), p.string("otherChannelId")];
    if ids.iter().flatten().any(|id| ari.id_in_use(id)) {
        return Err(AriError::conflict(
            "Channel with given unique ID already exists",
        ));
    }
    let executor = super::executor(ari)?;
    let vars = variables(p)?;
    let originator = p.string("originator").and_then(|id| ari.find_channel(id));
    let channel = ari
        .core
        .channels
        .request_with_formats(endpoint, originator.as_ref(), &formats)
        .await
        .map_err(|cause| {
            if cause == Cause::CHAN_NOT_IMPLEMENTED {
                AriError::bad_request(format!("Invalid endpoint specified: {endpoint}"))
            } else {
                AriError::internal(format!("Failed to create the channel: {}", cause.text()))
            }
        })?;
    if let [Some(id), _] = ids {
        ari.add_alias(id, channel.uniqueid());
    }
    if let [_, Some(other)] = ids
        && let Some(half) = channel
            .name()
            .strip_suffix(";1")
            .and_then(|base| ari.core.channels.find(&format!("{base};2")))
    {
        ari.add_alias(other, half.uniqueid());
    }
    for (name, value) in &vars {
        executor.set(Some(&channel), name, value);
    }
    let data = match p.string("appArgs") {
        Some(args) => format!("{app},{args}"),
        None => app.to_owned(),
    };
    // As Asterisk: the application follows the channel to its end, past
    // its StasisEnd.
    ari.apps
        .subscribe(app, SourceKind::Channel, channel.uniqueid());
    let reply = ari.encode(&ari.live_channel_json(&channel))?;
    tokio::spawn(run_created(
        Arc::clone(ari),
        executor,
        Arc::clone(&channel),
        data,
    ));
    Ok(Reply::Json(reply))
}

/// Runs a created channel in its application; it is hung up when it
/// leaves (Asterisk's `ari_channel_thread`).
async fn run_created(ari: Arc<Ari>, executor: Arc<Executor>, channel: Arc<Channel>, data: String) {
    let Some(mut pbx) = Pbx::new(executor, Arc::clone(&channel)) else {
        channel.hangup(Cause::FAILURE).await;
        return;
    };
    channel.set_application("Stasis", &data);
    let channels = Arc::clone(&ari.core.channels);
    channels.call_started();
    let result = Stasis::new(&ari).exec(&mut pbx, &data).await;
    channels.call_ended();
    let cause = match result {
        Ok(()) | Err(AppError::Detached) => Cause::NORMAL_CLEARING,
        Err(AppError::Hangup(cause) | AppError::HungUp(cause)) => cause,
    };
    channel.hangup(cause).await;
}

/// `POST /channels/{id}/dial[?caller=&timeout=]`: calls the far end of a
/// created channel; `Dial` events follow its progress.
pub(super) async fn dial(ari: &Ari, p: &Params) -> AriResult {
    let control = ari.control(p.path("channelId"))?;
    let caller = match p.string("caller") {
        Some(id) => Some(
            ari.find_channel(id)
                .ok_or_else(|| AriError::not_found("Caller not found"))?,
        ),
        None => None,
    };
    if let Some(caller) = &caller {
        control.channel.set_connected(caller.caller());
    }
    let timeout = p
        .int("timeout")
        .and_then(|t| u64::try_from(t).ok())
        .filter(|t| *t > 0)
        .map(Duration::from_secs);
    control
        .run(|reply| Command::Dial {
            caller: caller.map(|c| c.uniqueid().to_owned()),
            timeout,
            reply,
        })
        .await?;
    Ok(Reply::NoContent)
}

/// `POST /channels/{id}/redirect?endpoint=PJSIP/102`: the endpoint must be
/// of the channel's technology (422); its resource (an endpoint name or a
/// SIP URI) is where the call goes.
pub(super) async fn redirect(ari: &Ari, p: &Params) -> AriResult {
    let control = ari.control(p.path("channelId"))?;
    let endpoint = p.require("endpoint", "Endpoint parameter not provided")?;
    let Some((tech, resource)) = endpoint.split_once('/').filter(|(t, _)| !t.is_empty()) else {
        return Err(AriError::unprocessable(format!(
            "Endpoint parameter '{endpoint}' does not contain tech/resource"
        )));
    };
    if resource.is_empty() {
        return Err(AriError::unprocessable(format!(
            "No resource provided in endpoint parameter '{endpoint}'"
        )));
    }
    let channel_tech = control.channel.tech();
    if !tech.eq_ignore_ascii_case(channel_tech) {
        return Err(AriError::unprocessable(format!(
            "Endpoint technology '{tech}' does not match channel technology '{channel_tech}'"
        )));
    }
    let resource = resource.to_owned();
    control
        .run(|reply| Command::Redirect(resource, reply))
        .await?;
    Ok(Reply::NoContent)
}

/// `POST /channels/{id}/transfer_progress?states=`: tells the far end how
/// the transfer it asked for (`ChannelTransfer`) goes; 412 when it asked
/// for none.
pub(super) async fn transfer_progress(ari: &Ari, p: &Params) -> AriResult {
    let states = p.require("states", "states must not be empty")?;
    let state = match states.to_ascii_lowercase().as_str() {
        "channel_progress" => TransferState::Progress,
        "channel_answered" => TransferState::Answered,
        "channel_unavailable" => TransferState::Unavailable,
        "channel_declined" => TransferState::Declined,
        _ => return Err(AriError::bad_request("Invalid states value")),
    };
    let control = ari.control(p.path("channelId"))?;
    control
        .run(|reply| Command::TransferProgress(state, reply))
        .await?;
    Ok(Reply::NoContent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caller_ids() {
        let p = parse_caller_id("\"Alice\" <101>");
        assert_eq!((p.name.as_str(), p.number.as_str()), ("Alice", "101"));
        let p = parse_caller_id("Bob <102>");
        assert_eq!((p.name.as_str(), p.number.as_str()), ("Bob", "102"));
        let p = parse_caller_id("103");
        assert_eq!((p.name.as_str(), p.number.as_str()), ("", "103"));
    }

    #[test]
    fn hangup_reasons() {
        assert_eq!(reason_cause("busy"), Some(Cause::USER_BUSY));
        assert_eq!(
            reason_cause("answered_elsewhere"),
            Some(Cause::ANSWERED_ELSEWHERE)
        );
        assert_eq!(reason_cause("nope"), None);
    }
}
