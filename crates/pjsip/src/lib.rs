//! Obelus PJSIP: the SIP channel driver and its SIP applications.
//!
//! For now this crate holds the PJSIP object types ([`objects`]): endpoint,
//! aor, auth, contact, domain_alias, identify, transport, registration (plus
//! system and global), registered with `obelus-sorcery` under Asterisk's
//! option names and defaults. The SIP stack (identification, registrar,
//! sessions, qualify) builds on them.
//!
//! Layer: "apps" above `obelus-sip` and `obelus-sorcery`.

pub mod module;
pub mod objects;
mod show;

pub use module::PjsipModule;
