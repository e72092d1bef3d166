//! SIP session features against the real binary with sipp: RFC 4028
//! session timers (Obelus refreshing a session it was asked to refresh,
//! by re-INVITE or UPDATE; a peer that stops refreshing and gets a BYE;
//! 420 and 422 as configured; 422 followed as UAC) and DTMF by SIP INFO (keys that reach the
//! dialplan, keys `SendDTMF` sends) and in-band (`dtmf_mode=auto` with a
//! peer without telephone-event: keys heard in the audio and played into
//! it), and keys crossing a bridge between legs that carry them
//! differently (SIP INFO in, RFC 4733 out).
//!
//! Endpoints live in `pjsip.conf` without authentication, identified by
//! the From user.

use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use obelus_media::dtmf::{TelephoneEvent, event_to_digit};
use obelus_media::dtmf_detect::{self, DetectorEvent, DtmfDetector};
use obelus_media::rtp::{RtpHeader, RtpPacket, build_packet};
use obelus_media::{Codec, Decoder, Encoder};

use crate::call::{obelus_media_address, wait_ok_within};
use crate::common::{AmiSession, ConfDir, ami_watcher, enable_ami, free_port};
use crate::sip_register::scenario;

/// 700 holds the call; 800 reads three keys into a global; 810 reads three
/// keys and plays them back; 820 dials bob; 900 sends the global's keys and `#`.
const DIALPLAN: &str = "[test]\n\
exten => 700,1,Answer()\n same => n,Wait(120)\n\
exten => 800,1,Answer()\n same => n,Read(DIGITS,,3)\n same => n,Set(GLOBAL(GOT)=${DIGITS})\n same => n,Hangup()\n\
exten => 810,1,Answer()\n same => n,Read(DIGITS,,3)\n same => n,SendDTMF(${DIGITS},200,120)\n same => n,Wait(1)\n same => n,Hangup()\n\
exten => 820,1,Dial(PJSIP/bob)\n\
exten => 900,1,SendDTMF(${GLOBAL(GOT)}#)\n same => n,Hangup()\n";

/// An endpoint in context `test` talking PCMU, with extra `options` lines.
pub(crate) fn endpoint(id: &str, options: &str) -> String {
    format!(
        "[{id}]\ntype=endpoint\ncontext=test\ndisallow=all\nallow=ulaw\ndirect_media=no\n{options}\n\n"
    )
}

/// A server with `endpoints`, the dialplan above and an RTP range of its
/// own (`slot` keeps the tests of this file apart).
fn pbx(endpoints: &str, slot: u16) -> (ConfDir, u16) {
    let conf = ConfDir::new();
    let port = free_port();
    conf.write(
        "pjsip.conf",
        &format!(
            "[transport-udp]\ntype=transport\nprotocol=udp\nbind=127.0.0.1:{port}\n\n{endpoints}"
        ),
    );
    conf.write("extensions.conf", DIALPLAN);
    let start = 30000 + (std::process::id() % 40) as u16 * 250 + slot * 40;
    conf.write(
        "rtp.conf",
        &format!("[general]\nrtpstart={start}\nrtpend={}\n", start + 38),
    );
    (conf, port)
}

/// Starts one sipp call of scenario `name` from user `user` on local port
/// `local`, with media on `rtp` (a socket the test holds).
pub(crate) fn sipp(
    server: u16,
    dir: &Path,
    name: &str,
    user: &str,
    local: u16,
    rtp: &UdpSocket,
    args: &[&str],
) -> Child {
    let rtp_port = rtp.local_addr().unwrap().port().to_string();
    Command::new("sipp")
        .current_dir(dir)
        .arg(format!("127.0.0.1:{server}"))
        .arg("-sf")
        .arg(scenario(name))
        .args(["-s", user, "-i", "127.0.0.1", "-p", &local.to_string()])
        .args(["-m", "1", "-nostdin", "-timeout", "150s", "-trace_err"])
        .args(["-key", "rtp_port", &rtp_port])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("run sipp (apt-get install sip-tester)")
}

/// Waits (bounded) until the server has no channel left.
pub(crate) fn wait_idle(conf: &ConfDir) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, channels, _) = conf.rx("core show channels");
        if channels.contains("0 active channels") {
            return;
        }
        assert!(Instant::now() < deadline, "{channels}");
        thread::sleep(Duration::from_millis(100));
    }
}

/// Runs a call of `scenario_name` to 700 as alice and waits for it to end.
fn refreshed_call(scenario_name: &str, slot: u16) {
    let (conf, port) = pbx(&endpoint("alice", ""), slot);
    let _daemon = conf.start_foreground();
    let dir = tempfile::tempdir().unwrap();
    let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let call = sipp(
        port,
        dir.path(),
        scenario_name,
        "alice",
        free_port(),
        &rtp,
        &["-key", "dest", "700"],
    );
    wait_ok_within(call, scenario_name, dir.path(), Duration::from_secs(150));
    wait_idle(&conf);
}

/// sipp asks for Session-Expires: 90 with refresher=uas; Obelus agrees in
/// its 200 and refreshes at half the interval with a re-INVITE (the
/// phone does not allow UPDATE) carrying its SDP; the scenario checks
/// both and hangs up after answering the refresh.
#[test]
fn obelus_refreshes_a_session_it_was_asked_to_refresh() {
    refreshed_call("timer_refresh_uas.xml", 0);
}

/// As above with a phone that allows UPDATE: the refresh is an UPDATE
/// without a body.
#[test]
fn obelus_refreshes_by_update_when_the_peer_allows_it() {
    refreshed_call("timer_refresh_update.xml", 5);
}

/// sipp is the refresher (refresher=uac) and never refreshes: Obelus ends
/// the session with a BYE, and the channel's cause is the one Asterisk
/// gives (pjsip ends the session with 408: 18, No user responding).
#[test]
fn a_session_the_peer_stops_refreshing_is_hung_up() {
    let (conf, port) = pbx(&endpoint("alice", ""), 1);
    let ami = enable_ami(&conf, "call");
    let _daemon = conf.start_foreground();
    let mut events = ami_watcher(ami);
    let dir = tempfile::tempdir().unwrap();
    let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let call = sipp(
        port,
        dir.path(),
        "timer_expire.xml",
        "alice",
        free_port(),
        &rtp,
        &["-key", "dest", "700"],
    );
    wait_ok_within(
        call,
        "the expiring call",
        dir.path(),
        Duration::from_secs(150),
    );
    events("Event: Hangup");
    let hangup = events("\r\n\r\n");
    assert!(hangup.contains("Cause: 18\r\n"), "{hangup}");
    wait_idle(&conf);
}

/// `timers=no` and an INVITE with `Require: timer`: 420 with
/// `Unsupported: timer`. `timers_min_se=120` and an INVITE asking for
/// 100 s: 422 with `Min-SE: 120`; asked again with 120, the call goes
/// through with that interval.
#[test]
fn session_timers_are_refused_as_configured() {
    let endpoints = format!(
        "{}{}",
        endpoint("carol", "timers=no"),
        endpoint("dave", "timers_min_se=120")
    );
    let (conf, port) = pbx(&endpoints, 2);
    let _daemon = conf.start_foreground();
    let dir = tempfile::tempdir().unwrap();
    let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    for (scenario_name, user) in [("timer_420.xml", "carol"), ("timer_422.xml", "dave")] {
        let call = sipp(
            port,
            dir.path(),
            scenario_name,
            user,
            free_port(),
            &rtp,
            &["-key", "dest", "700"],
        );
        wait_ok_within(call, scenario_name, dir.path(), Duration::from_secs(30));
    }
    wait_idle(&conf);
}

/// `dtmf_mode=info` both ways. alice presses 1, 2, 3 by INFO (after a key
/// Obelus cannot read, which gets 500): `Read()` gets them, as AMI's
/// DTMFEnd and VarSet events show. Then an originated call to bob (also
/// `dtmf_mode=info`) runs `SendDTMF(123#)`: bob's sipp expects each key
/// as an INFO. bob's phone also checks Obelus's session timer as UAC: the
/// INVITE asks for 1800 s, and after bob's 422 asks again for 1900 s.
#[test]
fn dtmf_by_sip_info_reaches_the_dialplan_and_goes_out_for_senddtmf() {
    let bob_port = free_port();
    let endpoints = format!(
        "{}{}[bob]\ntype=aor\ncontact=sip:bob@127.0.0.1:{bob_port}\n\n",
        endpoint("alice", "dtmf_mode=info"),
        endpoint("bob", "dtmf_mode=info\naors=bob"),
    );
    let (conf, port) = pbx(&endpoints, 3);
    let ami = enable_ami(&conf, "all");
    let _daemon = conf.start_foreground();
    let mut events = ami_watcher(ami);
    let dir = tempfile::tempdir().unwrap();
    let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let bob = sipp(
        port,
        dir.path(),
        "info_callee.xml",
        "bob",
        bob_port,
        &rtp,
        &[],
    );
    let alice = sipp(
        port,
        dir.path(),
        "info_caller.xml",
        "alice",
        free_port(),
        &rtp,
        &["-key", "dest", "800"],
    );
    wait_ok_within(
        alice,
        "alice's INFO keys",
        dir.path(),
        Duration::from_secs(30),
    );
    let before = events("Variable: DIGITS");
    let varset = events("\r\n\r\n");
    assert!(varset.contains("Value: 123\r\n"), "{varset}");
    let ends: String = before
        .split("\r\n\r\n")
        .filter(|e| e.contains("Event: DTMFEnd\r\n") && e.contains("Direction: Received"))
        .filter_map(|e| e.lines().find_map(|l| l.strip_prefix("Digit: ")))
        .collect();
    assert_eq!(ends, "123", "{before}");
    let mut session = AmiSession::login(ami);
    session.send("Action: Originate\r\nActionID: o1\r\nChannel: PJSIP/bob\r\nContext: test\r\nExten: 900\r\nPriority: 1\r\nAsync: true");
    let response = session.response("o1");
    assert!(response.contains("Response: Success"), "{response}");
    wait_ok_within(bob, "bob's INFO keys", dir.path(), Duration::from_secs(30));
    wait_idle(&conf);
}

/// Sends µ-law RTP to `to`: 400 ms of silence, then each key of `keys` as
/// 80 ms of tone and 100 ms of silence, then silence until `until`
/// returns true, decoding what comes back into `heard`.
fn talk(
    socket: &UdpSocket,
    to: SocketAddr,
    keys: &str,
    heard: &mut Vec<i16>,
    mut until: impl FnMut() -> bool,
) {
    let mut script: Vec<i16> = vec![0; 3200];
    for digit in keys.chars() {
        let (row, col) = dtmf_detect::frequencies(digit).unwrap();
        let w = |f: f32| 2.0 * std::f64::consts::PI * f64::from(f) / 8000.0;
        script.extend((0..640).map(|i| {
            let t = f64::from(i);
            (4000.0 * (w(row) * t).sin() + 4000.0 * (w(col) * t).sin()) as i16
        }));
        script.extend(std::iter::repeat_n(0, 800));
    }
    socket
        .set_read_timeout(Some(Duration::from_millis(5)))
        .unwrap();
    let mut encoder = Encoder::new(Codec::Ulaw);
    let mut decoder = Decoder::new(Codec::Ulaw);
    let (mut seq, mut next) = (0u16, Instant::now());
    let (mut payload, mut packet, mut buf, mut pcm) =
        ([0u8; 160], [0u8; 200], [0u8; 1500], [0i16; 1000]);
    let deadline = Instant::now() + Duration::from_secs(30);
    while !until() && Instant::now() < deadline {
        if Instant::now() >= next {
            let at = usize::from(seq) * 160;
            let frame = script.get(at..at + 160).unwrap_or(&[0; 160]);
            let n = encoder.encode(frame, &mut payload);
            let header = RtpHeader {
                payload_type: 0,
                marker: seq == 0,
                sequence: seq,
                timestamp: u32::from(seq) * 160,
                ssrc: 0x0D7F_0001,
            };
            let len = build_packet(&header, &payload[..n], &mut packet).unwrap();
            socket.send_to(&packet[..len], to).unwrap();
            seq = seq.wrapping_add(1);
            next += Duration::from_millis(20);
        }
        if let Ok((n, _)) = socket.recv_from(&mut buf)
            && let Ok(p) = RtpPacket::parse(&buf[..n])
        {
            assert_eq!(p.header.payload_type, 0, "only PCMU: no telephone-event");
            let m = decoder.decode(p.payload, &mut pcm);
            heard.extend_from_slice(&pcm[..m]);
        }
    }
}

/// `dtmf_mode=auto` with a phone that offers no telephone-event: the
/// answer has none, keys the phone plays as tones reach `Read()` through
/// the detector, and `SendDTMF` plays them back as tones the phone's own
/// detector hears.
#[test]
fn auto_dtmf_without_telephone_event_goes_in_band_both_ways() {
    let (conf, port) = pbx(&endpoint("erin", "dtmf_mode=auto"), 4);
    let _daemon = conf.start_foreground();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("erin.log");
    let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let call = sipp(
        port,
        dir.path(),
        "inband_caller.xml",
        "erin",
        free_port(),
        &rtp,
        &[
            "-key",
            "dest",
            "810",
            "-trace_logs",
            "-log_file",
            log.to_str().unwrap(),
        ],
    );
    let obelus = obelus_media_address(&log);
    let mut heard = Vec::new();
    let done = std::cell::Cell::new(None);
    let mut call = Some(call);
    talk(&rtp, obelus, "456", &mut heard, || {
        if let Some(child) = call.as_mut()
            && let Ok(Some(status)) = child.try_wait()
        {
            done.set(Some(status));
        }
        done.get().is_some()
    });
    match done.get() {
        Some(status) => assert!(status.success(), "sipp failed: {status}"),
        None => panic!("the call did not end"),
    }
    let mut detector = DtmfDetector::default();
    let mut keys = String::new();
    detector.process(&heard, |e| {
        if let DetectorEvent::End { digit, .. } = e {
            keys.push(digit);
        }
    });
    detector.process(&[0; 800], |e| {
        if let DetectorEvent::End { digit, .. } = e {
            keys.push(digit);
        }
    });
    assert_eq!(keys, "456", "keys heard back in {} samples", heard.len());
    wait_idle(&conf);
}

/// The keys carried by telephone-events arriving on `socket` (each once,
/// at its first end packet), until `want` keys came or 20 s passed.
fn telephone_event_keys(socket: &UdpSocket, want: usize) -> String {
    socket
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let (mut keys, mut ended) = (String::new(), Vec::new());
    let mut buf = [0u8; 1500];
    let deadline = Instant::now() + Duration::from_secs(20);
    while keys.len() < want && Instant::now() < deadline {
        let Ok((n, _)) = socket.recv_from(&mut buf) else {
            continue;
        };
        let Ok(p) = RtpPacket::parse(&buf[..n]) else {
            continue;
        };
        if p.header.payload_type != 101 {
            continue;
        }
        if let Ok(ev) = TelephoneEvent::parse(p.payload)
            && ev.end
            && !ended.contains(&p.header.timestamp)
        {
            ended.push(p.header.timestamp);
            keys.extend(event_to_digit(ev.event));
        }
    }
    keys
}

/// alice (`dtmf_mode=info`) dials bob (RFC 4733) and presses 1 2 3 by SIP
/// INFO: the bridge hands each key to bob's leg, which sends it the way
/// bob's call agreed, as telephone-events bob's phone receives. AMI shows
/// who reached whom as Asterisk does: bob's leg is called `bob` and
/// connected to alice from the start, alice's connected line becomes bob
/// when he answers.
#[test]
fn info_keys_cross_a_bridge_as_telephone_events() {
    let bob_port = free_port();
    let endpoints = format!(
        "{}{}[bob]\ntype=aor\ncontact=sip:bob@127.0.0.1:{bob_port}\n\n",
        endpoint("alice", "dtmf_mode=info"),
        endpoint("bob", "aors=bob"),
    );
    let (conf, port) = pbx(&endpoints, 5);
    let ami = enable_ami(&conf, "all");
    let _daemon = conf.start_foreground();
    let mut events = ami_watcher(ami);
    let dir = tempfile::tempdir().unwrap();
    let (rtp_alice, rtp_bob) = (
        UdpSocket::bind("127.0.0.1:0").unwrap(),
        UdpSocket::bind("127.0.0.1:0").unwrap(),
    );
    let bob = sipp(
        port,
        dir.path(),
        "call_callee.xml",
        "bob",
        bob_port,
        &rtp_bob,
        &[],
    );
    let alice = sipp(
        port,
        dir.path(),
        "info_caller.xml",
        "alice",
        free_port(),
        &rtp_alice,
        &["-key", "dest", "820"],
    );
    let keys = telephone_event_keys(&rtp_bob, 3);
    assert_eq!(keys, "123", "keys bob received as telephone-events");
    let dialing = events("Event: DialEnd") + &events("\r\n\r\n");
    let message = |event: &str, channel: &str| -> String {
        dialing
            .split("\r\n\r\n")
            .find(|m| m.contains(&format!("Event: {event}\r\n")) && m.contains(channel))
            .unwrap_or_else(|| panic!("no {event} for {channel}:\n{dialing}"))
            .to_owned()
    };
    let begin = message("DialBegin", "Channel: PJSIP/alice-");
    assert!(
        begin.contains("\r\nCallerIDNum: alice\r\n")
            && begin.contains("DestCallerIDNum: bob\r\n")
            && begin.contains("DestConnectedLineNum: alice\r\n"),
        "{begin}"
    );
    let presented = message("NewConnectedLine", "Channel: PJSIP/bob-");
    assert!(
        presented.contains("ConnectedLineNum: alice\r\n"),
        "{presented}"
    );
    let reached = message("NewConnectedLine", "Channel: PJSIP/alice-");
    assert!(reached.contains("ConnectedLineNum: bob\r\n"), "{reached}");
    let end = message("DialEnd", "Channel: PJSIP/alice-");
    assert!(
        end.contains("\r\nConnectedLineNum: bob\r\n") && end.contains("DialStatus: ANSWER"),
        "{end}"
    );
    conf.rx("channel request hangup all");
    wait_ok_within(
        alice,
        "alice's INFO keys",
        dir.path(),
        Duration::from_secs(30),
    );
    wait_ok_within(bob, "bob's call", dir.path(), Duration::from_secs(30));
    wait_idle(&conf);
}
