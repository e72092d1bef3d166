//! Outbound registration options beyond the basics, against registrars
//! the tests play: sipp scenarios checking what the REGISTERs carry
//! (`support_path`, `support_outbound`, `security_negotiation=mediasec`
//! with its 401 and 494 flows), dnsmasq giving a server name several SRV
//! targets (a silent one, one answering 503, one that registers: the
//! REGISTER fails over to each in turn), and a TCP registrar that grants
//! an RFC 5626 flow with a `Flow-Timer`, gets its CRLF keep-alives, and
//! drops the connection: the registration comes back on a new one.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::call::wait_ok_within;
use crate::common::{ConfDir, free_port};
use crate::sip_dns::{Dnsmasq, wait_log};
use crate::sip_register::scenario;

/// A registrar played by sipp on `port` (UAS scenarios never send first,
/// so the remote address is only sipp's required argument).
fn registrar(port: u16, dir: &Path, name: &str) -> Child {
    Command::new("sipp")
        .current_dir(dir)
        .arg("127.0.0.1:5060")
        .arg("-sf")
        .arg(scenario(name))
        .args(["-i", "127.0.0.1", "-p", &port.to_string()])
        .args(["-m", "1", "-nostdin", "-timeout", "90s", "-trace_err"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("run sipp (apt-get install sip-tester)")
}

/// A server with a UDP transport (and `extra` sections: registrations,
/// auths), not started.
fn obelus(extra: &str) -> ConfDir {
    let conf = ConfDir::new();
    let port = free_port();
    conf.write(
        "pjsip.conf",
        &format!("[transport-udp]\ntype=transport\nprotocol=udp\nbind=127.0.0.1:{port}\n\n{extra}"),
    );
    conf
}

/// A registration `id` to `server_uri`, registering at once for 120 s,
/// with `extra` options.
fn registration(id: &str, server_uri: &str, extra: &str) -> String {
    format!(
        "[{id}]\ntype=registration\nserver_uri={server_uri}\nclient_uri=sip:{id}@127.0.0.1\n\
max_random_initial_delay=0\nexpiration=120\n{extra}\n"
    )
}

/// Waits (bounded) until `pjsip show registrations` says `id` is
/// registered.
fn registered(conf: &ConfDir, id: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (_, out, _) = conf.rx("pjsip show registrations");
        if out
            .lines()
            .any(|l| l.trim_start().starts_with(&format!("{id}/")) && l.contains("Registered"))
        {
            return;
        }
        assert!(Instant::now() < deadline, "{id} not registered:\n{out}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `support_path` and `support_outbound`: `Supported: path, outbound` and
/// a flow Contact (registrar_outbound.xml checks them).
#[test]
fn path_and_outbound_support_are_advertised() {
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let sipp = registrar(port, dir.path(), "registrar_outbound.xml");
    let conf = obelus(&registration(
        "trunk",
        &format!("sip:127.0.0.1:{port}"),
        "support_path=yes\nsupport_outbound=yes",
    ));
    let _daemon = conf.start_foreground();
    wait_ok_within(
        sipp,
        "the REGISTER of a flow",
        dir.path(),
        Duration::from_secs(60),
    );
    registered(&conf, "trunk");
}

/// `security_negotiation=mediasec` against both RFC 3329 flows: the
/// server's mechanisms named in the 401 (Deutsche Telekom's) and in a 494
/// before the challenge; each registration ends registered.
#[test]
fn mediasec_registrations_negotiate_security() {
    let (p401, p494) = (free_port(), free_port());
    let (d401, d494) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let s401 = registrar(p401, d401.path(), "registrar_mediasec_401.xml");
    let s494 = registrar(p494, d494.path(), "registrar_mediasec_494.xml");
    let mediasec = "outbound_auth=tel-auth\nsecurity_negotiation=mediasec\n\
security_mechanisms=sdes-srtp\\;mediasec";
    let conf = obelus(&format!(
        "[tel-auth]\ntype=auth\nauth_type=userpass\nusername=4930123456\npassword=secret\n\n{}{}",
        registration("tel-401", &format!("sip:127.0.0.1:{p401}"), mediasec),
        registration("tel-494", &format!("sip:127.0.0.1:{p494}"), mediasec),
    ));
    let _daemon = conf.start_foreground();
    wait_ok_within(
        s401,
        "mediasec with a 401",
        d401.path(),
        Duration::from_secs(60),
    );
    wait_ok_within(
        s494,
        "mediasec with a 494",
        d494.path(),
        Duration::from_secs(60),
    );
    registered(&conf, "tel-401");
    registered(&conf, "tel-494");
}

/// RFC 3263 failover of a REGISTER: `reg.test` has three SRV targets; the
/// first never answers (Timer F), the second answers 503, the third
/// registers. The log names each step.
#[test]
fn a_register_fails_over_through_the_srv_targets() {
    let (dead, busy, live) = (free_port(), free_port(), free_port());
    let dns = Dnsmasq::start(&[
        format!("--srv-host=_sip._udp.reg.test,dead.reg.test,{dead},5,100"),
        format!("--srv-host=_sip._udp.reg.test,busy.reg.test,{busy},10,100"),
        format!("--srv-host=_sip._udp.reg.test,live.reg.test,{live},20,100"),
        "--host-record=dead.reg.test,127.0.0.1".into(),
        "--host-record=busy.reg.test,127.0.0.1".into(),
        "--host-record=live.reg.test,127.0.0.1".into(),
    ]);
    let (dbusy, dlive) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let s503 = registrar(busy, dbusy.path(), "registrar_503.xml");
    let sok = registrar(live, dlive.path(), "registrar_ok.xml");
    let conf = obelus(&registration("trunk", "sip:reg.test", ""));
    conf.write(
        "resolver_unbound.conf",
        &format!("[general]\nnameserver = 127.0.0.1:{}\n", dns.port),
    );
    let _daemon = conf.start_foreground();
    let log = wait_log(&conf, "503 response from", Duration::from_secs(90));
    let owner = "PJSIP outbound registration 'trunk'";
    assert!(
        log.contains(&format!(
            "{owner}: no response from 127.0.0.1:{dead} for 'sip:reg.test'; trying the next target 127.0.0.1:{busy}"
        )),
        "{log}"
    );
    assert!(
        log.contains(&format!(
            "{owner}: 503 response from 127.0.0.1:{busy} for 'sip:reg.test'; trying the next target 127.0.0.1:{live}"
        )),
        "{log}"
    );
    wait_ok_within(
        s503,
        "the 503 target",
        dbusy.path(),
        Duration::from_secs(60),
    );
    wait_ok_within(
        sok,
        "the live target",
        dlive.path(),
        Duration::from_secs(60),
    );
    registered(&conf, "trunk");
}

/// One SIP request read from a TCP stream (headers only: the REGISTERs
/// here have no body), skipping CRLF keep-alives before it; `None` at EOF.
fn read_request(stream: &mut TcpStream) -> Option<String> {
    let mut text = Vec::new();
    let mut byte = [0u8; 1];
    loop {
        if stream.read(&mut byte).ok()? == 0 {
            return None;
        }
        if text.is_empty() && matches!(byte[0], b'\r' | b'\n') {
            continue;
        }
        text.push(byte[0]);
        if text.ends_with(b"\r\n\r\n") {
            return Some(String::from_utf8_lossy(&text).into_owned());
        }
    }
}

/// The 200 a registrar answers `request` with: its Via, From, To (tagged),
/// Call-ID, CSeq and Contact, and `extra` lines.
fn ok_for(request: &str, extra: &str) -> String {
    let mut out = String::from("SIP/2.0 200 OK\r\n");
    for line in request.lines() {
        let name = line.split(':').next().unwrap_or("").to_ascii_lowercase();
        match name.as_str() {
            "via" | "from" | "call-id" | "cseq" | "contact" => {
                out.push_str(line);
                out.push_str("\r\n");
            }
            "to" => {
                out.push_str(line);
                out.push_str(";tag=reg1\r\n");
            }
            _ => {}
        }
    }
    out.push_str(extra);
    out.push_str("Expires: 120\r\nContent-Length: 0\r\n\r\n");
    out
}

/// Reads exactly one keep-alive ping (RFC 5626 §4.4.1 `CRLF CRLF`) and
/// answers the pong.
fn ping_pong(stream: &mut TcpStream) {
    let mut ping = [0u8; 4];
    stream
        .read_exact(&mut ping)
        .expect("a CRLF keep-alive within the read timeout");
    assert_eq!(&ping, b"\r\n\r\n");
    stream.write_all(b"\r\n").unwrap();
}

/// Accepts the next connection within a bounded wait.
fn accept(listener: &TcpListener, what: &str) -> TcpStream {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match listener.accept() {
            Ok((stream, _)) => {
                stream.set_nonblocking(false).unwrap();
                stream
                    .set_read_timeout(Some(Duration::from_secs(20)))
                    .unwrap();
                return stream;
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                assert!(Instant::now() < deadline, "no connection: {what}");
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => panic!("accept: {e}"),
        }
    }
}

/// RFC 5626 §4.4.1 over TCP: the registrar grants a flow with
/// `Flow-Timer: 2`; CRLF keep-alives come down the connection (well
/// before the transport's own 90 s pings); when the registrar closes it,
/// the next keep-alive fails and the registration is sent again over a
/// new connection, as the same flow.
#[test]
fn an_outbound_flow_is_kept_alive_and_registered_again_when_it_fails() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let conf = ConfDir::new();
    let sip = free_port();
    conf.write(
        "pjsip.conf",
        &format!(
            "[transport-tcp]\ntype=transport\nprotocol=tcp\nbind=127.0.0.1:{sip}\n\n{}",
            registration(
                "flow",
                &format!("sip:127.0.0.1:{port}\\;transport=tcp"),
                "support_outbound=yes"
            )
        ),
    );
    let _daemon = conf.start_foreground();

    let mut first = accept(&listener, "the first REGISTER");
    let register = read_request(&mut first).expect("a REGISTER");
    assert!(
        register.starts_with("REGISTER sip:127.0.0.1:"),
        "{register}"
    );
    assert!(register.contains("Supported: outbound\r\n"), "{register}");
    let contact = register
        .lines()
        .find(|l| l.starts_with("Contact:"))
        .unwrap_or_else(|| panic!("no Contact:\n{register}"))
        .to_owned();
    assert!(
        contact.contains(";transport=tcp;ob>;reg-id=1;+sip.instance=\"<urn:uuid:"),
        "{contact}"
    );
    first
        .write_all(ok_for(&register, "Require: outbound\r\nFlow-Timer: 2\r\n").as_bytes())
        .unwrap();
    ping_pong(&mut first);
    ping_pong(&mut first);
    registered(&conf, "flow");
    drop(first);

    let mut second = accept(&listener, "the REGISTER after the flow failed");
    let again = read_request(&mut second).expect("a REGISTER on the new connection");
    assert!(again.starts_with("REGISTER "), "{again}");
    let same = again
        .lines()
        .find(|l| l.starts_with("Contact:"))
        .unwrap_or_default();
    assert_eq!(same, contact, "the same flow registers again");
    second
        .write_all(ok_for(&again, "Require: outbound\r\n").as_bytes())
        .unwrap();
    let log = wait_log(&conf, "registering again", Duration::from_secs(10));
    assert!(
        log.contains("PJSIP outbound registration 'flow': the flow to 'sip:127.0.0.1:"),
        "{log}"
    );
}
