//! The registrar's decision, sans-IO (RFC 3261 §10.3 with Asterisk's
//! res_pjsip_registrar rules): given a REGISTER, the AOR's policy and the
//! bindings it has now, what to answer and which bindings to add, refresh or
//! remove. Storage (sorcery `contact` objects) and sockets live in the stack.

use obelus_sip::{ContactList, Request, StatusCode};
use obelus_sorcery::Object;

/// The registration options of an `aor` object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AorPolicy {
    /// `max_contacts`: 0 means the AOR takes no registrations (403).
    pub max_contacts: u64,
    /// `remove_existing`: make room by dropping the oldest bindings.
    pub remove_existing: bool,
    /// `default_expiration`: when the request names no expiry.
    pub default_expiration: u64,
    /// `minimum_expiration`: below it, 423 with Min-Expires.
    pub minimum_expiration: u64,
    /// `maximum_expiration`: above it, the expiry is clamped.
    pub maximum_expiration: u64,
    /// `support_path`: keep the REGISTER's Path with its contacts (RFC
    /// 3327); without it a `Require: path` is refused with 420.
    pub support_path: bool,
}

impl AorPolicy {
    /// The policy of an `aor` object (defaults from schema.md §5 when an
    /// option is somehow absent).
    pub fn from_object(aor: &Object) -> AorPolicy {
        AorPolicy {
            max_contacts: aor.uint("max_contacts").unwrap_or(0),
            remove_existing: aor.bool("remove_existing").unwrap_or(false),
            default_expiration: aor.uint("default_expiration").unwrap_or(3600),
            minimum_expiration: aor.uint("minimum_expiration").unwrap_or(60),
            maximum_expiration: aor.uint("maximum_expiration").unwrap_or(7200),
            support_path: aor.bool("support_path").unwrap_or(false),
        }
    }
}

/// One registered contact of an AOR.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// The contact URI, as the UA sent it (the id hashes this).
    pub uri: String,
    /// UNIX time when it lapses.
    pub expiration_time: u64,
    /// `User-Agent` of the REGISTER.
    pub user_agent: String,
    /// Host of the top Via.
    pub via_addr: String,
    /// Port of the top Via (0 when absent).
    pub via_port: u16,
    /// Call-ID of the REGISTER.
    pub call_id: String,
    /// The REGISTER's Path (RFC 3327, comma-joined as Asterisk stores it;
    /// empty without one): the route set of requests to this contact.
    pub path: String,
}

/// A change to the stored bindings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Create, or refresh, the binding with this URI.
    Upsert(Binding),
    /// Remove the binding with this URI.
    Remove(String),
}

/// What to answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Refuse with this status (and reason phrase); `min_expires` goes in a
    /// Min-Expires header (423, RFC 3261 §10.3 step 7), `unsupported` in an
    /// Unsupported header (420, RFC 3261 §8.2.2.3).
    Reject {
        /// The status.
        status: StatusCode,
        /// The reason phrase.
        reason: &'static str,
        /// Min-Expires for a 423.
        min_expires: Option<u64>,
        /// The option tag a 420 names.
        unsupported: Option<&'static str>,
    },
    /// 200 OK: apply `changes`, then list `bindings` (every binding the
    /// AOR has afterwards) with their remaining time.
    Accept {
        /// Changes to store.
        changes: Vec<Change>,
        /// The bindings after the changes.
        bindings: Vec<Binding>,
        /// With `support_path`: the REGISTER's Path, echoed in the 200
        /// (RFC 3327 §5.3).
        path: Option<String>,
    },
}

fn reject(status: StatusCode, reason: &'static str) -> Outcome {
    Outcome::Reject {
        status,
        reason,
        min_expires: None,
        unsupported: None,
    }
}

/// 420 Bad Extension, naming `unsupported` when it is an option tag we do
/// not support.
fn bad_extension(unsupported: Option<&'static str>) -> Outcome {
    Outcome::Reject {
        status: StatusCode::BAD_EXTENSION,
        reason: "Bad Extension",
        min_expires: None,
        unsupported,
    }
}

/// Decides a REGISTER for an AOR holding `existing` bindings at UNIX time
/// `now`.
pub fn register(req: &Request, policy: &AorPolicy, existing: &[Binding], now: u64) -> Outcome {
    let h = req.headers();
    let Ok(contacts) = h.contacts() else {
        return reject(StatusCode::BAD_REQUEST, "Bad Contact Header");
    };
    let Ok(header_expires) = h.expires() else {
        return reject(StatusCode::BAD_REQUEST, "Bad Expires Header");
    };
    // RFC 3261 §8.2.2.3: an extension the request requires and this AOR
    // does not do is refused (RFC 3327 §5.3 for Path).
    if !policy.support_path && crate::path::names_path(h.require()) {
        return bad_extension(Some(crate::path::TAG));
    }
    let path = if policy.support_path {
        crate::path::of_register(req)
    } else {
        None
    };
    // As Asterisk: a Path the phone did not consent to (no `Supported:
    // path`) was added by a proxy modifying the request against RFC 3327
    // §5.1, and is refused.
    if path.is_some() && !crate::path::names_path(h.supported()) {
        return bad_extension(None);
    }
    let addresses = match contacts {
        // RFC 3261 §10.3 step 6: `*` only with Expires: 0 and alone.
        ContactList::Star if header_expires == Some(0) => {
            return Outcome::Accept {
                changes: existing
                    .iter()
                    .map(|b| Change::Remove(b.uri.clone()))
                    .collect(),
                bindings: Vec::new(),
                path,
            };
        }
        ContactList::Star => return reject(StatusCode::BAD_REQUEST, "Bad Request"),
        ContactList::Addresses(a) => a,
    };
    if addresses.is_empty() {
        // A query: list the bindings (RFC 3261 §10.2.3).
        return Outcome::Accept {
            changes: Vec::new(),
            bindings: existing.to_vec(),
            path,
        };
    }
    if policy.max_contacts == 0 {
        return reject(StatusCode::FORBIDDEN, "Forbidden");
    }
    let (via_addr, via_port) = match h.via() {
        Ok(v) => (v.host().to_string(), v.port().unwrap_or(0)),
        Err(_) => (String::new(), 0),
    };
    let mut bindings: Vec<Binding> = existing.to_vec();
    let mut changes = Vec::new();
    let mut touched: Vec<String> = Vec::new();
    for contact in &addresses {
        let Ok(param) = contact.expires() else {
            return reject(StatusCode::BAD_REQUEST, "Bad Contact Header");
        };
        let mut expires = param
            .map(u64::from)
            .or(header_expires.map(u64::from))
            .unwrap_or(policy.default_expiration);
        if expires != 0 && expires < policy.minimum_expiration {
            return Outcome::Reject {
                status: StatusCode::INTERVAL_TOO_BRIEF,
                reason: "Interval Too Brief",
                min_expires: Some(policy.minimum_expiration),
                unsupported: None,
            };
        }
        if policy.maximum_expiration > 0 && expires > policy.maximum_expiration {
            expires = policy.maximum_expiration;
        }
        let uri = contact.uri().as_str().to_owned();
        bindings.retain(|b| b.uri != uri);
        touched.retain(|u| *u != uri);
        if expires == 0 {
            if existing.iter().any(|b| b.uri == uri) {
                changes.push(Change::Remove(uri));
            }
            continue;
        }
        let binding = Binding {
            uri: uri.clone(),
            expiration_time: now.saturating_add(expires),
            user_agent: h.user_agent().unwrap_or("").to_owned(),
            via_addr: via_addr.clone(),
            via_port,
            call_id: h.call_id().to_owned(),
            // As Asterisk: a refresh without a Path keeps the one stored.
            path: path
                .clone()
                .or_else(|| {
                    existing
                        .iter()
                        .find(|b| b.uri == uri)
                        .map(|b| b.path.clone())
                })
                .unwrap_or_default(),
        };
        bindings.push(binding.clone());
        touched.push(uri);
        changes.push(Change::Upsert(binding));
    }
    let max = usize::try_from(policy.max_contacts).unwrap_or(usize::MAX);
    if bindings.len() > max {
        if !policy.remove_existing {
            return reject(StatusCode::FORBIDDEN, "Forbidden");
        }
        // Asterisk's remove_existing: the bindings this request did not
        // name go first, soonest to expire first.
        let mut others: Vec<Binding> = bindings
            .iter()
            .filter(|b| !touched.contains(&b.uri))
            .cloned()
            .collect();
        others.sort_by_key(|b| b.expiration_time);
        for old in others {
            if bindings.len() <= max {
                break;
            }
            bindings.retain(|b| b.uri != old.uri);
            changes.push(Change::Remove(old.uri));
        }
        if bindings.len() > max {
            return reject(StatusCode::FORBIDDEN, "Forbidden");
        }
    }
    Outcome::Accept {
        changes,
        bindings,
        path,
    }
}

/// The contact header values for a 200 OK: `<uri>;expires=N` with the time
/// left (RFC 3261 §10.3 step 8), each URI as the phone sent it (without
/// the `x-ast-txp` parameter `symmetric_transport` keeps in it).
pub fn contact_values(bindings: &[Binding], now: u64) -> Vec<String> {
    bindings
        .iter()
        .map(|b| {
            format!(
                "<{}>;expires={}",
                crate::symmetric::on_the_wire(&b.uri),
                b.expiration_time.saturating_sub(now)
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(contact: &str, expires: Option<u32>) -> Request {
        req_with(contact, expires, "")
    }

    /// A REGISTER with `extra` header lines (each ending in CRLF).
    fn req_with(contact: &str, expires: Option<u32>, extra: &str) -> Request {
        let mut s = String::from(
            "REGISTER sip:127.0.0.1 SIP/2.0\r\n\
Via: SIP/2.0/UDP 10.0.0.1:5061;branch=z9hG4bK-1\r\n\
From: <sip:101@127.0.0.1>;tag=1\r\nTo: <sip:101@127.0.0.1>\r\n\
Call-ID: c1\r\nCSeq: 1 REGISTER\r\nUser-Agent: ua\r\n",
        );
        if !contact.is_empty() {
            s.push_str(&format!("Contact: {contact}\r\n"));
        }
        if let Some(e) = expires {
            s.push_str(&format!("Expires: {e}\r\n"));
        }
        s.push_str(extra);
        s.push_str("Content-Length: 0\r\n\r\n");
        Request::parse(s.into_bytes()).unwrap()
    }

    const POLICY: AorPolicy = AorPolicy {
        max_contacts: 1,
        remove_existing: true,
        default_expiration: 3600,
        minimum_expiration: 60,
        maximum_expiration: 7200,
        support_path: false,
    };

    fn binding(uri: &str, exp: u64) -> Binding {
        Binding {
            uri: uri.into(),
            expiration_time: exp,
            user_agent: String::new(),
            via_addr: String::new(),
            via_port: 0,
            call_id: String::new(),
            path: String::new(),
        }
    }

    fn accepted(o: Outcome) -> (Vec<Change>, Vec<Binding>) {
        match o {
            Outcome::Accept {
                changes, bindings, ..
            } => (changes, bindings),
            other => panic!("expected 200, got {other:?}"),
        }
    }

    #[test]
    fn new_binding_uses_default_expiration_and_records_via_rfc3261_10_3() {
        let (changes, bindings) = accepted(register(
            &req("<sip:101@10.0.0.1:5061>", None),
            &POLICY,
            &[],
            1000,
        ));
        assert_eq!(bindings.len(), 1);
        let b = &bindings[0];
        assert_eq!(b.uri, "sip:101@10.0.0.1:5061");
        assert_eq!(b.expiration_time, 1000 + 3600);
        assert_eq!((b.via_addr.as_str(), b.via_port), ("10.0.0.1", 5061));
        assert_eq!((b.user_agent.as_str(), b.call_id.as_str()), ("ua", "c1"));
        assert_eq!(changes, vec![Change::Upsert(b.clone())]);
        assert_eq!(
            contact_values(&bindings, 1100),
            vec!["<sip:101@10.0.0.1:5061>;expires=3500"]
        );
    }

    #[test]
    fn contact_param_wins_over_header_and_maximum_clamps() {
        let (_, b) = accepted(register(
            &req("<sip:a@h>;expires=120", Some(300)),
            &POLICY,
            &[],
            0,
        ));
        assert_eq!(b[0].expiration_time, 120);
        let (_, b) = accepted(register(&req("<sip:a@h>", Some(99999)), &POLICY, &[], 0));
        assert_eq!(b[0].expiration_time, 7200);
    }

    /// RFC 3261 §10.3 step 7: too brief -> 423 with Min-Expires.
    #[test]
    fn interval_too_brief_423() {
        assert_eq!(
            register(&req("<sip:a@h>", Some(10)), &POLICY, &[], 0),
            Outcome::Reject {
                status: StatusCode::INTERVAL_TOO_BRIEF,
                reason: "Interval Too Brief",
                min_expires: Some(60),
                unsupported: None,
            }
        );
    }

    /// Asterisk: an AOR with max_contacts=0 accepts no registrations.
    #[test]
    fn max_contacts_zero_is_403() {
        let p = AorPolicy {
            max_contacts: 0,
            ..POLICY
        };
        assert!(matches!(
            register(&req("<sip:a@h>", None), &p, &[], 0),
            Outcome::Reject {
                status: StatusCode::FORBIDDEN,
                ..
            }
        ));
    }

    #[test]
    fn remove_existing_replaces_the_old_binding() {
        let old = binding("sip:old@h", 500);
        let (changes, b) = accepted(register(&req("<sip:new@h>", None), &POLICY, &[old], 0));
        assert_eq!(b.len(), 1);
        assert_eq!(b[0].uri, "sip:new@h");
        assert!(changes.contains(&Change::Remove("sip:old@h".into())));
        let p = AorPolicy {
            remove_existing: false,
            ..POLICY
        };
        assert!(matches!(
            register(
                &req("<sip:new@h>", None),
                &p,
                &[binding("sip:old@h", 500)],
                0
            ),
            Outcome::Reject {
                status: StatusCode::FORBIDDEN,
                ..
            }
        ));
    }

    #[test]
    fn refresh_keeps_one_binding() {
        let (changes, b) = accepted(register(
            &req("<sip:a@h>", Some(600)),
            &POLICY,
            &[binding("sip:a@h", 100)],
            50,
        ));
        assert_eq!(b.len(), 1);
        assert_eq!(b[0].expiration_time, 650);
        assert!(matches!(&changes[..], [Change::Upsert(_)]));
    }

    /// RFC 3261 §10.2.2: expires=0 removes one binding; `*` with Expires: 0
    /// removes all; `*` without Expires: 0 is a 400 (§10.3 step 6).
    #[test]
    fn unregister_one_and_all() {
        let existing = [binding("sip:a@h", 100), binding("sip:b@h", 100)];
        let p = AorPolicy {
            max_contacts: 5,
            ..POLICY
        };
        let (changes, b) = accepted(register(&req("<sip:a@h>", Some(0)), &p, &existing, 0));
        assert_eq!(changes, vec![Change::Remove("sip:a@h".into())]);
        assert_eq!(b, vec![existing[1].clone()]);
        let (changes, b) = accepted(register(&req("*", Some(0)), &p, &existing, 0));
        assert_eq!(changes.len(), 2);
        assert!(b.is_empty());
        assert!(matches!(
            register(&req("*", None), &p, &existing, 0),
            Outcome::Reject {
                status: StatusCode::BAD_REQUEST,
                ..
            }
        ));
    }

    const PATH: AorPolicy = AorPolicy {
        support_path: true,
        ..POLICY
    };

    /// RFC 3327 §5.3 with `support_path=yes`: the Path is stored with every
    /// contact of the REGISTER and echoed in the 200.
    #[test]
    fn path_is_kept_with_the_contacts_rfc3327() {
        let r = req_with(
            "<sip:101@10.0.0.5:5060>",
            None,
            "Supported: path\r\nPath: <sip:edge.example:5070;lr>\r\n",
        );
        match register(&r, &PATH, &[], 0) {
            Outcome::Accept {
                changes,
                bindings,
                path,
            } => {
                assert_eq!(path.as_deref(), Some("<sip:edge.example:5070;lr>"));
                assert_eq!(bindings[0].path, "<sip:edge.example:5070;lr>");
                assert!(matches!(&changes[..], [Change::Upsert(b)] if b.path == bindings[0].path));
            }
            other => panic!("expected 200, got {other:?}"),
        }
        // Without a Path a new contact has none, and a refreshed one keeps
        // its own (as Asterisk updates the path only when one comes).
        let (_, b) = accepted(register(
            &req("<sip:101@10.0.0.5:5060>", None),
            &PATH,
            &[],
            0,
        ));
        assert_eq!(b[0].path, "");
        let stored = Binding {
            path: "<sip:edge.example;lr>".into(),
            ..binding("sip:101@10.0.0.5:5060", 100)
        };
        let (_, b) = accepted(register(
            &req("<sip:101@10.0.0.5:5060>", None),
            &PATH,
            &[stored],
            0,
        ));
        assert_eq!(b[0].path, "<sip:edge.example;lr>");
    }

    /// Without `support_path`, a Path is ignored, and a REGISTER requiring
    /// the extension gets 420 with `Unsupported: path` (RFC 3261 §8.2.2.3).
    #[test]
    fn without_support_path_path_is_ignored_and_require_refused() {
        let plain = req_with(
            "<sip:101@10.0.0.5:5060>",
            None,
            "Supported: path\r\nPath: <sip:edge.example;lr>\r\n",
        );
        match register(&plain, &POLICY, &[], 0) {
            Outcome::Accept { bindings, path, .. } => {
                assert_eq!(path, None);
                assert_eq!(bindings[0].path, "");
            }
            other => panic!("expected 200, got {other:?}"),
        }
        let required = req_with(
            "<sip:101@10.0.0.5:5060>",
            None,
            "Require: path\r\nSupported: path\r\nPath: <sip:edge.example;lr>\r\n",
        );
        assert_eq!(
            register(&required, &POLICY, &[], 0),
            Outcome::Reject {
                status: StatusCode::BAD_EXTENSION,
                reason: "Bad Extension",
                min_expires: None,
                unsupported: Some("path"),
            }
        );
        assert!(matches!(
            register(&required, &PATH, &[], 0),
            Outcome::Accept { .. }
        ));
    }

    /// As Asterisk's registrar: a Path the phone did not consent to (no
    /// `Supported: path`, RFC 3327 §5.1) is an invalid modification by a
    /// proxy, refused with 420.
    #[test]
    fn a_path_without_consent_is_refused() {
        let r = req_with(
            "<sip:101@10.0.0.5:5060>",
            None,
            "Path: <sip:edge.example;lr>\r\n",
        );
        assert_eq!(
            register(&r, &PATH, &[], 0),
            Outcome::Reject {
                status: StatusCode::BAD_EXTENSION,
                reason: "Bad Extension",
                min_expires: None,
                unsupported: None,
            }
        );
    }

    /// RFC 3261 §10.2.3: no Contact is a query listing the bindings.
    #[test]
    fn query_lists_bindings() {
        let existing = [binding("sip:a@h", 100)];
        let (changes, b) = accepted(register(&req("", None), &POLICY, &existing, 0));
        assert!(changes.is_empty());
        assert_eq!(b, existing.to_vec());
    }
}

/// `rewrite_contact=yes`: the REGISTER's Contact URIs with their host and
/// port replaced by where the request came from, so that a phone behind
/// NAT is reached at its public address (as Asterisk rewrites the Contact
/// before the registrar sees it). `transport` (`TCP`, `TLS`, `WS`: the
/// one the REGISTER came over, for anything but UDP) replaces the URIs'
/// `transport` parameter, as Asterisk's rewrite does, so the contact is
/// reached over the kind of connection it came from. `None` if nothing
/// needs rewriting or the request cannot be rebuilt.
pub fn rewrite_contacts(
    req: &Request,
    source: std::net::SocketAddr,
    transport: Option<&str>,
) -> Option<Request> {
    let obelus_sip::ContactList::Addresses(list) = req.headers().contacts().ok()? else {
        return None;
    };
    if list.is_empty() {
        return None;
    }
    let host = match source {
        std::net::SocketAddr::V4(a) => format!("{}:{}", a.ip(), a.port()),
        std::net::SocketAddr::V6(a) => format!("[{}]:{}", a.ip(), a.port()),
    };
    let mut values = Vec::new();
    for contact in &list {
        let uri = contact.uri().as_str().to_owned();
        let (scheme, rest) = uri.split_once(':')?;
        let (user, after) = match rest.split_once('@') {
            Some((u, a)) => (Some(u), a),
            None => (None, rest),
        };
        let params = after.find([';', '?']).map_or("", |i| &after[i..]);
        let params = match transport {
            Some(t) => with_transport(params, t),
            None => params.to_owned(),
        };
        let new_uri = match user {
            Some(u) => format!("{scheme}:{u}@{host}{params}"),
            None => format!("{scheme}:{host}{params}"),
        };
        let raw = contact.params().as_str();
        values.push(format!("<{new_uri}>{raw}"));
    }
    let mut b = obelus_sip::RequestBuilder::from_request(req).remove_header("Contact");
    for v in values {
        b = b.header("Contact", v);
    }
    let b = if req.body().is_empty() {
        b
    } else {
        b.body(
            req.headers()
                .get(obelus_sip::HeaderName::ContentType)
                .unwrap_or("application/octet-stream")
                .to_owned(),
            req.body().to_vec(),
        )
    };
    b.build().ok()
}

/// URI parameters (and headers) `;a;b=c?h=v` with `transport=` set to
/// `transport`.
fn with_transport(params: &str, transport: &str) -> String {
    let (params, headers) = match params.find('?') {
        Some(i) => params.split_at(i),
        None => (params, ""),
    };
    let mut out: String = params
        .split(';')
        .filter(|p| {
            !p.is_empty()
                && !p
                    .split('=')
                    .next()
                    .is_some_and(|n| n.trim().eq_ignore_ascii_case("transport"))
        })
        .map(|p| format!(";{p}"))
        .collect();
    out.push_str(&format!(";transport={transport}{headers}"));
    out
}

#[cfg(test)]
mod rewrite_tests {
    use super::*;

    #[test]
    fn contacts_are_rewritten_to_the_source_address() {
        let req = Request::parse(
            &b"REGISTER sip:192.0.2.1 SIP/2.0\r\n\
Via: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKr1\r\n\
From: <sip:101@192.0.2.1>;tag=a\r\nTo: <sip:101@192.0.2.1>\r\n\
Call-ID: c1\r\nCSeq: 1 REGISTER\r\n\
Contact: <sip:101@10.0.0.5:5060;transport=udp>;expires=3600\r\n\
Content-Length: 0\r\n\r\n"[..],
        )
        .unwrap();
        let out = rewrite_contacts(&req, "203.0.113.7:40000".parse().unwrap(), None).unwrap();
        let contact = out.headers().get(obelus_sip::HeaderName::Contact).unwrap();
        assert_eq!(
            contact,
            "<sip:101@203.0.113.7:40000;transport=udp>;expires=3600"
        );
    }

    /// Over TCP the rewritten contact says so (Asterisk's res_pjsip_nat
    /// sets the receiving transport's name), replacing what the phone put.
    #[test]
    fn a_stream_contact_names_its_transport() {
        let req = Request::parse(
            &b"REGISTER sip:192.0.2.1 SIP/2.0\r\n\
Via: SIP/2.0/TCP 10.0.0.5:5060;branch=z9hG4bKr1\r\n\
From: <sip:101@192.0.2.1>;tag=a\r\nTo: <sip:101@192.0.2.1>\r\n\
Call-ID: c1\r\nCSeq: 1 REGISTER\r\n\
Contact: <sip:101@10.0.0.5:5060;ob;transport=udp>;expires=3600\r\n\
Contact: <sip:101@10.0.0.5>\r\n\
Content-Length: 0\r\n\r\n"[..],
        )
        .unwrap();
        let out =
            rewrite_contacts(&req, "203.0.113.7:40000".parse().unwrap(), Some("TCP")).unwrap();
        let contacts: Vec<&str> = out
            .headers()
            .get_all(obelus_sip::HeaderName::Contact)
            .collect();
        assert_eq!(
            contacts,
            vec![
                "<sip:101@203.0.113.7:40000;ob;transport=TCP>;expires=3600",
                "<sip:101@203.0.113.7:40000;transport=TCP>"
            ]
        );
    }
}
