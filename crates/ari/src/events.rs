//! From the event bus to ARI events.
//!
//! ARI listens to the bus through a tap (called as each event is
//! published, in publish order), so that the events the bus carries and
//! the ones this crate sends itself (`StasisStart`, `StasisEnd`, playback
//! events) reach a WebSocket in the order they happened: a hangup request
//! is always sent before the `StasisEnd` it causes. The tap only renders and
//! queues; a slow client costs it nothing (see [`crate::apps`]).
//!
//! [`BridgeView`] keeps every bridge's members as the bus reports them,
//! so a `Bridge` model can list its channels whoever made the bridge.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::SystemTime;

use obelus_core::channel::ChannelSnapshot;
use obelus_core::events::{
    AttendedTransferEvent, BlindTransferEvent, BridgeEventKind, BridgeSnapshot, ChannelEventKind,
    Event,
};

use crate::apps::Interest;
use crate::json::{self, Payload};
use crate::state::Ari;

/// One bridge as the bus reported it.
#[derive(Debug, Clone)]
struct Seen {
    snapshot: Arc<BridgeSnapshot>,
    channels: Vec<String>,
    created: SystemTime,
}

/// Every live bridge with its members.
#[derive(Debug, Default)]
pub struct BridgeView {
    bridges: Mutex<HashMap<String, Seen>>,
}

impl BridgeView {
    fn apply(&self, snapshot: &Arc<BridgeSnapshot>, kind: &BridgeEventKind) {
        let mut bridges = self.bridges.lock().unwrap_or_else(|e| e.into_inner());
        let seen = bridges.entry(snapshot.id.clone()).or_insert_with(|| Seen {
            snapshot: Arc::clone(snapshot),
            channels: Vec::new(),
            created: SystemTime::now(),
        });
        seen.snapshot = Arc::clone(snapshot);
        match kind {
            BridgeEventKind::Enter(c) if !seen.channels.contains(&c.uniqueid) => {
                seen.channels.push(c.uniqueid.clone());
            }
            BridgeEventKind::Leave(c) => seen.channels.retain(|id| *id != c.uniqueid),
            _ => {}
        }
    }

    fn remove(&self, id: &str) {
        self.bridges
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id);
    }

    /// Every bridge id, oldest first.
    pub fn ids(&self) -> Vec<String> {
        let bridges = self.bridges.lock().unwrap_or_else(|e| e.into_inner());
        let mut all: Vec<(&String, SystemTime)> =
            bridges.iter().map(|(id, s)| (id, s.created)).collect();
        all.sort_by_key(|(_, t)| *t);
        all.into_iter().map(|(id, _)| id.clone()).collect()
    }

    /// The bridge as the `Bridge` model; channel uniqueids go through
    /// `rename` (client-chosen ids).
    pub fn render(&self, id: &str, rename: impl Fn(&str) -> String) -> Option<json::Bridge> {
        let bridges = self.bridges.lock().unwrap_or_else(|e| e.into_inner());
        let seen = bridges.get(id)?;
        let s = &seen.snapshot;
        let bridge_type = match s.kind.as_str() {
            "holding" => "holding",
            _ => "mixing",
        };
        let bridge_class = if s.creator == "Stasis" {
            "stasis"
        } else {
            "basic"
        };
        Some(json::Bridge {
            id: s.id.clone(),
            technology: s.technology.clone(),
            bridge_type: bridge_type.to_owned(),
            bridge_class: bridge_class.to_owned(),
            creator: s.creator.clone(),
            name: s.name.clone(),
            channels: seen.channels.iter().map(|c| rename(c)).collect(),
            creationtime: json::timestamp(seen.created),
            video_mode: "talker",
            video_source_id: None,
            bridgevars: None,
        })
    }
}

/// Connects ARI to the bus.
pub fn attach(ari: &Arc<Ari>) {
    let weak: Weak<Ari> = Arc::downgrade(ari);
    ari.core.events.add_tap(Box::new(move |event| {
        if let Some(ari) = weak.upgrade() {
            on_event(&ari, event);
        }
    }));
}

fn on_event(ari: &Arc<Ari>, event: &Event) {
    match event {
        Event::ContactStatus {
            uri,
            status,
            aor,
            endpoint,
            roundtrip_usec,
        } => crate::resources::contact_changed(ari, endpoint, (uri, status, aor, *roundtrip_usec)),
        Event::Channel(e) => on_channel(ari, &e.channel, &e.kind),
        Event::Bridge(e) => on_bridge(ari, &e.bridge, &e.kind),
        Event::BlindTransfer(e) => blind_transfer(ari, e),
        Event::AttendedTransfer(e) => attended_transfer(ari, e),
        Event::DeviceState { device, state } => {
            ari.device_states
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .insert(device.clone(), (*state).to_owned());
            ari.dispatch(
                &Payload::DeviceStateChanged {
                    device_state: json::DeviceState {
                        name: device.clone(),
                        state: (*state).to_owned(),
                    },
                },
                &Interest {
                    device: Some(device),
                    ..Interest::default()
                },
            );
        }
        _ => {}
    }
}

fn on_channel(ari: &Ari, snapshot: &Arc<ChannelSnapshot>, kind: &ChannelEventKind) {
    let id = snapshot.uniqueid.as_str();
    let channel = || ari.channel_json(snapshot);
    let own = [id];
    let interest = Interest {
        channels: &own,
        channel_name: Some(&snapshot.name),
        ..Interest::default()
    };
    match kind {
        ChannelEventKind::DialBegin { dest, dialstring } => {
            return dial(ari, snapshot, dest, Some(dialstring.clone()), String::new());
        }
        ChannelEventKind::DialState { dest, status }
        | ChannelEventKind::DialEnd { dest, status } => {
            return dial(ari, snapshot, dest, None, status.clone());
        }
        _ => {}
    }
    if !ari.apps.interested(&interest) {
        if let ChannelEventKind::Hangup { .. } = kind {
            ari.apps.forget_channel(id);
            ari.remove_alias(id);
        }
        return;
    }
    let payload = match kind {
        ChannelEventKind::New => Payload::ChannelCreated { channel: channel() },
        ChannelEventKind::State => Payload::ChannelStateChange { channel: channel() },
        ChannelEventKind::Exten { application, data } => Payload::ChannelDialplan {
            channel: channel(),
            dialplan_app: application.clone(),
            dialplan_app_data: data.clone(),
        },
        ChannelEventKind::VarSet { variable, value } => Payload::ChannelVarset {
            variable: variable.clone(),
            value: value.clone(),
            channel: Some(channel()),
        },
        ChannelEventKind::HangupRequest { cause, soft } => Payload::ChannelHangupRequest {
            cause: cause.code(),
            soft: *soft,
            channel: channel(),
        },
        ChannelEventKind::Hangup { cause } => {
            ari.dispatch(
                &Payload::ChannelDestroyed {
                    cause: cause.code(),
                    cause_txt: cause.text().to_owned(),
                    channel: channel(),
                },
                &interest,
            );
            ari.apps.forget_channel(id);
            ari.remove_alias(id);
            return;
        }
        ChannelEventKind::DtmfEnd {
            digit,
            duration_ms,
            direction,
        } if *direction == "Received" => Payload::ChannelDtmfReceived {
            digit: digit.to_string(),
            duration_ms: *duration_ms,
            channel: channel(),
        },
        ChannelEventKind::DialBegin { dest, dialstring } => {
            dial(ari, snapshot, dest, Some(dialstring.clone()), String::new());
            return;
        }
        ChannelEventKind::DialState { dest, status }
        | ChannelEventKind::DialEnd { dest, status } => {
            dial(ari, snapshot, dest, None, status.clone());
            return;
        }
        ChannelEventKind::CallerId => Payload::ChannelCallerId {
            caller_presentation: 0,
            caller_presentation_txt: "Presentation Allowed, Not Screened",
            channel: channel(),
        },
        ChannelEventKind::ConnectedLine => Payload::ChannelConnectedLine { channel: channel() },
        ChannelEventKind::Hold => Payload::ChannelHold { channel: channel() },
        ChannelEventKind::Unhold => Payload::ChannelUnhold { channel: channel() },
        ChannelEventKind::TalkingStart => Payload::ChannelTalkingStarted { channel: channel() },
        ChannelEventKind::TalkingStop { duration_ms } => Payload::ChannelTalkingFinished {
            duration: *duration_ms,
            channel: channel(),
        },
        ChannelEventKind::ToneDetected => Payload::ChannelToneDetected { channel: channel() },
        _ => return,
    };
    ari.dispatch(&payload, &interest);
}

fn dial(
    ari: &Ari,
    caller: &ChannelSnapshot,
    peer: &ChannelSnapshot,
    dialstring: Option<String>,
    dialstatus: String,
) {
    let ids = [caller.uniqueid.as_str(), peer.uniqueid.as_str()];
    let interest = Interest {
        channels: &ids,
        channel_name: Some(&peer.name),
        ..Interest::default()
    };
    if !ari.apps.interested(&interest) {
        return;
    }
    ari.dispatch(
        &Payload::Dial {
            caller: Some(ari.channel_json(caller)),
            peer: ari.channel_json(peer),
            dialstring,
            dialstatus,
        },
        &interest,
    );
}

/// `BridgeBlindTransfer`, to applications following either channel or the
/// bridge. Published before the bridge goes, so the `Bridge` model still
/// lists its members.
fn blind_transfer(ari: &Ari, e: &BlindTransferEvent) {
    let mut ids = vec![e.transferer.uniqueid.as_str()];
    ids.extend(e.transferee.as_ref().map(|t| t.uniqueid.as_str()));
    let bridges: Vec<&str> = e.bridge.iter().map(|b| b.id.as_str()).collect();
    let interest = Interest {
        channels: &ids,
        channel_name: Some(&e.transferer.name),
        bridges: &bridges,
        ..Interest::default()
    };
    if !ari.apps.interested(&interest) {
        return;
    }
    ari.dispatch(
        &Payload::BridgeBlindTransfer {
            channel: Box::new(ari.channel_json(&e.transferer)),
            transferee: e.transferee.as_ref().map(|t| Box::new(ari.channel_json(t))),
            bridge: e
                .bridge
                .as_ref()
                .and_then(|b| ari.bridge_json(&b.id))
                .map(Box::new),
            exten: e.exten.clone(),
            context: e.context.clone(),
            result: e.result.name().to_owned(),
            is_external: e.is_external,
        },
        &interest,
    );
}

/// `BridgeAttendedTransfer`, to applications following any of the four
/// channels or the two bridges.
fn attended_transfer(ari: &Ari, e: &AttendedTransferEvent) {
    let mut ids = vec![
        e.first_leg.uniqueid.as_str(),
        e.second_leg.uniqueid.as_str(),
    ];
    ids.extend(e.transferee.iter().map(|c| c.uniqueid.as_str()));
    ids.extend(e.target.iter().map(|c| c.uniqueid.as_str()));
    let bridges: Vec<&str> = [&e.first_bridge, &e.second_bridge]
        .into_iter()
        .flatten()
        .map(|b| b.id.as_str())
        .collect();
    let interest = Interest {
        channels: &ids,
        channel_name: Some(&e.first_leg.name),
        bridges: &bridges,
        ..Interest::default()
    };
    if !ari.apps.interested(&interest) {
        return;
    }
    let channel = |c: &ChannelSnapshot| Box::new(ari.channel_json(c));
    let bridge = |b: &Option<Arc<BridgeSnapshot>>| {
        b.as_ref()
            .and_then(|b| ari.bridge_json(&b.id))
            .map(Box::new)
    };
    ari.dispatch(
        &Payload::BridgeAttendedTransfer {
            transferer_first_leg: channel(&e.first_leg),
            transferer_second_leg: channel(&e.second_leg),
            transferee: e.transferee.as_deref().map(channel),
            transfer_target: e.target.as_deref().map(channel),
            result: e.result.name().to_owned(),
            is_external: e.is_external,
            transferer_first_leg_bridge: bridge(&e.first_bridge),
            transferer_second_leg_bridge: bridge(&e.second_bridge),
            destination_type: "bridge".to_owned(),
            destination_bridge: e.dest_bridge.clone(),
        },
        &interest,
    );
}

fn on_bridge(ari: &Ari, snapshot: &Arc<BridgeSnapshot>, kind: &BridgeEventKind) {
    ari.view.apply(snapshot, kind);
    let id = snapshot.id.as_str();
    let bridges = [id];
    let member = match kind {
        BridgeEventKind::Enter(c) | BridgeEventKind::Leave(c) => Some(c),
        BridgeEventKind::Create | BridgeEventKind::Destroy => None,
    };
    let channels = member.map(|c| [c.uniqueid.as_str()]);
    let interest = Interest {
        channels: channels.as_ref().map_or(&[], |c| c.as_slice()),
        channel_name: member.map(|c| c.name.as_str()),
        bridges: &bridges,
        ..Interest::default()
    };
    if ari.apps.interested(&interest)
        && let Some(bridge) = ari.bridge_json(id)
    {
        let payload = match kind {
            BridgeEventKind::Create => Payload::BridgeCreated { bridge },
            BridgeEventKind::Enter(c) => Payload::ChannelEnteredBridge {
                bridge,
                channel: ari.channel_json(c),
            },
            BridgeEventKind::Leave(c) => Payload::ChannelLeftBridge {
                bridge,
                channel: ari.channel_json(c),
            },
            BridgeEventKind::Destroy => Payload::BridgeDestroyed { bridge },
        };
        ari.dispatch(&payload, &interest);
    }
    if let BridgeEventKind::Destroy = kind {
        ari.view.remove(id);
        ari.apps.forget_bridge(id);
    }
}
