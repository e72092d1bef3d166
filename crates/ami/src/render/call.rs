//! Channel, bridge and device events as AMI renders them: every channel
//! event carries the standard channel block (`Channel` .. `Linkedid`),
//! dial events a second one prefixed `Dest`, bridge events the bridge block.

use obelus_core::channel::ChannelSnapshot;
use obelus_core::events::{
    BridgeEvent, BridgeEventKind, BridgeSnapshot, ChannelEvent, ChannelEventKind,
};

use super::{AmiEvent, Builder, RenderOptions};
use crate::classes;

/// Asterisk prints an unknown caller id as `<unknown>`.
fn or_unknown(s: &str) -> &str {
    if s.is_empty() { "<unknown>" } else { s }
}

fn channel_fields(mut b: Builder, prefix: &str, c: &ChannelSnapshot) -> Builder {
    let key = |k: &str| format!("{prefix}{k}");
    b = b
        .field(&key("Channel"), &c.name)
        .field(&key("ChannelState"), &c.state.code().to_string())
        .field(&key("ChannelStateDesc"), c.state.name())
        .field(&key("CallerIDNum"), or_unknown(&c.caller.number))
        .field(&key("CallerIDName"), or_unknown(&c.caller.name))
        .field(&key("ConnectedLineNum"), or_unknown(&c.connected.number))
        .field(&key("ConnectedLineName"), or_unknown(&c.connected.name))
        .field(&key("Language"), &c.language)
        .field(&key("AccountCode"), &c.accountcode)
        .field(&key("Context"), &c.context)
        .field(&key("Exten"), &c.exten)
        .field(&key("Priority"), &c.priority.to_string())
        .field(&key("Uniqueid"), &c.uniqueid)
        .field(&key("Linkedid"), &c.linkedid);
    b
}

fn bridge_fields(b: Builder, bridge: &BridgeSnapshot) -> Builder {
    b.field("BridgeUniqueid", &bridge.id)
        .field("BridgeType", &bridge.kind)
        .field("BridgeTechnology", &bridge.technology)
        .field("BridgeCreator", &bridge.creator)
        .field("BridgeName", &bridge.name)
        .field("BridgeNumChannels", &bridge.num_channels.to_string())
        .field("BridgeVideoSourceMode", "none")
}

/// Renders a channel event.
pub(super) fn channel(event: &ChannelEvent, options: &RenderOptions) -> AmiEvent {
    let (name, class) = match &event.kind {
        ChannelEventKind::New => ("Newchannel", classes::CALL),
        ChannelEventKind::State => ("Newstate", classes::CALL),
        ChannelEventKind::Exten { .. } => ("Newexten", classes::DIALPLAN),
        ChannelEventKind::VarSet { .. } => ("VarSet", classes::DIALPLAN),
        ChannelEventKind::HangupRequest { soft: true, .. } => ("SoftHangupRequest", classes::CALL),
        ChannelEventKind::HangupRequest { soft: false, .. } => ("HangupRequest", classes::CALL),
        ChannelEventKind::Hangup { .. } => ("Hangup", classes::CALL),
        ChannelEventKind::DtmfBegin { .. } => ("DTMFBegin", classes::DTMF),
        ChannelEventKind::DtmfEnd { .. } => ("DTMFEnd", classes::DTMF),
        ChannelEventKind::DialBegin { .. } => ("DialBegin", classes::CALL),
        ChannelEventKind::DialState { .. } => ("DialState", classes::CALL),
        ChannelEventKind::DialEnd { .. } => ("DialEnd", classes::CALL),
        ChannelEventKind::Hold => ("Hold", classes::CALL),
        ChannelEventKind::Unhold => ("Unhold", classes::CALL),
    };
    let mut b = channel_fields(Builder::new(name, class, options), "", &event.channel);
    b = match &event.kind {
        ChannelEventKind::Exten { application, data } => b
            .field("Extension", &event.channel.exten)
            .field("Application", application)
            .field("AppData", data),
        ChannelEventKind::VarSet { variable, value } => {
            b.field("Variable", variable).field("Value", value)
        }
        ChannelEventKind::HangupRequest { cause, .. } => {
            b.field("Cause", &cause.code().to_string())
        }
        ChannelEventKind::Hangup { cause } => b
            .field("Cause", &cause.code().to_string())
            .field("Cause-txt", cause.text()),
        ChannelEventKind::DtmfBegin { digit, direction } => b
            .field("Digit", &digit.to_string())
            .field("Direction", direction),
        ChannelEventKind::DtmfEnd {
            digit,
            duration_ms,
            direction,
        } => b
            .field("Digit", &digit.to_string())
            .field("DurationMs", &duration_ms.to_string())
            .field("Direction", direction),
        ChannelEventKind::DialBegin { dest, dialstring } => {
            channel_fields(b, "Dest", dest).field("DialString", dialstring)
        }
        ChannelEventKind::DialState { dest, status }
        | ChannelEventKind::DialEnd { dest, status } => {
            channel_fields(b, "Dest", dest).field("DialStatus", status)
        }
        ChannelEventKind::New
        | ChannelEventKind::State
        | ChannelEventKind::Hold
        | ChannelEventKind::Unhold => b,
    };
    AmiEvent {
        class,
        name,
        text: b.finish(),
    }
}

/// Renders a bridge event.
pub(super) fn bridge(event: &BridgeEvent, options: &RenderOptions) -> AmiEvent {
    let name = match &event.kind {
        BridgeEventKind::Create => "BridgeCreate",
        BridgeEventKind::Enter(_) => "BridgeEnter",
        BridgeEventKind::Leave(_) => "BridgeLeave",
        BridgeEventKind::Destroy => "BridgeDestroy",
    };
    let mut b = bridge_fields(Builder::new(name, classes::CALL, options), &event.bridge);
    if let BridgeEventKind::Enter(c) | BridgeEventKind::Leave(c) = &event.kind {
        b = channel_fields(b, "", c);
    }
    AmiEvent {
        class: classes::CALL,
        name,
        text: b.finish(),
    }
}

/// Renders a device state change.
pub(super) fn device_state(device: &str, state: &str, options: &RenderOptions) -> AmiEvent {
    AmiEvent {
        class: classes::CALL,
        name: "DeviceStateChange",
        text: Builder::new("DeviceStateChange", classes::CALL, options)
            .field("Device", device)
            .field("State", state)
            .finish(),
    }
}
