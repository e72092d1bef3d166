//! RFC 3327 Path, as Asterisk's res_pjsip_path applies it: a phone behind an
//! edge proxy (Kamailio, OpenSIPS) registers through it, the proxy adds a
//! `Path` header naming itself, and the registrar (with the AOR's
//! `support_path=yes`) keeps that path with the contact (`ps_contacts.path`,
//! the Path header lines joined by commas). Requests Obelus then sends to
//! the contact (a `Dial` INVITE, a qualify OPTIONS, an out-of-dialog
//! MESSAGE) carry the path as a pre-loaded route set: `Route` headers in
//! order, the Request-URI still the contact, and the request leaves for the
//! first hop (loose routing, RFC 3261 §16.12), so it goes back through the
//! proxy the phone is reachable by.

use obelus_sip::parse::split_list;
use obelus_sip::{HeaderName, Request};
use obelus_sorcery::Object;

use crate::route::{Route, RouteError, route_request};
use crate::session::dialog::bare_uri;
use crate::stack::Shared;

/// The option tag of RFC 3327 (`Supported: path`, `Require: path`).
pub(crate) const TAG: &str = "path";

/// The path of a REGISTER as Asterisk stores it: every `Path` header line,
/// joined by commas, in order (the hop nearest to us first). `None`
/// without one.
pub(crate) fn of_register(req: &Request) -> Option<String> {
    let lines: Vec<&str> = req
        .headers()
        .get_all(HeaderName::Path)
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    (!lines.is_empty()).then(|| lines.join(","))
}

/// True when `values` (a Supported or Require list) names `path`.
pub(crate) fn names_path<'a>(mut values: impl Iterator<Item = &'a str>) -> bool {
    values.any(|v| v.trim().eq_ignore_ascii_case(TAG))
}

/// The `Route` values a stored path pre-loads, in order (empty for none).
pub(crate) fn route_set(path: &str) -> Vec<String> {
    split_list(path)
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Where a request to a contact with this path goes: the URI of its first
/// hop (loose routing), `None` for an empty path.
pub(crate) fn first_hop(path: &str) -> Option<String> {
    route_set(path).first().map(|r| bare_uri(r))
}

/// How a request to the contact `uri`, registered through `path`, leaves
/// for `endpoint`: toward the path's first hop when there is one (with
/// the endpoint's transport, as any request of ours), else to the contact
/// itself ([`route_request`]).
pub(crate) async fn route(
    shared: &Shared,
    uri: &str,
    path: &str,
    endpoint: Option<&Object>,
) -> Result<Route, RouteError> {
    match first_hop(path) {
        Some(hop) => route_request(shared, &hop, endpoint).await,
        None => route_request(shared, uri, endpoint).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn register(extra: &str) -> Request {
        Request::parse(format!(
            "REGISTER sip:192.0.2.1 SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.50:5060;branch=z9hG4bK-p\r\n\
Via: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK-u\r\n\
From: <sip:101@192.0.2.1>;tag=a\r\nTo: <sip:101@192.0.2.1>\r\n\
Call-ID: c1\r\nCSeq: 1 REGISTER\r\nContact: <sip:101@10.0.0.5:5060>\r\n\
{extra}Content-Length: 0\r\n\r\n"
        ))
        .unwrap()
    }

    /// RFC 3327 §5.3: the registrar keeps the Path values in order;
    /// Asterisk joins the header lines with commas.
    #[test]
    fn the_path_is_every_line_joined_by_commas() {
        let req = register(
            "Path: <sip:edge.example;lr>\r\nPath: <sip:p2.example:5070;lr>, <sip:p3.example;lr>\r\n",
        );
        let path = of_register(&req).unwrap();
        assert_eq!(
            path,
            "<sip:edge.example;lr>,<sip:p2.example:5070;lr>, <sip:p3.example;lr>"
        );
        assert_eq!(
            route_set(&path),
            vec![
                "<sip:edge.example;lr>",
                "<sip:p2.example:5070;lr>",
                "<sip:p3.example;lr>"
            ]
        );
        assert_eq!(first_hop(&path).as_deref(), Some("sip:edge.example;lr"));
        assert_eq!(of_register(&register("")), None);
        assert!(route_set("").is_empty());
        assert_eq!(first_hop(""), None);
    }

    #[test]
    fn option_tags_are_matched_without_case() {
        let req = register("Supported: replaces, PATH\r\nRequire: outbound\r\n");
        assert!(names_path(req.headers().supported()));
        assert!(!names_path(req.headers().require()));
    }
}
