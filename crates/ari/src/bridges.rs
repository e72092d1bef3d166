//! Bridges created through ARI (`POST /bridges`): a mixing bridge is a
//! mixer of the media engine holding each member's media stream, so every
//! member hears the others; a holding bridge joins channels without mixing.
//! Music on hold for a bridge (`POST /bridges/{id}/moh`) is the mixer's
//! generator, heard over the members' voices as Asterisk's announcer
//! channel is; in a holding bridge each member plays it.
//!
//! Every change is published on the event bus as a core bridge event
//! (`BridgeCreate`, `BridgeEnter`, ...), so AMI sees ARI's bridges too and
//! ARI's own events come from the bus like everyone else's.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use obelus_apps::moh::MusicOnHold;
use obelus_core::channel::Channel;
use obelus_core::events::{BridgeEvent, BridgeEventKind, BridgeSnapshot, Event};
use obelus_media::{MediaEngine, Mixer};

use crate::apps::SourceKind;
use crate::error::AriError;
use crate::json;
use crate::state::Ari;

/// `mixing` or `holding`, from the comma list of attributes clients send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Members hear each other.
    Mixing,
    /// Members are parked together without hearing each other.
    Holding,
}

impl Kind {
    /// Reads `type=mixing,dtmf_events`; unknown attributes are a 400.
    pub(crate) fn parse(types: &str) -> Result<Kind, AriError> {
        let mut kind = Kind::Mixing;
        for attribute in types.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            match attribute {
                "holding" => kind = Kind::Holding,
                "mixing" | "dtmf_events" | "proxy_media" | "video_sfu" | "video_single"
                | "sdp_label" => {}
                other => {
                    return Err(AriError::bad_request(format!(
                        "Invalid bridge type: {other}"
                    )));
                }
            }
        }
        Ok(kind)
    }
}

struct Bridge {
    name: String,
    kind: Kind,
    /// Shared with the bridge's recordings, which hold it weakly: it ends
    /// with the bridge.
    mixer: Option<Arc<Mixer>>,
    members: Vec<String>,
    /// Bridge variables: value, and whether bridge events carry it.
    vars: BTreeMap<String, (String, bool)>,
    /// The uniqueid of the channel chosen as video source (`single` mode).
    video_source: Option<String>,
    /// The music on hold class playing to the bridge.
    moh: Option<String>,
}

impl Bridge {
    fn snapshot(&self, id: &str) -> BridgeSnapshot {
        let (kind, technology) = match self.kind {
            Kind::Holding => ("holding", "holding_bridge"),
            Kind::Mixing if self.members.len() <= 2 => ("mixing", "simple_bridge"),
            Kind::Mixing => ("mixing", "softmix"),
        };
        BridgeSnapshot {
            id: id.to_owned(),
            kind: kind.to_owned(),
            technology: technology.to_owned(),
            creator: "Stasis".to_owned(),
            name: self.name.clone(),
            num_channels: self.members.len(),
        }
    }
}

/// The bridges ARI created, by id.
#[derive(Default)]
pub(crate) struct Bridges {
    map: Mutex<HashMap<String, Bridge>>,
}

impl Bridges {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Bridge>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether ARI created the bridge `id`.
    pub(crate) fn contains(&self, id: &str) -> bool {
        self.lock().contains_key(id)
    }

    /// The uniqueids of the bridge's members.
    pub(crate) fn members(&self, id: &str) -> Vec<String> {
        self.lock()
            .get(id)
            .map(|b| b.members.clone())
            .unwrap_or_default()
    }

    /// The mixer of a mixing bridge, to record its mix.
    pub(crate) fn mixer(&self, id: &str) -> Option<Arc<Mixer>> {
        self.lock().get(id).and_then(|b| b.mixer.clone())
    }

    /// The video source's uniqueid and the variables bridge events carry.
    pub(crate) fn extras(&self, id: &str) -> Option<(Option<String>, BTreeMap<String, String>)> {
        let bridges = self.lock();
        let bridge = bridges.get(id)?;
        let reported = bridge
            .vars
            .iter()
            .filter(|(_, (_, report))| *report)
            .map(|(name, (value, _))| (name.clone(), value.clone()))
            .collect();
        Some((bridge.video_source.clone(), reported))
    }

    /// A bridge variable.
    pub(crate) fn var(&self, id: &str, name: &str) -> Option<String> {
        self.lock().get(id)?.vars.get(name).map(|(v, _)| v.clone())
    }

    /// Sets a bridge variable; `report` puts it in bridge events. False if
    /// there is no such bridge.
    pub(crate) fn set_var(&self, id: &str, name: &str, value: &str, report: bool) -> bool {
        let mut bridges = self.lock();
        let Some(bridge) = bridges.get_mut(id) else {
            return false;
        };
        bridge
            .vars
            .insert(name.to_owned(), (value.to_owned(), report));
        true
    }

    /// Chooses (or with `None` clears) the video source; returns the one
    /// before, or `Err` if there is no such bridge.
    pub(crate) fn set_video_source(
        &self,
        id: &str,
        source: Option<&str>,
    ) -> Result<Option<String>, AriError> {
        let mut bridges = self.lock();
        let bridge = bridges
            .get_mut(id)
            .ok_or_else(|| AriError::not_found("Bridge not found"))?;
        Ok(std::mem::replace(
            &mut bridge.video_source,
            source.map(str::to_owned),
        ))
    }

    /// The ARI bridge a channel is in.
    fn of_channel(&self, uniqueid: &str) -> Option<String> {
        self.lock()
            .iter()
            .find(|(_, b)| b.members.iter().any(|m| m == uniqueid))
            .map(|(id, _)| id.clone())
    }
}

impl Ari {
    fn publish_bridge(&self, snapshot: BridgeSnapshot, kind: BridgeEventKind) {
        self.core.events.publish(Event::Bridge(BridgeEvent {
            bridge: Arc::new(snapshot),
            kind,
        }));
    }

    /// `POST /bridges`: 409 if the id is taken.
    pub(crate) fn create_bridge(
        &self,
        id: &str,
        name: &str,
        kind: Kind,
    ) -> Result<json::Bridge, AriError> {
        let snapshot = {
            let mut bridges = self.bridges.lock();
            if bridges.contains_key(id) || self.view.ids().iter().any(|b| b == id) {
                return Err(AriError::conflict(
                    "Bridge with same bridgeId already exists",
                ));
            }
            let mixer = match kind {
                Kind::Mixing => self
                    .core
                    .service::<MediaEngine>()
                    .map(|e| Arc::new(e.mixer())),
                Kind::Holding => None,
            };
            let bridge = Bridge {
                name: name.to_owned(),
                kind,
                mixer,
                members: Vec::new(),
                vars: BTreeMap::new(),
                video_source: None,
                moh: None,
            };
            let snapshot = bridge.snapshot(id);
            bridges.insert(id.to_owned(), bridge);
            snapshot
        };
        self.publish_bridge(snapshot, BridgeEventKind::Create);
        self.bridge_json(id)
            .ok_or_else(|| AriError::internal("Bridge vanished while being created"))
    }

    /// Puts a channel (in Stasis) into an ARI bridge, taking it out of the
    /// one it was in. The channel's application is subscribed to the bridge.
    pub(crate) fn add_to_bridge(
        &self,
        id: &str,
        channel: &Arc<Channel>,
        app: &str,
    ) -> Result<(), AriError> {
        let uniqueid = channel.uniqueid();
        if let Some(current) = self.bridges.of_channel(uniqueid) {
            if current == id {
                return Ok(());
            }
            self.remove_from_bridge(&current, channel)?;
        }
        let (snapshot, music) = {
            let mut bridges = self.bridges.lock();
            let bridge = bridges
                .get_mut(id)
                .ok_or_else(|| AriError::not_found("Bridge not found"))?;
            if let (Some(mixer), Some(stream)) = (&bridge.mixer, channel.driver().media()) {
                mixer.add(&stream);
            }
            bridge.members.push(uniqueid.to_owned());
            let music = (bridge.kind == Kind::Holding)
                .then(|| bridge.moh.clone())
                .flatten();
            (bridge.snapshot(id), music)
        };
        if let (Some(class), Some(moh)) = (music, self.core.service::<MusicOnHold>())
            && let Err(e) = moh.start(channel, Some(&class))
        {
            tracing::warn!("{}: no music on hold in bridge {id}: {e}", channel.name());
        }
        channel.set_bridge(Some(id.to_owned()));
        self.apps.subscribe(app, SourceKind::Bridge, id);
        self.publish_bridge(
            snapshot,
            BridgeEventKind::Enter(Arc::new(channel.snapshot())),
        );
        Ok(())
    }

    /// Takes a channel out of an ARI bridge; 422 if it is not in it.
    pub(crate) fn remove_from_bridge(
        &self,
        id: &str,
        channel: &Arc<Channel>,
    ) -> Result<(), AriError> {
        let uniqueid = channel.uniqueid();
        let (snapshot, music) = {
            let mut bridges = self.bridges.lock();
            let bridge = bridges
                .get_mut(id)
                .ok_or_else(|| AriError::not_found("Bridge not found"))?;
            let before = bridge.members.len();
            bridge.members.retain(|m| m != uniqueid);
            if bridge.members.len() == before {
                return Err(AriError::unprocessable("Channel not in this bridge"));
            }
            if let (Some(mixer), Some(stream)) = (&bridge.mixer, channel.driver().media()) {
                mixer.remove(&stream);
            }
            if bridge.video_source.as_deref() == Some(uniqueid) {
                bridge.video_source = None;
            }
            let music = bridge.kind == Kind::Holding && bridge.moh.is_some();
            (bridge.snapshot(id), music)
        };
        if music && let Some(moh) = self.core.service::<MusicOnHold>() {
            moh.stop(channel);
        }
        channel.set_bridge(None);
        self.publish_bridge(
            snapshot,
            BridgeEventKind::Leave(Arc::new(channel.snapshot())),
        );
        Ok(())
    }

    /// Plays music on hold of `class` (else `default`) to a bridge, or
    /// changes the class playing.
    pub(crate) fn bridge_start_moh(
        &self,
        id: &str,
        moh: &MusicOnHold,
        class: Option<&str>,
    ) -> Result<(), AriError> {
        let holding_members = {
            let mut bridges = self.bridges.lock();
            let bridge = bridges
                .get_mut(id)
                .ok_or_else(|| AriError::not_found("Bridge not found"))?;
            let (playing, members) = match (bridge.kind, &bridge.mixer) {
                (Kind::Mixing, Some(mixer)) => {
                    let (playing, source) = moh
                        .bridge_source(class)
                        .map_err(|e| AriError::conflict(e.to_string()))?;
                    mixer.generate(Box::new(source));
                    (playing, Vec::new())
                }
                (Kind::Mixing, None) => {
                    return Err(AriError::internal("The bridge has no media mixer"));
                }
                (Kind::Holding, _) => {
                    let playing = moh
                        .class(class.unwrap_or("default"))
                        .or_else(|| moh.class("default"))
                        .map(|c| c.name.clone())
                        .ok_or_else(|| AriError::conflict("No music on hold class to play"))?;
                    (playing, bridge.members.clone())
                }
            };
            tracing::info!(
                verbose = 3,
                "Started music on hold, class '{playing}', on bridge {id}"
            );
            bridge.moh = Some(playing.clone());
            members.into_iter().map(move |m| (m, playing.clone()))
        };
        // Outside the lock: starting publishes events.
        for (uniqueid, playing) in holding_members {
            if let Some(channel) = self.core.channels.find(&uniqueid)
                && let Err(e) = moh.start(&channel, Some(&playing))
            {
                tracing::warn!("{}: no music on hold in bridge {id}: {e}", channel.name());
            }
        }
        Ok(())
    }

    /// Stops a bridge's music on hold: 409 when none plays.
    pub(crate) fn bridge_stop_moh(&self, id: &str, moh: &MusicOnHold) -> Result<(), AriError> {
        let holding_members = {
            let mut bridges = self.bridges.lock();
            let bridge = bridges
                .get_mut(id)
                .ok_or_else(|| AriError::not_found("Bridge not found"))?;
            if bridge.moh.take().is_none() {
                return Err(AriError::conflict("Bridge isn't playing music on hold"));
            }
            if let Some(mixer) = &bridge.mixer {
                mixer.stop_generator();
            }
            match bridge.kind {
                Kind::Holding => bridge.members.clone(),
                Kind::Mixing => Vec::new(),
            }
        };
        for uniqueid in holding_members {
            if let Some(channel) = self.core.channels.find(&uniqueid) {
                moh.stop(&channel);
            }
        }
        tracing::info!(verbose = 3, "Stopped music on hold on bridge {id}");
        Ok(())
    }

    /// A channel left Stasis: it leaves its ARI bridge too.
    pub(crate) fn leave_bridge(&self, channel: &Arc<Channel>) {
        if let Some(id) = self.bridges.of_channel(channel.uniqueid()) {
            // It is a member: removal cannot fail.
            let _ = self.remove_from_bridge(&id, channel);
        }
    }

    /// `DELETE /bridges/{id}`: members leave (they stay in Stasis), then
    /// the bridge goes.
    pub(crate) fn destroy_bridge(&self, id: &str) -> Result<(), AriError> {
        for uniqueid in self.bridges.members(id) {
            if let Some(channel) = self.core.channels.find(&uniqueid) {
                let _ = self.remove_from_bridge(id, &channel);
            }
        }
        let bridge = self
            .bridges
            .lock()
            .remove(id)
            .ok_or_else(|| AriError::not_found("Bridge not found"))?;
        self.publish_bridge(bridge.snapshot(id), BridgeEventKind::Destroy);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bridge_types() {
        assert_eq!(Kind::parse("").expect("ok"), Kind::Mixing);
        assert_eq!(Kind::parse("mixing,dtmf_events").expect("ok"), Kind::Mixing);
        assert_eq!(Kind::parse("holding").expect("ok"), Kind::Holding);
        assert!(Kind::parse("mixing,teleport").is_err());
    }
}
