//! The JSON models ARI clients read (`Channel`, `Bridge`, `Playback`, ...)
//! and the events sent on the WebSocket, with Asterisk's field names and
//! field order.

use std::collections::BTreeMap;
use std::time::SystemTime;

use serde::Serialize;
use serde_json::{Map, Value};

/// A time as ARI writes it: local time with milliseconds and a numeric
/// zone (`2026-11-23T19:25:10.432+0000`).
pub fn timestamp(time: SystemTime) -> String {
    chrono::DateTime::<chrono::Local>::from(time)
        .format("%Y-%m-%dT%H:%M:%S%.3f%z")
        .to_string()
}

/// `CallerID`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CallerId {
    /// The name.
    pub name: String,
    /// The number.
    pub number: String,
}

/// `DialplanCEP`: where the channel is in the dialplan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DialplanCep {
    /// Context.
    pub context: String,
    /// Extension.
    pub exten: String,
    /// Priority.
    pub priority: i64,
    /// The application running.
    pub app_name: String,
    /// Its arguments.
    pub app_data: String,
}

/// `Channel`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Channel {
    /// The uniqueid (or the id the client chose).
    pub id: String,
    /// `PJSIP/101-00000001`.
    pub name: String,
    /// `Up`, `Ring`, ...
    pub state: &'static str,
    /// The SIP Call-ID for PJSIP channels.
    pub protocol_id: String,
    /// Caller identity.
    pub caller: CallerId,
    /// Connected-line identity.
    pub connected: CallerId,
    /// `CHANNEL(accountcode)`.
    pub accountcode: String,
    /// Dialplan location.
    pub dialplan: DialplanCep,
    /// When the channel was created.
    pub creationtime: String,
    /// `CHANNEL(language)`.
    pub language: String,
    /// The variables `ari.conf channelvars` names.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channelvars: Option<BTreeMap<String, String>>,
}

/// `Bridge`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Bridge {
    /// The bridge id.
    pub id: String,
    /// `simple_bridge` (two parties) or `softmix`.
    pub technology: String,
    /// `mixing` or `holding`.
    pub bridge_type: String,
    /// `stasis` for ARI bridges, `basic` for Dial's.
    pub bridge_class: String,
    /// Who created it (`Stasis`).
    pub creator: String,
    /// Its name.
    pub name: String,
    /// The ids of the channels in it.
    pub channels: Vec<String>,
    /// When it was created.
    pub creationtime: String,
    /// `talker`, or `single` once a video source is chosen.
    pub video_mode: &'static str,
    /// The channel whose video everyone sees (`single` mode).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub video_source_id: Option<String>,
    /// The variables set with `report_events`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bridgevars: Option<BTreeMap<String, String>>,
}

/// `Playback`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Playback {
    /// The playback id.
    pub id: String,
    /// What is playing now.
    pub media_uri: String,
    /// What plays next, in a list.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_media_uri: Option<String>,
    /// `channel:<id>` or `bridge:<id>`.
    pub target_uri: String,
    /// The language sounds are looked up in.
    pub language: String,
    /// `queued`, `playing`, `paused`, `continuing`, `done`, `failed`.
    pub state: &'static str,
}

/// `LiveRecording`: a recording in progress, or how it ended (in
/// `RecordingFinished` and `RecordingFailed`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LiveRecording {
    /// The name it is stored under (`sub/dir/name`, no extension).
    pub name: String,
    /// The format, also the file's extension (`wav`, `sln`, ...).
    pub format: String,
    /// `queued`, `recording`, `paused`, `done`, `failed` or `canceled`.
    pub state: &'static str,
    /// `channel:<id>` or `bridge:<id>`.
    pub target_uri: String,
    /// Seconds recorded, once it has ended.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration: Option<u64>,
    /// Seconds of talk, once it has ended, when silence was watched for
    /// (`maxSilenceSeconds`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub talking_duration: Option<u64>,
    /// Seconds of silence, alongside `talking_duration`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub silence_duration: Option<u64>,
    /// Why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
}

/// `StoredRecording`: a recording file on disk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredRecording {
    /// Its name (`sub/dir/name`, no extension).
    pub name: String,
    /// Its format (the file's extension).
    pub format: String,
}

/// `DeviceState`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceState {
    /// `PJSIP/101`, `Stasis:door`.
    pub name: String,
    /// `NOT_INUSE`, `INUSE`, ...
    pub state: String,
}

/// `Endpoint`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Endpoint {
    /// `PJSIP`.
    pub technology: String,
    /// The endpoint name.
    pub resource: String,
    /// `online`, `offline` or `unknown`.
    pub state: &'static str,
    /// The channels of the endpoint.
    pub channel_ids: Vec<String>,
}

/// `ContactInfo`: a contact of an endpoint's AOR and its status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContactInfo {
    /// The contact URI.
    pub uri: String,
    /// `Reachable`, `Unreachable`, `NonQualified`, `Removed` or `Unknown`.
    pub contact_status: &'static str,
    /// The AOR it belongs to.
    pub aor: String,
    /// The last qualify round trip in microseconds, when measured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roundtrip_usec: Option<String>,
}

/// `Peer`: an endpoint's reachability, as `PeerStatusChange` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Peer {
    /// `Reachable` or `Unreachable`.
    pub peer_status: &'static str,
    /// When it changed (ISO-8601, like event timestamps).
    pub time: String,
}

/// `Application`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Application {
    /// The name.
    pub name: String,
    /// Channels it is subscribed to.
    pub channel_ids: Vec<String>,
    /// Bridges it is subscribed to.
    pub bridge_ids: Vec<String>,
    /// Endpoints it is subscribed to (`PJSIP/101`, `PJSIP`).
    pub endpoint_ids: Vec<String>,
    /// Devices it is subscribed to.
    pub device_names: Vec<String>,
    /// `[{"type": "StasisStart"}]`: only these events pass (empty: all).
    pub events_allowed: Vec<Value>,
    /// Events that never pass.
    pub events_disallowed: Vec<Value>,
}

/// `TextMessage`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TextMessage {
    /// The sender (a SIP URI for PJSIP).
    pub from: String,
    /// The destination.
    pub to: String,
    /// The text.
    pub body: String,
    /// Technology-specific values (the SIP headers received).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variables: Option<BTreeMap<String, String>>,
}

/// `AdditionalParam`: a parameter of a transfer request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AdditionalParam {
    /// Its name (`from-tag`).
    pub parameter_name: String,
    /// Its value.
    pub parameter_value: String,
}

/// `RequiredDestination`: what the far end asked to be transferred to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequiredDestination {
    /// The SIP Call-ID of the call to replace (attended transfer).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol_id: Option<String>,
    /// The user part of the target (blind transfer).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination: Option<String>,
    /// Other parameters (`to-tag`, `from-tag`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub additional_protocol_params: Vec<AdditionalParam>,
}

/// `ReferTo`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReferTo {
    /// The destination asked for.
    pub requested_destination: RequiredDestination,
    /// The channel of the call to replace, when it is one of ours.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination_channel: Option<Channel>,
}

/// `ReferredBy`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReferredBy {
    /// The channel the request came on.
    pub source_channel: Channel,
}

/// `Variable`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Variable {
    /// The value.
    pub value: String,
}

/// An event's own fields; the `type` field is the variant's name.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type")]
pub enum Payload {
    /// A channel entered the application.
    StasisStart {
        /// The arguments after the application name.
        args: Vec<String>,
        /// The channel.
        channel: Channel,
    },
    /// A channel left the application.
    StasisEnd {
        /// The channel.
        channel: Channel,
    },
    /// A channel was created.
    ChannelCreated {
        /// The channel.
        channel: Channel,
    },
    /// A channel was destroyed.
    ChannelDestroyed {
        /// The Q.850 cause.
        cause: u16,
        /// Its text.
        cause_txt: String,
        /// The channel.
        channel: Channel,
    },
    /// The channel's state changed.
    ChannelStateChange {
        /// The channel.
        channel: Channel,
    },
    /// A DTMF digit was received.
    ChannelDtmfReceived {
        /// The digit.
        digit: String,
        /// How long it was pressed.
        duration_ms: u32,
        /// The channel.
        channel: Channel,
    },
    /// Someone asked the channel to hang up.
    ChannelHangupRequest {
        /// The cause.
        cause: u16,
        /// Whether it was a soft request.
        soft: bool,
        /// The channel.
        channel: Channel,
    },
    /// A variable was set.
    ChannelVarset {
        /// Its name.
        variable: String,
        /// Its value.
        value: String,
        /// The channel (absent for globals).
        #[serde(skip_serializing_if = "Option::is_none")]
        channel: Option<Channel>,
    },
    /// The channel's dialplan location changed.
    ChannelDialplan {
        /// The channel.
        channel: Channel,
        /// The application about to run.
        dialplan_app: String,
        /// Its arguments.
        dialplan_app_data: String,
    },
    /// The channel's caller id changed.
    ChannelCallerId {
        /// The presentation as a number (0: allowed, not screened).
        caller_presentation: u8,
        /// The presentation in words.
        caller_presentation_txt: &'static str,
        /// The channel, with its new caller id.
        channel: Channel,
    },
    /// The channel's connected line changed.
    ChannelConnectedLine {
        /// The channel, with its new connected line.
        channel: Channel,
    },
    /// The far end put the call on hold.
    ChannelHold {
        /// The channel.
        channel: Channel,
    },
    /// The far end resumed the call.
    ChannelUnhold {
        /// The channel.
        channel: Channel,
    },
    /// `TALK_DETECT` heard the channel's party start talking.
    ChannelTalkingStarted {
        /// The channel.
        channel: Channel,
    },
    /// `TALK_DETECT` heard the party stop talking.
    ChannelTalkingFinished {
        /// How long it talked, in ms.
        duration: u64,
        /// The channel.
        channel: Channel,
    },
    /// `TONE_DETECT` heard its tone on the channel.
    ChannelToneDetected {
        /// The channel.
        channel: Channel,
    },
    /// A channel entered a bridge.
    ChannelEnteredBridge {
        /// The bridge, with the channel in it.
        bridge: Bridge,
        /// The channel.
        channel: Channel,
    },
    /// A channel left a bridge.
    ChannelLeftBridge {
        /// The bridge, without the channel.
        bridge: Bridge,
        /// The channel.
        channel: Channel,
    },
    /// A bridge was created.
    BridgeCreated {
        /// The bridge.
        bridge: Bridge,
    },
    /// A bridge was destroyed.
    BridgeDestroyed {
        /// The bridge.
        bridge: Bridge,
    },
    /// The bridge's video source changed.
    BridgeVideoSourceChanged {
        /// The bridge, with its new source.
        bridge: Bridge,
        /// The source before, if there was one.
        #[serde(skip_serializing_if = "Option::is_none")]
        old_video_source_id: Option<String>,
    },
    /// A playback started.
    PlaybackStarted {
        /// The playback.
        playback: Playback,
    },
    /// A playback moved to the next media of its list.
    PlaybackContinuing {
        /// The playback.
        playback: Playback,
    },
    /// A playback ended.
    PlaybackFinished {
        /// The playback.
        playback: Playback,
    },
    /// A recording started (or resumed after a pause).
    RecordingStarted {
        /// The recording.
        recording: LiveRecording,
    },
    /// A recording ended: stopped, at a limit, or canceled.
    RecordingFinished {
        /// The recording.
        recording: LiveRecording,
    },
    /// A recording could not be made.
    RecordingFailed {
        /// The recording, with its `cause`.
        recording: LiveRecording,
    },
    /// Progress of a dial.
    Dial {
        /// The calling channel, when there is one.
        #[serde(skip_serializing_if = "Option::is_none")]
        caller: Option<Channel>,
        /// The called channel.
        peer: Channel,
        /// The dial string.
        #[serde(skip_serializing_if = "Option::is_none")]
        dialstring: Option<String>,
        /// `""`, `RINGING`, `PROGRESS`, `ANSWER`, `BUSY`, ...
        dialstatus: String,
    },
    /// Another WebSocket registered this application's name.
    ApplicationReplaced {},
    /// An outbound connection now serves this application.
    ApplicationRegistered {},
    /// An outbound connection no longer serves this application.
    ApplicationUnregistered {},
    /// `move` named an application that is not registered.
    ApplicationMoveFailed {
        /// The channel.
        channel: Channel,
        /// The application asked for.
        destination: String,
        /// The arguments given.
        args: Vec<String>,
    },
    /// The far end of a channel asked for a transfer (SIP REFER) that
    /// the application handles (`PJSIP_TRANSFER_HANDLING()=ari-only`).
    ChannelTransfer {
        /// Where to.
        refer_to: ReferTo,
        /// From which channel.
        referred_by: ReferredBy,
    },
    /// A blind transfer happened (or was refused) in a bridge.
    BridgeBlindTransfer {
        /// The channel that transferred (the models are boxed: this is
        /// the largest variant otherwise).
        channel: Box<Channel>,
        /// The channel sent to the new extension.
        #[serde(skip_serializing_if = "Option::is_none")]
        transferee: Option<Box<Channel>>,
        /// The bridge it was in.
        #[serde(skip_serializing_if = "Option::is_none")]
        bridge: Option<Box<Bridge>>,
        /// The extension transferred to.
        exten: String,
        /// The context transferred to.
        context: String,
        /// `Success`, `Fail`, `Invalid`, `Not Permitted`.
        result: String,
        /// Whether it came from outside (a SIP REFER).
        is_external: bool,
    },
    /// An attended transfer joined two parties in a bridge.
    BridgeAttendedTransfer {
        /// The transferer's call with the transferee.
        transferer_first_leg: Box<Channel>,
        /// The transferer's call with the target.
        transferer_second_leg: Box<Channel>,
        /// The party transferred.
        #[serde(skip_serializing_if = "Option::is_none")]
        transferee: Option<Box<Channel>>,
        /// The party it was transferred to.
        #[serde(skip_serializing_if = "Option::is_none")]
        transfer_target: Option<Box<Channel>>,
        /// `Success`, `Fail`, `Invalid`, `Not Permitted`.
        result: String,
        /// Whether it came from outside (a SIP REFER).
        is_external: bool,
        /// The bridge of the first call.
        #[serde(skip_serializing_if = "Option::is_none")]
        transferer_first_leg_bridge: Option<Box<Bridge>>,
        /// The bridge of the second call.
        #[serde(skip_serializing_if = "Option::is_none")]
        transferer_second_leg_bridge: Option<Box<Bridge>>,
        /// How: `bridge` (the parties meet in `destination_bridge`).
        destination_type: String,
        /// The bridge the parties meet in.
        destination_bridge: String,
    },
    /// An endpoint sent a text message (SIP MESSAGE).
    TextMessageReceived {
        /// The message.
        message: TextMessage,
        /// The endpoint it came from.
        #[serde(skip_serializing_if = "Option::is_none")]
        endpoint: Option<Endpoint>,
    },
    /// The answer to a `RESTRequest` sent over the events WebSocket.
    #[serde(rename = "RESTResponse")]
    RestResponse {
        /// As the request gave it.
        transaction_id: String,
        /// As the request gave it.
        request_id: String,
        /// The HTTP status.
        status_code: u16,
        /// Its reason phrase.
        reason_phrase: String,
        /// The request's uri.
        uri: String,
        /// The body's type, when there is a body.
        #[serde(skip_serializing_if = "Option::is_none")]
        content_type: Option<String>,
        /// The body.
        #[serde(skip_serializing_if = "Option::is_none")]
        message_body: Option<String>,
    },
    /// A channel is offered to the applications (`StasisBroadcast`).
    CallBroadcast {
        /// The channel.
        channel: Channel,
        /// Its caller id number.
        caller: String,
        /// The number it called.
        called: String,
    },
    /// An application claimed a broadcast channel.
    CallClaimed {
        /// The channel.
        channel: Channel,
        /// The application that won it.
        winner_app: String,
    },
    /// A contact of an endpoint was added, removed, or changed reachability.
    ContactStatusChange {
        /// The endpoint.
        endpoint: Endpoint,
        /// The contact.
        contact_info: ContactInfo,
    },
    /// An endpoint went online or offline.
    EndpointStateChange {
        /// The endpoint, in its new state.
        endpoint: Endpoint,
    },
    /// An endpoint became reachable (online) or unreachable (offline).
    PeerStatusChange {
        /// The endpoint.
        endpoint: Endpoint,
        /// Its new status.
        peer: Peer,
    },
    /// A device's state changed.
    DeviceStateChanged {
        /// The device and its state.
        device_state: DeviceState,
    },
    /// `POST /events/user/{name}`.
    ChannelUserevent {
        /// The event name.
        eventname: String,
        /// The channel source, if any.
        #[serde(skip_serializing_if = "Option::is_none")]
        channel: Option<Channel>,
        /// The bridge source, if any.
        #[serde(skip_serializing_if = "Option::is_none")]
        bridge: Option<Bridge>,
        /// The endpoint source, if any.
        #[serde(skip_serializing_if = "Option::is_none")]
        endpoint: Option<Endpoint>,
        /// The event's variables.
        userevent: Map<String, Value>,
    },
}

impl Payload {
    /// The event's `type`.
    pub fn type_name(&self) -> &'static str {
        match self {
            Payload::StasisStart { .. } => "StasisStart",
            Payload::StasisEnd { .. } => "StasisEnd",
            Payload::ChannelCreated { .. } => "ChannelCreated",
            Payload::ChannelDestroyed { .. } => "ChannelDestroyed",
            Payload::ChannelStateChange { .. } => "ChannelStateChange",
            Payload::ChannelDtmfReceived { .. } => "ChannelDtmfReceived",
            Payload::ChannelHangupRequest { .. } => "ChannelHangupRequest",
            Payload::ChannelVarset { .. } => "ChannelVarset",
            Payload::ChannelDialplan { .. } => "ChannelDialplan",
            Payload::ChannelCallerId { .. } => "ChannelCallerId",
            Payload::ChannelConnectedLine { .. } => "ChannelConnectedLine",
            Payload::ChannelHold { .. } => "ChannelHold",
            Payload::ChannelUnhold { .. } => "ChannelUnhold",
            Payload::ChannelTalkingStarted { .. } => "ChannelTalkingStarted",
            Payload::ChannelTalkingFinished { .. } => "ChannelTalkingFinished",
            Payload::ChannelToneDetected { .. } => "ChannelToneDetected",
            Payload::ChannelEnteredBridge { .. } => "ChannelEnteredBridge",
            Payload::ChannelLeftBridge { .. } => "ChannelLeftBridge",
            Payload::BridgeCreated { .. } => "BridgeCreated",
            Payload::BridgeDestroyed { .. } => "BridgeDestroyed",
            Payload::BridgeVideoSourceChanged { .. } => "BridgeVideoSourceChanged",
            Payload::PlaybackStarted { .. } => "PlaybackStarted",
            Payload::PlaybackContinuing { .. } => "PlaybackContinuing",
            Payload::PlaybackFinished { .. } => "PlaybackFinished",
            Payload::RecordingStarted { .. } => "RecordingStarted",
            Payload::RecordingFinished { .. } => "RecordingFinished",
            Payload::RecordingFailed { .. } => "RecordingFailed",
            Payload::Dial { .. } => "Dial",
            Payload::ApplicationReplaced {} => "ApplicationReplaced",
            Payload::ApplicationRegistered {} => "ApplicationRegistered",
            Payload::ApplicationUnregistered {} => "ApplicationUnregistered",
            Payload::ApplicationMoveFailed { .. } => "ApplicationMoveFailed",
            Payload::DeviceStateChanged { .. } => "DeviceStateChanged",
            Payload::ContactStatusChange { .. } => "ContactStatusChange",
            Payload::EndpointStateChange { .. } => "EndpointStateChange",
            Payload::PeerStatusChange { .. } => "PeerStatusChange",
            Payload::TextMessageReceived { .. } => "TextMessageReceived",
            Payload::ChannelTransfer { .. } => "ChannelTransfer",
            Payload::RestResponse { .. } => "RESTResponse",
            Payload::BridgeBlindTransfer { .. } => "BridgeBlindTransfer",
            Payload::BridgeAttendedTransfer { .. } => "BridgeAttendedTransfer",
            Payload::CallBroadcast { .. } => "CallBroadcast",
            Payload::CallClaimed { .. } => "CallClaimed",
            Payload::ChannelUserevent { .. } => "ChannelUserevent",
        }
    }
}

/// An event as sent to one application: the payload, then the fields every
/// event carries.
#[derive(Debug, Serialize)]
pub struct Envelope<'a> {
    /// `type` and the event's own fields.
    #[serde(flatten)]
    pub payload: &'a Payload,
    /// When it happened.
    pub timestamp: &'a str,
    /// The system's entity id.
    pub asterisk_id: &'a str,
    /// The application it is sent to.
    pub application: &'a str,
}

#[cfg(test)]
pub(crate) mod conformance;

#[cfg(test)]
mod tests {
    use super::*;

    fn channel() -> Channel {
        Channel {
            id: "1795343125.27".into(),
            name: "PJSIP/101-00000017".into(),
            state: "Ring",
            protocol_id: "1-17760@127.0.0.1".into(),
            caller: CallerId {
                name: String::new(),
                number: "101".into(),
            },
            connected: CallerId {
                name: String::new(),
                number: String::new(),
            },
            accountcode: String::new(),
            dialplan: DialplanCep {
                context: "testing".into(),
                exten: "700".into(),
                priority: 2,
                app_name: "Stasis".into(),
                app_data: "bench".into(),
            },
            creationtime: "2026-11-22T10:25:25.191+0000".into(),
            language: "en".into(),
            channelvars: None,
        }
    }

    fn keys(text: &str) -> Vec<String> {
        let v: Value = serde_json::from_str(text).expect("json");
        let mut k: Vec<String> = v.as_object().expect("object").keys().cloned().collect();
        k.sort();
        k
    }

    /// The golden capture of a real Asterisk (`ws_events_run1.jsonl`).
    fn golden(event_type: &str) -> Option<String> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/reference/golden-asterisk-23/ari/ws_events_run1.jsonl");
        let text = std::fs::read_to_string(path).ok()?;
        text.lines()
            .find(|l| l.contains(&format!("\"type\":\"{event_type}\"")))
            .map(str::to_owned)
    }

    #[test]
    fn channel_fields_are_asterisks_in_order() {
        let text = serde_json::to_string(&channel()).expect("json");
        assert_eq!(
            text,
            r#"{"id":"1795343125.27","name":"PJSIP/101-00000017","state":"Ring","protocol_id":"1-17760@127.0.0.1","caller":{"name":"","number":"101"},"connected":{"name":"","number":""},"accountcode":"","dialplan":{"context":"testing","exten":"700","priority":2,"app_name":"Stasis","app_data":"bench"},"creationtime":"2026-11-22T10:25:25.191+0000","language":"en"}"#
        );
    }

    #[test]
    fn events_have_the_golden_field_names() {
        let bridge = Bridge {
            id: "b".into(),
            technology: "simple_bridge".into(),
            bridge_type: "mixing".into(),
            bridge_class: "stasis".into(),
            creator: "Stasis".into(),
            name: "benchbridge".into(),
            channels: vec!["1".into()],
            creationtime: timestamp(SystemTime::now()),
            video_mode: "talker",
            video_source_id: None,
            bridgevars: None,
        };
        let playback = Playback {
            id: "pb".into(),
            media_uri: "sound:beep".into(),
            next_media_uri: None,
            target_uri: "channel:1".into(),
            language: "en".into(),
            state: "playing",
        };
        let cases = [
            Payload::StasisStart {
                args: vec![],
                channel: channel(),
            },
            Payload::ChannelStateChange { channel: channel() },
            Payload::ChannelEnteredBridge {
                bridge: bridge.clone(),
                channel: channel(),
            },
            Payload::PlaybackStarted {
                playback: playback.clone(),
            },
            Payload::PlaybackFinished { playback },
            Payload::ChannelVarset {
                variable: "X".into(),
                value: "1".into(),
                channel: Some(channel()),
            },
            Payload::ChannelHangupRequest {
                cause: 16,
                soft: true,
                channel: channel(),
            },
            Payload::ChannelLeftBridge {
                bridge: bridge.clone(),
                channel: channel(),
            },
            Payload::StasisEnd { channel: channel() },
            Payload::BridgeDestroyed { bridge },
        ];
        let mut compared = 0;
        for payload in &cases {
            let text = serde_json::to_string(&Envelope {
                payload,
                timestamp: "2026-11-22T10:25:25.192+0000",
                asterisk_id: "02:fc:00:00:00:01",
                application: "bench",
            })
            .expect("json");
            let ours: Value = serde_json::from_str(&text).expect("json");
            assert_eq!(ours["type"], payload.type_name());
            if let Some(line) = golden(payload.type_name()) {
                assert_eq!(keys(&text), keys(&line), "{}", payload.type_name());
                let theirs: Value = serde_json::from_str(&line).expect("json");
                for nested in ["channel", "bridge", "playback"] {
                    if let (Some(a), Some(b)) = (ours.get(nested), theirs.get(nested)) {
                        assert_eq!(
                            keys(&a.to_string()),
                            keys(&b.to_string()),
                            "{} {nested}",
                            payload.type_name()
                        );
                    }
                }
                compared += 1;
            }
        }
        if golden("StasisStart").is_some() {
            assert_eq!(compared, cases.len());
        }
    }

    /// Detection events carry exactly the fields their models in the served
    /// API description (Asterisk's `events.json`) list.
    #[test]
    fn detection_events_have_the_fields_of_their_models() {
        let models: Value =
            serde_json::from_str(include_str!("api/models/events.json")).expect("models");
        for payload in [
            Payload::ChannelTalkingStarted { channel: channel() },
            Payload::ChannelTalkingFinished {
                duration: 1520,
                channel: channel(),
            },
            Payload::ChannelToneDetected { channel: channel() },
        ] {
            let ours: Value = serde_json::to_value(&payload).expect("json");
            let mut fields: Vec<&String> = ours
                .as_object()
                .expect("object")
                .keys()
                .filter(|k| *k != "type")
                .collect();
            fields.sort();
            let name = payload.type_name();
            let model = &models[name]["properties"];
            let mut want: Vec<&String> = model.as_object().expect(name).keys().collect();
            want.sort();
            assert_eq!(fields, want, "{name}");
            assert_eq!(ours["type"], name);
        }
    }

    #[test]
    fn timestamps_have_milliseconds_and_a_numeric_zone() {
        let t = timestamp(SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(1_500));
        assert_eq!(t.len(), "2026-11-23T19:25:10.432+0000".len(), "{t}");
        assert!(t.contains(".500"), "{t}");
        let zone = &t[t.len() - 5..];
        assert!(zone.starts_with('+') || zone.starts_with('-'), "{t}");
    }
}
