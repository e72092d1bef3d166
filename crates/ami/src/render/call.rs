//! Channel, bridge and device events as AMI renders them: every channel
//! event carries the standard channel block (`Channel` .. `Linkedid`),
//! dial events a second one prefixed `Dest`, bridge events the bridge block.

use obelus_core::channel::ChannelSnapshot;
use obelus_core::events::{
    AttendedTransferEvent, BlindTransferEvent, BridgeEvent, BridgeEventKind, BridgeSnapshot,
    ChannelEvent, ChannelEventKind, OriginateResponse,
};

use super::{AmiEvent, Builder, RenderOptions};
use crate::classes;
use crate::hints::HintChange;

/// Asterisk prints an unknown caller id as `<unknown>`.
fn or_unknown(s: &str) -> &str {
    if s.is_empty() { "<unknown>" } else { s }
}

/// The standard channel block (`Channel` .. `Linkedid`), each key with
/// `prefix` (`Dest` for the called channel of dial events).
pub(crate) fn channel_block(prefix: &str, c: &ChannelSnapshot) -> Vec<(String, String)> {
    let key = |k: &str| format!("{prefix}{k}");
    vec![
        (key("Channel"), c.name.clone()),
        (key("ChannelState"), c.state.code().to_string()),
        (key("ChannelStateDesc"), c.state.name().to_owned()),
        (key("CallerIDNum"), or_unknown(&c.caller.number).to_owned()),
        (key("CallerIDName"), or_unknown(&c.caller.name).to_owned()),
        (
            key("ConnectedLineNum"),
            or_unknown(&c.connected.number).to_owned(),
        ),
        (
            key("ConnectedLineName"),
            or_unknown(&c.connected.name).to_owned(),
        ),
        (key("Language"), c.language.clone()),
        (key("AccountCode"), c.accountcode.clone()),
        (key("Context"), c.context.clone()),
        (key("Exten"), c.exten.clone()),
        (key("Priority"), c.priority.to_string()),
        (key("Uniqueid"), c.uniqueid.clone()),
        (key("Linkedid"), c.linkedid.clone()),
    ]
}

fn channel_fields(mut b: Builder, prefix: &str, c: &ChannelSnapshot) -> Builder {
    for (k, v) in channel_block(prefix, c) {
        b = b.field(&k, &v);
    }
    b
}

/// The bridge block (`BridgeUniqueid` .. `BridgeVideoSourceMode`); an
/// empty creator or name is `<unknown>`, as Asterisk prints them.
pub(crate) fn bridge_block(bridge: &BridgeSnapshot) -> Vec<(&'static str, String)> {
    vec![
        ("BridgeUniqueid", bridge.id.clone()),
        ("BridgeType", bridge.kind.clone()),
        ("BridgeTechnology", bridge.technology.clone()),
        ("BridgeCreator", or_unknown(&bridge.creator).to_owned()),
        ("BridgeName", or_unknown(&bridge.name).to_owned()),
        ("BridgeNumChannels", bridge.num_channels.to_string()),
        ("BridgeVideoSourceMode", "none".to_owned()),
    ]
}

fn bridge_fields(b: Builder, bridge: &BridgeSnapshot) -> Builder {
    bridge_fields_prefixed(b, "", bridge)
}

/// The bridge block with each key prefixed (`OrigBridgeUniqueid`).
fn bridge_fields_prefixed(mut b: Builder, prefix: &str, bridge: &BridgeSnapshot) -> Builder {
    for (k, v) in bridge_block(bridge) {
        b = b.field(&format!("{prefix}{k}"), &v);
    }
    b
}

/// `CID-CallingPres` of a caller id shown as given (Obelus does not
/// restrict presentation).
const PRESENTATION_ALLOWED: &str = "0 (Presentation Allowed, Not Screened)";

/// Renders a channel event; `None` for the ones Asterisk has no AMI event
/// for (ARI's `ChannelToneDetected`).
pub(super) fn channel(event: &ChannelEvent, options: &RenderOptions) -> Option<AmiEvent> {
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
        ChannelEventKind::CallerId => ("NewCallerid", classes::CALL),
        ChannelEventKind::ConnectedLine => ("NewConnectedLine", classes::CALL),
        ChannelEventKind::Hold => ("Hold", classes::CALL),
        ChannelEventKind::Unhold => ("Unhold", classes::CALL),
        ChannelEventKind::MusicOnHoldStart { .. } => ("MusicOnHoldStart", classes::CALL),
        ChannelEventKind::MusicOnHoldStop => ("MusicOnHoldStop", classes::CALL),
        ChannelEventKind::MixMonitorStart => ("MixMonitorStart", classes::CALL),
        ChannelEventKind::MixMonitorStop => ("MixMonitorStop", classes::CALL),
        ChannelEventKind::MixMonitorMute { .. } => ("MixMonitorMute", classes::CALL),
        ChannelEventKind::TalkingStart => ("ChannelTalkingStart", classes::CALL),
        ChannelEventKind::TalkingStop { .. } => ("ChannelTalkingStop", classes::CALL),
        ChannelEventKind::ToneDetected => return None,
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
        ChannelEventKind::MusicOnHoldStart { class } => b.field("Class", class),
        ChannelEventKind::CallerId => b.field("CID-CallingPres", PRESENTATION_ALLOWED),
        ChannelEventKind::MixMonitorMute { direction, muted } => b
            .field("Direction", direction)
            .field("State", if *muted { "1" } else { "0" }),
        ChannelEventKind::TalkingStop { duration_ms } => {
            b.field("Duration", &duration_ms.to_string())
        }
        ChannelEventKind::New
        | ChannelEventKind::State
        | ChannelEventKind::ConnectedLine
        | ChannelEventKind::Hold
        | ChannelEventKind::Unhold
        | ChannelEventKind::MusicOnHoldStop
        | ChannelEventKind::MixMonitorStart
        | ChannelEventKind::MixMonitorStop
        | ChannelEventKind::TalkingStart
        | ChannelEventKind::ToneDetected => b,
    };
    Some(AmiEvent {
        class,
        name,
        text: b.finish(),
    })
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

/// Renders `BlindTransfer` as Asterisk's `manager_bridges` does: the
/// result, the transferer's block (`Transferer...`), the transferee's
/// (`Transferee...`), the bridge's, then where the call went.
pub(super) fn blind_transfer(e: &BlindTransferEvent, options: &RenderOptions) -> AmiEvent {
    let mut b =
        Builder::new("BlindTransfer", classes::CALL, options).field("Result", e.result.name());
    b = channel_fields(b, "Transferer", &e.transferer);
    if let Some(transferee) = &e.transferee {
        b = channel_fields(b, "Transferee", transferee);
    }
    if let Some(bridge) = &e.bridge {
        b = bridge_fields(b, bridge);
    }
    let b = b
        .field("IsExternal", if e.is_external { "Yes" } else { "No" })
        .field("Context", &e.context)
        .field("Extension", &e.exten);
    AmiEvent {
        class: classes::CALL,
        name: "BlindTransfer",
        text: b.finish(),
    }
}

/// Renders `AttendedTransfer` in Asterisk's order: the result, the first
/// call (`OrigTransferer...`, `OrigBridge...`), the second
/// (`SecondTransferer...`, `SecondBridge...`), the two parties joined
/// (`Transferee...`, `TransferTarget...`), then how (`DestType: Bridge`
/// and the bridge they meet in).
pub(super) fn attended_transfer(e: &AttendedTransferEvent, options: &RenderOptions) -> AmiEvent {
    let mut b =
        Builder::new("AttendedTransfer", classes::CALL, options).field("Result", e.result.name());
    b = channel_fields(b, "OrigTransferer", &e.first_leg);
    if let Some(bridge) = &e.first_bridge {
        b = bridge_fields_prefixed(b, "Orig", bridge);
    }
    b = channel_fields(b, "SecondTransferer", &e.second_leg);
    if let Some(bridge) = &e.second_bridge {
        b = bridge_fields_prefixed(b, "Second", bridge);
    }
    if let Some(transferee) = &e.transferee {
        b = channel_fields(b, "Transferee", transferee);
    }
    if let Some(target) = &e.target {
        b = channel_fields(b, "TransferTarget", target);
    }
    let b = b
        .field("IsExternal", if e.is_external { "Yes" } else { "No" })
        .field("DestType", "Bridge")
        .field("DestBridgeUniqueid", &e.dest_bridge);
    AmiEvent {
        class: classes::CALL,
        name: "AttendedTransfer",
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

/// Renders `OriginateResponse` (the answer to an `Async: true` Originate).
pub(super) fn originate_response(r: &OriginateResponse, options: &RenderOptions) -> AmiEvent {
    let mut b = Builder::new("OriginateResponse", classes::CALL, options);
    if let Some(id) = &r.action_id {
        b = b.field("ActionID", id);
    }
    let b = b
        .field("Response", if r.success { "Success" } else { "Failure" })
        .field("Channel", &r.channel)
        .field("Context", &r.context)
        .field("Exten", &r.exten)
        .field("Application", &r.application)
        .field("Data", &r.data)
        .field("Reason", &r.reason.to_string())
        .field(
            "Uniqueid",
            if r.uniqueid.is_empty() {
                "<null>"
            } else {
                &r.uniqueid
            },
        )
        .field("CallerIDNum", or_unknown(&r.caller_number))
        .field("CallerIDName", or_unknown(&r.caller_name));
    AmiEvent {
        class: classes::CALL,
        name: "OriginateResponse",
        text: b.finish(),
    }
}

/// Renders `ExtensionStatus` (a hint's state changed).
pub(crate) fn extension_status(change: &HintChange, options: &RenderOptions) -> AmiEvent {
    AmiEvent {
        class: classes::CALL,
        name: "ExtensionStatus",
        text: Builder::new("ExtensionStatus", classes::CALL, options)
            .field("Exten", &change.exten)
            .field("Context", &change.context)
            .field("Hint", &change.hint)
            .field("Status", &change.status.to_string())
            .field("StatusText", change.status_text)
            .finish(),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::SystemTime;

    use obelus_core::channel::{ChannelState, Party};

    use super::*;

    fn snapshot() -> ChannelSnapshot {
        ChannelSnapshot {
            name: "PJSIP/101-00000001".into(),
            uniqueid: "1700000000.1".into(),
            linkedid: "1700000000.1".into(),
            state: ChannelState::Up,
            caller: Party {
                number: "101".into(),
                name: "Alice".into(),
            },
            connected: Party::default(),
            language: "en".into(),
            accountcode: String::new(),
            context: "testing".into(),
            exten: "500".into(),
            priority: 2,
            application: String::new(),
            data: String::new(),
            bridge_id: None,
            created: SystemTime::now(),
        }
    }

    fn render(kind: ChannelEventKind) -> AmiEvent {
        channel(
            &ChannelEvent {
                channel: Arc::new(snapshot()),
                kind,
            },
            &RenderOptions::default(),
        )
        .expect("an AMI event")
    }

    const BLOCK: &str = "Channel: PJSIP/101-00000001\r\nChannelState: 6\r\nChannelStateDesc: Up\r\nCallerIDNum: 101\r\nCallerIDName: Alice\r\nConnectedLineNum: <unknown>\r\nConnectedLineName: <unknown>\r\nLanguage: en\r\nAccountCode: \r\nContext: testing\r\nExten: 500\r\nPriority: 2\r\nUniqueid: 1700000000.1\r\nLinkedid: 1700000000.1\r\n";

    #[test]
    fn blind_transfer_carries_both_channels_the_bridge_and_the_target() {
        use obelus_core::events::TransferResult;
        let transferer = Arc::new(snapshot());
        let mut transferee = snapshot();
        transferee.name = "PJSIP/102-00000002".into();
        let bridge = BridgeSnapshot {
            id: "b1".into(),
            kind: "basic".into(),
            technology: "simple_bridge".into(),
            creator: "Dial".into(),
            name: String::new(),
            num_channels: 2,
        };
        let e = blind_transfer(
            &BlindTransferEvent {
                result: TransferResult::Success,
                transferer,
                transferee: Some(Arc::new(transferee)),
                bridge: Some(Arc::new(bridge)),
                is_external: true,
                context: "testing".into(),
                exten: "103".into(),
            },
            &RenderOptions::default(),
        );
        assert_eq!(e.name, "BlindTransfer");
        let text = e.text.to_string();
        let keys: Vec<&str> = text
            .lines()
            .filter_map(|l| l.split_once(": ").map(|(k, _)| k))
            .collect();
        let at = |k: &str| {
            keys.iter()
                .position(|x| *x == k)
                .unwrap_or_else(|| panic!("{k} in {text}"))
        };
        assert!(at("Result") < at("TransfererChannel"));
        assert!(at("TransfererLinkedid") < at("TransfereeChannel"));
        assert!(at("TransfereeLinkedid") < at("BridgeUniqueid"));
        assert!(at("BridgeVideoSourceMode") < at("IsExternal"));
        assert!(text.contains("Result: Success\r\n"), "{text}");
        assert!(
            text.contains("TransfereeChannel: PJSIP/102-00000002\r\n"),
            "{text}"
        );
        assert!(
            text.contains("IsExternal: Yes\r\nContext: testing\r\nExtension: 103\r\n"),
            "{text}"
        );
    }

    #[test]
    fn attended_transfer_lists_both_calls_then_the_joined_parties() {
        use obelus_core::events::TransferResult;
        let bridge = |id: &str| {
            Some(Arc::new(BridgeSnapshot {
                id: id.into(),
                kind: "basic".into(),
                technology: "simple_bridge".into(),
                creator: "Dial".into(),
                name: String::new(),
                num_channels: 2,
            }))
        };
        let e = attended_transfer(
            &AttendedTransferEvent {
                result: TransferResult::Success,
                first_leg: Arc::new(snapshot()),
                first_bridge: bridge("b1"),
                second_leg: Arc::new(snapshot()),
                second_bridge: bridge("b2"),
                transferee: Some(Arc::new(snapshot())),
                target: Some(Arc::new(snapshot())),
                is_external: true,
                dest_bridge: "b3".into(),
            },
            &RenderOptions::default(),
        );
        let text = e.text.to_string();
        let keys: Vec<&str> = text
            .lines()
            .filter_map(|l| l.split_once(": ").map(|(k, _)| k))
            .collect();
        let at = |k: &str| {
            keys.iter()
                .position(|x| *x == k)
                .unwrap_or_else(|| panic!("{k} in {text}"))
        };
        let order = [
            "Result",
            "OrigTransfererChannel",
            "OrigBridgeUniqueid",
            "SecondTransfererChannel",
            "SecondBridgeUniqueid",
            "TransfereeChannel",
            "TransferTargetChannel",
            "IsExternal",
            "DestType",
            "DestBridgeUniqueid",
        ];
        for pair in order.windows(2) {
            assert!(at(pair[0]) < at(pair[1]), "{pair:?} in {text}");
        }
        assert!(text.contains("OrigBridgeUniqueid: b1\r\n"), "{text}");
        assert!(
            text.contains("DestType: Bridge\r\nDestBridgeUniqueid: b3\r\n"),
            "{text}"
        );
    }

    #[test]
    fn mixmonitor_events_are_the_channel_block_in_class_call() {
        for (kind, name) in [
            (ChannelEventKind::MixMonitorStart, "MixMonitorStart"),
            (ChannelEventKind::MixMonitorStop, "MixMonitorStop"),
        ] {
            let e = render(kind);
            assert_eq!((e.class, e.name), (classes::CALL, name));
            assert_eq!(
                &*e.text,
                format!("Event: {name}\r\nPrivilege: call,all\r\n{BLOCK}\r\n")
            );
        }
        let e = render(ChannelEventKind::MixMonitorMute {
            direction: "both".into(),
            muted: true,
        });
        assert_eq!((e.class, e.name), (classes::CALL, "MixMonitorMute"));
        assert_eq!(
            &*e.text,
            format!(
                "Event: MixMonitorMute\r\nPrivilege: call,all\r\n{BLOCK}Direction: both\r\nState: 1\r\n\r\n"
            )
        );
    }

    #[test]
    fn identity_changes_are_newcallerid_and_newconnectedline() {
        let e = render(ChannelEventKind::CallerId);
        assert_eq!((e.class, e.name), (classes::CALL, "NewCallerid"));
        assert_eq!(
            &*e.text,
            format!(
                "Event: NewCallerid\r\nPrivilege: call,all\r\n{BLOCK}CID-CallingPres: 0 (Presentation Allowed, Not Screened)\r\n\r\n"
            )
        );
        let e = render(ChannelEventKind::ConnectedLine);
        assert_eq!(
            &*e.text,
            format!("Event: NewConnectedLine\r\nPrivilege: call,all\r\n{BLOCK}\r\n")
        );
    }

    #[test]
    fn talk_detection_events_are_the_channel_block_and_tones_have_none() {
        let e = render(ChannelEventKind::TalkingStart);
        assert_eq!((e.class, e.name), (classes::CALL, "ChannelTalkingStart"));
        assert_eq!(
            &*e.text,
            format!("Event: ChannelTalkingStart\r\nPrivilege: call,all\r\n{BLOCK}\r\n")
        );
        let e = render(ChannelEventKind::TalkingStop { duration_ms: 1520 });
        assert_eq!(
            &*e.text,
            format!(
                "Event: ChannelTalkingStop\r\nPrivilege: call,all\r\n{BLOCK}Duration: 1520\r\n\r\n"
            )
        );
        let tone = ChannelEvent {
            channel: Arc::new(snapshot()),
            kind: ChannelEventKind::ToneDetected,
        };
        assert!(channel(&tone, &RenderOptions::default()).is_none());
    }

    #[test]
    fn music_on_hold_events_carry_the_class_on_start() {
        let e = render(ChannelEventKind::MusicOnHoldStart {
            class: "default".into(),
        });
        assert_eq!((e.class, e.name), (classes::CALL, "MusicOnHoldStart"));
        assert_eq!(
            &*e.text,
            format!(
                "Event: MusicOnHoldStart\r\nPrivilege: call,all\r\n{BLOCK}Class: default\r\n\r\n"
            )
        );
        let e = render(ChannelEventKind::MusicOnHoldStop);
        assert_eq!(
            &*e.text,
            format!("Event: MusicOnHoldStop\r\nPrivilege: call,all\r\n{BLOCK}\r\n")
        );
    }
}
