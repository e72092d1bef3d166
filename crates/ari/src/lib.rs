//! # obelus-ari: the Asterisk REST Interface
//!
//! ARI lets an external program drive calls: it receives JSON events over
//! a WebSocket (`/ari/events?app=name`) for the channels that reach
//! `Stasis(name)` in the dialplan, and acts on them with REST requests
//! (`POST /ari/channels/{id}/answer`, `/play`, `/continue`, bridges ...).
//! Paths, parameters, JSON fields and error codes follow Asterisk's, so
//! ARI client libraries (`ari-client`, `aioari`, `asyncari`) connect
//! unchanged.
//!
//! ## Design
//!
//! - **One route table** ([`api`]): every operation of the published API
//!   with its parameters. The Swagger 1.1 documents clients load
//!   (`/ari/api-docs/resources.json`) are generated from it, the router
//!   matches requests against it and validates their parameters with it;
//!   operations without a handler answer 501.
//! - **The channel's own task runs it.** `Stasis()` ([`stasis`]) keeps the
//!   channel on its dialplan task, which serves a bounded queue of commands
//!   sent by REST handlers alongside the channel's mailbox; nothing else
//!   touches the channel's media or signalling, so there is nothing to lock.
//! - **Events from the bus.** ARI taps the core event bus ([`events`]) and
//!   renders each event for the applications subscribed to its channel,
//!   bridge, endpoint or device; `StasisStart`/`StasisEnd` and playback
//!   events are sent on the same path in the same order.
//! - **Bounded sockets.** Each WebSocket has a bounded queue and a write
//!   timeout ([`apps`]); a client that stops reading is dropped, never
//!   waited for.
//! - **Bridges, playbacks and recordings** use the media engine: an ARI
//!   mixing bridge is a mixer holding its members' RTP streams
//!   ([`bridges`]); a playback plays decoded sound files or tones on the
//!   streams ([`playback`]); a recording taps a channel's stream or a
//!   bridge's mix and writes the file on a thread of its own
//!   ([`recording`]).
//! - **Snoop and external media.** A snoop channel taps another channel's
//!   stream through lock-free audio pipes (`snoop`); `externalMedia` makes
//!   a `UnicastRTP` channel (`obelus_apps::unicast_rtp`). Both enter their
//!   application on a task of their own (`enter`).
//!
//! Layer: an interface beside AMI, above the channels, the dialplan
//! executor (`obelus-apps`) and the media engine; mounted on the shared
//! HTTP server (`obelus-http`). Main types: [`AriModule`] (`res_ari.so`),
//! [`Ari`] (the shared state).

pub mod api;
pub mod apps;
pub mod auth;
mod bridges;
pub mod broadcast;
pub mod cli;
pub mod config;
mod enter;
pub mod error;
pub mod events;
pub mod http;
pub mod json;
mod module;
pub mod outbound;
pub mod params;
mod playback;
mod recording;
mod resources;
mod rest_ws;
mod snoop;
pub mod stasis;
mod state;
mod websocket;

use std::sync::Arc;

use obelus_core::Core;

pub use config::AriConf;
pub use module::AriModule;
pub use state::Ari;

/// Starts the interface for `core`: the shared state, the event bus tap,
/// device states saved in AstDB, received text messages, and `Stasis()`
/// in the dialplan executor.
/// The module calls this at load; tests call it to run ARI without the
/// module's HTTP server.
pub async fn start(core: &Arc<Core>, conf: AriConf) -> Arc<Ari> {
    let ari = Ari::new(Arc::clone(core), conf);
    events::attach(&ari);
    resources::restore_device_states(&ari).await;
    resources::take_messages(&ari);
    module::register_stasis(core, &ari);
    core.provide(Arc::clone(&ari));
    ari
}
