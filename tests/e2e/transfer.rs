//! Call features and transfers against the real binary with sipp phones:
//! a blind transfer keyed as RFC 4733 DTMF by a callee Dial allowed to
//! transfer (`t`), the disconnect code (`h`), and SIP blind transfers by
//! REFER (done, and refused for an extension that does not exist), and
//! attended transfers keyed as DTMF (`atxfer`: completed, aborted, not
//! answered), each checked on the wire (who gets INVITE and BYE, the
//! NOTIFY sipfrag, which keys reach the other party) and by AMI
//! `BlindTransfer` / `AttendedTransfer`.
//!
//! Endpoints live in `pjsip.conf` without authentication, identified by
//! the From user; bob and carol are reached at their sipp's port.

use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::time::Duration;

use obelus_media::dtmf::{TelephoneEvent, digit_to_event, event_to_digit};
use obelus_media::rtp::{RtpHeader, RtpPacket, build_packet};

use crate::call::{obelus_media_address, wait_ok_within};
use crate::common::ari::{Events, enable_ari, wait_for_app};
use crate::common::{ConfDir, ami_watcher, enable_ami, free_port};
use crate::sip_session::{endpoint, sipp, wait_idle};

/// 820 rings bob with callee transfer allowed, 821 with callee disconnect
/// allowed, 822 plainly, 823 with caller parking allowed; 103 is carol,
/// 104 alice, 105 never answers; the parking lots' extensions are
/// included.
const DIALPLAN: &str = "[test]\n\
exten => 820,1,Dial(PJSIP/bob,,t)\n\
exten => 821,1,Dial(PJSIP/bob,,h)\n\
exten => 822,1,Dial(PJSIP/bob)\n\
exten => 823,1,Dial(PJSIP/bob,,K)\n\
exten => 103,1,Dial(PJSIP/carol)\n\
exten => 104,1,Dial(PJSIP/alice)\n\
exten => 105,1,Wait(30)\n\
include => parkedcalls\n";

/// A server with alice (calling), bob and carol (called at their ports),
/// the dialplan above, AMI, and an RTP range of its own per `slot`.
pub(crate) struct Pbx {
    pub(crate) conf: ConfDir,
    pub(crate) sip: u16,
    pub(crate) ami: u16,
    pub(crate) alice: u16,
    pub(crate) bob: u16,
    pub(crate) carol: u16,
}

pub(crate) fn pbx(slot: u16) -> Pbx {
    let conf = ConfDir::new();
    let (sip, alice, bob, carol) = (free_port(), free_port(), free_port(), free_port());
    conf.write(
        "pjsip.conf",
        &format!(
            "[transport-udp]\ntype=transport\nprotocol=udp\nbind=127.0.0.1:{sip}\n\n{}{}{}\
             [alice]\ntype=aor\ncontact=sip:alice@127.0.0.1:{alice}\n\n\
             [bob]\ntype=aor\ncontact=sip:bob@127.0.0.1:{bob}\n\n\
             [carol]\ntype=aor\ncontact=sip:carol@127.0.0.1:{carol}\n\n",
            endpoint("alice", "aors=alice"),
            endpoint("bob", "aors=bob"),
            endpoint("carol", "aors=carol"),
        ),
    );
    conf.write("extensions.conf", DIALPLAN);
    let start = 42000 + (std::process::id() % 20) as u16 * 500 + slot * 50;
    conf.write(
        "rtp.conf",
        &format!("[general]\nrtpstart={start}\nrtpend={}\n", start + 48),
    );
    let ami = enable_ami(&conf, "call");
    Pbx {
        conf,
        sip,
        ami,
        alice,
        bob,
        carol,
    }
}

/// Keys pressed into an RTP stream as RFC 4733 telephone-events (payload
/// type 101, as the phones' SDP says).
pub(crate) struct Keypad {
    socket: UdpSocket,
    to: SocketAddr,
    seq: u16,
    ts: u32,
}

impl Keypad {
    pub(crate) fn new(socket: &UdpSocket, to: SocketAddr) -> Keypad {
        Keypad {
            socket: socket.try_clone().unwrap(),
            to,
            seq: 1,
            ts: 8000,
        }
    }

    /// One key of 100 ms: a start packet, then three end packets (RFC 4733
    /// §2.5.1.4), all with the key's timestamp.
    pub(crate) fn press(&mut self, digit: char) {
        let event = digit_to_event(digit).expect("a DTMF key");
        for (i, (end, duration)) in [(false, 160), (true, 800), (true, 800), (true, 800)]
            .into_iter()
            .enumerate()
        {
            let header = RtpHeader {
                marker: i == 0,
                payload_type: 101,
                sequence: self.seq,
                timestamp: self.ts,
                ssrc: 0x0B0B_0B0B,
            };
            let payload = TelephoneEvent {
                event,
                end,
                volume: 10,
                duration,
            }
            .to_bytes();
            let mut packet = [0u8; 64];
            let n = build_packet(&header, &payload, &mut packet).unwrap();
            self.socket.send_to(&packet[..n], self.to).unwrap();
            self.seq = self.seq.wrapping_add(1);
        }
        self.ts = self.ts.wrapping_add(1600);
        std::thread::sleep(Duration::from_millis(150));
    }

    pub(crate) fn keys(&mut self, digits: &str) {
        for digit in digits.chars() {
            self.press(digit);
        }
    }
}

/// The keys a phone hears as telephone-events, each once (its end packets
/// share a timestamp) across calls.
pub(crate) struct Ear {
    socket: UdpSocket,
    heard: Vec<u32>,
}

impl Ear {
    pub(crate) fn new(socket: &UdpSocket) -> Ear {
        socket
            .set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        Ear {
            socket: socket.try_clone().unwrap(),
            heard: Vec::new(),
        }
    }

    /// The keys that ended since the last call, until one is `last` (or
    /// 20 s passed).
    pub(crate) fn until(&mut self, last: char) -> String {
        self.listen(|keys, _| keys.ends_with(last))
    }

    /// The keys already received (once the call is over: all it sent).
    pub(crate) fn received(&mut self) -> String {
        self.listen(|_, idle| idle)
    }

    /// Keys until `done(keys, idle)`, where `idle` says that nothing
    /// arrived for 100 ms; 20 s at most.
    fn listen(&mut self, done: impl Fn(&str, bool) -> bool) -> String {
        let mut keys = String::new();
        let mut buf = [0u8; 1500];
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        let mut idle = false;
        while !done(&keys, idle) && std::time::Instant::now() < deadline {
            let Ok((n, _)) = self.socket.recv_from(&mut buf) else {
                idle = true;
                continue;
            };
            idle = false;
            let Ok(p) = RtpPacket::parse(&buf[..n]) else {
                continue;
            };
            if p.header.payload_type != 101 || self.heard.contains(&p.header.timestamp) {
                continue;
            }
            if let Ok(ev) = TelephoneEvent::parse(p.payload)
                && ev.end
            {
                self.heard.push(p.header.timestamp);
                keys.extend(event_to_digit(ev.event));
            }
        }
        keys
    }
}

/// A phone answering calls with `call_callee.xml` on `port`, its media on
/// a socket the test holds; returns the sipp, the socket and its log.
pub(crate) fn callee(
    pbx: &Pbx,
    dir: &Path,
    user: &str,
    port: u16,
) -> (std::process::Child, UdpSocket, std::path::PathBuf) {
    let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let log = dir.join(format!("{user}.log"));
    let child = sipp(
        pbx.sip,
        dir,
        "call_callee.xml",
        user,
        port,
        &rtp,
        &["-trace_logs", "-log_file", log.to_str().unwrap()],
    );
    (child, rtp, log)
}

/// The end of a transfer of alice's call from bob to carol: bob's call has
/// been ended by Obelus, carol's 7 reaches alice (and none of bob's codes
/// did), then every call is hung up and ends cleanly.
fn after_transfer(
    pbx: &Pbx,
    dir: &Path,
    [alice, bob, carol]: [std::process::Child; 3],
    (rtp_carol, carol_log): (&UdpSocket, &Path),
    alice_ear: &mut Ear,
) {
    wait_ok_within(
        bob,
        "bob's call (ended by Obelus)",
        dir,
        Duration::from_secs(30),
    );
    let mut carol_keys = Keypad::new(rtp_carol, obelus_media_address(carol_log));
    carol_keys.press('7');
    assert_eq!(
        alice_ear.until('7'),
        "7",
        "alice heard carol, and none of bob's codes"
    );
    pbx.conf.rx("channel request hangup all");
    wait_ok_within(alice, "alice's call", dir, Duration::from_secs(30));
    wait_ok_within(carol, "carol's call", dir, Duration::from_secs(30));
    wait_idle(&pbx.conf);
}

/// Asserts that `event` (an AMI event's text) holds every one of `fields`.
pub(crate) fn assert_fields(event: &str, fields: &[&str]) {
    for field in fields {
        assert!(event.contains(field), "{field} in\n{event}");
    }
}

/// The first AMI event named `name`, read from `ami` (its headers up to
/// the blank line).
pub(crate) fn ami_event(ami: &mut impl FnMut(&str) -> String, name: &str) -> String {
    let before = ami(&format!("Event: {name}\r\n"));
    let start = before.rfind(&format!("Event: {name}\r\n")).unwrap();
    let mut event = before[start..].to_owned();
    event.push_str(&ami("\r\n\r\n"));
    event
}

/// alice dials 820, `Dial(PJSIP/bob,,t)`. bob keys 5 (not a code: alice
/// hears it), then `#` and 103 as RFC 4733 DTMF: the code and the number
/// never reach alice, carol rings and answers, bob's call ends (BYE) and
/// alice talks to carol, whose 7 reaches her. AMI reports the transfer.
#[test]
fn a_callee_allowed_to_transfer_sends_the_caller_elsewhere_by_dtmf() {
    let pbx = pbx(0);
    let _daemon = pbx.conf.start_foreground();
    let mut ami = ami_watcher(pbx.ami);
    let dir = tempfile::tempdir().unwrap();
    let (bob, rtp_bob, bob_log) = callee(&pbx, dir.path(), "bob", pbx.bob);
    let (carol, rtp_carol, carol_log) = callee(&pbx, dir.path(), "carol", pbx.carol);
    let rtp_alice = UdpSocket::bind("127.0.0.1:0").unwrap();
    let alice = sipp(
        pbx.sip,
        dir.path(),
        "xfer_caller.xml",
        "alice",
        free_port(),
        &rtp_alice,
        &["-key", "dest", "820"],
    );
    let mut bob_keys = Keypad::new(&rtp_bob, obelus_media_address(&bob_log));
    ami("Event: BridgeEnter\r\n");
    ami("Event: BridgeEnter\r\n");
    let mut alice_ear = Ear::new(&rtp_alice);
    bob_keys.press('5');
    assert_eq!(alice_ear.until('5'), "5", "a key that starts no code");
    bob_keys.keys("#103");
    let transfer = ami_event(&mut ami, "BlindTransfer");
    assert_fields(
        &transfer,
        &[
            "Result: Success\r\n",
            "TransfererChannel: PJSIP/bob-",
            "TransfereeChannel: PJSIP/alice-",
            "BridgeType: basic\r\n",
            "IsExternal: No\r\n",
            "Context: test\r\n",
            "Extension: 103\r\n",
        ],
    );
    after_transfer(
        &pbx,
        dir.path(),
        [alice, bob, carol],
        (&rtp_carol, &carol_log),
        &mut alice_ear,
    );
}

/// alice dials 821, `Dial(PJSIP/bob,,h)`, with `disconnect => *0` and a
/// 300 ms `featuredigittimeout`. bob keys `*5`: no code, so alice hears
/// both keys; `*` alone: held, then released to alice when the timeout
/// passes; `*0`: the call ends for both (BYE to each), and alice never
/// hears that code.
#[test]
fn a_callee_allowed_to_disconnect_ends_the_call_with_the_code() {
    let pbx = pbx(1);
    pbx.conf.write(
        "features.conf",
        "[general]\nfeaturedigittimeout = 300\n[featuremap]\ndisconnect => *0\n",
    );
    let _daemon = pbx.conf.start_foreground();
    let mut ami = ami_watcher(pbx.ami);
    let dir = tempfile::tempdir().unwrap();
    let (bob, rtp_bob, bob_log) = callee(&pbx, dir.path(), "bob", pbx.bob);
    let rtp_alice = UdpSocket::bind("127.0.0.1:0").unwrap();
    let alice = sipp(
        pbx.sip,
        dir.path(),
        "xfer_caller.xml",
        "alice",
        free_port(),
        &rtp_alice,
        &["-key", "dest", "821"],
    );
    let mut bob_keys = Keypad::new(&rtp_bob, obelus_media_address(&bob_log));
    let mut alice_ear = Ear::new(&rtp_alice);
    ami("Event: BridgeEnter\r\n");
    ami("Event: BridgeEnter\r\n");
    bob_keys.keys("*5");
    assert_eq!(
        alice_ear.until('5'),
        "*5",
        "a partial code released on mismatch"
    );
    bob_keys.press('*');
    assert_eq!(
        alice_ear.until('*'),
        "*",
        "a partial code released on timeout"
    );
    bob_keys.keys("*0");
    wait_ok_within(bob, "bob's call", dir.path(), Duration::from_secs(30));
    wait_ok_within(alice, "alice's call", dir.path(), Duration::from_secs(30));
    let hangups = ami("Event: BridgeDestroy\r\n");
    assert!(hangups.contains("Event: BridgeLeave\r\n"), "{hangups}");
    assert_eq!(alice_ear.received(), "", "the code never reached alice");
    wait_idle(&pbx.conf);
}

/// `features show` lists the codes in force as Asterisk lays them out, and
/// `module reload features` applies a changed `features.conf`.
#[test]
fn features_show_and_reload() {
    let conf = ConfDir::new();
    conf.write("features.conf", "[featuremap]\nblindxfer => #1\n");
    let _daemon = conf.start_foreground();
    let (_, shown, _) = conf.rx("features show");
    assert!(
        shown.contains("Builtin Feature           Default Current\n"),
        "{shown}"
    );
    assert!(
        shown.contains("Blind Transfer            #       #1     \n"),
        "{shown}"
    );
    assert!(
        shown.contains("Disconnect Call           *       *      \n"),
        "{shown}"
    );
    conf.write(
        "features.conf",
        "[featuremap]\nblindxfer => ##\ndisconnect => *9\n",
    );
    conf.rx("module reload features");
    let (_, shown, _) = conf.rx("features show");
    assert!(
        shown.contains("Blind Transfer            #       ##     \n"),
        "{shown}"
    );
    assert!(
        shown.contains("Disconnect Call           *       *9     \n"),
        "{shown}"
    );
    conf.write("features.conf", "[featuremap]\nblindxfer => #x\n");
    conf.rx("module reload features");
    let (_, shown, _) = conf.rx("features show");
    assert!(
        shown.contains("Blind Transfer            #       ##     \n"),
        "a bad file keeps the codes in force:\n{shown}"
    );
}

/// alice dials 822 (a plain Dial) and, answered by bob, REFERs the call
/// to 103: 202, NOTIFY `100 Trying`, then `200 OK`; Obelus hangs alice up,
/// bob (the transferee) calls carol, and AMI and ARI (an application
/// subscribed to everything) say who did what.
#[test]
fn a_sip_refer_blind_transfers_the_other_party() {
    let pbx = pbx(2);
    let ari_port = enable_ari(&pbx.conf);
    let _daemon = pbx.conf.start_foreground();
    let mut ari = Events::connect(ari_port, "watcher&subscribeAll=true");
    wait_for_app(&pbx.conf, "watcher");
    let mut ami = ami_watcher(pbx.ami);
    let dir = tempfile::tempdir().unwrap();
    let (bob, _rtp_bob, _) = callee(&pbx, dir.path(), "bob", pbx.bob);
    let (carol, _rtp_carol, carol_log) = callee(&pbx, dir.path(), "carol", pbx.carol);
    let alice_log = dir.path().join("alice.log");
    let (alice, _rtp_alice) = refer_call(
        &pbx,
        dir.path(),
        "xfer_refer.xml",
        "103@127.0.0.1",
        &alice_log,
    );
    let transfer = ami_event(&mut ami, "BlindTransfer");
    assert_fields(
        &transfer,
        &[
            "Result: Success\r\n",
            "TransfererChannel: PJSIP/alice-",
            "TransfereeChannel: PJSIP/bob-",
            "IsExternal: Yes\r\n",
            "Context: test\r\n",
            "Extension: 103\r\n",
        ],
    );
    let event = ari.until("BridgeBlindTransfer");
    assert_eq!(event["result"], "Success", "{event}");
    assert_eq!(event["is_external"], true, "{event}");
    assert_eq!(event["exten"], "103", "{event}");
    assert_eq!(event["context"], "test", "{event}");
    let name = |key: &str| event[key]["name"].as_str().unwrap_or_default().to_owned();
    assert!(name("channel").starts_with("PJSIP/alice-"), "{event}");
    assert!(name("transferee").starts_with("PJSIP/bob-"), "{event}");
    assert_eq!(event["bridge"]["bridge_class"], "basic", "{event}");
    wait_ok_within(alice, "alice's REFER", dir.path(), Duration::from_secs(30));
    let log = std::fs::read_to_string(&alice_log).unwrap();
    assert!(log.contains("FRAG 200"), "{log}");
    obelus_media_address(&carol_log);
    let carol_bridged = ami("Event: BridgeEnter\r\n");
    assert!(carol_bridged.contains("Channel: PJSIP/"), "{carol_bridged}");
    pbx.conf.rx("channel request hangup all");
    wait_ok_within(bob, "bob's call", dir.path(), Duration::from_secs(30));
    wait_ok_within(carol, "carol's call", dir.path(), Duration::from_secs(30));
    wait_idle(&pbx.conf);
}

/// alice's call to bob (822) that REFERs it to `target` once answered
/// (as `scenario` expects the transfer to go), logging to `log`.
fn refer_call(
    pbx: &Pbx,
    dir: &Path,
    scenario: &str,
    target: &str,
    log: &Path,
) -> (std::process::Child, UdpSocket) {
    let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let call = sipp(
        pbx.sip,
        dir,
        scenario,
        "alice",
        free_port(),
        &rtp,
        &[
            "-key",
            "dest",
            "822",
            "-key",
            "target",
            target,
            "-trace_logs",
            "-log_file",
            log.to_str().unwrap(),
        ],
    );
    (call, rtp)
}

/// After an attended transfer: alice's REFER got NOTIFY `200 OK` and both
/// her calls ended; bob and carol talk (carol's key reaches bob) until
/// the test hangs them up.
fn transferred(
    pbx: &Pbx,
    dir: &Path,
    alice: [(std::process::Child, &str); 2],
    refer_log: &Path,
    bob: (std::process::Child, &UdpSocket),
    carol: (std::process::Child, &UdpSocket, &Path),
) {
    let [(refer, what), (replaced, replaced_what)] = alice;
    wait_ok_within(refer, what, dir, Duration::from_secs(30));
    let log = std::fs::read_to_string(refer_log).unwrap();
    assert!(log.contains("FRAG 200"), "{log}");
    wait_ok_within(replaced, replaced_what, dir, Duration::from_secs(30));
    let mut bob_ear = Ear::new(bob.1);
    let mut carol_keys = Keypad::new(carol.1, obelus_media_address(carol.2));
    carol_keys.press('7');
    assert_eq!(bob_ear.until('7'), "7", "bob hears carol");
    pbx.conf.rx("channel request hangup all");
    wait_ok_within(bob.0, "bob's call", dir, Duration::from_secs(30));
    wait_ok_within(carol.0, "carol's call", dir, Duration::from_secs(30));
    wait_idle(&pbx.conf);
}

/// alice calls carol (103) and, on a second phone line, bob (822); then
/// REFERs her call with bob to carol with Replaces naming her call with
/// carol (matched by its Call-ID, fixed with sipp's `-cid_str`): 202,
/// NOTIFY `200 OK`, both of alice's calls end (BYE), and bob and carol
/// talk: carol's key reaches bob. AMI and ARI report the transfer.
#[test]
fn a_sip_refer_with_replaces_joins_the_transferers_two_parties() {
    let pbx = pbx(4);
    let ari_port = enable_ari(&pbx.conf);
    let _daemon = pbx.conf.start_foreground();
    let mut ari = Events::connect(ari_port, "watcher&subscribeAll=true");
    wait_for_app(&pbx.conf, "watcher");
    let mut ami = ami_watcher(pbx.ami);
    let dir = tempfile::tempdir().unwrap();
    let (bob, rtp_bob, _) = callee(&pbx, dir.path(), "bob", pbx.bob);
    let (carol, rtp_carol, carol_log) = callee(&pbx, dir.path(), "carol", pbx.carol);
    let rtp_second = UdpSocket::bind("127.0.0.1:0").unwrap();
    let second_call = sipp(
        pbx.sip,
        dir.path(),
        "xfer_caller.xml",
        "alice",
        free_port(),
        &rtp_second,
        &["-key", "dest", "103", "-cid_str", "xfer2-%u@%s"],
    );
    ami("Event: BridgeEnter\r\n");
    ami("Event: BridgeEnter\r\n");
    let replaces = format!(
        "carol@127.0.0.1?Replaces=xfer2-1%40127.0.0.1%3Bfrom-tag%3D{}SIPpTag001",
        second_call.id()
    );
    let first_log = dir.path().join("alice1.log");
    let (first_call, _rtp_first) =
        refer_call(&pbx, dir.path(), "xfer_refer.xml", &replaces, &first_log);
    let transfer = ami_event(&mut ami, "AttendedTransfer");
    assert_fields(
        &transfer,
        &[
            "Result: Success\r\n",
            "OrigTransfererChannel: PJSIP/alice-",
            "OrigBridgeUniqueid: ",
            "SecondTransfererChannel: PJSIP/alice-",
            "SecondBridgeUniqueid: ",
            "TransfereeChannel: PJSIP/bob-",
            "TransferTargetChannel: PJSIP/carol-",
            "IsExternal: Yes\r\n",
            "DestType: Bridge\r\n",
            "DestBridgeUniqueid: ",
        ],
    );
    let event = ari.until("BridgeAttendedTransfer");
    assert_eq!(event["result"], "Success", "{event}");
    assert_eq!(event["destination_type"], "bridge", "{event}");
    let name = |key: &str| event[key]["name"].as_str().unwrap_or_default().to_owned();
    assert!(name("transferee").starts_with("PJSIP/bob-"), "{event}");
    assert!(
        name("transfer_target").starts_with("PJSIP/carol-"),
        "{event}"
    );
    let joined = ari.until("BridgeCreated");
    assert_eq!(
        joined["bridge"]["id"], event["destination_bridge"],
        "{joined}"
    );
    transferred(
        &pbx,
        dir.path(),
        [
            (first_call, "alice's REFER"),
            (second_call, "alice's replaced call"),
        ],
        &first_log,
        (bob, &rtp_bob),
        (carol, &rtp_carol, &carol_log),
    );
}

/// carol calls alice (104), then alice calls bob (822) and REFERs that
/// call to carol with Replaces naming carol's call (its Call-ID, which
/// alice's answering phone logged). carol's call is run by carol's own
/// dialplan, so it cannot give carol up: it takes bob instead, and carol
/// and bob talk. Both of alice's calls end.
#[test]
fn an_attended_transfer_replacing_an_incoming_call_hands_the_transferee_over() {
    let pbx = pbx(5);
    let _daemon = pbx.conf.start_foreground();
    let mut ami = ami_watcher(pbx.ami);
    let dir = tempfile::tempdir().unwrap();
    let (bob, rtp_bob, _) = callee(&pbx, dir.path(), "bob", pbx.bob);
    let (answering, _rtp_answering, answering_log) = callee(&pbx, dir.path(), "alice", pbx.alice);
    let rtp_carol = UdpSocket::bind("127.0.0.1:0").unwrap();
    let carol_log = dir.path().join("carol.log");
    let carol = sipp(
        pbx.sip,
        dir.path(),
        "xfer_caller.xml",
        "carol",
        free_port(),
        &rtp_carol,
        &[
            "-key",
            "dest",
            "104",
            "-trace_logs",
            "-log_file",
            carol_log.to_str().unwrap(),
        ],
    );
    ami("Event: BridgeEnter\r\n");
    ami("Event: BridgeEnter\r\n");
    let text = std::fs::read_to_string(&answering_log).unwrap();
    let call_id = text
        .lines()
        .find_map(|l| l.strip_prefix("CALLID "))
        .expect("the answering phone logs its Call-ID")
        .trim()
        .replace('@', "%40");
    let first_log = dir.path().join("alice1.log");
    let replaces = format!("carol@127.0.0.1?Replaces={call_id}");
    let (first_call, _rtp_first) =
        refer_call(&pbx, dir.path(), "xfer_refer.xml", &replaces, &first_log);
    let transfer = ami_event(&mut ami, "AttendedTransfer");
    assert_fields(
        &transfer,
        &[
            "Result: Success\r\n",
            "TransfereeChannel: PJSIP/bob-",
            "TransferTargetChannel: PJSIP/carol-",
        ],
    );
    transferred(
        &pbx,
        dir.path(),
        [
            (first_call, "alice's REFER"),
            (answering, "alice's replaced call"),
        ],
        &first_log,
        (bob, &rtp_bob),
        (carol, &rtp_carol, &carol_log),
    );
}

/// alice REFERs her call with bob to 199, which does not exist: the REFER
/// is accepted (202), the final NOTIFY says `404`, nothing is transferred
/// and the call goes on until alice hangs up.
#[test]
fn a_sip_refer_to_a_missing_extension_is_refused_by_notify() {
    let pbx = pbx(3);
    let _daemon = pbx.conf.start_foreground();
    let dir = tempfile::tempdir().unwrap();
    let (bob, _rtp_bob, _) = callee(&pbx, dir.path(), "bob", pbx.bob);
    let alice_log = dir.path().join("alice.log");
    let (alice, _rtp_alice) = refer_call(
        &pbx,
        dir.path(),
        "xfer_refer_refused.xml",
        "199@127.0.0.1",
        &alice_log,
    );
    wait_ok_within(alice, "alice's REFER", dir.path(), Duration::from_secs(30));
    let log = std::fs::read_to_string(&alice_log).unwrap();
    assert!(log.contains("FRAG 404"), "{log}");
    wait_ok_within(bob, "bob's call", dir.path(), Duration::from_secs(30));
    wait_idle(&pbx.conf);
}

/// `atxfer => *2` (the consultation codes keep Asterisk's defaults, `*1`
/// abort and `*2` complete) and the shortest no-answer timeout.
const ATXFER: &str = "[general]\natxfernoanswertimeout = 5\n[featuremap]\natxfer => *2\n";

/// alice dials 820, `Dial(PJSIP/bob,,t)`. bob keys `*2` and 103: alice
/// waits on hold, carol rings and answers (a Local channel dials her),
/// and bob keys `*2` again to complete: bob's call ends (BYE), alice and
/// carol talk (carol's 7 reaches alice), and AMI reports the transfer
/// with the Local channel as the target.
#[test]
fn an_attended_transfer_by_dtmf_joins_the_transferee_and_the_target() {
    let pbx = pbx(6);
    pbx.conf.write("features.conf", ATXFER);
    let _daemon = pbx.conf.start_foreground();
    let mut ami = ami_watcher(pbx.ami);
    let dir = tempfile::tempdir().unwrap();
    let (bob, rtp_bob, bob_log) = callee(&pbx, dir.path(), "bob", pbx.bob);
    let (carol, rtp_carol, carol_log) = callee(&pbx, dir.path(), "carol", pbx.carol);
    let rtp_alice = UdpSocket::bind("127.0.0.1:0").unwrap();
    let alice = sipp(
        pbx.sip,
        dir.path(),
        "xfer_caller.xml",
        "alice",
        free_port(),
        &rtp_alice,
        &["-key", "dest", "820"],
    );
    let mut bob_keys = Keypad::new(&rtp_bob, obelus_media_address(&bob_log));
    ami("Event: BridgeEnter\r\n");
    ami("Event: BridgeEnter\r\n");
    let mut alice_ear = Ear::new(&rtp_alice);
    bob_keys.keys("*2103");
    // carol answers; bob talks to her in the consultation bridge.
    obelus_media_address(&carol_log);
    ami("BridgeCreator: BasicBridge\r\n");
    bob_keys.keys("*2");
    let transfer = ami_event(&mut ami, "AttendedTransfer");
    assert_fields(
        &transfer,
        &[
            "Result: Success\r\n",
            "OrigTransfererChannel: PJSIP/bob-",
            "SecondTransfererChannel: PJSIP/bob-",
            "TransfereeChannel: PJSIP/alice-",
            "TransferTargetChannel: Local/103@test-",
            "IsExternal: No\r\n",
            "DestType: Bridge\r\n",
        ],
    );
    after_transfer(
        &pbx,
        dir.path(),
        [alice, bob, carol],
        (&rtp_carol, &carol_log),
        &mut alice_ear,
    );
}

/// alice dials 820 and bob keys `*2` 103: carol answers, and bob aborts
/// with `*1`: carol's call ends, and bob's 5 reaches alice again. Then
/// `*2` 105, which never answers: after `atxfernoanswertimeout` bob is
/// back with alice (his 6 reaches her). No transfer is reported.
#[test]
fn an_aborted_or_unanswered_attended_transfer_returns_to_the_transferee() {
    let pbx = pbx(7);
    pbx.conf.write("features.conf", ATXFER);
    let _daemon = pbx.conf.start_foreground();
    let mut ami = ami_watcher(pbx.ami);
    let dir = tempfile::tempdir().unwrap();
    let (bob, rtp_bob, bob_log) = callee(&pbx, dir.path(), "bob", pbx.bob);
    let (carol, _rtp_carol, carol_log) = callee(&pbx, dir.path(), "carol", pbx.carol);
    let rtp_alice = UdpSocket::bind("127.0.0.1:0").unwrap();
    let alice = sipp(
        pbx.sip,
        dir.path(),
        "xfer_caller.xml",
        "alice",
        free_port(),
        &rtp_alice,
        &["-key", "dest", "820"],
    );
    let mut bob_keys = Keypad::new(&rtp_bob, obelus_media_address(&bob_log));
    ami("Event: BridgeEnter\r\n");
    ami("Event: BridgeEnter\r\n");
    let mut alice_ear = Ear::new(&rtp_alice);
    bob_keys.keys("*2103");
    obelus_media_address(&carol_log);
    ami("BridgeCreator: BasicBridge\r\n");
    bob_keys.keys("*1");
    wait_ok_within(
        carol,
        "carol's call (ended by the abort)",
        dir.path(),
        Duration::from_secs(30),
    );
    bob_keys.press('5');
    assert_eq!(alice_ear.until('5'), "5", "bob is back with alice");
    bob_keys.keys("*2105");
    let started = std::time::Instant::now();
    // The Local channel to 105 rings out meanwhile. alice's music on hold
    // fills her socket: it is read away before bob keys again.
    std::thread::sleep(Duration::from_secs(6));
    alice_ear.received();
    bob_keys.press('6');
    assert_eq!(alice_ear.until('6'), "6", "back after the timeout");
    assert!(started.elapsed() >= Duration::from_secs(5));
    pbx.conf.rx("channel request hangup all");
    wait_ok_within(alice, "alice's call", dir.path(), Duration::from_secs(30));
    wait_ok_within(bob, "bob's call", dir.path(), Duration::from_secs(30));
    let rest = ami("Event: Hangup\r\n");
    assert!(!rest.contains("Event: AttendedTransfer"), "{rest}");
    wait_idle(&pbx.conf);
}
