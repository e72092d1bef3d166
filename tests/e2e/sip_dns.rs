//! RFC 3263 against a real DNS server: dnsmasq on a free 127.0.0.1 port
//! serves NAPTR, SRV and A records for `*.test`, Obelus asks it through
//! `resolver_unbound.conf` (`nameserver = 127.0.0.1:PORT`), and calls to
//! `PJSIP/trunk/sip:200@<name>` reach sipp where the records point:
//! - NAPTR -> SRV -> A: the call reaches the SRV target's port;
//! - two SRV targets, the first silent: after Timer B the INVITE goes to
//!   the second, and the log says so;
//! - a name without records: Dial fails at once (CHANUNAVAIL) and the log
//!   names every lookup that came back empty.

use std::net::UdpSocket;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::call::wait_ok_within;
use crate::common::{AmiSession, ConfDir, enable_ami, free_port};
use crate::sip_register::scenario;

/// A dnsmasq serving only what its arguments say (no upstream, no hosts
/// file, authoritative NXDOMAIN for the rest of `.test`).
pub(crate) struct Dnsmasq {
    child: Child,
    pub(crate) port: u16,
}

impl Dnsmasq {
    pub(crate) fn start(records: &[String]) -> Dnsmasq {
        let port = free_port();
        // Debian installs it in /usr/sbin, which a non-root PATH may lack.
        let program = if Path::new("/usr/sbin/dnsmasq").exists() {
            "/usr/sbin/dnsmasq"
        } else {
            "dnsmasq"
        };
        let child = Command::new(program)
            .args([
                "--keep-in-foreground",
                "--conf-file=/dev/null",
                "--no-resolv",
                "--no-hosts",
                "--bind-interfaces",
                "--listen-address=127.0.0.1",
                "--pid-file=",
                "--local=/test/",
                &format!("--port={port}"),
            ])
            .args(records)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run dnsmasq (apt-get install dnsmasq-base)");
        let mut dns = Dnsmasq { child, port };
        // Up once its UDP port is taken (bounded).
        let deadline = Instant::now() + Duration::from_secs(10);
        while UdpSocket::bind(("127.0.0.1", port)).is_ok() {
            if let Some(status) = dns.child.try_wait().unwrap() {
                let mut err = String::new();
                if let Some(mut e) = dns.child.stderr.take() {
                    use std::io::Read;
                    let _ = e.read_to_string(&mut err);
                }
                panic!("dnsmasq exited ({status}): {err}");
            }
            assert!(Instant::now() < deadline, "dnsmasq did not start");
            thread::sleep(Duration::from_millis(20));
        }
        dns
    }
}

impl Drop for Dnsmasq {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A server whose `trunk` endpoint calls out, resolving names with `dns`;
/// extension 301 dials a name without records and logs how Dial ended.
fn pbx(dns: &Dnsmasq) -> (ConfDir, u16) {
    let conf = ConfDir::new();
    let port = free_port();
    conf.write(
        "pjsip.conf",
        &format!(
            "[transport-udp]\ntype=transport\nprotocol=udp\nbind=127.0.0.1:{port}\n\n\
             [trunk]\ntype=endpoint\ncontext=test\ndisallow=all\nallow=ulaw\n"
        ),
    );
    conf.write(
        "resolver_unbound.conf",
        &format!("[general]\nnameserver = 127.0.0.1:{}\n", dns.port),
    );
    conf.write(
        "extensions.conf",
        "[test]\n\
         exten => 301,1,Dial(PJSIP/trunk/sip:200@nowhere.test,20)\n \
         same => n,Log(NOTICE,DIALED 301 ${DIALSTATUS})\n \
         same => n,Hangup()\n",
    );
    let start = 30000 + (std::process::id() % 40) as u16 * 250 + 200;
    conf.write(
        "rtp.conf",
        &format!("[general]\nrtpstart={start}\nrtpend={}\n", start + 38),
    );
    (conf, port)
}

/// A sipp answering one call on `port` (call_callee.xml).
fn uas(port: u16, dir: &Path, rtp: &UdpSocket) -> Child {
    Command::new("sipp")
        .current_dir(dir)
        .arg("-sf")
        .arg(scenario("call_callee.xml"))
        .args(["-i", "127.0.0.1", "-p", &port.to_string()])
        .args(["-m", "1", "-nostdin", "-timeout", "90s", "-trace_err"])
        .args([
            "-key",
            "rtp_port",
            &rtp.local_addr().unwrap().port().to_string(),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("run sipp (apt-get install sip-tester)")
}

/// The server's `messages` log so far.
fn messages(conf: &ConfDir) -> String {
    std::fs::read_to_string(conf.path().join("log/messages")).unwrap_or_default()
}

/// Waits (bounded) until the log has `needle`; returns the log.
pub(crate) fn wait_log(conf: &ConfDir, needle: &str, limit: Duration) -> String {
    let deadline = Instant::now() + limit;
    loop {
        let log = messages(conf);
        if log.contains(needle) {
            return log;
        }
        assert!(Instant::now() < deadline, "no '{needle}' in:\n{log}");
        thread::sleep(Duration::from_millis(100));
    }
}

/// Originates `PJSIP/trunk/sip:200@<name>` into Wait(2).
fn originate(ami: &mut AmiSession, name: &str) {
    ami.send(&format!(
        "Action: Originate\r\nActionID: o1\r\nChannel: PJSIP/trunk/sip:200@{name}\r\n\
         Application: Wait\r\nData: 2\r\nTimeout: 60000\r\nAsync: true"
    ));
    let queued = ami.response("o1");
    assert!(queued.contains("Response: Success"), "{queued}");
}

/// Expects the originated call answered (OriginateResponse Success,
/// reason 4).
fn answered(ami: &mut AmiSession) {
    let answered = ami.read_until("Event: OriginateResponse");
    let answered = answered + &ami.read_until("\r\n\r\n");
    let tail = &answered[answered.find("Event: OriginateResponse").unwrap()..];
    assert!(tail.contains("Response: Success"), "{tail}");
    assert!(tail.contains("Reason: 4"), "{tail}");
}

/// NAPTR (SIP+D2U) -> SRV -> A: the INVITE for `sip:200@pbx.test` goes to
/// the SRV target's port, where sipp answers.
#[test]
fn dial_by_naptr_and_srv_reaches_the_srv_target() {
    let sip = free_port();
    let dns = Dnsmasq::start(&[
        "--naptr-record=pbx.test,10,10,S,SIP+D2U,,_sip._udp.pbx.test".into(),
        format!("--srv-host=_sip._udp.pbx.test,sip1.pbx.test,{sip},10,100"),
        "--host-record=sip1.pbx.test,127.0.0.1".into(),
    ]);
    let (conf, _) = pbx(&dns);
    let ami_port = enable_ami(&conf, "call");
    let _daemon = conf.start_foreground();
    let dir = tempfile::tempdir().unwrap();
    let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let callee = uas(sip, dir.path(), &rtp);
    let mut ami = AmiSession::login(ami_port);
    originate(&mut ami, "pbx.test");
    answered(&mut ami);
    wait_ok_within(
        callee,
        "the SRV target answering",
        dir.path(),
        Duration::from_secs(60),
    );
}

/// Two SRV targets: priority 10 on a port nothing listens on, priority 20
/// on sipp. The INVITE gets no answer from the first (Timer B, 32 s), then
/// goes to the second; the log names both.
#[test]
fn dial_fails_over_to_the_next_srv_target() {
    let dead = free_port();
    let live = free_port();
    let dns = Dnsmasq::start(&[
        format!("--srv-host=_sip._udp.pbx.test,dead.pbx.test,{dead},10,100"),
        format!("--srv-host=_sip._udp.pbx.test,sip2.pbx.test,{live},20,100"),
        "--host-record=dead.pbx.test,127.0.0.1".into(),
        "--host-record=sip2.pbx.test,127.0.0.1".into(),
    ]);
    let (conf, _) = pbx(&dns);
    let ami_port = enable_ami(&conf, "call");
    let _daemon = conf.start_foreground();
    let mut ami = AmiSession::login(ami_port);
    originate(&mut ami, "pbx.test");
    // sipp starts once the INVITE moves on (its INVITE wait is shorter
    // than Timer B); a retransmission (Timer A) reaches it.
    let log = wait_log(&conf, "trying the next target", Duration::from_secs(60));
    assert!(
        log.contains(&format!(
            "no answer to INVITE from 127.0.0.1:{dead} for sip:200@pbx.test; trying the next target 127.0.0.1:{live}"
        )),
        "{log}"
    );
    let dir = tempfile::tempdir().unwrap();
    let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let callee = uas(live, dir.path(), &rtp);
    answered(&mut ami);
    wait_ok_within(
        callee,
        "the second SRV target answering",
        dir.path(),
        Duration::from_secs(60),
    );
}

/// A name with no records: Dial fails at once with CHANUNAVAIL (cause 3,
/// no route to destination) and the warning names every lookup and what to
/// check.
#[test]
fn dial_to_a_name_without_records_fails_and_says_why() {
    let dns = Dnsmasq::start(&["--host-record=other.test,127.0.0.1".into()]);
    let (conf, _) = pbx(&dns);
    let ami_port = enable_ami(&conf, "call");
    let _daemon = conf.start_foreground();
    let mut ami = AmiSession::login(ami_port);
    ami.send(
        "Action: Originate\r\nActionID: o1\r\nChannel: Local/301@test\r\n\
         Application: Wait\r\nData: 1\r\nAsync: true",
    );
    let queued = ami.response("o1");
    assert!(queued.contains("Response: Success"), "{queued}");
    let log = wait_log(&conf, "DIALED 301", Duration::from_secs(30));
    assert!(log.contains("DIALED 301 CHANUNAVAIL"), "{log}");
    assert!(
        log.contains(
            "Unable to create channel of type 'PJSIP' (cause 3 - No route to destination)"
        ),
        "{log}"
    );
    let line = log
        .lines()
        .find(|l| l.contains("cannot reach 'sip:200@nowhere.test'"))
        .unwrap_or_else(|| panic!("no lookup failure logged:\n{log}"));
    for needle in [
        "WARNING",
        "NAPTR nowhere.test: no records",
        "SRV _sip._udp.nowhere.test: no records",
        "A nowhere.test: no records",
        &format!(
            "nameserver 127.0.0.1:{} from resolver_unbound.conf",
            dns.port
        ),
    ] {
        assert!(line.contains(needle), "no '{needle}' in: {line}");
    }
}
