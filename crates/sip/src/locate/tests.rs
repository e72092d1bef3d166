use std::collections::HashMap;

use super::*;

/// A zone: answers by (name, type); anything else is NXDOMAIN.
#[derive(Default)]
struct Zone(HashMap<(String, RecordType), Result<Vec<Record>, LookupError>>);

impl Zone {
    fn with(mut self, name: &str, rtype: RecordType, records: Vec<Record>) -> Zone {
        self.0.insert((name.to_owned(), rtype), Ok(records));
        self
    }

    fn failing(mut self, name: &str, rtype: RecordType, why: &str) -> Zone {
        self.0.insert(
            (name.to_owned(), rtype),
            Err(LookupError::Failed(why.into())),
        );
        self
    }

    fn a(self, name: &str, ips: &[&str]) -> Zone {
        let records = ips
            .iter()
            .map(|ip| Record::A(ip.parse().unwrap()))
            .collect();
        self.with(name, RecordType::A, records)
    }

    fn answer(&self, q: &Query) -> Result<Vec<Record>, LookupError> {
        self.0
            .get(&(q.name.clone(), q.rtype))
            .cloned()
            .unwrap_or(Err(LookupError::NoRecords))
    }
}

/// Runs a locator against a zone: the queries it made, in order, and the
/// outcome. Answers come back in reverse order of the queries of a step,
/// so nothing depends on answer order.
fn run(mut locator: Locator, zone: &Zone) -> (Vec<String>, Result<Vec<Target>, LocateError>) {
    let mut asked = Vec::new();
    for _ in 0..10 {
        if let Some(result) = locator.poll_result() {
            return (asked, result);
        }
        let step: Vec<Query> = std::iter::from_fn(|| locator.poll_query()).collect();
        assert!(!step.is_empty(), "locator stalled: {locator:?}");
        asked.extend(step.iter().map(Query::to_string));
        for q in step.iter().rev() {
            locator.handle_answer(q, zone.answer(q));
        }
    }
    panic!("locator did not finish: {locator:?}");
}

fn locate(uri: &str, zone: &Zone) -> (Vec<String>, Result<Vec<Target>, LocateError>) {
    let uri = Uri::parse(uri).unwrap();
    run(
        Locator::new(&uri, &Options::default())
            .unwrap()
            .with_random(|_| 0),
        zone,
    )
}

fn addrs(targets: &[Target]) -> Vec<String> {
    targets
        .iter()
        .map(|t| format!("{} {}", t.transport, t.addr))
        .collect()
}

#[test]
fn numeric_host_needs_no_dns_rfc3263_4_1() {
    let zone = Zone::default();
    let (asked, r) = locate("sip:200@192.0.2.1", &zone);
    assert!(asked.is_empty());
    assert_eq!(addrs(&r.unwrap()), ["udp 192.0.2.1:5060"]);
    let (_, r) = locate("sips:200@192.0.2.1", &zone);
    assert_eq!(addrs(&r.unwrap()), ["tls 192.0.2.1:5061"]);
    let (_, r) = locate("sip:[2001:db8::1]:5070;transport=tcp", &zone);
    assert_eq!(addrs(&r.unwrap()), ["tcp [2001:db8::1]:5070"]);
}

#[test]
fn explicit_port_means_address_records_only_rfc3263_4_2() {
    let zone = Zone::default().a("pbx.example", &["192.0.2.7"]).with(
        "pbx.example",
        RecordType::Aaaa,
        vec![Record::Aaaa("2001:db8::7".parse().unwrap())],
    );
    let (asked, r) = locate("sip:200@pbx.example:5080", &zone);
    assert_eq!(asked, ["A pbx.example", "AAAA pbx.example"]);
    assert_eq!(
        addrs(&r.unwrap()),
        ["udp 192.0.2.7:5080", "udp [2001:db8::7]:5080"]
    );
}

#[test]
fn transport_param_means_srv_for_it_only_rfc3263_4_2() {
    let zone = Zone::default()
        .with(
            "_sip._tcp.pbx.example",
            RecordType::Srv,
            vec![Record::srv(0, 0, 5090, "tcp1.pbx.example.")],
        )
        .a("tcp1.pbx.example", &["192.0.2.20"]);
    let (asked, r) = locate("sip:200@pbx.example;transport=TCP", &zone);
    assert_eq!(
        asked,
        [
            "SRV _sip._tcp.pbx.example",
            "A tcp1.pbx.example",
            "AAAA tcp1.pbx.example"
        ]
    );
    let targets = r.unwrap();
    assert_eq!(addrs(&targets), ["tcp 192.0.2.20:5090"]);
    assert_eq!(targets[0].host, "tcp1.pbx.example");
}

#[test]
fn sips_with_transport_tcp_is_tls() {
    let zone = Zone::default()
        .with(
            "_sips._tcp.pbx.example",
            RecordType::Srv,
            vec![Record::srv(0, 0, 5061, "tls.pbx.example")],
        )
        .a("tls.pbx.example", &["192.0.2.30"]);
    let (asked, r) = locate("sips:200@pbx.example;transport=tcp", &zone);
    assert_eq!(asked[0], "SRV _sips._tcp.pbx.example");
    assert_eq!(addrs(&r.unwrap()), ["tls 192.0.2.30:5061"]);
}

#[test]
fn naptr_picks_transports_by_order_then_preference_rfc3263_4_1() {
    let zone = Zone::default()
        .with(
            "pbx.example",
            RecordType::Naptr,
            vec![
                Record::naptr(20, 10, "SIP+D2U", "_sip._udp.pbx.example."),
                Record::naptr(10, 50, "SIP+D2T", "_sip._tcp.pbx.example."),
                Record::naptr(10, 20, "SIPS+D2T", "_sips._tcp.pbx.example."),
            ],
        )
        .with(
            "_sip._udp.pbx.example",
            RecordType::Srv,
            vec![Record::srv(0, 0, 5060, "u.pbx.example")],
        )
        .with(
            "_sip._tcp.pbx.example",
            RecordType::Srv,
            vec![Record::srv(0, 0, 5060, "t.pbx.example")],
        )
        .with(
            "_sips._tcp.pbx.example",
            RecordType::Srv,
            vec![Record::srv(0, 0, 5061, "s.pbx.example")],
        )
        .a("u.pbx.example", &["192.0.2.1"])
        .a("t.pbx.example", &["192.0.2.2"])
        .a("s.pbx.example", &["192.0.2.3"]);
    let (asked, r) = locate("sip:200@pbx.example", &zone);
    assert_eq!(asked[0], "NAPTR pbx.example");
    assert_eq!(
        asked[1..4],
        [
            "SRV _sips._tcp.pbx.example",
            "SRV _sip._tcp.pbx.example",
            "SRV _sip._udp.pbx.example"
        ]
    );
    assert_eq!(
        addrs(&r.unwrap()),
        [
            "tls 192.0.2.3:5061",
            "tcp 192.0.2.2:5060",
            "udp 192.0.2.1:5060"
        ]
    );
}

#[test]
fn naptr_skips_services_the_caller_cannot_use_and_bad_records() {
    let zone = Zone::default()
        .with(
            "pbx.example",
            RecordType::Naptr,
            vec![
                // A regexp rule (flag U): not how SIP uses NAPTR.
                Record::Naptr(Naptr {
                    order: 1,
                    preference: 1,
                    flags: "U".into(),
                    services: "SIP+D2U".into(),
                    regexp: "!^.*$!sip:x@y!".into(),
                    replacement: ".".into(),
                }),
                // No replacement.
                Record::naptr(2, 1, "SIP+D2U", "."),
                // A service that is not SIP.
                Record::naptr(3, 1, "E2U+sip", "_sip._udp.other.example"),
                // Not supported by this caller.
                Record::naptr(4, 1, "SIP+D2T", "_sip._tcp.pbx.example"),
                // An answer of the wrong type.
                Record::A("192.0.2.99".parse().unwrap()),
                Record::naptr(5, 1, "sip+d2u", "_sip._udp.pbx.example"),
            ],
        )
        .with(
            "_sip._udp.pbx.example",
            RecordType::Srv,
            vec![Record::srv(0, 0, 5062, "u.pbx.example")],
        )
        .a("u.pbx.example", &["192.0.2.1"]);
    let uri = Uri::parse("sip:200@pbx.example").unwrap();
    let options = Options {
        transports: vec![Transport::Udp],
        ipv6: false,
        ..Options::default()
    };
    let (asked, r) = run(Locator::new(&uri, &options).unwrap(), &zone);
    assert_eq!(
        asked,
        [
            "NAPTR pbx.example",
            "SRV _sip._udp.pbx.example",
            "A u.pbx.example"
        ]
    );
    assert_eq!(addrs(&r.unwrap()), ["udp 192.0.2.1:5062"]);
}

#[test]
fn sips_uri_uses_only_sips_naptr_records() {
    let zone = Zone::default()
        .with(
            "pbx.example",
            RecordType::Naptr,
            vec![
                Record::naptr(10, 10, "SIP+D2U", "_sip._udp.pbx.example"),
                Record::naptr(20, 10, "SIPS+D2T", "_sips._tcp.pbx.example"),
            ],
        )
        .with(
            "_sips._tcp.pbx.example",
            RecordType::Srv,
            vec![Record::srv(0, 0, 5061, "s.pbx.example")],
        )
        .a("s.pbx.example", &["192.0.2.3"]);
    let (asked, r) = locate("sips:200@pbx.example", &zone);
    assert!(!asked.iter().any(|q| q.contains("_udp")), "{asked:?}");
    assert_eq!(addrs(&r.unwrap()), ["tls 192.0.2.3:5061"]);
}

#[test]
fn without_naptr_srv_for_each_supported_transport_rfc3263_4_1() {
    let zone = Zone::default()
        .with(
            "_sip._tcp.pbx.example",
            RecordType::Srv,
            vec![Record::srv(0, 0, 5060, "t.pbx.example")],
        )
        .a("t.pbx.example", &["192.0.2.2"]);
    let (asked, r) = locate("sip:pbx.example", &zone);
    assert_eq!(
        asked[..4],
        [
            "NAPTR pbx.example",
            "SRV _sip._udp.pbx.example",
            "SRV _sip._tcp.pbx.example",
            "SRV _sips._tcp.pbx.example"
        ]
    );
    assert_eq!(addrs(&r.unwrap()), ["tcp 192.0.2.2:5060"]);
}

#[test]
fn a_failing_naptr_lookup_still_tries_srv() {
    let zone = Zone::default()
        .failing("pbx.example", RecordType::Naptr, "SERVFAIL")
        .with(
            "_sip._udp.pbx.example",
            RecordType::Srv,
            vec![Record::srv(0, 0, 5060, "u.pbx.example")],
        )
        .a("u.pbx.example", &["192.0.2.1"]);
    let (_, r) = locate("sip:pbx.example", &zone);
    assert_eq!(addrs(&r.unwrap()), ["udp 192.0.2.1:5060"]);
}

/// Two priorities, two hosts, two addresses each: the failover order is
/// priority first, then each host's addresses in turn.
#[test]
fn srv_priority_gives_the_failover_order_rfc2782() {
    let zone = Zone::default()
        .with(
            "_sip._udp.pbx.example",
            RecordType::Srv,
            vec![
                Record::srv(20, 0, 5070, "backup.pbx.example"),
                Record::srv(10, 0, 5060, "main.pbx.example"),
            ],
        )
        .a("main.pbx.example", &["192.0.2.1", "192.0.2.2"])
        .a("backup.pbx.example", &["192.0.2.9", "192.0.2.8"]);
    let (_, r) = locate("sip:200@pbx.example;transport=udp", &zone);
    assert_eq!(
        addrs(&r.unwrap()),
        [
            "udp 192.0.2.1:5060",
            "udp 192.0.2.2:5060",
            "udp 192.0.2.9:5070",
            "udp 192.0.2.8:5070"
        ]
    );
}

fn weighted(random: u32) -> Vec<String> {
    let zone = Zone::default()
        .with(
            "_sip._udp.pbx.example",
            RecordType::Srv,
            vec![
                Record::srv(10, 90, 5060, "heavy.pbx.example"),
                Record::srv(10, 10, 5060, "light.pbx.example"),
                Record::srv(10, 0, 5060, "zero.pbx.example"),
            ],
        )
        .a("heavy.pbx.example", &["192.0.2.90"])
        .a("light.pbx.example", &["192.0.2.10"])
        .a("zero.pbx.example", &["192.0.2.1"]);
    let uri = Uri::parse("sip:pbx.example;transport=udp").unwrap();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = std::sync::Arc::clone(&seen);
    let locator = Locator::new(&uri, &Options::default())
        .unwrap()
        .with_random(move |max| {
            log.lock().unwrap().push(max);
            random.min(max)
        });
    let (_, r) = run(locator, &zone);
    // Each pick draws from 0..=sum of the weights left.
    let maxes = seen.lock().unwrap().clone();
    assert_eq!(maxes[0], 100);
    r.unwrap().iter().map(|t| t.host.clone()).collect()
}

/// RFC 2782: zero weights first in the running sum (the others as the
/// answer listed them), then the first record whose running sum reaches
/// the random number.
#[test]
fn srv_weights_choose_with_the_injected_random_source_rfc2782() {
    // 0: the running sum (0) already reaches it: the zero-weight record,
    // then the heavy one (90 >= 0), then the light one.
    assert_eq!(
        weighted(0),
        ["zero.pbx.example", "heavy.pbx.example", "light.pbx.example"]
    );
    // 1..=90 fall in the heavy record's share (running sum 90).
    assert_eq!(weighted(1)[0], "heavy.pbx.example");
    assert_eq!(weighted(90)[0], "heavy.pbx.example");
    // 91..=100 in the light record's (running sum 100); then the draw
    // (clamped to 90) is past the zero-weight record.
    assert_eq!(
        weighted(91),
        ["light.pbx.example", "heavy.pbx.example", "zero.pbx.example"]
    );
}

#[test]
fn srv_weights_share_picks_in_proportion() {
    let zone = Zone::default()
        .with(
            "_sip._udp.pbx.example",
            RecordType::Srv,
            vec![
                Record::srv(10, 75, 5060, "a.pbx.example"),
                Record::srv(10, 25, 5060, "b.pbx.example"),
            ],
        )
        .a("a.pbx.example", &["192.0.2.1"])
        .a("b.pbx.example", &["192.0.2.2"]);
    let uri = Uri::parse("sip:pbx.example;transport=udp").unwrap();
    // Every value of the first draw in turn: a's share is 0..=75.
    let mut first_a = 0;
    for n in 0..=100u32 {
        let locator = Locator::new(&uri, &Options::default())
            .unwrap()
            .with_random(move |max| n.min(max));
        let (_, r) = run(locator, &zone);
        if r.unwrap()[0].host == "a.pbx.example" {
            first_a += 1;
        }
    }
    assert_eq!(first_a, 76);
}

#[test]
fn srv_dot_target_means_not_offered_and_no_fallback_rfc2782() {
    let zone = Zone::default()
        .with(
            "_sip._udp.pbx.example",
            RecordType::Srv,
            vec![Record::srv(0, 0, 0, ".")],
        )
        .a("pbx.example", &["192.0.2.1"]);
    let (asked, r) = locate("sip:pbx.example;transport=udp", &zone);
    assert_eq!(asked, ["SRV _sip._udp.pbx.example"]);
    let err = r.unwrap_err();
    assert!(err.to_string().contains("service not offered"), "{err}");
}

#[test]
fn without_srv_the_host_addresses_with_the_default_port_rfc3263_4_2() {
    let zone = Zone::default().a("pbx.example", &["192.0.2.1"]);
    let (asked, r) = locate("sip:pbx.example", &zone);
    assert_eq!(asked.last().unwrap(), "AAAA pbx.example");
    assert_eq!(addrs(&r.unwrap()), ["udp 192.0.2.1:5060"]);
    let (_, r) = locate("sips:pbx.example", &zone);
    assert_eq!(addrs(&r.unwrap()), ["tls 192.0.2.1:5061"]);
}

#[test]
fn bad_records_are_skipped() {
    let zone = Zone::default()
        .with(
            "_sip._udp.pbx.example",
            RecordType::Srv,
            vec![
                Record::srv(0, 0, 0, "portzero.pbx.example"),
                Record::A("192.0.2.66".parse().unwrap()),
                Record::srv(1, 0, 5060, "ok.pbx.example"),
                // An address as a target: used as is.
                Record::srv(2, 0, 5064, "192.0.2.44"),
                // The same place twice: once in the list.
                Record::srv(3, 0, 5060, "ok.pbx.example"),
            ],
        )
        .with(
            "ok.pbx.example",
            RecordType::A,
            vec![
                Record::A("0.0.0.0".parse().unwrap()),
                Record::Aaaa("2001:db8::1".parse().unwrap()),
                Record::A("192.0.2.5".parse().unwrap()),
            ],
        );
    let (asked, r) = locate("sip:pbx.example;transport=udp", &zone);
    assert!(!asked.iter().any(|q| q.contains("portzero")), "{asked:?}");
    assert!(!asked.iter().any(|q| q.contains("192.0.2.44")), "{asked:?}");
    assert_eq!(
        addrs(&r.unwrap()),
        ["udp 192.0.2.5:5060", "udp 192.0.2.44:5064"]
    );
}

#[test]
fn nothing_found_names_every_lookup() {
    let zone = Zone::default().failing("_sip._tcp.nope.example", RecordType::Srv, "timed out");
    let (asked, r) = locate("sip:200@nope.example", &zone);
    let err = r.unwrap_err();
    let LocateError::NotFound { host, trail } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(host, "nope.example");
    assert_eq!(trail.len(), asked.len());
    let text = err.to_string();
    for needle in [
        "NAPTR nope.example: no records",
        "SRV _sip._udp.nope.example: no records",
        "SRV _sip._tcp.nope.example: failed (timed out)",
        "A nope.example: no records",
        "AAAA nope.example: no records",
    ] {
        assert!(text.contains(needle), "{needle} not in {text}");
    }
}

#[test]
fn ipv6_lookups_can_be_left_out() {
    let zone = Zone::default().a("pbx.example", &["192.0.2.1"]);
    let uri = Uri::parse("sip:pbx.example:5060").unwrap();
    let options = Options {
        ipv6: false,
        ..Options::default()
    };
    let (asked, r) = run(Locator::new(&uri, &options).unwrap(), &zone);
    assert_eq!(asked, ["A pbx.example"]);
    assert_eq!(addrs(&r.unwrap()), ["udp 192.0.2.1:5060"]);
}

#[test]
fn answers_to_other_queries_are_ignored() {
    let uri = Uri::parse("sip:pbx.example:5060").unwrap();
    let options = Options {
        ipv6: false,
        ..Options::default()
    };
    let mut locator = Locator::new(&uri, &options).unwrap();
    let q = locator.poll_query().unwrap();
    let stray = Query {
        name: "evil.example".into(),
        rtype: RecordType::A,
    };
    locator.handle_answer(&stray, Ok(vec![Record::A("192.0.2.66".parse().unwrap())]));
    assert!(locator.poll_result().is_none());
    locator.handle_answer(&q, Ok(vec![Record::A("192.0.2.1".parse().unwrap())]));
    // A second answer to the same query changes nothing.
    locator.handle_answer(&q, Ok(vec![Record::A("192.0.2.66".parse().unwrap())]));
    assert!(locator.is_done());
    assert_eq!(
        addrs(&locator.poll_result().unwrap().unwrap()),
        ["udp 192.0.2.1:5060"]
    );
    assert!(locator.poll_result().is_none());
}

#[test]
fn uris_and_transports_that_cannot_be_located() {
    let options = Options::default();
    let tel = Uri::parse("tel:+15551234").unwrap();
    assert!(matches!(
        Locator::new(&tel, &options),
        Err(LocateError::NotSip(_))
    ));
    for uri in [
        "sip:pbx.example;transport=ws",
        "sips:pbx.example;transport=udp",
    ] {
        let uri = Uri::parse(uri).unwrap();
        assert!(
            matches!(
                Locator::new(&uri, &options),
                Err(LocateError::Transport { .. })
            ),
            "{uri:?}"
        );
    }
    let udp_only = Options {
        transports: vec![Transport::Udp],
        ..Options::default()
    };
    for uri in ["sips:pbx.example", "sip:pbx.example;transport=tcp"] {
        let uri = Uri::parse(uri).unwrap();
        let err = Locator::new(&uri, &udp_only).unwrap_err();
        assert!(err.to_string().contains("only udp"), "{err}");
    }
    let forced = Options {
        forced: Some(Transport::Udp),
        ..Options::default()
    };
    let uri = Uri::parse("sip:pbx.example;transport=tcp").unwrap();
    assert!(Locator::new(&uri, &forced).is_err());
}

#[test]
fn a_forced_transport_skips_naptr() {
    let zone = Zone::default()
        .with(
            "_sip._udp.pbx.example",
            RecordType::Srv,
            vec![Record::srv(0, 0, 5060, "u.pbx.example")],
        )
        .a("u.pbx.example", &["192.0.2.1"]);
    let uri = Uri::parse("sip:pbx.example").unwrap();
    let options = Options {
        forced: Some(Transport::Udp),
        ..Options::default()
    };
    let (asked, r) = run(Locator::new(&uri, &options).unwrap(), &zone);
    assert_eq!(asked[0], "SRV _sip._udp.pbx.example");
    assert_eq!(addrs(&r.unwrap()), ["udp 192.0.2.1:5060"]);
}

#[test]
fn trailing_dot_in_the_host_is_dropped() {
    let zone = Zone::default().a("pbx.example", &["192.0.2.1"]);
    let (asked, _) = locate("sip:pbx.example.:5060", &zone);
    assert_eq!(asked[0], "A pbx.example");
}
