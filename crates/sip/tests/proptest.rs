//! Property tests: the parser never panics on any bytes, and
//! serialize(parse(x)) round-trips for generated messages.

use obelus_sip::sdp::SessionDescription;
use obelus_sip::{ContactList, HeaderName, Message, Method, RequestBuilder, frame_stream};
use proptest::prelude::*;

/// Exercises every accessor of a parsed message; none may panic.
fn touch(m: &Message) {
    let h = m.headers();
    let _ = m.validate();
    let _ = h.vias().count();
    let _ = h
        .from()
        .map(|f| (f.tag(), f.display_name(), f.uri().host()));
    let _ = h.to();
    let _ = h.contacts();
    let _ = h.routes().count() + h.record_routes().count();
    let _ = (
        h.max_forwards(),
        h.expires(),
        h.content_type(),
        h.call_id(),
        h.cseq(),
    );
    for a in h.authorizations().chain(h.www_authenticate()).flatten() {
        let _ = (a.username(), a.nonce(), a.response(), a.params().count());
    }
    let _ = h.iter().count();
    let _ = h.supported().chain(h.allow()).count();
    if let Message::Request(r) = m {
        let _ = (
            r.uri().host(),
            r.uri().params().iter().count(),
            r.body_parts(),
        );
    }
    let again = Message::parse(m.to_bytes());
    assert!(
        again.is_ok(),
        "serialized form of a parsed message must parse: {again:?}"
    );
    let _ = SessionDescription::parse(m.body());
}

fn token() -> impl Strategy<Value = String> {
    "[A-Za-z0-9][A-Za-z0-9.!%*_+`'~-]{0,12}"
}

fn host() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z]([a-z0-9-]{0,7}[a-z0-9])?(\\.[a-z][a-z0-9]{0,8}){0,3}",
        (0u8..=255, 0u8..=255, 0u8..=255, 1u8..=254)
            .prop_map(|(a, b, c, d)| format!("{a}.{b}.{c}.{d}")),
        any::<[u16; 8]>().prop_map(|s| format!("[{}]", std::net::Ipv6Addr::from(s))),
    ]
}

fn display() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "[A-Za-z][A-Za-z0-9]{0,8}( [A-Za-z0-9]{1,8}){0,2}",
        "[ -~]{0,16}"
            .prop_map(|s| format!("\"{}\" ", s.replace('\\', "\\\\").replace('"', "\\\""))),
    ]
}

#[derive(Debug, Clone)]
struct Gen {
    method: Method,
    user: String,
    host: String,
    port: Option<u16>,
    vias: Vec<(String, String)>,
    from_display: String,
    from_tag: String,
    to_display: String,
    call_id: String,
    cseq: u32,
    contacts: Vec<String>,
    extra: Vec<(String, String)>,
    compact: bool,
    body: Vec<u8>,
}

fn message() -> impl Strategy<Value = Gen> {
    (
        prop_oneof![
            Just(Method::Invite),
            Just(Method::Register),
            Just(Method::Options),
            token().prop_map(|t| Method::parse(&t).unwrap())
        ],
        "[a-z0-9_.!~*'()&=+$,;?/-]{1,12}",
        host(),
        proptest::option::of(1u16..),
        proptest::collection::vec((host(), "[A-Za-z0-9]{1,16}"), 1..4),
        display(),
        "[A-Za-z0-9]{1,16}",
        display(),
        (
            "[A-Za-z0-9.!%*_+`'~-]{1,20}(@[a-z0-9.]{1,12})?",
            0u32..(1 << 31),
        ),
        proptest::collection::vec(host(), 0..3),
        proptest::collection::vec(
            (
                token().prop_filter("not a known header", |t| {
                    HeaderName::from_bytes(t.as_bytes()) == HeaderName::Other
                }),
                "[ -~]{0,30}",
            ),
            0..4,
        ),
        (any::<bool>(), proptest::collection::vec(any::<u8>(), 0..64)),
    )
        .prop_map(
            |(
                method,
                user,
                host,
                port,
                vias,
                from_display,
                from_tag,
                to_display,
                (call_id, cseq),
                contacts,
                extra,
                (compact, body),
            )| Gen {
                method,
                user,
                host,
                port,
                vias,
                from_display,
                from_tag,
                to_display,
                call_id,
                cseq,
                contacts,
                extra,
                compact,
                body,
            },
        )
}

fn build(g: &Gen) -> RequestBuilder {
    let port = g.port.map(|p| format!(":{p}")).unwrap_or_default();
    let n = |long: &'static str, short: &'static str| if g.compact { short } else { long };
    let mut b = RequestBuilder::new(g.method.clone(), format!("sip:{}@{}{port}", g.user, g.host));
    for (h, br) in &g.vias {
        b = b.header(
            n("Via", "v"),
            format!("SIP/2.0/UDP {h};branch=z9hG4bK{br};rport"),
        );
    }
    b = b
        .header(
            n("From", "f"),
            format!(
                "{}<sip:alice@{}>;tag={}",
                g.from_display, g.host, g.from_tag
            ),
        )
        .header(
            n("To", "t"),
            format!("{}<sip:{}@{}>", g.to_display, g.user, g.host),
        )
        .header(n("Call-ID", "i"), g.call_id.clone())
        .header("CSeq", format!("{} {}", g.cseq, g.method))
        .header("Max-Forwards", "70");
    if !g.contacts.is_empty() {
        let list: Vec<_> = g
            .contacts
            .iter()
            .map(|h| format!("<sip:c@{h}>;expires=60"))
            .collect();
        b = b.header(n("Contact", "m"), list.join(", "));
    }
    for (k, v) in &g.extra {
        b = b.header(k, v.trim());
    }
    if !g.body.is_empty() {
        b = b.body("application/octet-stream", g.body.clone());
    }
    b
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        if let Ok(m) = Message::parse(bytes.clone()) {
            touch(&m);
        }
        let _ = Message::parse_stream(bytes.clone());
        let _ = frame_stream(&bytes);
        let _ = SessionDescription::parse(&bytes);
    }

    #[test]
    fn never_panics_on_mutated_messages(g in message(), flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8)) {
        let mut bytes = build(&g).to_bytes().to_vec();
        for (pos, val) in flips {
            let i = pos % bytes.len();
            bytes[i] = val;
        }
        if let Ok(m) = Message::parse(bytes) {
            touch(&m);
        }
    }

    #[test]
    fn generated_messages_round_trip(g in message()) {
        let req = build(&g).build().expect("generated request is valid");
        req.validate().expect("typed headers are valid");
        let h = req.headers();
        prop_assert_eq!(req.method(), &g.method);
        prop_assert_eq!(req.uri().user(), Some(g.user.as_str()));
        prop_assert_eq!(req.uri().port(), g.port);
        prop_assert_eq!(h.vias().count(), g.vias.len());
        for (v, (_, br)) in h.vias().zip(&g.vias) {
            let branch = format!("z9hG4bK{br}");
            prop_assert_eq!(v.unwrap().branch(), Some(branch.as_str()));
        }
        prop_assert_eq!(h.from().unwrap().tag(), Some(g.from_tag.as_str()));
        if let Some(d) = h.to().unwrap().display_raw() {
            prop_assert_eq!(d, g.to_display.trim_end());
        }
        prop_assert_eq!(h.call_id(), g.call_id.as_str());
        prop_assert_eq!(h.cseq().seq, g.cseq);
        match h.contacts().unwrap() {
            ContactList::Addresses(c) => prop_assert_eq!(c.len(), g.contacts.len()),
            ContactList::Star => prop_assert!(false),
        }
        for (k, v) in &g.extra {
            prop_assert!(h.get_all_raw(k).any(|x| x == v.trim()));
        }
        prop_assert_eq!(req.body(), &g.body[..]);
        // serialize(parse(x)) is a fixed point.
        let once = req.to_bytes();
        let twice = Message::parse(once.clone()).unwrap().to_bytes();
        prop_assert_eq!(once, twice);
        // The stream framer finds exactly this message.
        let mut stream = req.to_bytes().to_vec();
        stream.extend_from_slice(b"\r\n\r\nINV");
        prop_assert_eq!(frame_stream(&stream), Ok(Some(obelus_sip::Frame::Message { len: req.to_bytes().len() })));
    }
}
