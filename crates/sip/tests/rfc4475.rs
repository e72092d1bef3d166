//! RFC 4475 (SIP torture test messages), written from the RFC's
//! descriptions into `tests/data/rfc4475/*.dat`. Valid messages must parse
//! with the right values; invalid ones must be refused with the response the
//! RFC expects a server to send.

use std::borrow::Cow;

use obelus_sip::{
    ContactList, HeaderName, Host, Message, Method, ParseError, Request, Response, Scheme,
    StatusCode,
};

fn load(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/data/rfc4475/{name}.dat",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn request(name: &str) -> Request {
    match Message::parse(load(name)) {
        Ok(Message::Request(r)) => {
            r.validate().unwrap_or_else(|e| panic!("{name}: {e:?}"));
            r
        }
        other => panic!("{name}: {other:?}"),
    }
}

fn response(name: &str) -> Response {
    match Message::parse(load(name)) {
        Ok(Message::Response(r)) => {
            r.validate().unwrap_or_else(|e| panic!("{name}: {e:?}"));
            r
        }
        other => panic!("{name}: {other:?}"),
    }
}

/// Parse then validate: the error a server would answer with.
fn rejection(name: &str) -> ParseError {
    match Message::parse(load(name)).and_then(|m| m.validate()) {
        Err(e) => e,
        Ok(()) => panic!("{name} was accepted"),
    }
}

#[test]
fn s3_1_1_1_wsinv_short_tortuous_invite() {
    let r = request("wsinv");
    let h = r.headers();
    assert_eq!(r.method(), &Method::Invite);
    assert!(r.uri().params().contains("unknownparam"));
    assert_eq!(h.to().unwrap().tag(), Some("1918181833n"));
    let from = h.from().unwrap();
    assert_eq!(from.display_name().as_deref(), Some(r#"J Rosenberg \""#));
    assert_eq!(from.tag(), Some("98asjd8"));
    assert_eq!(h.max_forwards(), Ok(Some(68)));
    assert_eq!(h.call_id(), "wsinv.ndaksdj@192.0.2.1");
    assert_eq!((h.cseq().seq, &h.cseq().method), (9, &Method::Invite));
    let vias: Vec<_> = h.vias().map(Result::unwrap).collect();
    assert_eq!(vias.len(), 3);
    assert_eq!(vias[0].host(), Host::Ipv4("192.0.2.2".parse().unwrap()));
    assert_eq!(vias[0].branch(), Some("390skdjuw"));
    assert_eq!(vias[1].transport(), "TCP");
    assert_eq!(vias[1].branch(), Some("z9hG4bK9ikj8"));
    assert_eq!(vias[2].branch(), Some("z9hG4bK30239"));
    assert_eq!(h.get(HeaderName::Subject), Some(""));
    assert_eq!(
        h.get_raw("newfangledheader")
            .map(|v| v.split_whitespace().collect::<Vec<_>>().join(" "))
            .as_deref(),
        Some("newfangled value continued newfangled value")
    );
    assert_eq!(h.get_raw("UnknownHeaderWithUnusualValue"), Some(";;,,;;,;"));
    let route = h.routes().next().unwrap().unwrap();
    assert!(route.uri().is_loose_route());
    let ContactList::Addresses(c) = h.contacts().unwrap() else {
        panic!()
    };
    assert_eq!(c[0].display_name().as_deref(), Some(r#"Quoted string """#));
    assert_eq!(c[0].params().value("newparam"), Some("newvalue"));
    assert_eq!(c[0].q(), Ok(Some(330)));
    assert_eq!(r.body().len(), 150);
    assert!(r.body().starts_with(b"v=0\r\n"));
}

#[test]
fn s3_1_1_2_intmeth_wide_range_of_valid_characters() {
    let r = request("intmeth");
    let h = r.headers();
    assert_eq!(
        r.method().as_str(),
        "!interesting-Method0123456789_*+`.%indeed'~"
    );
    let uri = r.uri();
    assert_eq!(
        uri.user(),
        Some("1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*")
    );
    assert_eq!(
        uri.password(),
        Some("&it+has=1,weird!*pas$wo~d_too.(doesn't-it)")
    );
    assert_eq!(h.via().unwrap().branch(), Some("z9hG4bK-.!%66*_+`'~"));
    assert_eq!(
        h.to().unwrap().display_name().as_deref(),
        Some("BEL:\x07 NUL:\x00 DEL:\x7f")
    );
    let from = h.from().unwrap();
    assert_eq!(from.display_raw(), Some("token1~` token2'+_ token3*%!.-"));
    assert_eq!(from.tag(), Some("_token~1'+`*%!-."));
    assert_eq!(
        from.params().value("fromParam''~+*_!.-%"),
        Some("работающий")
    );
    assert_eq!(h.call_id(), r#"intmeth.word%ZK-!.*_+'@word`~)(><:\/"][?}{"#);
    assert_eq!(h.cseq().seq, 139122385);
    assert_eq!(
        h.get_raw("extensionHeader-!.%*+_`'~"),
        Some("\u{feff}大停電")
    );
}

#[test]
fn s3_1_1_3_esc01_percent_escapes() {
    let r = request("esc01");
    assert_eq!(r.uri().user(), Some("sips%3Auser%40example.com"));
    assert_eq!(r.headers().to().unwrap().uri().user(), Some("%75se%72"));
    let ContactList::Addresses(c) = r.headers().contacts().unwrap() else {
        panic!()
    };
    assert_eq!(
        c[0].uri().params().value("n%61me"),
        Some("v%61lue%25%34%31")
    );
    assert!(
        r.headers()
            .content_type()
            .unwrap()
            .unwrap()
            .is("application/sdp")
    );
}

#[test]
fn s3_1_1_4_escnull_escaped_nulls() {
    let r = request("escnull");
    let ContactList::Addresses(c) = r.headers().contacts().unwrap() else {
        panic!()
    };
    assert_eq!(c.len(), 2);
    assert_eq!(c[1].uri().user(), Some("%00%00"));
}

#[test]
fn s3_1_1_5_esc02_percent_not_an_escape() {
    let r = request("esc02");
    assert_eq!(r.method().as_str(), "RE%47IST%45R");
    assert_eq!(
        r.headers().to().unwrap().display_name().as_deref(),
        Some("%Z%45")
    );
    let ContactList::Addresses(c) = r.headers().contacts().unwrap() else {
        panic!()
    };
    assert_eq!(c.len(), 2, "C%6Fntact is not a Contact header");
    assert!(r.headers().get_raw("C%6Fntact").is_some());
}

#[test]
fn s3_1_1_6_lwsdisp_no_lws_before_angle() {
    let r = request("lwsdisp");
    assert_eq!(
        r.headers().from().unwrap().display_name().as_deref(),
        Some("caller")
    );
}

#[test]
fn s3_1_1_7_longreq_long_values() {
    let r = request("longreq");
    let h = r.headers();
    assert_eq!(h.vias().count(), 33);
    assert_eq!(
        h.vias().last().unwrap().unwrap().host(),
        Host::Domain("sip1.example.com")
    );
    assert!(h.from().unwrap().tag().unwrap().len() > 150);
    assert!(h.call_id().len() > 480);
    assert_eq!(h.to().unwrap().uri().port(), Some(6000));
}

#[test]
fn s3_1_1_8_dblreq_trailing_octets_ignored() {
    let r = request("dblreq");
    assert_eq!(r.method(), &Method::Register);
    assert!(r.body().is_empty());
}

#[test]
fn s3_1_1_9_semiuri_semicolons_in_user() {
    let r = request("semiuri");
    assert_eq!(r.uri().user(), Some("user;par=u%40example.net"));
    assert!(r.uri().params().is_empty());
    assert_eq!(r.headers().values(HeaderName::Accept).count(), 6);
}

#[test]
fn s3_1_1_10_transports_varied_and_unknown() {
    let r = request("transports");
    let t: Vec<_> = r.headers().vias().map(|v| v.unwrap().transport()).collect();
    assert_eq!(t, ["UDP", "SCTP", "TLS", "UNKNOWN", "TCP"]);
}

#[test]
fn s3_1_1_11_mpart01_multipart_with_binary() {
    let r = request("mpart01");
    let parts = r.body_parts().unwrap();
    assert_eq!(parts.len(), 2);
    assert_eq!(parts[0].body(), b"Hello");
    assert!(
        parts[1]
            .media_type()
            .unwrap()
            .is("application/pkcs7-signature")
    );
    assert_eq!(parts[1].body().len(), 20);
    assert!(parts[1].body().contains(&0));
    assert_eq!(r.body_part("text/plain"), Some(&b"Hello"[..]));
}

#[test]
fn s3_1_1_12_unreason_unusual_reason_phrase() {
    let r = response("unreason");
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.reason().starts_with("= 2**3 * 5**2 но"));
}

#[test]
fn s3_1_1_13_noreason_empty_reason_phrase() {
    let r = response("noreason");
    assert_eq!(r.status(), StatusCode::TRYING);
    assert_eq!(r.reason(), "");
}

#[test]
fn s3_1_2_invalid_messages_are_rejected_with_the_right_response() {
    let cases: &[(&str, u16)] = &[
        ("badinv01", 400),
        ("clerr", 400),
        ("ncl", 400),
        ("scalar02", 400),
        ("quotbal", 400),
        ("ltgtruri", 400),
        ("lwsruri", 400),
        ("lwsstart", 400),
        ("trws", 400),
        ("escruri", 400),
        ("baddate", 400),
        ("regbadct", 400),
        ("badaspec", 400),
        ("baddn", 400),
        ("badvers", 505),
        ("mismatch01", 400),
        ("mismatch02", 400),
    ];
    for &(name, code) in cases {
        let e = rejection(name);
        assert_eq!(e.status().as_u16(), code, "{name}: {e:?}");
    }
    assert_eq!(rejection("clerr"), ParseError::ContentLengthTooLarge);
    assert_eq!(rejection("ncl"), ParseError::BadHeader("Content-Length"));
    assert_eq!(rejection("scalar02").reason_phrase(), "Bad CSeq Header");
    assert_eq!(rejection("quotbal"), ParseError::BadHeader("To"));
    assert_eq!(rejection("baddate"), ParseError::BadHeader("Date"));
    assert_eq!(rejection("regbadct"), ParseError::BadHeader("Contact"));
    assert_eq!(rejection("mismatch02"), ParseError::CSeqMethodMismatch);
}

#[test]
fn s3_1_2_5_and_19_bad_responses_are_dropped() {
    assert_eq!(rejection("scalarlg"), ParseError::BadHeader("CSeq"));
    assert_eq!(rejection("bigcode"), ParseError::BadStatusCode);
}

#[test]
fn s3_3_application_layer_semantics() {
    // 3.3.1: missing Call-ID/From/To -> 400.
    let e = rejection("insuf");
    assert_eq!(e.status(), StatusCode::BAD_REQUEST);
    assert!(matches!(e, ParseError::MissingHeader(_)));
    // 3.3.2, 3.3.3: unknown or atypical Request-URI scheme -> 416.
    assert_eq!(
        rejection("unkscm").status(),
        StatusCode::UNSUPPORTED_URI_SCHEME
    );
    assert_eq!(
        rejection("novelsc").status(),
        StatusCode::UNSUPPORTED_URI_SCHEME
    );
    // 3.3.4: unknown schemes in To/From/Contact are fine.
    let r = request("unksm2");
    assert_eq!(
        r.headers().to().unwrap().uri().scheme(),
        Scheme::Other("isbn")
    );
    // 3.3.5: parsed; the application answers 420.
    let r = request("bext01");
    assert_eq!(
        r.headers().require().collect::<Vec<_>>(),
        ["nothingSupportsThis", "nothingSupportsThisEither"]
    );
    assert_eq!(r.headers().proxy_require().count(), 2);
    // 3.3.6: parsed; the application answers 415.
    let r = request("invut");
    assert!(
        r.headers()
            .content_type()
            .unwrap()
            .unwrap()
            .is("application/unknownformat")
    );
    // 3.3.7: unknown authorization scheme parses.
    let r = request("regaut01");
    assert_eq!(
        r.headers().authorization().unwrap().unwrap().scheme(),
        "NoOneKnowsThisScheme"
    );
    // 3.3.8, 3.3.9: several values in single-value headers -> 400.
    assert!(matches!(
        rejection("multi01"),
        ParseError::DuplicateHeader(_)
    ));
    assert_eq!(
        rejection("mcl01"),
        ParseError::DuplicateHeader("Content-Length")
    );
    // 3.3.10: a response with a broadcast Via parses (the transport drops it).
    let r = response("bcast");
    assert_eq!(
        r.headers().vias().nth(1).unwrap().unwrap().host(),
        Host::Ipv4("255.255.255.255".parse().unwrap())
    );
    // 3.3.11: Max-Forwards 0 parses; the application answers 483.
    assert_eq!(request("zeromf").headers().max_forwards(), Ok(Some(0)));
    // 3.3.12: header parameter on an unbracketed Contact.
    let r = request("cparam01");
    let ContactList::Addresses(c) = r.headers().contacts().unwrap() else {
        panic!()
    };
    assert!(c[0].params().contains("unknownparam") && c[0].uri().params().is_empty());
    // 3.3.13: URI parameter inside brackets.
    let r = request("cparam02");
    let ContactList::Addresses(c) = r.headers().contacts().unwrap() else {
        panic!()
    };
    assert!(c[0].uri().params().contains("unknownparam") && c[0].params().is_empty());
    // 3.3.14: escaped URI header in a bracketed Contact.
    let r = request("regescrt");
    let ContactList::Addresses(c) = r.headers().contacts().unwrap() else {
        panic!()
    };
    assert_eq!(
        c[0].uri().header_iter().next(),
        Some(("Route", "%3Csip:sip.example.com%3E"))
    );
    // 3.3.15: parsed; the application answers 406.
    assert_eq!(
        request("sdp01").headers().get(HeaderName::Accept),
        Some("text/nobodyKnowsThis")
    );
}

#[test]
fn s3_4_1_inv2543_rfc2543_syntax() {
    let r = request("inv2543");
    let h = r.headers();
    assert!(!h.via().unwrap().has_rfc3261_branch());
    assert_eq!(h.from().unwrap().tag(), None);
    assert_eq!(h.max_forwards(), Ok(None));
    assert_eq!(h.content_length(), None);
    assert!(
        r.body().starts_with(b"v=0"),
        "no Content-Length over UDP: body is the rest"
    );
    assert_eq!(h.to().unwrap().params().value("user"), Some("phone"));
}

#[test]
fn every_valid_message_round_trips_through_the_serializer() {
    for name in [
        "wsinv",
        "intmeth",
        "esc01",
        "escnull",
        "esc02",
        "lwsdisp",
        "longreq",
        "dblreq",
        "semiuri",
        "transports",
        "mpart01",
        "unreason",
        "noreason",
        "unksm2",
        "bext01",
        "invut",
        "regaut01",
        "bcast",
        "zeromf",
        "cparam01",
        "cparam02",
        "regescrt",
        "sdp01",
        "inv2543",
    ] {
        let m = Message::parse(load(name)).unwrap();
        let again = Message::parse(m.to_bytes()).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert_eq!(again.body(), m.body(), "{name}");
        let a: Vec<_> = m
            .headers()
            .iter()
            .filter(|(n, _)| !n.eq_ignore_ascii_case("content-length") && *n != "l" && *n != "L")
            .collect();
        let b: Vec<_> = again
            .headers()
            .iter()
            .filter(|(n, _)| !n.eq_ignore_ascii_case("content-length"))
            .collect();
        assert_eq!(a, b, "{name}");
        let _: Cow<'_, str> = Cow::Borrowed("");
    }
}
