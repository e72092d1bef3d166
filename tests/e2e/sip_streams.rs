//! Requests Obelus originates over TCP, TLS and WebSocket: a call to a
//! phone that registered over TCP goes down the connection it registered
//! on; a WebSocket phone gets its INVITE (and a MESSAGE) on its socket, and
//! loses its contact when the socket closes; a contact that says
//! `transport=tls` is reached by connecting out with TLS, the server's
//! certificate checked; and a TCP contact whose connection is gone is
//! removed (`rewrite_contact=yes`) or connected to anew, as Asterisk does.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use tungstenite::client::IntoClientRequest;

use crate::call::{Phone, wait_ok};
use crate::common::ari::{enable_ari, request};
use crate::common::{AmiSession, ConfDir, enable_ami, free_port};
use crate::sip_register::{contacts, scenario, sipp};
use crate::sip_ws::{md5_hex, param};

/// A sipp (or any child) killed when the test ends.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A phone `id` with password `id`; `options` go into its endpoint and
/// `aor` into its AOR.
pub(crate) fn phone(id: &str, options: &str, aor: &str) -> String {
    format!(
        "[{id}]\ntype=endpoint\ncontext=testing\ndisallow=all\nallow=ulaw\ndirect_media=no\nauth={id}-auth\naors={id}\n{options}\n\
         [{id}-auth]\ntype=auth\nauth_type=userpass\nusername={id}\npassword={id}\n\n\
         [{id}]\ntype=aor\nmax_contacts=1\nremove_existing=yes\n{aor}\n"
    )
}

/// The ports of a server under test.
pub(crate) struct Ports {
    pub(crate) udp: u16,
    pub(crate) tcp: u16,
}

/// A server with a UDP and a TCP transport, `more` pjsip.conf text (more
/// transports, phones), phone 101 (the UDP caller), and a dialplan that
/// dials `1XX` and logs how Dial ended. `slot` (0-4) keeps its RTP ports
/// apart from the other tests of this file.
pub(crate) fn pbx(slot: u16, more: &str) -> (ConfDir, Ports) {
    let conf = ConfDir::new();
    let ports = Ports {
        udp: free_port(),
        tcp: free_port(),
    };
    conf.write(
        "pjsip.conf",
        &format!(
            "[transport-udp]\ntype=transport\nprotocol=udp\nbind=127.0.0.1:{}\n\n\
             [transport-tcp]\ntype=transport\nprotocol=tcp\nbind=127.0.0.1:{}\n\n{}\n{more}",
            ports.udp,
            ports.tcp,
            phone("101", "", "")
        ),
    );
    conf.write(
        "extensions.conf",
        "[testing]\n\
         exten => _1XX,1,Dial(PJSIP/${EXTEN},20)\n \
         same => n,Log(NOTICE,DIALED ${EXTEN} ${DIALSTATUS})\n \
         same => n,Hangup()\n",
    );
    let start = 50000 + (std::process::id() % 40) as u16 * 150 + slot * 30;
    conf.write(
        "rtp.conf",
        &format!("[general]\nrtpstart={start}\nrtpend={}\n", start + 28),
    );
    (conf, ports)
}

/// The server's `messages` log so far.
pub(crate) fn messages(conf: &ConfDir) -> String {
    std::fs::read_to_string(conf.path().join("log/messages")).unwrap_or_default()
}

/// Waits (bounded) until `what()` holds, failing with `why()`.
pub(crate) fn wait_until(
    limit: Duration,
    mut what: impl FnMut() -> bool,
    why: impl Fn() -> String,
) {
    let deadline = Instant::now() + limit;
    while !what() {
        assert!(Instant::now() < deadline, "{}", why());
        thread::sleep(Duration::from_millis(100));
    }
}

/// Waits until the server's log has `needle`; returns the log.
pub(crate) fn wait_log(conf: &ConfDir, needle: &str) -> String {
    wait_until(
        Duration::from_secs(30),
        || messages(conf).contains(needle),
        || format!("no '{needle}' in:\n{}", messages(conf)),
    );
    messages(conf)
}

pub(crate) fn wait_idle(conf: &ConfDir) {
    wait_until(
        Duration::from_secs(10),
        || {
            conf.rx("core show channels")
                .1
                .contains("0 active channels")
        },
        || conf.rx("core show channels").1,
    );
}

/// Originates `Local/<exten>@testing` into Wait(1): the dialplan dials
/// the phone and logs `DIALED <exten> <DIALSTATUS>`.
fn dial_through_local(ami: &mut AmiSession, exten: &str, id: &str) {
    ami.send(&format!(
        "Action: Originate\r\nActionID: {id}\r\nChannel: Local/{exten}@testing\r\n\
         Application: Wait\r\nData: 1\r\nAsync: true"
    ));
    let queued = ami.response(id);
    assert!(queued.contains("Response: Success"), "{queued}");
}

/// Phone 102 on TCP (sipp `-t t1`, register_wait.xml): registers, its
/// Contact naming `contact_port`, and stays connected; `more` arguments say
/// how it answers what comes down the connection.
fn tcp_phone(tcp: u16, dir: &std::path::Path, contact_port: u16, more: &[&str]) -> Killed {
    Killed(
        Command::new("sipp")
            .current_dir(dir)
            .arg(format!("127.0.0.1:{tcp}"))
            .arg("-sf")
            .arg(scenario("register_wait.xml"))
            .args(["-t", "t1", "-i", "127.0.0.1"])
            .args(["-p", &free_port().to_string()])
            .args(["-s", "102", "-au", "102", "-ap", "102"])
            .args(["-key", "contact_port", &contact_port.to_string()])
            .args(["-d", "30000", "-m", "1", "-nostdin", "-timeout", "60s"])
            .args(more)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("run sipp (apt-get install sip-tester)"),
    )
}

/// A TCP phone 102 running `callee` (a scenario that answers a call on
/// its registration connection, RTP to `rtp`, trace in `log`), its Contact
/// naming a port where nothing listens; returns it with that port.
fn tcp_callee(
    tcp: u16,
    dir: &std::path::Path,
    callee: &str,
    rtp: &UdpSocket,
    log: &std::path::Path,
) -> (Killed, u16) {
    let nowhere = free_port();
    let phone = tcp_phone(
        tcp,
        dir,
        nowhere,
        &[
            "-oocsf",
            scenario(callee).to_str().unwrap(),
            "-key",
            "rtp_port",
            &rtp.local_addr().unwrap().port().to_string(),
            "-trace_logs",
            "-log_file",
            log.to_str().unwrap(),
        ],
    );
    (phone, nowhere)
}

/// Waits until the sipp log at `log` has `needle`; returns the log.
fn wait_sipp_log(log: &std::path::Path, needle: &str) -> String {
    wait_until(
        Duration::from_secs(20),
        || std::fs::read_to_string(log).is_ok_and(|l| l.contains(needle)),
        || {
            format!(
                "no '{needle}' in {}",
                std::fs::read_to_string(log).unwrap_or_default()
            )
        },
    );
    std::fs::read_to_string(log).unwrap_or_default()
}

/// The next OriginateResponse event, whole.
pub(crate) fn originate_response(ami: &mut AmiSession) -> String {
    ami.read_until("Event: OriginateResponse");
    ami.read_until("\r\n\r\n")
}

/// (a) 102 registers over TCP from sipp, its Contact naming a port where
/// nothing listens; 101 calls it over UDP. The INVITE (with a TCP Via), the
/// ACK and the BYE all reach 102 down the connection it registered on, and
/// the call ends cleanly on both sides.
#[test]
fn a_call_reaches_a_tcp_phone_over_its_registration_connection() {
    let (conf, ports) = pbx(0, &phone("102", "", ""));
    let _daemon = conf.start_foreground();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("b.log");
    let rtp_b = UdpSocket::bind("127.0.0.1:0").unwrap();
    let (_callee, nowhere) = tcp_callee(ports.tcp, dir.path(), "stream_callee.xml", &rtp_b, &log);
    let contact = format!("102/sip:102@127.0.0.1:{nowhere};transport=TCP");
    wait_until(
        Duration::from_secs(20),
        || contacts(&conf).contains(&contact),
        || contacts(&conf),
    );

    let rtp_a = UdpSocket::bind("127.0.0.1:0").unwrap();
    let caller = Phone::calling("101", "102")
        .rtp(&rtp_a)
        .codec("0", "PCMU")
        .args(&["-d", "1000"])
        .start(ports.udp, dir.path(), "call_caller.xml");
    wait_ok(caller, "101's call to 102 over TCP", dir.path());
    let seen = wait_sipp_log(&log, "BYE ANSWERED");
    assert!(seen.contains("INVITE VIA TCP"), "{seen}");
    wait_idle(&conf);
    // Nothing was ever sent to the port the contact names.
    assert!(
        !messages(&conf).contains(&format!("127.0.0.1:{nowhere}: ")),
        "{}",
        messages(&conf)
    );
}

/// The other way: 102, on TCP, hangs up a call Obelus made to it; its BYE
/// comes up the same connection and is answered there.
#[test]
fn a_tcp_phone_hangs_up_over_its_registration_connection() {
    let (conf, ports) = pbx(4, &phone("102", "", ""));
    let ami_port = enable_ami(&conf, "call");
    let _daemon = conf.start_foreground();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("b.log");
    let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let (_callee, _) = tcp_callee(
        ports.tcp,
        dir.path(),
        "stream_callee_hangs_up.xml",
        &rtp,
        &log,
    );
    wait_until(
        Duration::from_secs(20),
        || contacts(&conf).contains("102/sip:102@127.0.0.1:"),
        || contacts(&conf),
    );
    let mut ami = AmiSession::login(ami_port);
    ami.send(
        "Action: Originate\r\nActionID: o1\r\nChannel: PJSIP/102\r\n\
         Application: Wait\r\nData: 20\r\nAsync: true",
    );
    let outcome = originate_response(&mut ami);
    assert!(outcome.contains("Response: Success"), "{outcome}");
    let seen = wait_sipp_log(&log, "HUNG UP");
    assert!(seen.contains("INVITE VIA TCP"), "{seen}");
    wait_idle(&conf);
}

/// Qualify pings a TCP contact down the connection it registered on (its
/// Contact names a port where nothing listens; sipp answers the OPTIONS on
/// its connection, `-aa`): the contact becomes Reachable.
#[test]
fn qualify_reaches_a_tcp_contact_over_its_registration_connection() {
    let (conf, ports) = pbx(
        0,
        &phone("102", "", "qualify_frequency=1\nqualify_timeout=2"),
    );
    let ami_port = enable_ami(&conf, "system");
    let _daemon = conf.start_foreground();
    let mut ami = AmiSession::login(ami_port);
    let dir = tempfile::tempdir().unwrap();
    let nowhere = free_port();
    let _phone = tcp_phone(ports.tcp, dir.path(), nowhere, &["-aa"]);
    let mut reachable = ami.read_until("ContactStatus: Reachable");
    reachable.push_str(&ami.read_until("\r\n\r\n"));
    let event = &reachable[reachable.rfind("Event: ContactStatus").unwrap_or(0)..];
    assert!(event.contains("AOR: 102"), "{event}");
    let listed = contacts(&conf);
    assert!(
        listed.contains(&format!("102/sip:102@127.0.0.1:{nowhere};transport=TCP"))
            && listed.contains(" Avail "),
        "{listed}"
    );
}

/// Reads one SIP message off a WebSocket (skipping pings).
pub(crate) fn ws_read<S: Read + Write>(ws: &mut tungstenite::WebSocket<S>) -> String {
    loop {
        match ws.read().expect("a WebSocket message") {
            tungstenite::Message::Text(t) => return t.to_string(),
            tungstenite::Message::Binary(b) => return String::from_utf8_lossy(&b).into_owned(),
            _ => continue,
        }
    }
}

/// The value of header `name` in a SIP message.
pub(crate) fn header<'a>(message: &'a str, name: &str) -> Option<&'a str> {
    message.lines().find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// A response to `request` (its Via, From, To with `tag`, Call-ID and
/// CSeq), with `extra` headers and an SDP body when `sdp_port` is set.
pub(crate) fn respond(
    request: &str,
    status: &str,
    tag: Option<&str>,
    sdp_port: Option<u16>,
) -> String {
    let mut out = format!("SIP/2.0 {status}\r\n");
    for line in request.lines() {
        let name = line.split(':').next().unwrap_or("").trim();
        if name.eq_ignore_ascii_case("Via") {
            out.push_str(line);
            out.push_str("\r\n");
        }
    }
    let to = header(request, "To").unwrap_or_default();
    let to = match tag {
        Some(t) if !to.contains("tag=") => format!("{to};tag={t}"),
        _ => to.to_owned(),
    };
    for (name, value) in [
        ("From", header(request, "From").unwrap_or_default()),
        ("To", to.as_str()),
        ("Call-ID", header(request, "Call-ID").unwrap_or_default()),
        ("CSeq", header(request, "CSeq").unwrap_or_default()),
    ] {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    match sdp_port {
        Some(port) => {
            let sdp = format!(
                "v=0\r\no=phone 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
                 m=audio {port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
            );
            out.push_str(&format!(
                "Contact: <sip:phone@127.0.0.1>\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{sdp}",
                sdp.len()
            ));
        }
        None => out.push_str("Content-Length: 0\r\n\r\n"),
    }
    out
}

/// REGISTERs `user` (password `user`) with `contact`, its Via naming
/// transport `via` (`TCP`, `WS`, ...): `exchange` sends a request and
/// returns the answer. The challenge is answered (digest MD5, qop=auth).
pub(crate) fn register_over(
    user: &str,
    via: &str,
    contact: &str,
    mut exchange: impl FnMut(String) -> String,
) {
    let register = |cseq: u32, auth: Option<&str>| {
        let auth = auth
            .map(|a| format!("Authorization: {a}\r\n"))
            .unwrap_or_default();
        format!(
            "REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/{via} df7jal23ls0d.invalid;branch=z9hG4bK{user}r{cseq};rport\r\n\
             Max-Forwards: 70\r\nFrom: <sip:{user}@127.0.0.1>;tag=phone{user}\r\nTo: <sip:{user}@127.0.0.1>\r\n\
             Call-ID: register-{user}\r\nCSeq: {cseq} REGISTER\r\n\
             Contact: <{contact}>;expires=300\r\n{auth}Content-Length: 0\r\n\r\n"
        )
    };
    let challenge = exchange(register(1, None));
    let www = header(&challenge, "WWW-Authenticate").expect("a challenge");
    let (realm, nonce) = (param(www, "realm"), param(www, "nonce"));
    let ha1 = md5_hex(&format!("{user}:{realm}:{user}"));
    let ha2 = md5_hex("REGISTER:sip:127.0.0.1");
    let response = md5_hex(&format!("{ha1}:{nonce}:00000001:c0ffee:auth:{ha2}"));
    let authorization = format!(
        "Digest username=\"{user}\", realm=\"{realm}\", nonce=\"{nonce}\", uri=\"sip:127.0.0.1\", \
         response=\"{response}\", algorithm=MD5, qop=auth, nc=00000001, cnonce=\"c0ffee\""
    );
    let ok = exchange(register(2, Some(&authorization)));
    assert!(ok.starts_with("SIP/2.0 200 OK\r\n"), "{ok}");
}

/// REGISTERs `user` (password `user`) over `ws` (Via transport `via`: `WS`
/// or `WSS`), its Contact a `.invalid` host as browsers send.
pub(crate) fn ws_register<S: Read + Write>(
    ws: &mut tungstenite::WebSocket<S>,
    user: &str,
    via: &str,
) {
    let contact = format!("sip:{user}@df7jal23ls0d.invalid;transport=ws");
    register_over(user, via, &contact, |request| {
        ws.send(tungstenite::Message::text(request)).unwrap();
        ws_read(ws)
    });
}

/// (b) A WebSocket phone is reached only down its socket: Originate's
/// INVITE, its ACK and BYE, and an ARI text message arrive there with a WS
/// Via. When the socket closes, the contact goes ("due to shutdown", as in
/// Asterisk), and calls to it fail.
#[test]
fn a_websocket_phone_gets_calls_and_messages_on_its_socket() {
    let (conf, _) = pbx(
        1,
        &format!(
            "[transport-ws]\ntype=transport\nprotocol=ws\n\n{}",
            phone("103", "", "")
        ),
    );
    let http = enable_ari(&conf);
    let ami_port = enable_ami(&conf, "call");
    let _daemon = conf.start_foreground();

    let mut ws_request = format!("ws://127.0.0.1:{http}/ws")
        .into_client_request()
        .unwrap();
    ws_request
        .headers_mut()
        .insert("Sec-WebSocket-Protocol", "sip".parse().unwrap());
    let stream = TcpStream::connect(("127.0.0.1", http)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let (mut ws, _) = tungstenite::client(ws_request, stream).expect("WebSocket upgrade");
    ws_register(&mut ws, "103", "WS");
    assert!(
        contacts(&conf).contains("103/sip:103@df7jal23ls0d.invalid;transport=ws"),
        "{}",
        contacts(&conf)
    );

    let mut ami = AmiSession::login(ami_port);
    ami.send(
        "Action: Originate\r\nActionID: o1\r\nChannel: PJSIP/103\r\n\
         Application: Wait\r\nData: 1\r\nAsync: true",
    );
    let invite = ws_read(&mut ws);
    assert!(
        invite.starts_with("INVITE sip:103@df7jal23ls0d.invalid;transport=ws SIP/2.0\r\n"),
        "{invite}"
    );
    assert!(
        header(&invite, "Via").is_some_and(|v| v.starts_with("SIP/2.0/WS ")),
        "{invite}"
    );
    let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = rtp.local_addr().unwrap().port();
    ws.send(tungstenite::Message::text(respond(
        &invite,
        "200 OK",
        Some("wsanswer"),
        Some(port),
    )))
    .unwrap();
    let ack = ws_read(&mut ws);
    assert!(ack.starts_with("ACK "), "{ack}");
    let bye = ws_read(&mut ws);
    assert!(bye.starts_with("BYE "), "{bye}");
    ws.send(tungstenite::Message::text(respond(
        &bye, "200 OK", None, None,
    )))
    .unwrap();
    let outcome = originate_response(&mut ami);
    assert!(outcome.contains("Response: Success"), "{outcome}");

    // A text message to the phone takes the same way.
    let sent = request(
        http,
        "PUT",
        "/ari/endpoints/sendMessage?to=pjsip:103&from=ari&body=over%20the%20socket",
        None,
    );
    assert_eq!(sent.status, 202, "{}", sent.text());
    let message = ws_read(&mut ws);
    assert!(message.starts_with("MESSAGE sip:103@"), "{message}");
    assert!(
        header(&message, "Via").is_some_and(|v| v.starts_with("SIP/2.0/WS ")),
        "{message}"
    );
    assert!(message.ends_with("over the socket"), "{message}");
    ws.send(tungstenite::Message::text(respond(
        &message,
        "202 Accepted",
        Some("m"),
        None,
    )))
    .unwrap();

    drop(ws);
    wait_log(
        &conf,
        "Removed contact 'sip:103@df7jal23ls0d.invalid;transport=ws' from AOR '103' due to shutdown",
    );
    assert!(!contacts(&conf).contains("103/"), "{}", contacts(&conf));
    dial_through_local(&mut ami, "103", "o2");
    wait_log(&conf, "DIALED 103 CHANUNAVAIL");
    wait_idle(&conf);
}

/// A self-signed certificate for 127.0.0.1 and localhost, written to
/// `sip-cert.pem` / `sip-key.pem` in the configuration; returns it.
fn certificate(conf: &ConfDir) -> rcgen::CertifiedKey<rcgen::KeyPair> {
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])
            .expect("test certificate");
    conf.write("sip-cert.pem", &certified.cert.pem());
    conf.write("sip-key.pem", &certified.signing_key.serialize_pem());
    certified
}

/// Reads one SIP message (headers, then Content-Length bytes of body).
fn read_sip(stream: &mut impl Read) -> String {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte).expect("a SIP message");
        buf.push(byte[0]);
        // Leading keep-alive CRLFs are not a message.
        if buf == b"\r\n" {
            buf.clear();
        }
    }
    let head = String::from_utf8_lossy(&buf).into_owned();
    let length: usize = header(&head, "Content-Length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).expect("the body");
    head + &String::from_utf8_lossy(&body)
}

/// (c) A contact saying `transport=tls`, with no connection to it: Obelus
/// connects out with TLS (verify_server=yes, the peer's certificate in
/// ca_list_file), and the INVITE arrives with a TLS Via; the call is
/// answered and ends with a BYE down the same connection.
#[test]
fn a_tls_contact_is_reached_by_connecting_out() {
    let peer = TcpListener::bind("127.0.0.1:0").unwrap();
    let peer_port = peer.local_addr().unwrap().port();
    let tls_port = free_port();
    let (conf, _) = pbx(
        2,
        &format!(
            "[transport-tls]\ntype=transport\nprotocol=tls\nbind=127.0.0.1:{tls_port}\n\
             cert_file=sip-cert.pem\npriv_key_file=sip-key.pem\n\
             verify_server=yes\nca_list_file=sip-cert.pem\n\n{}",
            phone(
                "104",
                "",
                // `;` starts a comment in .conf files: escaped, as in Asterisk's.
                &format!("contact=sip:104@127.0.0.1:{peer_port}\\;transport=tls")
            )
        ),
    );
    let certified = certificate(&conf);
    let ami_port = enable_ami(&conf, "call");
    let _daemon = conf.start_foreground();

    let server_config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(
        vec![certified.cert.der().clone()],
        rustls::pki_types::PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into()),
    )
    .unwrap();
    peer.set_nonblocking(true).unwrap();
    let answering = thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(20);
        let tcp = loop {
            match peer.accept() {
                Ok((tcp, _)) => break tcp,
                Err(_) if Instant::now() < deadline => thread::sleep(Duration::from_millis(20)),
                Err(e) => panic!("Obelus did not connect: {e}"),
            }
        };
        tcp.set_nonblocking(false).unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let connection = rustls::ServerConnection::new(Arc::new(server_config)).unwrap();
        let mut tls = rustls::StreamOwned::new(connection, tcp);
        let invite = read_sip(&mut tls);
        let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = rtp.local_addr().unwrap().port();
        tls.write_all(respond(&invite, "200 OK", Some("tlsanswer"), Some(port)).as_bytes())
            .unwrap();
        let ack = read_sip(&mut tls);
        let bye = read_sip(&mut tls);
        tls.write_all(respond(&bye, "200 OK", None, None).as_bytes())
            .unwrap();
        tls.flush().unwrap();
        (invite, ack, bye)
    });

    let mut ami = AmiSession::login(ami_port);
    ami.send(
        "Action: Originate\r\nActionID: o1\r\nChannel: PJSIP/104\r\n\
         Application: Wait\r\nData: 1\r\nAsync: true",
    );
    let outcome = originate_response(&mut ami);
    let peer_saw = answering.join();
    assert!(
        outcome.contains("Response: Success"),
        "{outcome}\n{peer_saw:?}\n{}",
        messages(&conf)
    );
    let (invite, ack, bye) = peer_saw.expect("the TLS peer");
    assert!(
        invite.starts_with(&format!(
            "INVITE sip:104@127.0.0.1:{peer_port};transport=tls SIP/2.0\r\n"
        )),
        "{invite}"
    );
    let via = header(&invite, "Via").unwrap_or_default();
    assert!(
        via.starts_with(&format!("SIP/2.0/TLS 127.0.0.1:{tls_port};")),
        "{invite}"
    );
    assert!(
        header(&invite, "Contact").is_some_and(|c| c.contains("transport=tls")),
        "{invite}"
    );
    assert!(ack.starts_with("ACK "), "{ack}");
    assert!(bye.starts_with("BYE "), "{bye}");
    wait_idle(&conf);
}

/// (d) A TCP phone registers with sipp, which then exits (its connection
/// closes). As Asterisk: with `rewrite_contact=yes` (102) the contact was
/// the connection's own address and goes with it, so Dial has nothing to
/// call (CHANUNAVAIL); without it (103) the contact stays, and the next
/// call connects to the address it names: refused at once (CHANUNAVAIL)
/// while nothing listens there, answered once a phone does.
#[test]
fn a_tcp_contact_whose_connection_closed_is_dropped_or_connected_anew() {
    let (conf, ports) = pbx(
        3,
        &format!(
            "{}\n{}",
            phone("102", "rewrite_contact=yes", ""),
            phone("103", "", "")
        ),
    );
    let ami_port = enable_ami(&conf, "call");
    let _daemon = conf.start_foreground();
    let mut ami = AmiSession::login(ami_port);

    let port_102 = free_port();
    assert!(sipp(
        ports.tcp,
        "t1",
        "register.xml",
        "102",
        "102",
        port_102
    ));
    wait_log(
        &conf,
        &format!(
            "Removed contact 'sip:102@127.0.0.1:{port_102};transport=TCP' from AOR '102' due to shutdown"
        ),
    );
    assert!(!contacts(&conf).contains("102/"), "{}", contacts(&conf));
    dial_through_local(&mut ami, "102", "o1");
    wait_log(&conf, "DIALED 102 CHANUNAVAIL");

    let port_103 = free_port();
    assert!(sipp(
        ports.tcp,
        "t1",
        "register.xml",
        "103",
        "103",
        port_103
    ));
    let contact = format!("103/sip:103@127.0.0.1:{port_103};transport=TCP");
    assert!(contacts(&conf).contains(&contact), "{}", contacts(&conf));
    let started = Instant::now();
    dial_through_local(&mut ami, "103", "o2");
    let log = wait_log(&conf, "DIALED 103 CHANUNAVAIL");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    assert!(
        log.contains(&format!("cannot connect to 127.0.0.1:{port_103}")),
        "{log}"
    );
    assert!(contacts(&conf).contains(&contact), "{}", contacts(&conf));

    // A phone listening at the contact's address now gets the next call.
    let dir = tempfile::tempdir().unwrap();
    let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let callee = Command::new("sipp")
        .current_dir(dir.path())
        .arg("-sf")
        .arg(scenario("call_callee.xml"))
        .args(["-t", "t1", "-i", "127.0.0.1", "-p", &port_103.to_string()])
        .args(["-m", "1", "-nostdin", "-timeout", "60s", "-trace_err"])
        .args([
            "-key",
            "rtp_port",
            &rtp.local_addr().unwrap().port().to_string(),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("run sipp");
    wait_until(
        Duration::from_secs(10),
        || TcpStream::connect(("127.0.0.1", port_103)).is_ok(),
        || "sipp did not listen".to_owned(),
    );
    dial_through_local(&mut ami, "103", "o3");
    wait_ok(
        callee,
        "103 answering over a new TCP connection",
        dir.path(),
    );
    wait_idle(&conf);
}

/// The answer to `invite` from a phone whose Contact is `contact`: 200 OK
/// with PCMU on `rtp_port`.
fn answer_with_contact(invite: &str, contact: &str, rtp_port: u16) -> String {
    respond(invite, "200 OK", Some("dropper"), Some(rtp_port)).replace(
        "Contact: <sip:phone@127.0.0.1>",
        &format!("Contact: <{contact}>"),
    )
}

/// (e) A TCP phone answers a call, then its connection drops (the phone
/// restarts its stack and listens at the address its Contact names). When
/// the caller hangs up, the BYE goes to that Contact over a new TCP
/// connection, as pjsip routes in-dialog requests, instead of vanishing
/// into the closed one.
#[test]
fn a_bye_reaches_a_tcp_callee_whose_connection_dropped() {
    // rewrite_contact: the registered contact goes with the connection,
    // which says in the log when Obelus has seen it close.
    let (conf, ports) = pbx(2, &phone("102", "rewrite_contact=yes", ""));
    let ami_port = enable_ami(&conf, "call");
    let _daemon = conf.start_foreground();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let contact = format!(
        "sip:102@127.0.0.1:{};transport=tcp",
        listener.local_addr().unwrap().port()
    );

    let mut tcp = TcpStream::connect(("127.0.0.1", ports.tcp)).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    register_over("102", "TCP", &contact, |request| {
        tcp.write_all(request.as_bytes()).unwrap();
        read_sip(&mut tcp)
    });
    let mut ami = AmiSession::login(ami_port);
    ami.send(
        "Action: Originate\r\nActionID: o1\r\nChannel: Local/102@testing\r\n\
         Application: Wait\r\nData: 60\r\nAsync: true",
    );
    let invite = read_sip(&mut tcp);
    assert!(invite.starts_with("INVITE sip:102@127.0.0.1:"), "{invite}");
    let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let rtp_port = rtp.local_addr().unwrap().port();
    tcp.write_all(answer_with_contact(&invite, &contact, rtp_port).as_bytes())
        .unwrap();
    let ack = read_sip(&mut tcp);
    assert!(ack.starts_with("ACK "), "{ack}");
    let outcome = originate_response(&mut ami);
    assert!(outcome.contains("Response: Success"), "{outcome}");

    drop(tcp);
    wait_log(&conf, "from AOR '102' due to shutdown");
    ami.send("Action: Hangup\r\nActionID: h1\r\nChannel: /^Local\\/102@testing-.*;1$/");
    let hung = ami.response("h1");
    assert!(hung.contains("Response: Success"), "{hung}");

    listener.set_nonblocking(true).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut again = loop {
        match listener.accept() {
            Ok((tcp, _)) => break tcp,
            Err(_) if Instant::now() < deadline => thread::sleep(Duration::from_millis(20)),
            Err(e) => panic!("no new connection for the BYE ({e}):\n{}", messages(&conf)),
        }
    };
    again.set_nonblocking(false).unwrap();
    again
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let bye = read_sip(&mut again);
    assert!(
        bye.starts_with(&format!("BYE {contact} SIP/2.0\r\n")),
        "{bye}"
    );
    assert_eq!(header(&bye, "Call-ID"), header(&invite, "Call-ID"), "{bye}");
    assert!(
        header(&bye, "Via").is_some_and(|v| v.starts_with("SIP/2.0/TCP ")),
        "{bye}"
    );
    again
        .write_all(respond(&bye, "200 OK", None, None).as_bytes())
        .unwrap();
    wait_log(&conf, "BYE goes to");
    wait_idle(&conf);
}
