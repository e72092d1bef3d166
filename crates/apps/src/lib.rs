//! obelus-apps: what runs on a channel — the dialplan executor, the
//! dialplan applications and functions, and the alternative switches.
//!
//! * [`pbx`]: the executor (`__ast_pbx_run`): [`pbx::Executor`] is shared,
//!   [`pbx::Pbx`] is one run on one channel (its task owns the channel's
//!   mailbox), [`pbx::run`] the loop with `i`/`e`/`h` handling.
//! * [`registry`]: the [`registry::Application`] and [`registry::Function`]
//!   traits and their registry; [`applications`] and [`functions`] hold one
//!   file per application or function.
//! * [`scope::ChannelScope`]: `${}` lookup on a channel (built-ins, channel
//!   variables, globals, functions).
//! * [`switch`]: `switch => Realtime/...` providers; [`realtime_switch`]
//!   reads the `extensions` table.
//! * [`local`]: the `Local/exten@context` channel technology;
//!   [`unicast_rtp`]: `UnicastRTP/host:port`, plain RTP to an external
//!   host (ARI `externalMedia`).
//! * [`originate`]: call a dial string and send the answered channel to
//!   the dialplan or an application (AMI Originate, ARI).
//! * [`sounds`]: sound files found as Asterisk finds them
//!   (`sounds/<language>/<name>.<format>`); [`prompts`]: the few prompts
//!   Obelus generates when no sound pack is installed. The media
//!   applications (`Playback`, `Background`, `Read`, `Record`, ...) play
//!   and record through the channel driver's media stream.
//! * [`recording`]: recording files and the media tap every recorder uses
//!   (MixMonitor here, ARI's recordings beside it).
//! * [`moh`]: music on hold (`res_musiconhold.so`, its own module
//!   [`moh::MusicOnHoldModule`]): `musiconhold.conf` classes, starting and
//!   stopping music on a channel for the applications, Dial, hold and ARI.
//! * [`parking`]: call parking (`res_parking.so`, its own module
//!   [`parking::ParkingModule`]): lots, slots, `Park`/`ParkedCall`.
//! * [`module::PbxModule`]: the module that installs all of it.
//!
//! Layer: "core" (above channels and the dialplan model, below the channel
//! drivers, which start the executor through `obelus_core::channel::Pbx`).

pub mod applications;
mod detect;
pub mod functions;
pub mod globals;
pub mod local;
mod media;
pub mod module;
pub mod moh;
mod options;
pub mod originate;
pub mod parking;
pub mod pbx;
pub mod prompts;
pub mod realtime_switch;
pub mod recording;
pub mod registry;
pub mod scope;
pub mod sounds;
pub mod switch;
#[cfg(test)]
mod testing;
pub mod unicast_rtp;

pub use module::PbxModule;
