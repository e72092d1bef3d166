use super::*;

const INVITE: &str = "INVITE sip:bob@biloxi.com SIP/2.0\r\nVia: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds\r\nRoute: <sip:p1.example.com;lr>\r\nMax-Forwards: 70\r\nTo: Bob <sip:bob@biloxi.com>\r\nFrom: Alice <sip:alice@atlanta.com>;tag=1928301774\r\nCall-ID: a84b4c76e66710\r\nCSeq: 314159 INVITE\r\nContent-Length: 0\r\n\r\n";

fn invite() -> Request {
    Request::parse(INVITE.as_bytes().to_vec()).unwrap()
}

fn options() -> Request {
    Request::parse(INVITE.replace("INVITE", "OPTIONS").into_bytes()).unwrap()
}

fn response(req: &Request, code: u16) -> Response {
    Response::for_request(req, StatusCode::new(code).unwrap())
        .to_tag("as1")
        .build()
        .unwrap()
}

fn drain(t: &mut ClientTransaction) -> Vec<Bytes> {
    std::iter::from_fn(|| t.poll_transmit()).collect()
}

fn drain_s(t: &mut ServerTransaction) -> Vec<Bytes> {
    std::iter::from_fn(|| t.poll_transmit()).collect()
}

/// Advances virtual time timer by timer until `end`, counting transmissions.
fn run_client(t: &mut ClientTransaction, start: Instant, end: Duration) -> Vec<Duration> {
    let mut sent = Vec::new();
    while let Some(at) = t.poll_timeout() {
        if at > start + end {
            break;
        }
        t.handle_timeout(at);
        for _ in drain(t) {
            sent.push(at - start);
        }
    }
    sent
}

#[test]
fn invite_client_timer_a_doubles_and_timer_b_times_out_rfc3261_17_1_1_2() {
    let now = Instant::now();
    let mut t = ClientTransaction::new(invite(), false, TimerConfig::default(), now).unwrap();
    assert_eq!(t.state(), State::Calling);
    assert_eq!(drain(&mut t).len(), 1);
    let sent = run_client(&mut t, now, Duration::from_secs(40));
    let ms: Vec<u128> = sent.iter().map(Duration::as_millis).collect();
    // A fires at 0.5, 1.5, 3.5, 7.5, 15.5, 31.5 s; B (32 s) ends it.
    assert_eq!(ms, [500, 1500, 3500, 7500, 15500, 31500]);
    assert_eq!(t.state(), State::Terminated);
    let events: Vec<_> = std::iter::from_fn(|| t.poll_event()).collect();
    assert!(matches!(
        events.as_slice(),
        [Event::Timeout, Event::Terminated]
    ));
    assert_eq!(t.poll_timeout(), None);
}

#[test]
fn invite_client_provisional_stops_retransmissions_and_timer_b() {
    let now = Instant::now();
    let req = invite();
    let mut t = ClientTransaction::new(req.clone(), false, TimerConfig::default(), now).unwrap();
    drain(&mut t);
    t.handle_response(response(&req, 180), now + Duration::from_millis(100))
        .unwrap();
    assert_eq!(t.state(), State::Proceeding);
    assert!(
        matches!(t.poll_event(), Some(Event::Response(r)) if r.status() == StatusCode::RINGING)
    );
    assert_eq!(t.poll_timeout(), None, "no timer in Proceeding");
}

#[test]
fn invite_client_non_2xx_final_gets_ack_and_timer_d_rfc3261_17_1_1_3() {
    let now = Instant::now();
    let req = invite();
    let mut t = ClientTransaction::new(req.clone(), false, TimerConfig::default(), now).unwrap();
    drain(&mut t);
    let busy = response(&req, 486);
    t.handle_response(busy.clone(), now).unwrap();
    assert_eq!(t.state(), State::Completed);
    let acks = drain(&mut t);
    assert_eq!(acks.len(), 1);
    let ack = Request::parse(acks[0].clone()).unwrap();
    assert_eq!(ack.method(), &Method::Ack);
    assert_eq!(ack.uri_str(), "sip:bob@biloxi.com");
    assert_eq!(ack.headers().cseq().seq, 314159);
    assert_eq!(ack.headers().to().unwrap().tag(), Some("as1"));
    assert_eq!(
        ack.headers().via().unwrap().branch(),
        Some("z9hG4bK776asdhds")
    );
    assert_eq!(ack.headers().routes().count(), 1);
    assert!(matches!(t.poll_event(), Some(Event::Response(_))));
    // A retransmitted 486 is absorbed and answered with the same ACK.
    t.handle_response(busy, now + Duration::from_secs(1))
        .unwrap();
    assert_eq!(drain(&mut t), acks);
    assert!(t.poll_event().is_none());
    // Timer D: 32 s over UDP.
    assert_eq!(t.poll_timeout(), Some(now + Duration::from_secs(32)));
    t.handle_timeout(now + Duration::from_secs(32));
    assert_eq!(t.state(), State::Terminated);
}

#[test]
fn invite_client_2xx_goes_to_tu_accepted_rfc6026() {
    let now = Instant::now();
    let req = invite();
    let mut t = ClientTransaction::new(req.clone(), true, TimerConfig::default(), now).unwrap();
    drain(&mut t);
    assert_eq!(
        t.poll_timeout(),
        Some(now + Duration::from_secs(32)),
        "only Timer B over TCP"
    );
    t.handle_response(response(&req, 200), now).unwrap();
    t.handle_response(response(&req, 200), now).unwrap();
    assert_eq!(t.state(), State::Accepted);
    assert!(drain(&mut t).is_empty(), "the TU ACKs 2xx itself");
    let n = std::iter::from_fn(|| t.poll_event())
        .filter(|e| matches!(e, Event::Response(_)))
        .count();
    assert_eq!(n, 2, "2xx retransmissions reach the TU");
    t.handle_timeout(now + Duration::from_secs(32));
    assert_eq!(t.state(), State::Terminated);
}

#[test]
fn non_invite_client_timer_e_caps_at_t2_rfc3261_17_1_2_2() {
    let now = Instant::now();
    let mut t = ClientTransaction::new(options(), false, TimerConfig::default(), now).unwrap();
    drain(&mut t);
    let sent = run_client(&mut t, now, Duration::from_secs(40));
    let ms: Vec<u128> = sent.iter().map(Duration::as_millis).collect();
    assert_eq!(
        ms,
        [
            500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500
        ]
    );
    assert_eq!(t.state(), State::Terminated);
    assert!(matches!(t.poll_event(), Some(Event::Timeout)));
}

#[test]
fn non_invite_client_proceeding_and_timer_k() {
    let now = Instant::now();
    let req = options();
    let mut t = ClientTransaction::new(req.clone(), false, TimerConfig::default(), now).unwrap();
    drain(&mut t);
    t.handle_response(response(&req, 100), now).unwrap();
    assert_eq!(t.state(), State::Proceeding);
    // In Proceeding, E fires at T2 intervals.
    t.handle_timeout(now + Duration::from_millis(500));
    assert_eq!(drain(&mut t).len(), 1);
    assert_eq!(t.poll_timeout(), Some(now + Duration::from_millis(4500)));
    t.handle_response(response(&req, 200), now + Duration::from_secs(1))
        .unwrap();
    assert_eq!(t.state(), State::Completed);
    t.handle_response(response(&req, 200), now + Duration::from_secs(2))
        .unwrap();
    let finals = std::iter::from_fn(|| t.poll_event())
        .filter(|e| matches!(e, Event::Response(r) if r.status().is_final()))
        .count();
    assert_eq!(finals, 1, "retransmitted finals are absorbed");
    assert_eq!(
        t.poll_timeout(),
        Some(now + Duration::from_secs(6)),
        "Timer K = T4"
    );
    t.handle_timeout(now + Duration::from_secs(6));
    assert_eq!(t.state(), State::Terminated);
}

#[test]
fn ack_does_not_make_a_client_transaction() {
    let ack = Request::parse(INVITE.replace("INVITE", "ACK").into_bytes()).unwrap();
    assert_eq!(
        ClientTransaction::new(ack.clone(), false, TimerConfig::default(), Instant::now())
            .unwrap_err(),
        TransactionError::AckRequest
    );
    assert!(ServerTransaction::new(&ack, false, TimerConfig::default()).is_err());
}

#[test]
fn invite_server_trying_retransmissions_and_timer_g_h_rfc3261_17_2_1() {
    let now = Instant::now();
    let req = invite();
    let mut t = ServerTransaction::new(&req, false, TimerConfig::default()).unwrap();
    let trying = drain_s(&mut t);
    assert_eq!(
        Response::parse(trying[0].clone()).unwrap().status(),
        StatusCode::TRYING
    );
    // A retransmitted INVITE gets the last provisional again.
    t.handle_request(req.clone(), now);
    assert_eq!(drain_s(&mut t), trying);
    t.send_response(&response(&req, 180), now).unwrap();
    drain_s(&mut t);
    t.send_response(&response(&req, 486), now).unwrap();
    assert_eq!(t.state(), State::Completed);
    assert_eq!(drain_s(&mut t).len(), 1);
    // Timer G: 0.5, 1.5, 3.5, 7.5, 11.5 ... capped at T2; H at 32 s.
    let mut times = Vec::new();
    while let Some(at) = t.poll_timeout() {
        t.handle_timeout(at);
        for _ in drain_s(&mut t) {
            times.push((at - now).as_millis());
        }
    }
    assert_eq!(
        times,
        [
            500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500
        ]
    );
    let events: Vec<_> = std::iter::from_fn(|| t.poll_event()).collect();
    assert!(
        matches!(events.as_slice(), [Event::Timeout, Event::Terminated]),
        "no ACK: Timer H"
    );
}

#[test]
fn invite_server_ack_confirms_and_timer_i() {
    let now = Instant::now();
    let req = invite();
    let mut t = ServerTransaction::new(&req, false, TimerConfig::default()).unwrap();
    t.send_response(&response(&req, 404), now).unwrap();
    let ack = Request::parse(INVITE.replace("INVITE", "ACK").into_bytes()).unwrap();
    t.handle_request(ack.clone(), now + Duration::from_millis(100));
    assert_eq!(t.state(), State::Confirmed);
    drain_s(&mut t);
    t.handle_request(ack, now + Duration::from_millis(200));
    assert!(drain_s(&mut t).is_empty(), "ACKs absorbed in Confirmed");
    assert_eq!(
        t.poll_timeout(),
        Some(now + Duration::from_millis(5100)),
        "Timer I = T4"
    );
    t.handle_timeout(now + Duration::from_millis(5100));
    assert_eq!(t.state(), State::Terminated);
    assert!(t.send_response(&response(&req, 200), now).is_err());
}

#[test]
fn invite_server_2xx_accepted_passes_ack_rfc6026_7_1() {
    let now = Instant::now();
    let req = invite();
    let mut t = ServerTransaction::new(&req, true, TimerConfig::default()).unwrap();
    t.send_response(&response(&req, 200), now).unwrap();
    assert_eq!(t.state(), State::Accepted);
    drain_s(&mut t);
    t.handle_request(req.clone(), now);
    assert!(
        drain_s(&mut t).is_empty(),
        "INVITE retransmissions absorbed; the TU resends 2xx"
    );
    let ack = Request::parse(INVITE.replace("INVITE", "ACK").into_bytes()).unwrap();
    t.handle_request(ack, now);
    assert!(matches!(t.poll_event(), Some(Event::Ack(_))));
    t.handle_timeout(now + Duration::from_secs(32));
    assert_eq!(t.state(), State::Terminated);
}

#[test]
fn non_invite_server_rfc3261_17_2_2() {
    let now = Instant::now();
    let req = options();
    let mut t = ServerTransaction::new(&req, false, TimerConfig::default()).unwrap();
    assert_eq!(t.state(), State::Trying);
    t.handle_request(req.clone(), now);
    assert!(drain_s(&mut t).is_empty(), "Trying absorbs retransmissions");
    t.send_response(&response(&req, 200), now).unwrap();
    let ok = drain_s(&mut t);
    t.handle_request(req.clone(), now + Duration::from_secs(1));
    assert_eq!(drain_s(&mut t), ok, "Completed resends the final response");
    assert_eq!(
        t.poll_timeout(),
        Some(now + Duration::from_secs(32)),
        "Timer J = 64*T1"
    );
    t.handle_timeout(now + Duration::from_secs(32));
    assert_eq!(t.state(), State::Terminated);
    let mut tcp = ServerTransaction::new(&req, true, TimerConfig::default()).unwrap();
    tcp.send_response(&response(&req, 200), now).unwrap();
    assert_eq!(tcp.state(), State::Terminated, "Timer J is zero over TCP");
}

#[test]
fn transaction_keys_rfc3261_17_2_3() {
    let req = invite();
    let k = TransactionKey::for_request(&req).unwrap();
    assert_eq!(
        (k.branch.as_str(), k.sent_by.as_str(), &k.method),
        ("z9hG4bK776asdhds", "pc33.atlanta.com", &Method::Invite)
    );
    let ack = Request::parse(INVITE.replace("INVITE", "ACK").into_bytes()).unwrap();
    assert_eq!(TransactionKey::for_request(&ack), Some(k));
    let resp = response(&req, 180);
    assert_eq!(
        TransactionKey::for_response(&resp),
        TransactionKey::for_client_request(&req)
    );
    let old = Request::parse(
        INVITE
            .replace(";branch=z9hG4bK776asdhds", ";branch=1")
            .into_bytes(),
    )
    .unwrap();
    assert_eq!(TransactionKey::for_request(&old), None);
}
