use super::*;
use crate::header::ContactList;
use crate::uri::Host;

const INVITE: &str = "INVITE sip:bob@biloxi.com SIP/2.0\r\n\
Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds\r\n\
Max-Forwards: 70\r\n\
To: Bob <sip:bob@biloxi.com>\r\n\
From: Alice <sip:alice@atlanta.com>;tag=1928301774\r\n\
Call-ID: a84b4c76e66710@pc33.atlanta.com\r\n\
CSeq: 314159 INVITE\r\n\
Contact: <sip:alice@pc33.atlanta.com>\r\n\
Content-Type: application/sdp\r\n\
Content-Length: 4\r\n\
\r\n\
v=0\n";

fn req(s: &str) -> Request {
    Request::parse(s.as_bytes().to_vec()).unwrap()
}

#[test]
fn rfc3261_24_2_invite_f1() {
    let r = req(INVITE);
    let h = r.headers();
    assert_eq!(r.method(), &Method::Invite);
    assert_eq!(r.uri().user(), Some("bob"));
    assert_eq!(h.via().unwrap().branch(), Some("z9hG4bK776asdhds"));
    assert_eq!(h.to().unwrap().display_name().as_deref(), Some("Bob"));
    assert_eq!(h.from().unwrap().tag(), Some("1928301774"));
    assert_eq!(h.call_id(), "a84b4c76e66710@pc33.atlanta.com");
    assert_eq!(h.cseq().seq, 314159);
    assert_eq!(h.max_forwards(), Ok(Some(70)));
    assert_eq!(h.content_length(), Some(4));
    assert_eq!(r.body(), b"v=0\n");
    assert_eq!(r.body_part("application/sdp"), Some(&b"v=0\n"[..]));
    r.validate().unwrap();
}

#[test]
fn compact_forms_are_the_same_headers_rfc3261_7_3_3() {
    let r = req(
        "OPTIONS sip:b@h SIP/2.0\r\nv: SIP/2.0/TCP h;branch=z9hG4bK1\r\nf: <sip:a@h>;tag=1\r\nt: <sip:b@h>\r\ni: cid\r\nCSeq: 1 OPTIONS\r\nm: <sip:a@h>\r\nk: timer\r\nc: text/plain\r\nl: 2\r\ne: gzip\r\ns: hi\r\no: presence\r\nu: talk\r\nr: <sip:c@h>\r\nx: 1800\r\nb: <sip:d@h>\r\n\r\nhi",
    );
    let h = r.headers();
    assert_eq!(
        h.get(HeaderName::Via),
        Some("SIP/2.0/TCP h;branch=z9hG4bK1")
    );
    assert_eq!(h.get_raw("Supported"), Some("timer"));
    assert_eq!(h.get_raw("SUPPORTED"), Some("timer"));
    assert_eq!(h.get_raw("k"), Some("timer"));
    assert_eq!(h.get_raw("Content-Encoding"), Some("gzip"));
    assert_eq!(h.get_raw("Subject"), Some("hi"));
    assert_eq!(h.get_raw("Event"), Some("presence"));
    assert_eq!(h.get_raw("Allow-Events"), Some("talk"));
    assert_eq!(h.get_raw("Refer-To"), Some("<sip:c@h>"));
    assert_eq!(h.get_raw("Session-Expires"), Some("1800"));
    assert_eq!(h.get_raw("Referred-By"), Some("<sip:d@h>"));
    assert!(h.content_type().unwrap().unwrap().is("text/plain"));
    assert_eq!(r.body(), b"hi");
}

#[test]
fn multiple_lines_and_comma_lists_rfc3261_7_3_1() {
    let r = req(
        "OPTIONS sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1, SIP/2.0/UDP b;branch=z9hG4bK2\r\nVia: SIP/2.0/UDP c;branch=z9hG4bK3\r\nf: <sip:a@h>;tag=1\r\nt: <sip:b@h>\r\ni: cid\r\nCSeq: 1 OPTIONS\r\nRoute: <sip:p1;lr>, <sip:p2;lr>\r\nRoute: <sip:p3;lr>\r\nAllow: INVITE, ACK\r\nAllow: BYE\r\nWWW-Authenticate: Digest realm=\"a\", nonce=\"b\"\r\nWWW-Authenticate: Digest realm=\"c\", nonce=\"d\"\r\nDate: Sat, 13 Nov 2010 23:29:00 GMT\r\nX-Foo: a, b\r\n\r\n",
    );
    let h = r.headers();
    let hosts: Vec<_> = h.vias().map(|v| v.unwrap().host()).collect();
    assert_eq!(
        hosts,
        [Host::Domain("a"), Host::Domain("b"), Host::Domain("c")]
    );
    assert_eq!(h.routes().count(), 3);
    assert_eq!(h.allow().collect::<Vec<_>>(), ["INVITE", "ACK", "BYE"]);
    let realms: Vec<_> = h
        .www_authenticate()
        .map(|c| c.unwrap().realm().unwrap().into_owned())
        .collect();
    assert_eq!(realms, ["a", "c"]);
    assert_eq!(h.values(HeaderName::Date).count(), 1, "Date is not a list");
    assert_eq!(h.get_raw("x-foo"), Some("a, b"));
    r.validate().unwrap();
}

#[test]
fn ipv6_everywhere_rfc5118() {
    let r = req(
        "REGISTER sip:[2001:db8::10]:5070 SIP/2.0\r\nVia: SIP/2.0/UDP [2001:db8::9:1]:5060;branch=z9hG4bKas3-111;received=[2001:db8::9:255]\r\nf: <sip:a@[2001:db8::10]>;tag=1\r\nt: <sip:a@[2001:db8::10]>\r\ni: cid\r\nCSeq: 1 REGISTER\r\nContact: \"Caller\" <sip:caller@[2001:db8::1]:5062>;expires=600\r\nl: 0\r\n\r\n",
    );
    assert_eq!(
        r.uri().host(),
        Some(Host::Ipv6("2001:db8::10".parse().unwrap()))
    );
    assert_eq!(r.uri().port(), Some(5070));
    let via = r.headers().via().unwrap();
    assert_eq!(via.port(), Some(5060));
    assert_eq!(via.received_ip(), Some("2001:db8::9:255".parse().unwrap()));
    let ContactList::Addresses(c) = r.headers().contacts().unwrap() else {
        panic!()
    };
    assert_eq!(c[0].uri().port(), Some(5062));
    assert_eq!(c[0].expires(), Ok(Some(600)));
}

#[test]
fn contact_star_rfc3261_10_2_2() {
    let base = "REGISTER sip:h SIP/2.0\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1\r\nf: <sip:a@h>;tag=1\r\nt: <sip:a@h>\r\ni: cid\r\nCSeq: 1 REGISTER\r\nExpires: 0\r\n";
    let r = req(&format!("{base}Contact: *\r\n\r\n"));
    assert_eq!(r.headers().contacts(), Ok(ContactList::Star));
    assert_eq!(r.headers().expires(), Ok(Some(0)));
    let r = req(&format!("{base}Contact: *, <sip:a@b>\r\n\r\n"));
    assert!(r.headers().contacts().is_err());
    let r = req(&format!("{base}\r\n"));
    assert_eq!(r.headers().contacts(), Ok(ContactList::Addresses(vec![])));
}

#[test]
fn content_length_rules_on_datagrams_rfc3261_18_3() {
    let head = "OPTIONS sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1\r\nf: <sip:a@h>;tag=1\r\nt: <sip:b@h>\r\ni: cid\r\nCSeq: 1 OPTIONS\r\n";
    // Missing: body is the rest of the datagram.
    assert_eq!(req(&format!("{head}\r\nabc")).body(), b"abc");
    // Shorter: extra bytes are ignored.
    assert_eq!(req(&format!("{head}l: 1\r\n\r\nabc")).body(), b"a");
    // Larger: error.
    assert_eq!(
        Request::parse(format!("{head}l: 4\r\n\r\nabc").into_bytes()).unwrap_err(),
        ParseError::ContentLengthTooLarge
    );
    // Streams need it.
    assert_eq!(
        Message::parse_stream(format!("{head}\r\nabc").into_bytes()).unwrap_err(),
        ParseError::MissingContentLength
    );
    // Unterminated header section.
    assert_eq!(
        Request::parse(head.as_bytes().to_vec()).unwrap_err(),
        ParseError::Unterminated
    );
}

#[test]
fn errors_map_to_responses() {
    let tail = "Via: SIP/2.0/UDP a;branch=z9hG4bK1\r\nf: <sip:a@h>;tag=1\r\nt: <sip:b@h>\r\ni: cid\r\nCSeq: 1 OPTIONS\r\n\r\n";
    let e = Request::parse(format!("OPTIONS sip:b@h SIP/3.0\r\n{tail}").into_bytes()).unwrap_err();
    assert_eq!(
        (e.status(), e.reason_phrase().as_str()),
        (StatusCode::VERSION_NOT_SUPPORTED, "Version Not Supported")
    );
    let e =
        Request::parse(format!("OPTIONS mailto:b@h SIP/2.0\r\n{tail}").into_bytes()).unwrap_err();
    assert_eq!(e.status(), StatusCode::UNSUPPORTED_URI_SCHEME);
    let e = Request::parse(format!(
        "OPTIONS sip:b@h SIP/2.0\r\n{}",
        tail.replace("i: cid\r\n", "")
    ))
    .unwrap_err();
    assert_eq!(e.reason_phrase(), "Missing Call-ID Header");
    let e = Request::parse(format!(
        "OPTIONS sip:b@h SIP/2.0\r\n{}",
        tail.replace("CSeq: 1", "CSeq: x")
    ))
    .unwrap_err();
    assert_eq!(
        (e.status(), e.reason_phrase().as_str()),
        (StatusCode::BAD_REQUEST, "Bad CSeq Header")
    );
    let e = Request::parse(format!(
        "OPTIONS sip:b@h SIP/2.0\r\nBad Header: x\r\n{tail}"
    ))
    .unwrap_err();
    assert_eq!(e, ParseError::BadHeaderLine);
    let e = Request::parse(format!(
        "OPTIONS sip:b@h SIP/2.0\r\n{}",
        tail.replace("Via: SIP/2.0/UDP a", "Via: SIP/2.0/UDP a b")
    ))
    .unwrap()
    .validate()
    .unwrap_err();
    assert_eq!(e.reason_phrase(), "Bad Via Header");
    assert_eq!(
        Message::parse(&b"\r\n\r\n"[..]).unwrap_err(),
        ParseError::Empty
    );
    assert_eq!(
        Message::parse(&b"SIP/2.0 99 Low\r\n\r\n"[..]).unwrap_err(),
        ParseError::BadStatusCode
    );
}

#[test]
fn folding_and_bare_lf_rfc3261_7_3_1() {
    let r = req(
        "OPTIONS sip:b@h SIP/2.0\nVia: SIP/2.0/UDP a\n ;branch=z9hG4bK1\nf: <sip:a@h>\n\t;tag=1\nt: <sip:b@h>\ni: cid\nCSeq: 1\n OPTIONS\nSubject: one\r\n  two\n\n",
    );
    assert_eq!(r.headers().via().unwrap().branch(), Some("z9hG4bK1"));
    assert_eq!(r.headers().from().unwrap().tag(), Some("1"));
    assert_eq!(r.headers().get(HeaderName::Subject), Some("one    two"));
}

#[test]
fn response_for_request_copies_rfc3261_8_2_6() {
    let r = req(
        "INVITE sip:bob@biloxi.com SIP/2.0\r\nVia: SIP/2.0/UDP p1;branch=z9hG4bK1, SIP/2.0/UDP p2;branch=z9hG4bK2\r\nVia: SIP/2.0/UDP p3;branch=z9hG4bK3\r\nTo: Bob <sip:bob@biloxi.com>\r\nFrom: <sip:alice@atlanta.com>;tag=88\r\nCall-ID: c1\r\nCSeq: 2 INVITE\r\nTimestamp: 54\r\nContent-Length: 0\r\n\r\n",
    );
    let trying = Response::for_request(&r, StatusCode::TRYING)
        .build()
        .unwrap();
    assert_eq!(trying.headers().get(HeaderName::Timestamp), Some("54"));
    assert_eq!(trying.headers().to().unwrap().tag(), None);
    let ok = Response::for_request(&r, StatusCode::OK)
        .to_tag("abc")
        .header("Contact", "<sip:bob@192.0.2.4>")
        .body("application/sdp", "v=0\r\n")
        .build()
        .unwrap();
    let h = ok.headers();
    assert_eq!(h.vias().count(), 3);
    assert_eq!(
        h.vias()
            .map(|v| v.unwrap().branch().unwrap().to_owned())
            .collect::<Vec<_>>(),
        ["z9hG4bK1", "z9hG4bK2", "z9hG4bK3"]
    );
    assert_eq!(h.to().unwrap().tag(), Some("abc"));
    assert_eq!(h.from().unwrap().tag(), Some("88"));
    assert_eq!(h.call_id(), "c1");
    assert_eq!(h.cseq(), r.headers().cseq());
    assert_eq!(h.get(HeaderName::Timestamp), None);
    assert_eq!(ok.reason(), "OK");
    assert_eq!(h.content_length(), Some(5));
    assert_eq!(ok.body(), b"v=0\r\n");
    // A To that already has a tag keeps it.
    let again = Response::for_request(
        &Request::parse(ok.to_bytes().to_vec().into_iter().collect::<Vec<u8>>())
            .map_or(r.clone(), |x| x),
        StatusCode::OK,
    );
    assert!(again.build().is_ok());
}

#[test]
fn builder_refuses_header_injection() {
    let e = RequestBuilder::new(Method::Options, "sip:b@h")
        .header("Subject", "x\r\nVia: evil")
        .build()
        .unwrap_err();
    assert_eq!(e, ParseError::BadHeaderLine);
    let r = RequestBuilder::new(Method::Message, "sip:b@h")
        .header("Via", "SIP/2.0/UDP a;branch=z9hG4bK1")
        .header(HeaderName::From, "<sip:a@h>;tag=1")
        .header("To", "<sip:b@h>")
        .header("Call-ID", "x")
        .header("CSeq", "1 MESSAGE")
        .header("Content-Length", "999")
        .body("text/plain", "hello")
        .build()
        .unwrap();
    assert_eq!(r.body(), b"hello");
    assert_eq!(r.headers().content_length(), Some(5));
    let e = RequestBuilder::new(Method::Options, "sip:b@h")
        .build()
        .unwrap_err();
    assert!(matches!(e, ParseError::MissingHeader(_)));
}

#[test]
fn serializer_computes_content_length() {
    let r = req(INVITE);
    let bytes = r.to_bytes();
    let again = Request::parse(bytes.clone()).unwrap();
    assert_eq!(again.body(), r.body());
    assert!(
        std::str::from_utf8(&bytes)
            .unwrap()
            .contains("Content-Length: 4\r\n\r\nv=0\n")
    );
    assert_eq!(Message::Request(again).to_bytes(), bytes);
}

#[test]
fn multipart_parts_by_content_type_rfc5621() {
    let body = "--b1\r\nContent-Type: application/sdp\r\n\r\nv=0\r\n\r\n--b1\r\nContent-Type: application/isup;version=itu-t92+\r\nContent-Disposition: signal;handling=optional\r\n\r\n\x01\x02\r\n--b1--\r\n";
    let r = req(&format!(
        "INVITE sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1\r\nf: <sip:a@h>;tag=1\r\nt: <sip:b@h>\r\ni: cid\r\nCSeq: 1 INVITE\r\nContent-Type: multipart/mixed;boundary=b1\r\nl: {}\r\n\r\n{body}",
        body.len()
    ));
    let parts = r.body_parts().unwrap();
    assert_eq!(parts.len(), 2);
    assert_eq!(parts[0].body(), b"v=0\r\n");
    assert_eq!(
        parts[1].header("content-disposition"),
        Some("signal;handling=optional")
    );
    assert_eq!(r.body_part("application/sdp"), Some(&b"v=0\r\n"[..]));
    assert_eq!(r.body_part("application/isup"), Some(&b"\x01\x02"[..]));
    assert_eq!(r.body_part("text/plain"), None);
}

#[test]
fn quadratic_inputs_stay_fast() {
    // Many tiny folded lines, many headers, long quoted strings: linear.
    let mut s = String::from(
        "OPTIONS sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1\r\nf: <sip:a@h>;tag=1\r\nt: <sip:b@h>\r\ni: cid\r\nCSeq: 1 OPTIONS\r\nX-Fold: a\r\n",
    );
    for _ in 0..20_000 {
        s.push_str(" b\r\n");
    }
    for i in 0..1000 {
        s.push_str(&format!("X-{i}: {}\r\n", "\"\\".repeat(10)));
    }
    s.push_str("\r\n");
    let start = std::time::Instant::now();
    let r = Request::parse(s.into_bytes()).unwrap();
    assert_eq!(r.headers().len(), 1006);
    assert!(start.elapsed() < std::time::Duration::from_secs(2));
}

#[test]
fn proxy_style_edits_rfc3261_16_6_and_16_7() {
    let r = req(INVITE);
    let fwd = RequestBuilder::from_request(&r)
        .uri("sip:bob@192.0.2.4")
        .prepend_header("Via", "SIP/2.0/UDP proxy.example.com;branch=z9hG4bKp1")
        .remove_header("max-forwards")
        .header("Max-Forwards", "69")
        .build()
        .unwrap();
    assert_eq!(fwd.uri_str(), "sip:bob@192.0.2.4");
    assert_eq!(fwd.headers().via().unwrap().branch(), Some("z9hG4bKp1"));
    assert_eq!(fwd.headers().vias().count(), 2);
    assert_eq!(fwd.headers().max_forwards(), Ok(Some(69)));
    assert_eq!(fwd.body(), r.body());
    assert!(
        fwd.headers()
            .content_type()
            .unwrap()
            .unwrap()
            .is("application/sdp")
    );
    let resp = Response::for_request(&fwd, StatusCode::RINGING)
        .to_tag("t")
        .build()
        .unwrap();
    let back = ResponseBuilder::from_response(&resp)
        .pop_via()
        .build()
        .unwrap();
    assert_eq!(
        back.headers().via().unwrap().branch(),
        Some("z9hG4bK776asdhds")
    );
    assert_eq!(back.reason(), "Ringing");
    let two = Response::parse(
        &b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1, SIP/2.0/UDP b;branch=z9hG4bK2\r\nf: <sip:a@h>;tag=1\r\nt: <sip:b@h>\r\ni: c\r\nCSeq: 1 INVITE\r\n\r\n"[..],
    )
    .unwrap();
    let popped = ResponseBuilder::from_response(&two)
        .pop_via()
        .build()
        .unwrap();
    assert_eq!(popped.headers().vias().count(), 1);
    assert_eq!(popped.headers().via().unwrap().branch(), Some("z9hG4bK2"));
}

#[test]
fn latin1_display_names_are_served_not_refused() {
    let mut raw = b"OPTIONS sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1\r\nFrom: \"Jos\xe9\" <sip:a@h>;tag=1\r\nt: <sip:b@h>\r\ni: cid\r\nCSeq: 1 OPTIONS\r\nContent-Length: 2\r\n\r\n".to_vec();
    raw.extend_from_slice(b"\xff\xfe");
    let r = Request::parse(raw).unwrap();
    assert_eq!(
        r.headers().from().unwrap().display_name().as_deref(),
        Some("Jos?")
    );
    assert_eq!(r.body(), b"\xff\xfe", "the body is not touched");
}
