//! [`Ari`]: the state every part of the interface shares — configuration,
//! applications, channels in Stasis, bridges, playbacks, recordings — and the helpers
//! that render core objects as ARI models and deliver events.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use obelus_core::Core;
use obelus_core::channel::{Channel, ChannelSnapshot};

use crate::apps::{Apps, Interest};
use crate::bridges::Bridges;
use crate::broadcast::Broadcasts;
use crate::config::AriConf;
use crate::error::{AriError, encode};
use crate::events::BridgeView;
use crate::json::{self, Envelope, Payload};
use crate::playback::Playbacks;
use crate::recording::Recordings;
use crate::stasis::Controls;

/// The interface's shared state (one per daemon, `Arc`-shared).
pub struct Ari {
    /// The daemon.
    pub core: Arc<Core>,
    conf: RwLock<Arc<AriConf>>,
    /// Stasis applications and their sockets.
    pub(crate) apps: Apps,
    /// Channels in a Stasis application.
    pub(crate) controls: Controls,
    /// Bridges created through ARI.
    pub(crate) bridges: Bridges,
    /// Every bridge as the event bus reported it.
    pub(crate) view: BridgeView,
    /// Playbacks in progress.
    pub(crate) playbacks: Playbacks,
    /// Live recordings.
    pub(crate) recordings: Recordings,
    /// Channels offered by `StasisBroadcast`, waiting for a claim.
    pub(crate) broadcasts: Broadcasts,
    /// Device states set through ARI (`Stasis:` devices) and last seen
    /// states of the others.
    pub(crate) device_states: RwLock<BTreeMap<String, String>>,
    /// The last state sent in an `EndpointStateChange`, per endpoint
    /// (`PJSIP/101` -> `online`).
    pub(crate) endpoint_states: std::sync::Mutex<BTreeMap<String, &'static str>>,
    /// Outbound WebSockets (Obelus connecting to application servers).
    pub(crate) outbound: crate::outbound::Connections,
    /// Ids clients chose for channels (`channelId`) -> uniqueids, and back.
    aliases: RwLock<(HashMap<String, String>, HashMap<String, String>)>,
    entity_id: String,
    next_socket: AtomicU64,
}

impl Ari {
    /// The state for `core` under `conf`.
    pub fn new(core: Arc<Core>, conf: AriConf) -> Arc<Ari> {
        Arc::new(Ari {
            core,
            conf: RwLock::new(Arc::new(conf)),
            apps: Apps::default(),
            controls: Controls::default(),
            bridges: Bridges::default(),
            view: BridgeView::default(),
            playbacks: Playbacks::default(),
            recordings: Recordings::default(),
            broadcasts: Broadcasts::default(),
            device_states: RwLock::new(BTreeMap::new()),
            endpoint_states: std::sync::Mutex::new(BTreeMap::new()),
            outbound: crate::outbound::Connections::default(),
            aliases: RwLock::new((HashMap::new(), HashMap::new())),
            entity_id: entity_id(),
            next_socket: AtomicU64::new(1),
        })
    }

    /// The configuration in force.
    pub fn conf(&self) -> Arc<AriConf> {
        Arc::clone(&self.conf.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// Replaces the configuration (reload); sockets and calls stay.
    pub fn set_conf(&self, conf: AriConf) {
        *self.conf.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(conf);
    }

    /// The entity id (`asterisk_id`): the system's first MAC address.
    pub fn entity_id(&self) -> &str {
        &self.entity_id
    }

    /// The names of the applications with a WebSocket, for `ari show apps`.
    pub fn app_names(&self) -> Vec<String> {
        self.apps.active_names()
    }

    /// A new WebSocket id.
    pub(crate) fn next_socket_id(&self) -> u64 {
        self.next_socket.fetch_add(1, Ordering::Relaxed)
    }

    /// Encodes a model as `ari.conf` says (compact or pretty).
    pub(crate) fn encode<T: serde::Serialize + ?Sized>(
        &self,
        value: &T,
    ) -> Result<String, AriError> {
        encode(value, self.conf().pretty)
    }

    /// The id clients know a channel by: the one they chose, or its
    /// uniqueid.
    pub(crate) fn channel_id(&self, uniqueid: &str) -> String {
        let aliases = self.aliases.read().unwrap_or_else(|e| e.into_inner());
        aliases
            .1
            .get(uniqueid)
            .cloned()
            .unwrap_or_else(|| uniqueid.to_owned())
    }

    /// Whether an id is taken (by a channel or a client-chosen id).
    pub(crate) fn id_in_use(&self, id: &str) -> bool {
        self.aliases
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .0
            .contains_key(id)
            || self.core.channels.find(id).is_some()
    }

    /// Records the id a client chose for a channel.
    pub(crate) fn add_alias(&self, id: &str, uniqueid: &str) {
        let mut aliases = self.aliases.write().unwrap_or_else(|e| e.into_inner());
        aliases.0.insert(id.to_owned(), uniqueid.to_owned());
        aliases.1.insert(uniqueid.to_owned(), id.to_owned());
    }

    /// Forgets the chosen id of a channel that is gone.
    pub(crate) fn remove_alias(&self, uniqueid: &str) {
        let mut aliases = self.aliases.write().unwrap_or_else(|e| e.into_inner());
        if let Some(id) = aliases.1.remove(uniqueid) {
            aliases.0.remove(&id);
        }
    }

    /// The live channel a client means by `id` (its chosen id or the
    /// uniqueid).
    pub(crate) fn find_channel(&self, id: &str) -> Option<Arc<Channel>> {
        let uniqueid = self
            .aliases
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .0
            .get(id)
            .cloned();
        let found = self.core.channels.find(uniqueid.as_deref().unwrap_or(id))?;
        // Channel names are not ARI ids.
        (found.uniqueid() == uniqueid.as_deref().unwrap_or(id)).then_some(found)
    }

    /// A channel snapshot as the `Channel` model.
    pub(crate) fn channel_json(&self, snapshot: &ChannelSnapshot) -> json::Channel {
        let live = self.core.channels.find(&snapshot.uniqueid);
        let protocol_id = live
            .as_ref()
            .and_then(|c| c.driver().info("pjsip,call-id"))
            .unwrap_or_default();
        let wanted = &self.conf().channelvars;
        let channelvars = (!wanted.is_empty()).then(|| {
            wanted
                .iter()
                .map(|name| {
                    let value = live.as_ref().and_then(|c| c.var(name)).unwrap_or_default();
                    (name.clone(), value)
                })
                .collect()
        });
        json::Channel {
            id: self.channel_id(&snapshot.uniqueid),
            name: snapshot.name.clone(),
            state: snapshot.state.name(),
            protocol_id,
            caller: json::CallerId {
                name: snapshot.caller.name.clone(),
                number: snapshot.caller.number.clone(),
            },
            connected: json::CallerId {
                name: snapshot.connected.name.clone(),
                number: snapshot.connected.number.clone(),
            },
            accountcode: snapshot.accountcode.clone(),
            dialplan: json::DialplanCep {
                context: snapshot.context.clone(),
                exten: snapshot.exten.clone(),
                priority: i64::from(snapshot.priority),
                app_name: snapshot.application.clone(),
                app_data: snapshot.data.clone(),
            },
            creationtime: json::timestamp(snapshot.created),
            language: snapshot.language.clone(),
            channelvars,
        }
    }

    /// A live channel as the `Channel` model.
    pub(crate) fn live_channel_json(&self, channel: &Channel) -> json::Channel {
        self.channel_json(&channel.snapshot())
    }

    /// A bridge as the `Bridge` model; ARI's own bridges add their video
    /// source and reported variables.
    pub(crate) fn bridge_json(&self, id: &str) -> Option<json::Bridge> {
        let mut bridge = self.view.render(id, |c| self.channel_id(c))?;
        if let Some((source, vars)) = self.bridges.extras(id) {
            if let Some(source) = source {
                bridge.video_mode = "single";
                bridge.video_source_id = Some(self.channel_id(&source));
            }
            bridge.bridgevars = (!vars.is_empty()).then_some(vars);
        }
        Some(bridge)
    }

    /// Sends an event to every application interested in it.
    pub(crate) fn dispatch(&self, payload: &Payload, interest: &Interest<'_>) {
        let targets = self.apps.targets(payload.type_name(), interest);
        if targets.is_empty() {
            return;
        }
        let now = json::timestamp(SystemTime::now());
        for (app, socket) in targets {
            if let Some(text) = self.render_event(payload, &now, &app) {
                socket.send(text);
            }
        }
    }

    /// Sends an event to one application.
    pub(crate) fn send_to(&self, app: &str, payload: &Payload) {
        let Some(socket) = self.apps.target(app, payload.type_name()) else {
            return;
        };
        let now = json::timestamp(SystemTime::now());
        if let Some(text) = self.render_event(payload, &now, app) {
            socket.send(text);
        }
    }

    /// An event as the text of one WebSocket message.
    pub(crate) fn render_event(
        &self,
        payload: &Payload,
        timestamp: &str,
        app: &str,
    ) -> Option<String> {
        let envelope = Envelope {
            payload,
            timestamp,
            asterisk_id: &self.entity_id,
            application: app,
        };
        match self.encode(&envelope) {
            Ok(text) => Some(text),
            Err(e) => {
                tracing::error!("ARI: {} not sent: {e}", payload.type_name());
                None
            }
        }
    }
}

/// The first non-zero MAC address of the system's interfaces, as Asterisk
/// picks its default entity id; zeros when there is none.
fn entity_id() -> String {
    let mut names: Vec<_> = std::fs::read_dir("/sys/class/net")
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    names.sort();
    names
        .iter()
        .filter_map(|dir| std::fs::read_to_string(dir.join("address")).ok())
        .map(|mac| mac.trim().to_ascii_lowercase())
        .find(|mac| mac.len() == 17 && mac != "00:00:00:00:00:00")
        .unwrap_or_else(|| "00:00:00:00:00:00".to_owned())
}
