//! Every event Obelus sends, checked against the models of the API
//! description it serves (Asterisk's `*.json` model files): each required
//! property present, no property the model does not have, nested models
//! and lists checked the same way, primitive types as declared. And every
//! event type of the description is either sent (a sample below) or
//! listed with the reason it is not.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::*;

/// Event types of the description Obelus does not send, and why.
const NOT_SENT: &[(&str, &str)] = &[
    (
        "MissingParams",
        "Asterisk answers a missing `app` with HTTP 400 before the upgrade, as Obelus does",
    ),
    (
        "BridgeMerged",
        "Obelus never merges two bridges into one (an attended transfer joins the parties in a new bridge)",
    ),
];

/// Every model of every resource, by id.
fn models() -> BTreeMap<String, Value> {
    let mut all = BTreeMap::new();
    for text in [
        include_str!("../api/models/applications.json"),
        include_str!("../api/models/asterisk.json"),
        include_str!("../api/models/endpoints.json"),
        include_str!("../api/models/channels.json"),
        include_str!("../api/models/bridges.json"),
        include_str!("../api/models/recordings.json"),
        include_str!("../api/models/sounds.json"),
        include_str!("../api/models/playbacks.json"),
        include_str!("../api/models/deviceStates.json"),
        include_str!("../api/models/mailboxes.json"),
        include_str!("../api/models/events.json"),
    ] {
        let file: Value = serde_json::from_str(text).expect("model file");
        for (id, model) in file.as_object().expect("models") {
            all.insert(id.clone(), model.clone());
        }
    }
    all
}

/// The properties of `model`, with those of the models it extends
/// (`Event` extends `Message`).
fn properties(models: &BTreeMap<String, Value>, model: &str) -> Map<String, Value> {
    let mut props = models[model]["properties"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    for (id, parent) in models {
        let extends = parent["subTypes"]
            .as_array()
            .is_some_and(|s| s.iter().any(|t| t == model));
        if extends {
            props.extend(properties(models, id));
        }
    }
    props
}

/// What is wrong with `value` as an instance of model `model` (empty when
/// nothing): for the REST replies whose models live beside their handlers.
pub(crate) fn problems(model: &str, value: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    check(&models(), model, value, model, &mut problems);
    problems
}

/// Checks `value` against model `model`; problems are collected with
/// their path.
fn check(
    models: &BTreeMap<String, Value>,
    model: &str,
    value: &Value,
    path: &str,
    problems: &mut Vec<String>,
) {
    let Some(object) = value.as_object() else {
        problems.push(format!("{path}: not an object"));
        return;
    };
    let props = properties(models, model);
    for (name, spec) in &props {
        if spec["required"] == true && !object.contains_key(name) {
            problems.push(format!("{path}.{name}: required by {model}, missing"));
        }
    }
    for (name, field) in object {
        let Some(spec) = props.get(name) else {
            problems.push(format!("{path}.{name}: not a property of {model}"));
            continue;
        };
        let declared = spec["type"].as_str().unwrap_or_default();
        check_type(models, declared, field, &format!("{path}.{name}"), problems);
    }
}

fn check_type(
    models: &BTreeMap<String, Value>,
    declared: &str,
    field: &Value,
    path: &str,
    problems: &mut Vec<String>,
) {
    if let Some(inner) = declared
        .strip_prefix("List[")
        .and_then(|t| t.strip_suffix(']'))
    {
        match field.as_array() {
            Some(items) => {
                for (i, item) in items.iter().enumerate() {
                    check_type(models, inner, item, &format!("{path}[{i}]"), problems);
                }
            }
            None => problems.push(format!("{path}: {declared} but not a list")),
        }
        return;
    }
    let fits = match declared {
        "string" | "Date" => field.is_string(),
        "int" | "long" => field.is_i64() || field.is_u64(),
        "double" => field.is_number(),
        "boolean" => field.is_boolean(),
        "object" | "Variables" => field.is_object(),
        model if models.contains_key(model) => {
            check(models, model, field, path, problems);
            true
        }
        _ => true,
    };
    if !fits {
        problems.push(format!("{path}: declared {declared}, got {field}"));
    }
}

fn channel() -> Channel {
    Channel {
        id: "1795343125.27".into(),
        name: "PJSIP/101-00000017".into(),
        state: "Up",
        protocol_id: "1-17760@127.0.0.1".into(),
        caller: CallerId {
            name: "Alice".into(),
            number: "101".into(),
        },
        connected: CallerId {
            name: String::new(),
            number: "102".into(),
        },
        accountcode: String::new(),
        dialplan: DialplanCep {
            context: "testing".into(),
            exten: "700".into(),
            priority: 2,
            app_name: "Stasis".into(),
            app_data: "app".into(),
        },
        creationtime: "2026-11-22T10:25:25.191+0000".into(),
        language: "en".into(),
        channelvars: Some(BTreeMap::from([("X".into(), "1".into())])),
    }
}

fn bridge() -> Bridge {
    Bridge {
        id: "b1".into(),
        technology: "simple_bridge".into(),
        bridge_type: "mixing".into(),
        bridge_class: "stasis".into(),
        creator: "Stasis".into(),
        name: "room".into(),
        channels: vec!["1795343125.27".into()],
        creationtime: "2026-11-22T10:25:25.191+0000".into(),
        video_mode: "talker",
        video_source_id: Some("1795343125.27".into()),
        bridgevars: Some(BTreeMap::from([("TOPIC".into(), "sales".into())])),
    }
}

fn playback() -> Playback {
    Playback {
        id: "pb".into(),
        media_uri: "sound:beep".into(),
        next_media_uri: Some("sound:demo-congrats".into()),
        target_uri: "channel:1795343125.27".into(),
        language: "en".into(),
        state: "playing",
    }
}

fn recording(cause: Option<&str>) -> LiveRecording {
    LiveRecording {
        name: "rec".into(),
        format: "wav".into(),
        state: if cause.is_some() { "failed" } else { "done" },
        target_uri: "channel:1795343125.27".into(),
        duration: Some(3),
        talking_duration: Some(2),
        silence_duration: Some(1),
        cause: cause.map(str::to_owned),
    }
}

fn endpoint() -> Endpoint {
    Endpoint {
        technology: "PJSIP".into(),
        resource: "101".into(),
        state: "online",
        channel_ids: vec!["1795343125.27".into()],
    }
}

/// One of each event Obelus sends, with every optional part present.
fn samples() -> Vec<Payload> {
    vec![
        Payload::StasisStart {
            args: vec!["a".into()],
            channel: channel(),
        },
        Payload::StasisEnd { channel: channel() },
        Payload::ChannelCreated { channel: channel() },
        Payload::ChannelDestroyed {
            cause: 16,
            cause_txt: "Normal Clearing".into(),
            channel: channel(),
        },
        Payload::ChannelStateChange { channel: channel() },
        Payload::ChannelDtmfReceived {
            digit: "5".into(),
            duration_ms: 120,
            channel: channel(),
        },
        Payload::ChannelHangupRequest {
            cause: 16,
            soft: true,
            channel: channel(),
        },
        Payload::ChannelVarset {
            variable: "X".into(),
            value: "1".into(),
            channel: Some(channel()),
        },
        Payload::ChannelDialplan {
            channel: channel(),
            dialplan_app: "Playback".into(),
            dialplan_app_data: "beep".into(),
        },
        Payload::ChannelCallerId {
            caller_presentation: 0,
            caller_presentation_txt: "Presentation Allowed, Not Screened",
            channel: channel(),
        },
        Payload::ChannelConnectedLine { channel: channel() },
        Payload::ChannelHold { channel: channel() },
        Payload::ChannelUnhold { channel: channel() },
        Payload::ChannelTalkingStarted { channel: channel() },
        Payload::ChannelTalkingFinished {
            duration: 1520,
            channel: channel(),
        },
        Payload::ChannelToneDetected { channel: channel() },
        Payload::ChannelEnteredBridge {
            bridge: bridge(),
            channel: channel(),
        },
        Payload::ChannelLeftBridge {
            bridge: bridge(),
            channel: channel(),
        },
        Payload::BridgeCreated { bridge: bridge() },
        Payload::BridgeDestroyed { bridge: bridge() },
        Payload::BridgeVideoSourceChanged {
            bridge: bridge(),
            old_video_source_id: Some("1795343125.26".into()),
        },
        Payload::PlaybackStarted {
            playback: playback(),
        },
        Payload::PlaybackContinuing {
            playback: playback(),
        },
        Payload::PlaybackFinished {
            playback: playback(),
        },
        Payload::RecordingStarted {
            recording: recording(None),
        },
        Payload::RecordingFinished {
            recording: recording(None),
        },
        Payload::RecordingFailed {
            recording: recording(Some("Channel left")),
        },
        Payload::Dial {
            caller: Some(channel()),
            peer: channel(),
            dialstring: Some("PJSIP/102".into()),
            dialstatus: "ANSWER".into(),
        },
        Payload::ApplicationReplaced {},
        Payload::ApplicationRegistered {},
        Payload::ApplicationUnregistered {},
        Payload::ApplicationMoveFailed {
            channel: channel(),
            destination: "other".into(),
            args: vec!["x".into()],
        },
        Payload::ChannelTransfer {
            refer_to: ReferTo {
                requested_destination: RequiredDestination {
                    protocol_id: Some("abc@host".into()),
                    destination: Some("sip:103@host".into()),
                    additional_protocol_params: vec![AdditionalParam {
                        parameter_name: "Replaces".into(),
                        parameter_value: "x".into(),
                    }],
                },
                destination_channel: Some(channel()),
            },
            referred_by: ReferredBy {
                source_channel: channel(),
            },
        },
        Payload::TextMessageReceived {
            message: TextMessage {
                from: "sip:101@host".into(),
                to: "pjsip:102".into(),
                body: "hi".into(),
                variables: Some(BTreeMap::from([("k".into(), "v".into())])),
            },
            endpoint: Some(endpoint()),
        },
        Payload::BridgeBlindTransfer {
            channel: Box::new(channel()),
            transferee: Some(Box::new(channel())),
            bridge: Some(Box::new(bridge())),
            exten: "103".into(),
            context: "default".into(),
            result: "Success".into(),
            is_external: true,
        },
        Payload::BridgeAttendedTransfer {
            transferer_first_leg: Box::new(channel()),
            transferer_second_leg: Box::new(channel()),
            transferee: Some(Box::new(channel())),
            transfer_target: Some(Box::new(channel())),
            result: "Success".into(),
            is_external: true,
            transferer_first_leg_bridge: Some(Box::new(bridge())),
            transferer_second_leg_bridge: Some(Box::new(bridge())),
            destination_type: "bridge".into(),
            destination_bridge: "b2".into(),
        },
        Payload::RestResponse {
            transaction_id: "t".into(),
            request_id: "r".into(),
            status_code: 200,
            reason_phrase: "OK".into(),
            uri: "asterisk/ping".into(),
            content_type: Some("application/json".into()),
            message_body: Some("{}".into()),
        },
        Payload::CallBroadcast {
            channel: channel(),
            caller: "101".into(),
            called: "700".into(),
        },
        Payload::CallClaimed {
            channel: channel(),
            winner_app: "app".into(),
        },
        Payload::ContactStatusChange {
            endpoint: endpoint(),
            contact_info: ContactInfo {
                uri: "sip:101@127.0.0.1:5070".into(),
                contact_status: "Reachable",
                aor: "101".into(),
                roundtrip_usec: Some("1200".into()),
            },
        },
        Payload::EndpointStateChange {
            endpoint: endpoint(),
        },
        Payload::PeerStatusChange {
            endpoint: endpoint(),
            peer: Peer {
                peer_status: "Reachable",
                time: "2026-11-22T10:25:25.191+0000".into(),
            },
        },
        Payload::DeviceStateChanged {
            device_state: DeviceState {
                name: "Stasis:door".into(),
                state: "BUSY".into(),
            },
        },
        Payload::ChannelUserevent {
            eventname: "ping".into(),
            channel: Some(channel()),
            bridge: Some(bridge()),
            endpoint: Some(endpoint()),
            userevent: Map::from_iter([("k".to_owned(), Value::from("v"))]),
        },
    ]
}

#[test]
fn every_event_matches_its_model() {
    let models = models();
    let mut problems = Vec::new();
    for payload in samples() {
        let text = serde_json::to_string(&Envelope {
            payload: &payload,
            timestamp: "2026-11-22T10:25:25.192+0000",
            asterisk_id: "02:fc:00:00:00:01",
            application: "app",
        })
        .expect("json");
        let value: Value = serde_json::from_str(&text).expect("json");
        let name = payload.type_name();
        assert_eq!(value["type"], name);
        assert!(models.contains_key(name), "{name} is not a model");
        check(&models, name, &value, name, &mut problems);
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn rest_replies_match_their_models() {
    let replies = [
        ("Channel", serde_json::to_value(channel())),
        ("Bridge", serde_json::to_value(bridge())),
        ("Playback", serde_json::to_value(playback())),
        ("LiveRecording", serde_json::to_value(recording(None))),
        ("Endpoint", serde_json::to_value(endpoint())),
        (
            "StoredRecording",
            serde_json::to_value(StoredRecording {
                name: "rec".into(),
                format: "wav".into(),
            }),
        ),
        (
            "DeviceState",
            serde_json::to_value(DeviceState {
                name: "Stasis:door".into(),
                state: "BUSY".into(),
            }),
        ),
        (
            "Application",
            serde_json::to_value(Application {
                name: "app".into(),
                channel_ids: vec!["1".into()],
                bridge_ids: vec![],
                endpoint_ids: vec!["PJSIP/101".into()],
                device_names: vec![],
                events_allowed: vec![serde_json::json!({"type": "StasisStart"})],
                events_disallowed: vec![],
            }),
        ),
        (
            "Variable",
            serde_json::to_value(Variable { value: "1".into() }),
        ),
    ];
    for (model, value) in replies {
        let value = value.expect("json");
        let problems = problems(model, &value);
        assert!(problems.is_empty(), "{model}: {problems:#?}");
    }
}

#[test]
fn the_checker_catches_missing_unknown_and_mistyped_fields() {
    let models = models();
    let mut problems = Vec::new();
    let peer = serde_json::json!({
        "type": "PeerStatusChange",
        "application": "app",
        "timestamp": "t",
        "endpoint": {"technology": "PJSIP", "resource": 101, "channel_ids": []},
        "peer": {"peer_status": "Reachable", "bogus": 1},
    });
    check(&models, "PeerStatusChange", &peer, "p", &mut problems);
    problems.sort();
    assert_eq!(
        problems,
        [
            "p.endpoint.resource: declared string, got 101",
            "p.peer.bogus: not a property of Peer",
        ],
        "(Endpoint.state is optional in the model)"
    );
    problems.clear();
    check(
        &models,
        "StasisStart",
        &serde_json::json!({"type": "StasisStart"}),
        "s",
        &mut problems,
    );
    assert!(
        problems.iter().any(|p| p.contains("s.channel: required")),
        "{problems:?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.contains("s.application: required")),
        "{problems:?}"
    );
}

#[test]
fn every_event_type_of_the_description_is_sent_or_explained() {
    let models = models();
    let sent: Vec<&str> = samples().iter().map(Payload::type_name).collect();
    let mut events: Vec<String> = Vec::new();
    let mut pending = vec!["Message".to_owned()];
    while let Some(model) = pending.pop() {
        for sub in models[&model]["subTypes"].as_array().into_iter().flatten() {
            let sub = sub.as_str().expect("name").to_owned();
            pending.push(sub.clone());
            if sub != "Event" {
                events.push(sub);
            }
        }
    }
    for event in &events {
        let explained = NOT_SENT.iter().any(|(t, _)| t == event);
        assert!(
            sent.contains(&event.as_str()) != explained,
            "{event}: sent {}, explained {explained}",
            sent.contains(&event.as_str())
        );
    }
    assert!(events.len() >= 45, "{events:?}");
}
