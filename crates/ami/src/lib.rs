//! Obelus AMI: the Asterisk Manager Interface (TCP 5038), compatible with
//! existing AMI client libraries and impossible to stall.
//!
//! - [`message`]: framing, input limits, response builders.
//! - [`config`]: `manager.conf` (listener, users, permissions, ACLs).
//! - [`actions`]: the action registry, login and the actions.
//! - [`render`]: bus events rendered once as AMI text.
//! - [`filter`]: `eventfilter` / `Filter`, legacy and advanced syntax.
//! - [`bridges`], [`hints`]: what the bus told about bridges and hint
//!   states (`BridgeList`, `BridgeInfo`, `ExtensionStatus`).
//! - [`session`]: one connection; the writer is the only thing a slow client
//!   can slow down, and it is dropped when a write misses its deadline.
//! - [`server`]: [`Ami`], the listener, sessions, throttling.
//! - [`queue`]: the durable action queue (`manager_queue` rows).
//! - [`http`]: AMI over HTTP (`/rawman`, `/manager`, `/mxml`).
//! - [`module`]: the `manager` module.
//!
//! Layer: an interface above the core; it renders the event bus and runs
//! console commands, and knows nothing of SIP or the dialplan.

pub mod actions;
pub mod bridges;
pub mod classes;
pub mod cli;
pub mod config;
pub mod filter;
pub mod hints;
pub mod http;
pub mod message;
pub mod module;
pub mod peers;
pub mod queue;
pub mod render;
pub mod server;
pub mod session;

pub use module::ManagerModule;
pub use server::Ami;

/// The AMI version Obelus reports (that of the Asterisk 23 it is compatible with).
pub const AMI_VERSION: &str = "12.0.0";

/// The first line every client receives.
pub const BANNER: &str = "Asterisk Call Manager/12.0.0\r\n";
