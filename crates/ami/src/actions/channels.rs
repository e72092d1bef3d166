//! Call actions: `Hangup`, `Setvar`, `Getvar`, `Status`,
//! `CoreShowChannels`, `Originate`, `Redirect`.

use std::sync::Arc;
use std::time::Duration;

use obelus_apps::originate::{Destination, Originate, originate};
use obelus_apps::pbx::Executor;
use obelus_core::channel::{Cause, Channel, Party};
use obelus_core::events::{Event, OriginateResponse};

use super::Req;
use crate::message::ListEvent;
use crate::render::channel_block;
use crate::session::Outbound;

/// Asterisk's default Originate timeout (ms).
const ORIGINATE_TIMEOUT_MS: u64 = 30_000;

pub(super) fn executor(req: &Req) -> Result<Arc<Executor>, Outbound> {
    req.ami
        .core
        .service::<Executor>()
        .ok_or_else(|| req.error("The dialplan executor is not loaded"))
}

/// The channels a `Channel:` header names: a name or uniqueid, or
/// `/regex/` for every matching name (AMI `Hangup`).
fn matching(req: &Req, spec: &str) -> Result<Vec<Arc<Channel>>, Outbound> {
    let channels = &req.ami.core.channels;
    if let Some(pattern) = spec.strip_prefix('/').and_then(|s| s.strip_suffix('/')) {
        let re = regex::Regex::new(pattern).map_err(|_| req.error("Invalid regex"))?;
        return Ok(channels
            .all()
            .into_iter()
            .filter(|c| re.is_match(c.name()))
            .collect());
    }
    channels
        .find(spec)
        .map(|c| vec![c])
        .ok_or_else(|| req.error("No such channel"))
}

pub(super) fn one_channel(req: &Req) -> Result<Arc<Channel>, Outbound> {
    let name = req.msg.value("Channel").trim();
    if name.is_empty() {
        return Err(req.error("No channel specified"));
    }
    req.ami
        .core
        .channels
        .find(name)
        .ok_or_else(|| req.error("No such channel"))
}

/// `Action: Hangup` (`Channel` may be `/regex/`; `Cause` a Q.850 number).
pub async fn hangup(req: Req) -> Outbound {
    let spec = req.msg.value("Channel").trim().to_owned();
    if spec.is_empty() {
        return req.error("No channel specified");
    }
    let cause = match req
        .msg
        .get("Cause")
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        Some(c) => match c.parse::<u16>() {
            Ok(n) => Cause(n),
            Err(_) => return req.error("Invalid cause"),
        },
        None => Cause::NORMAL_CLEARING,
    };
    let targets = match matching(&req, &spec) {
        Ok(t) => t,
        Err(e) => return e,
    };
    for channel in &targets {
        channel.request_hangup(cause);
    }
    if spec.starts_with('/') {
        Outbound::Text(
            req.success()
                .header("Message", &format!("{} channels hung up.", targets.len()))
                .finish(),
        )
    } else {
        Outbound::Text(req.success().header("Message", "Channel Hungup").finish())
    }
}

/// `Action: Setvar` (no `Channel`: a global variable).
pub async fn setvar(req: Req) -> Outbound {
    let variable = req.msg.value("Variable").trim().to_owned();
    if variable.is_empty() {
        return req.error("No variable specified");
    }
    let executor = match executor(&req) {
        Ok(e) => e,
        Err(e) => return e,
    };
    let value = req.msg.value("Value").to_owned();
    let channel = if req.msg.value("Channel").trim().is_empty() {
        None
    } else {
        match one_channel(&req) {
            Ok(c) => Some(c),
            Err(e) => return e,
        }
    };
    executor.set(channel.as_ref(), &variable, &value);
    Outbound::Text(req.success().header("Message", "Variable Set").finish())
}

/// `Action: Getvar` (a variable or a function, on a channel or globally).
pub async fn getvar(req: Req) -> Outbound {
    let variable = req.msg.value("Variable").trim().to_owned();
    if variable.is_empty() {
        return req.error("No variable specified");
    }
    let executor = match executor(&req) {
        Ok(e) => e,
        Err(e) => return e,
    };
    let channel = if req.msg.value("Channel").trim().is_empty() {
        None
    } else {
        match one_channel(&req) {
            Ok(c) => Some(c),
            Err(e) => return e,
        }
    };
    if variable.ends_with(')') && channel.is_none() && !variable.starts_with("GLOBAL(") {
        return req.error("No channel specified");
    }
    let value = executor.substitute(channel.as_ref(), &format!("${{{variable}}}"));
    Outbound::Text(
        req.success()
            .header("Variable", &variable)
            .header("Value", &value)
            .finish(),
    )
}

fn hms(secs: u64) -> String {
    format!(
        "{:02}:{:02}:{:02}",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

fn with_block(mut event: ListEvent, channel: &Channel) -> ListEvent {
    for (k, v) in channel_block("", &channel.snapshot()) {
        event = event.header(&k, &v);
    }
    event
}

/// `Action: Status` (every channel, or the one named).
pub async fn status(req: Req) -> Outbound {
    let channels = if req.msg.value("Channel").trim().is_empty() {
        req.ami.core.channels.all()
    } else {
        match one_channel(&req) {
            Ok(c) => vec![c],
            Err(e) => return e,
        }
    };
    let mut text = req
        .success()
        .header("EventList", "start")
        .header("Message", "Channel status will follow")
        .finish();
    for channel in &channels {
        let s = channel.snapshot();
        let event = with_block(ListEvent::new("Status", req.id()), channel)
            .header("Type", channel.tech())
            .header("DNID", "")
            .header("EffectiveConnectedLineNum", "<unknown>")
            .header("EffectiveConnectedLineName", "<unknown>")
            .header("TimeToHangup", "0")
            .header("BridgeID", s.bridge_id.as_deref().unwrap_or(""))
            .header("Application", &s.application)
            .header("Data", &s.data)
            .header("Nativeformats", "(ulaw)")
            .header("Readformat", "slin")
            .header("Writeformat", "slin")
            .header("Callgroup", "0")
            .header("Pickupgroup", "0")
            .header("Seconds", &s.age_secs().to_string());
        text.push_str(&event.finish());
    }
    text.push_str(
        &ListEvent::new("StatusComplete", req.id())
            .header("EventList", "Complete")
            .header("ListItems", &channels.len().to_string())
            .header("Items", &channels.len().to_string())
            .finish(),
    );
    Outbound::Text(text)
}

/// `Action: CoreShowChannels`.
pub async fn core_show_channels(req: Req) -> Outbound {
    let channels = req.ami.core.channels.all();
    let mut text = req
        .success()
        .header("EventList", "start")
        .header("Message", "Channels will follow")
        .finish();
    for channel in &channels {
        let s = channel.snapshot();
        let event = with_block(ListEvent::new("CoreShowChannel", req.id()), channel)
            .header("BridgeId", s.bridge_id.as_deref().unwrap_or(""))
            .header("Application", &s.application)
            .header("ApplicationData", &s.data)
            .header("Duration", &hms(s.age_secs()));
        text.push_str(&event.finish());
    }
    text.push_str(
        &ListEvent::new("CoreShowChannelsComplete", req.id())
            .header("EventList", "Complete")
            .header("ListItems", &channels.len().to_string())
            .finish(),
    );
    Outbound::Text(text)
}

/// `"Name" <number>` or a bare number.
fn parse_callerid(value: &str) -> Party {
    let value = value.trim();
    match (value.find('<'), value.rfind('>')) {
        (Some(a), Some(b)) if a < b => Party {
            number: value[a + 1..b].trim().to_owned(),
            name: value[..a].trim().trim_matches('"').to_owned(),
        },
        _ => Party {
            number: value.to_owned(),
            name: String::new(),
        },
    }
}

/// `Action: Originate`: `Channel`, then `Exten`/`Context`/`Priority` or
/// `Application`/`Data`; `Timeout` (ms), `CallerID`, `Variable` (repeated,
/// `a=b`), `Account`, `Async`.
pub async fn originate_action(req: Req) -> Outbound {
    let dialstring = req.msg.value("Channel").trim().to_owned();
    if dialstring.is_empty() {
        return req.error("Channel not specified");
    }
    if !dialstring.contains('/') {
        return req.error("Invalid channel");
    }
    let executor = match executor(&req) {
        Ok(e) => e,
        Err(e) => return e,
    };
    let application = req.msg.value("Application").trim().to_owned();
    let destination = if application.is_empty() {
        let exten = req.msg.value("Exten").trim();
        let context = req.msg.value("Context").trim();
        if exten.is_empty() && context.is_empty() {
            return req.error("Exten or Application not specified");
        }
        let priority = req.msg.value("Priority").trim();
        Destination::Extension {
            context: if context.is_empty() {
                "default"
            } else {
                context
            }
            .to_owned(),
            exten: if exten.is_empty() { "s" } else { exten }.to_owned(),
            priority: if priority.is_empty() { "1" } else { priority }.to_owned(),
        }
    } else {
        Destination::Application {
            app: application.clone(),
            data: req.msg.value("Data").to_owned(),
        }
    };
    let timeout = match req
        .msg
        .get("Timeout")
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        Some(t) => match t.parse::<u64>() {
            Ok(ms) => ms,
            Err(_) => return req.error("Invalid timeout"),
        },
        None => ORIGINATE_TIMEOUT_MS,
    };
    let mut variables = Vec::new();
    for line in req.msg.get_all("Variable") {
        for pair in line.split(',') {
            if let Some((k, v)) = pair.split_once('=') {
                variables.push((k.trim().to_owned(), v.to_owned()));
            }
        }
    }
    let caller = req
        .msg
        .get("CallerID")
        .filter(|c| !c.trim().is_empty())
        .map(parse_callerid);
    let request = Originate {
        dialstring: dialstring.clone(),
        destination: destination.clone(),
        timeout: Duration::from_millis(timeout),
        caller: caller.clone(),
        variables,
        account: req.msg.get("Account").map(str::to_owned),
    };
    let is_async = req
        .msg
        .get("Async")
        .is_some_and(|v| obelus_core::settings::parse_bool(v.trim()) == Some(true));
    if is_async {
        let core = Arc::clone(&req.ami.core);
        let action_id = req.id.clone();
        tokio::spawn(async move {
            let result = originate(&executor, request).await;
            let (context, exten, app, data) = match &destination {
                Destination::Extension { context, exten, .. } => {
                    (context.clone(), exten.clone(), String::new(), String::new())
                }
                Destination::Application { app, data } => {
                    (String::new(), String::new(), app.clone(), data.clone())
                }
            };
            let caller = caller.unwrap_or_default();
            core.events
                .publish(Event::OriginateResponse(OriginateResponse {
                    action_id,
                    success: result.is_ok(),
                    channel: result
                        .as_ref()
                        .map_or(dialstring.clone(), |c| c.name().to_owned()),
                    context,
                    exten,
                    application: app,
                    data,
                    reason: result.as_ref().map_or_else(|f| f.reason, |_| 4),
                    uniqueid: result
                        .as_ref()
                        .map_or(String::new(), |c| c.uniqueid().to_owned()),
                    caller_number: caller.number,
                    caller_name: caller.name,
                }));
        });
        return Outbound::Text(
            req.success()
                .header("Message", "Originate successfully queued")
                .finish(),
        );
    }
    match originate(&executor, request).await {
        Ok(_) => Outbound::Text(
            req.success()
                .header("Message", "Originate successfully queued")
                .finish(),
        ),
        Err(_) => req.error("Originate failed"),
    }
}

/// `Action: Redirect`: sends `Channel` (and `ExtraChannel`) to
/// `Exten`/`Context`/`Priority`; a channel in a bridge leaves it.
pub async fn redirect(req: Req) -> Outbound {
    let channel = match one_channel(&req) {
        Ok(c) => c,
        Err(e) => return e,
    };
    let exten = req.msg.value("Exten").trim().to_owned();
    let context = req.msg.value("Context").trim().to_owned();
    let priority = req.msg.value("Priority").trim().to_owned();
    if exten.is_empty() && context.is_empty() {
        return req.error("No extension specified");
    }
    let Ok(priority) = (if priority.is_empty() { "1" } else { &priority }).parse::<i32>() else {
        return req.error("Invalid priority");
    };
    let (current_context, current_exten, _) = channel.location();
    let context = if context.is_empty() {
        current_context
    } else {
        context
    };
    let exten = if exten.is_empty() {
        current_exten
    } else {
        exten
    };
    channel.redirect(&context, &exten, priority);
    let extra = req.msg.value("ExtraChannel").trim().to_owned();
    if !extra.is_empty() {
        let Some(other) = req.ami.core.channels.find(&extra) else {
            return req.error("ExtraChannel does not exist");
        };
        let exten = req
            .msg
            .get("ExtraExten")
            .map_or(exten.clone(), str::to_owned);
        let context = req
            .msg
            .get("ExtraContext")
            .map_or(context.clone(), str::to_owned);
        let priority = req
            .msg
            .get("ExtraPriority")
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or(priority);
        other.redirect(&context, &exten, priority);
        return Outbound::Text(
            req.success()
                .header("Message", "Dual Redirect successful")
                .finish(),
        );
    }
    Outbound::Text(
        req.success()
            .header("Message", "Redirect successful")
            .finish(),
    )
}

/// `Action: PlayDTMF` (`Channel`, `Digit`, `Duration` in ms).
pub async fn play_dtmf(req: Req) -> Outbound {
    let channel = match one_channel(&req) {
        Ok(c) => c,
        Err(e) => return e,
    };
    let Some(digit) = req
        .msg
        .value("Digit")
        .trim()
        .chars()
        .next()
        .filter(|d| "0123456789*#ABCDabcd".contains(*d))
    else {
        return req.error("No digit specified");
    };
    let duration = req
        .msg
        .get("Duration")
        .and_then(|d| d.trim().parse::<u32>().ok())
        .unwrap_or(250);
    channel
        .driver()
        .send_digit(&channel, digit.to_ascii_uppercase(), duration)
        .await;
    Outbound::Text(
        req.success()
            .header("Message", "DTMF successfully queued")
            .finish(),
    )
}
