//! # obelus-sip: the SIP protocol layer, sans-IO
//!
//! Bytes in, typed messages out, and back: the parser, serializer and
//! builders for SIP messages (RFC 3261), SDP (RFC 4566) and Digest
//! authentication (RFC 7616, RFC 8760). Nothing here touches a socket or a
//! clock: the `transport` crate feeds datagrams and stream bytes in, and the
//! registrar and channel driver above read typed headers out.
//!
//! Layer: **protocol** (below the intercept chain and the SIP applications,
//! above the transports).
//!
//! Main types:
//! - [`Message`], [`Request`], [`Response`]: a zero-copy parse of one
//!   message over a [`bytes::Bytes`] buffer, with a header index
//!   ([`Headers`]) and lazily parsed typed headers ([`Via`], [`NameAddr`],
//!   [`CSeq`], [`AuthHeader`], [`MediaType`]);
//! - [`Method`], [`StatusCode`], [`Uri`], [`Version`]: values that cannot be
//!   invalid;
//! - [`frame_stream`]: message boundaries on TCP/TLS;
//! - [`RequestBuilder`], [`ResponseBuilder`], [`Response::for_request`];
//! - [`ParseError`]: what was wrong, and the response to send for it;
//! - [`sdp::SessionDescription`] and [`digest`];
//! - [`transaction`]: the RFC 3261 §17 state machines, driven by explicit
//!   events and a caller-supplied clock;
//! - [`session_timer`]: RFC 4028 session timers, the same way;
//! - [`locate`]: RFC 3263 server location (NAPTR, SRV, A/AAAA), sans-IO.
//!
//! ```
//! use obelus_sip::{Message, StatusCode, Response};
//!
//! let msg = Message::parse(&b"OPTIONS sip:bob@example.com SIP/2.0\r\n\
//! Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds\r\n\
//! f: <sip:alice@example.com>;tag=1928301774\r\nt: <sip:bob@example.com>\r\n\
//! i: a84b4c76e66710\r\nCSeq: 1 OPTIONS\r\nl: 0\r\n\r\n"[..]).unwrap();
//! let Message::Request(req) = msg else { unreachable!() };
//! assert_eq!(req.headers().via().unwrap().branch(), Some("z9hG4bK776asdhds"));
//! let ok = Response::for_request(&req, StatusCode::OK).to_tag("x1").build().unwrap();
//! assert_eq!(ok.headers().to().unwrap().tag(), Some("x1"));
//! ```

pub mod digest;
mod error;
mod framing;
pub mod header;
mod ids;
pub mod locate;
mod message;
mod method;
pub mod parse;
pub mod sdp;
pub mod session_timer;
mod status;
pub mod transaction;
pub mod uri;
mod version;

pub use error::{HeaderError, ParseError};
pub use framing::{Frame, FrameError, MAX_BODY, MAX_HEAD, frame_stream};
pub use header::{
    AuthHeader, CSeq, ContactList, HeaderName, MediaType, NameAddr, Refresher, SessionExpires, Via,
};
pub use ids::{new_branch, new_call_id, new_tag};
pub use message::{
    BodyPart, Headers, Message, Request, RequestBuilder, Response, ResponseBuilder, Values,
};
pub use method::Method;
pub use status::StatusCode;
pub use uri::{Host, Scheme, Uri, UriError};
pub use version::Version;
