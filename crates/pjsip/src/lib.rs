//! Obelus PJSIP: the SIP channel driver and its SIP applications.
//!
//! The PJSIP object types ([`objects`]): endpoint, aor, auth, contact,
//! domain_alias, identify, transport, registration (plus system and global),
//! registered with `obelus-sorcery` under Asterisk's option names and
//! defaults; and the SIP stack on them ([`stack`]): UDP/TCP transports,
//! endpoint identification ([`identify`]), digest authentication
//! ([`auth`]), the registrar ([`registrar`], [`contacts`], with RFC 3327
//! Path for phones behind an edge proxy: `path`), qualify
//! ([`qualify`]), outbound registration ([`outbound_registration`]) and
//! call sessions, the channel driver ([`session`]).
//! Requests the stack originates choose their transport and connection in
//! one place (`route::route_request`: reusing the TCP, TLS or WebSocket
//! connection a contact registered over, or connecting out; a transport's
//! `symmetric_transport` in [`symmetric`]).
//!
//! Layer: "apps" above `obelus-sip` and `obelus-sorcery`.

pub mod auth;
pub mod contacts;
mod flows;
pub mod functions;
pub mod identify;
mod logger_cli;
mod messaging;
pub mod module;
pub mod objects;
mod outbound_auth;
pub mod outbound_registration;
mod path;
pub mod qualify;
pub mod registrar;
mod resolver;
mod route;
pub mod session;
mod show;
pub mod stack;
mod symmetric;
mod txn_table;
mod uac;

pub use module::PjsipModule;
pub use outbound_registration::OutboundRegistrationModule;
pub use stack::{SipStack, start_sip};
