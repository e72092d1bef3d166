//! Obelus core: what every module of the daemon shares.
//!
//! - [`Core`], the shared state (`Arc<Core>`) — settings from `asterisk.conf`,
//!   the console command registry, the module registry, shutdown.
//! - [`bridge`], bridges (two channels talking).
//! - [`features`], `features.conf`: DTMF feature codes in bridges.
//! - [`channel`], channels (call legs), their technologies and hangup causes.
//! - [`devicestate`], device states aggregated from channels, and custom ones.
//! - [`cli`], console commands, registered by modules, run by the foreground
//!   console, remote consoles and AMI alike.
//! - [`rtp`], the `res_rtp_asterisk.so` module running the media engine.
//! - [`module`], modules, `modules.conf`, load, unload and reload.
//! - [`message`], text messages outside calls (SIP MESSAGE).
//! - [`logging`], the logger's channels as other modules see them.
//! - [`settings`], which reads `asterisk.conf`.
//! - [`diagnostic`], configuration problems with file and line.
//!
//! Layer: "core", above the data layer (`obelus-conf`) and below the SIP,
//! dialplan, AMI and ARI modules, which plug in through [`module::Module`].

pub mod acl;
pub mod bridge;
pub mod builtin;
pub mod channel;
pub mod cli;
mod core_context;
pub mod devicestate;
pub mod diagnostic;
pub mod events;
pub mod features;
pub mod logging;
pub mod message;
pub mod module;
pub mod rtp;
pub mod settings;
pub mod shutdown;

pub use core_context::Core;

/// The version every interface reports (`core show version`, AMI banner, ARI).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// `Obelus <version>`: the default `User-Agent`/`Server` of SIP messages.
pub const USER_AGENT: &str = concat!("Obelus ", env!("CARGO_PKG_VERSION"));
