//! `symmetric_transport` (a `type=transport` option, as in Asterisk): a
//! phone that registers over such a transport is reached back over that
//! same transport. The transport's name is kept in the registered
//! contact's URI as the parameter `x-ast-txp` (so it shows in `pjsip show
//! contacts`, AMI and ARI, and lives in `ps_contacts` like the rest of
//! the URI); requests to the contact then leave by it, unless the
//! endpoint names a transport of its own or the URI's host is a name
//! rather than an address, and the parameter never goes on the wire.
//!
//! A phone cannot choose our transport: `x-ast-*` parameters it puts in
//! its Contact are removed before the registrar sees them, as Asterisk's
//! message filter does.
//!
//! (Calls a phone makes keep their transport anyway: a dialog's requests
//! leave the way its INVITE came, see [`crate::session`].)

use std::borrow::Cow;

use obelus_sip::{HeaderName, Request, RequestBuilder, Uri};

/// The URI parameter naming the transport a contact registered over.
pub(crate) const X_AST_TXP: &str = "x-ast-txp";

/// The transport saved in `uri` by `symmetric_transport`: its `x-ast-txp`
/// value, when the host is an IP address (a host name is looked up and
/// may lead elsewhere, as Asterisk's `ast_sip_get_transport_name` says).
pub(crate) fn saved_transport<'a>(uri: &Uri<'a>) -> Option<&'a str> {
    uri.host()?.ip()?;
    uri.params()
        .value(X_AST_TXP)
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// `uri` as it goes on the wire: without `x-ast-txp`.
pub(crate) fn on_the_wire(uri: &str) -> Cow<'_, str> {
    if !has_x_ast(uri) {
        return Cow::Borrowed(uri);
    }
    Cow::Owned(without_params(uri, |name| {
        name.eq_ignore_ascii_case(X_AST_TXP)
    }))
}

/// True when `text` holds an `x-ast-` parameter name (any case).
fn has_x_ast(text: &str) -> bool {
    text.as_bytes()
        .windows(6)
        .any(|w| w.eq_ignore_ascii_case(b"x-ast-"))
}

/// `uri` without the parameters whose name `drop` accepts (headers after
/// `?` are kept).
fn without_params(uri: &str, drop: impl Fn(&str) -> bool) -> String {
    let (address, headers) = match uri.find('?') {
        Some(i) => uri.split_at(i),
        None => (uri, ""),
    };
    let mut parts = address.split(';');
    let mut out = parts.next().unwrap_or_default().to_owned();
    for part in parts {
        let name = part.split('=').next().unwrap_or_default().trim();
        if !drop(name) {
            out.push(';');
            out.push_str(part);
        }
    }
    out.push_str(headers);
    out
}

/// The REGISTER as the registrar must see it: `x-ast-*` parameters the
/// phone put in its Contact URIs removed, and, when it arrived over a
/// `symmetric_transport` (`transport` names it), `x-ast-txp=<transport>`
/// added to each. `None` when nothing changes (the common case: no
/// rebuild) or the request cannot be rebuilt.
pub(crate) fn contacts(req: &Request, transport: Option<&str>) -> Option<Request> {
    let h = req.headers();
    if transport.is_none() && !h.get_all(HeaderName::Contact).any(has_x_ast) {
        return None;
    }
    let obelus_sip::ContactList::Addresses(list) = h.contacts().ok()? else {
        return None;
    };
    if list.is_empty() {
        return None;
    }
    let mut b = RequestBuilder::from_request(req).remove_header("Contact");
    for contact in &list {
        let mut uri = without_params(contact.uri().as_str(), |name| {
            name.len() >= 6 && name[..6].eq_ignore_ascii_case("x-ast-")
        });
        if let Some(t) = transport {
            // Before any `?headers`.
            let at = uri.find('?').unwrap_or(uri.len());
            uri.insert_str(at, &format!(";{X_AST_TXP}={t}"));
        }
        b = b.header("Contact", format!("<{uri}>{}", contact.params().as_str()));
    }
    b.build().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn register(contacts: &[&str]) -> Request {
        let mut text = String::from(
            "REGISTER sip:192.0.2.1 SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.9:5062;branch=z9hG4bKr1\r\n\
From: <sip:102@192.0.2.1>;tag=a\r\nTo: <sip:102@192.0.2.1>\r\n\
Call-ID: c1\r\nCSeq: 1 REGISTER\r\n",
        );
        for c in contacts {
            text.push_str(&format!("Contact: {c}\r\n"));
        }
        text.push_str("Content-Length: 0\r\n\r\n");
        Request::parse(text.into_bytes()).unwrap()
    }

    fn contact_values(req: &Request) -> Vec<String> {
        req.headers()
            .get_all(HeaderName::Contact)
            .map(str::to_owned)
            .collect()
    }

    /// Over a symmetric transport each contact keeps the transport's name;
    /// whatever `x-ast-*` the phone wrote is gone first.
    #[test]
    fn contacts_keep_the_transport_they_registered_over() {
        let req = register(&[
            "<sip:102@192.0.2.9:5062;ob>;expires=60",
            "<sip:102@192.0.2.9:5064;X-Ast-Txp=other;x-ast-orig-host=h?Subject=x>",
        ]);
        let marked = contacts(&req, Some("transport-b")).expect("rebuilt");
        assert_eq!(
            contact_values(&marked),
            vec![
                "<sip:102@192.0.2.9:5062;ob;x-ast-txp=transport-b>;expires=60",
                "<sip:102@192.0.2.9:5064;x-ast-txp=transport-b?Subject=x>",
            ]
        );
        assert_eq!(marked.headers().call_id(), "c1");
    }

    /// Over any other transport a phone cannot pick ours: its `x-ast-*`
    /// parameters are removed; a REGISTER without any is left alone.
    #[test]
    fn a_phone_cannot_choose_the_transport() {
        let req = register(&["<sip:102@192.0.2.9:5062;x-ast-txp=transport-b;lr>"]);
        let cleaned = contacts(&req, None).expect("rebuilt");
        assert_eq!(
            contact_values(&cleaned),
            vec!["<sip:102@192.0.2.9:5062;lr>"]
        );
        assert!(contacts(&register(&["<sip:102@192.0.2.9:5062>"]), None).is_none());
        assert!(contacts(&register(&["*"]), Some("t")).is_none());
    }

    /// The saved transport counts only for an address, not a host name;
    /// it never goes on the wire.
    #[test]
    fn the_saved_transport_routes_but_stays_home() {
        let uri = "sip:102@192.0.2.9:5062;x-ast-txp=transport-b;transport=tcp";
        assert_eq!(
            saved_transport(&Uri::parse(uri).unwrap()),
            Some("transport-b")
        );
        assert_eq!(
            saved_transport(&Uri::parse("sip:102@phone.example;x-ast-txp=t").unwrap()),
            None
        );
        assert_eq!(on_the_wire(uri), "sip:102@192.0.2.9:5062;transport=tcp");
        assert!(matches!(
            on_the_wire("sip:102@192.0.2.9"),
            Cow::Borrowed("sip:102@192.0.2.9")
        ));
    }
}
