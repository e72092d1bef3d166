//! Direct media (`direct_media`, Asterisk's native RTP bridge) against the
//! real binary with sipp phones 101 and 102: a Dial between two endpoints
//! that allow it re-INVITEs each phone with the other's RTP address (a new
//! SDP version each time), or an UPDATE with `direct_media_method=update`;
//! a callee hanging up leaves the caller with just
//! a BYE, unless the dialplan goes on with it (`g`), when it is first
//! brought back to Obelus; with `direct_media=no` on one side no re-INVITE
//! is sent and the media flows through Obelus.
//!
//! Endpoints live in `pjsip.conf` without authentication, identified by
//! the From user; 102 is reached at its sipp's port.

use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

use obelus_media::Codec;

use crate::call::{Phone, assert_hears, phone_media_for, wait_ok_within};
use crate::common::{ConfDir, free_port};
use crate::sip_session::wait_idle;

/// 102 rings 102 plainly; 103 rings it and goes on when 102 hangs up.
const DIALPLAN: &str = "[test]\n\
exten => 102,1,Dial(PJSIP/102)\n\
exten => 103,1,Dial(PJSIP/102,,g)\n same => n,Wait(1)\n same => n,Hangup()\n";

/// A server with 101 and 102 (PCMU, with `options_101`/`options_102`),
/// 102 at sipp port `bob`, and an RTP range of its own per `slot`.
fn pbx(options_101: &str, options_102: &str, bob: u16, slot: u16) -> (ConfDir, u16) {
    let conf = ConfDir::new();
    let sip = free_port();
    conf.write(
        "pjsip.conf",
        &format!(
            "[transport-udp]\ntype=transport\nprotocol=udp\nbind=127.0.0.1:{sip}\n\n\
             [101]\ntype=endpoint\ncontext=test\ndisallow=all\nallow=ulaw\n{options_101}\n\n\
             [102]\ntype=endpoint\ncontext=test\ndisallow=all\nallow=ulaw\naors=102\n{options_102}\n\n\
             [102]\ntype=aor\ncontact=sip:102@127.0.0.1:{bob}\n\n"
        ),
    );
    conf.write("extensions.conf", DIALPLAN);
    let start = 46000 + (std::process::id() % 40) as u16 * 100 + slot * 30;
    conf.write(
        "rtp.conf",
        &format!("[general]\nrtpstart={start}\nrtpend={}\n", start + 28),
    );
    (conf, sip)
}

/// The `label ip:port vN` line a scenario logged: the address and the
/// SDP version.
fn logged(log: &Path, label: &str) -> (SocketAddr, u64) {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{label} ")))
        .unwrap_or_else(|| panic!("no {label} in {}:\n{text}", log.display()));
    let (addr, version) = line
        .trim()
        .split_once(" v")
        .unwrap_or_else(|| panic!("{line}"));
    (
        addr.parse().expect("ip:port"),
        version.parse().expect("o= version"),
    )
}

/// Where a test socket receives.
fn addr(socket: &UdpSocket) -> SocketAddr {
    socket.local_addr().unwrap()
}

/// The phones of one call: 101 calling `dest` with `caller`, 102
/// answering with `callee` (`-d` for each), their logs and RTP sockets.
struct Call {
    dir: tempfile::TempDir,
    caller: std::process::Child,
    callee: std::process::Child,
    rtp_a: UdpSocket,
    rtp_b: UdpSocket,
}

impl Call {
    fn start(sip: u16, bob: u16, dest: &str, caller: (&str, u64), callee: (&str, u64)) -> Call {
        let dir = tempfile::tempdir().unwrap();
        let rtp_a = UdpSocket::bind("127.0.0.1:0").unwrap();
        let rtp_b = UdpSocket::bind("127.0.0.1:0").unwrap();
        let callee = Phone::listening(bob)
            .rtp(&rtp_b)
            .args(&["-d", &callee.1.to_string()])
            .log(&dir.path().join("b.log"))
            .start(sip, dir.path(), callee.0);
        thread::sleep(Duration::from_millis(200));
        let caller = Phone::calling("101", dest)
            .rtp(&rtp_a)
            .args(&["-d", &caller.1.to_string()])
            .log(&dir.path().join("a.log"))
            .start(sip, dir.path(), caller.0);
        Call {
            dir,
            caller,
            callee,
            rtp_a,
            rtp_b,
        }
    }

    fn log(&self, name: &str) -> std::path::PathBuf {
        self.dir.path().join(name)
    }

    /// Waits for both phones' scenarios to succeed.
    fn finish(self) -> (tempfile::TempDir, UdpSocket, UdpSocket) {
        let limit = Duration::from_secs(40);
        wait_ok_within(self.caller, "101's call", self.dir.path(), limit);
        wait_ok_within(self.callee, "102's answer", self.dir.path(), limit);
        (self.dir, self.rtp_a, self.rtp_b)
    }
}

/// Both endpoints allow direct media (the default): once 102 answers, each
/// phone gets a re-INVITE whose c=/m= carry the other phone's RTP address
/// (and the payload types it offered), with a newer o= version than
/// Obelus's first description; the caller's hangup reaches 102 as a BYE
/// alone, without a re-INVITE back.
#[test]
fn a_dial_between_direct_media_phones_points_each_at_the_other() {
    let bob = free_port();
    let (conf, sip) = pbx("", "", bob, 0);
    let _daemon = conf.start_foreground();
    let call = Call::start(
        sip,
        bob,
        "102",
        ("direct_caller.xml", 2000),
        ("direct_callee.xml", 0),
    );
    let (log_a, log_b) = (call.log("a.log"), call.log("b.log"));
    let (_dir, rtp_a, rtp_b) = call.finish();
    let (obelus_a, answered) = logged(&log_a, "ANSWER");
    let (to_a, reoffered) = logged(&log_a, "DIRECT");
    let (to_b, version_b) = logged(&log_b, "DIRECT");
    assert_eq!(to_a, addr(&rtp_b), "101 is sent to 102's RTP address");
    assert_eq!(to_b, addr(&rtp_a), "102 is sent to 101's RTP address");
    assert_ne!(obelus_a, addr(&rtp_b));
    assert!(
        reoffered > answered,
        "o= version {answered} then {reoffered}"
    );
    assert!(version_b > 1, "o= version {version_b} after Obelus's offer");
    wait_idle(&conf);
}

/// 102 has `direct_media_method=update`: its phone gets an UPDATE with
/// 101's address instead of a re-INVITE; 101 still gets a re-INVITE.
#[test]
fn direct_media_method_update_sends_an_update() {
    let bob = free_port();
    let (conf, sip) = pbx("", "direct_media_method=update", bob, 3);
    let _daemon = conf.start_foreground();
    let call = Call::start(
        sip,
        bob,
        "102",
        ("direct_caller.xml", 1500),
        ("direct_callee_update.xml", 0),
    );
    let (log_a, log_b) = (call.log("a.log"), call.log("b.log"));
    let (_dir, rtp_a, rtp_b) = call.finish();
    assert_eq!(logged(&log_a, "DIRECT").0, addr(&rtp_b));
    assert_eq!(logged(&log_b, "DIRECT").0, addr(&rtp_a));
    wait_idle(&conf);
}

/// `Dial(PJSIP/102,,g)`: media goes direct, then 102 hangs up while the
/// dialplan goes on with 101, which is re-INVITEd back to the address
/// Obelus first answered with before the dialplan ends the call.
#[test]
fn a_caller_that_outlives_the_callee_is_brought_back() {
    let bob = free_port();
    let (conf, sip) = pbx("", "", bob, 1);
    let _daemon = conf.start_foreground();
    let call = Call::start(
        sip,
        bob,
        "103",
        ("direct_caller_stays.xml", 0),
        ("direct_callee_hangs_up.xml", 1500),
    );
    let log_a = call.log("a.log");
    let (_dir, _rtp_a, rtp_b) = call.finish();
    let (obelus_a, answered) = logged(&log_a, "ANSWER");
    let (direct, reoffered) = logged(&log_a, "DIRECT");
    let (back, last) = logged(&log_a, "BACK");
    assert_eq!(direct, addr(&rtp_b));
    assert_eq!(back, obelus_a, "101's media is back on Obelus");
    assert!(
        answered < reoffered && reoffered < last,
        "o= versions {answered}, {reoffered}, {last}"
    );
    wait_idle(&conf);
}

/// 102 has `direct_media=no`: no re-INVITE reaches either phone (sipp
/// fails on one it does not expect), and each phone hears the other's
/// tone through the addresses Obelus answered with.
#[test]
fn direct_media_no_on_one_side_keeps_the_media_on_obelus() {
    let bob = free_port();
    let (conf, sip) = pbx("direct_media=yes", "direct_media=no", bob, 2);
    let _daemon = conf.start_foreground();
    let talk = Duration::from_secs(3);
    let call = Call::start(
        sip,
        bob,
        "102",
        ("anchored_caller.xml", talk.as_millis() as u64 + 1000),
        ("call_callee.xml", 0),
    );
    let (log_a, log_b) = (call.log("a.log"), call.log("b.log"));
    let (rtp_a, rtp_b) = (
        call.rtp_a.try_clone().unwrap(),
        call.rtp_b.try_clone().unwrap(),
    );
    let started = Instant::now();
    let a = thread::spawn(move || phone_media_for(rtp_a, log_a, Codec::Ulaw, 0, 1000.0, talk));
    let b = thread::spawn(move || phone_media_for(rtp_b, log_b, Codec::Ulaw, 0, 440.0, talk));
    let (heard_a, heard_b) = (a.join().unwrap(), b.join().unwrap());
    assert!(started.elapsed() >= talk);
    call.finish();
    assert_hears("101", &heard_a, 0, 440.0, 1000.0);
    assert_hears("102", &heard_b, 0, 1000.0, 440.0);
    wait_idle(&conf);
}
