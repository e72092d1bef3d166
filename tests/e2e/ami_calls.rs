//! AMI call control against real calls: Originate to a registered phone
//! (sipp), CoreShowChannels and Status, Setvar/Getvar, Redirect, Hangup,
//! and the channel events a client sees meanwhile; bridges (BridgeList,
//! BridgeInfo) and hint states (ExtensionStatus) of a Dial between Local
//! channels.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::call::add_phone;
use crate::common::{AmiSession, ConfDir, enable_ami, free_port};
use crate::sip_register::scenario;
use crate::sip_shared_db::server;

/// The value of `key` in the first block of `text` that has it.
fn header<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{key}: ")))
        .map(|v| v.trim_end_matches('\r'))
}

#[test]
fn originate_redirect_and_hang_up_a_real_call() {
    let shared = tempfile::tempdir().unwrap();
    let connection = format!(
        "[obelus]\ndbfile => {}\n",
        shared.path().join("db.sqlite3").display()
    );
    let (conf, sip_port) = server(
        "pbx",
        "sqlite3",
        "obelus",
        ("res_config_sqlite3.conf", &connection),
    );
    let ami_port = enable_ami(&conf, "all");
    let start = 21000 + (std::process::id() % 100) as u16 * 100;
    conf.write(
        "rtp.conf",
        &format!("[general]\nrtpstart={start}\nrtpend={}\n", start + 98),
    );
    conf.write(
        "extensions.conf",
        "[testing]\nexten => 102,hint,PJSIP/102\nexten => 700,1,Answer()\n same => n,Wait(30)\nexten => 800,1,Set(REDIRECTED=yes)\n same => n,Wait(30)\n",
    );
    let _daemon = conf.start_foreground();
    add_phone(&conf, "102", "ulaw");

    // Phone 102: one sipp answers calls, another registers its port.
    let dir = tempfile::tempdir().unwrap();
    let phone = free_port().to_string();
    let rtp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let rtp_port = rtp.local_addr().unwrap().port().to_string();
    let mut callee = Command::new("sipp")
        .current_dir(dir.path())
        .arg(format!("127.0.0.1:{sip_port}"))
        .arg("-sf")
        .arg(scenario("call_callee.xml"))
        .args([
            "-i",
            "127.0.0.1",
            "-p",
            &phone,
            "-m",
            "1",
            "-nostdin",
            "-timeout",
            "60s",
        ])
        .args(["-key", "rtp_port", &rtp_port])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("sipp");
    let registered = Command::new("sipp")
        .current_dir(dir.path())
        .arg(format!("127.0.0.1:{sip_port}"))
        .arg("-sf")
        .arg(scenario("register_contact.xml"))
        .args([
            "-s",
            "102",
            "-au",
            "102",
            "-ap",
            "102",
            "-key",
            "contact_port",
            &phone,
        ])
        .args([
            "-i",
            "127.0.0.1",
            "-p",
            &free_port().to_string(),
            "-m",
            "1",
            "-nostdin",
            "-timeout",
            "15s",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(registered.success());

    let mut ami = AmiSession::login(ami_port);
    ami.send("Action: Originate\r\nActionID: o1\r\nChannel: PJSIP/102\r\nContext: testing\r\nExten: 700\r\nPriority: 1\r\nCallerID: \"Ops\" <900>\r\nAsync: true");
    let queued = ami.response("o1");
    assert!(queued.contains("Response: Success"), "{queued}");
    let newchannel = ami.read_until("Event: Newchannel");
    assert!(newchannel.contains("Event: Newchannel"), "{newchannel}");
    let answered = ami.read_until("Event: OriginateResponse");
    let answered = answered + &ami.read_until("CallerIDName");
    assert!(answered.contains("Response: Success"), "{answered}");
    assert!(answered.contains("Reason: 4"), "{answered}");
    let tail = &answered[answered.find("Event: OriginateResponse").unwrap()..];
    let name = header(tail, "Channel").unwrap().to_owned();
    assert!(name.starts_with("PJSIP/102-"), "{name}");

    // The phone's device went in use (the event came with the answer), and
    // so did the hint watching it.
    assert!(
        answered.contains("Device: PJSIP/102\r\nState: INUSE"),
        "{answered}"
    );
    ami.send("Action: ExtensionState\r\nActionID: e1\r\nExten: 102\r\nContext: testing");
    let state = ami.response("e1");
    assert!(
        state.contains("Hint: PJSIP/102") && state.contains("StatusText: InUse"),
        "{state}"
    );
    let (_, hints, _) = conf.rx("core show hints");
    assert!(
        hints.contains("102@testing") && hints.contains("State:InUse"),
        "{hints}"
    );
    ami.send(&format!(
        "Action: PlayDTMF\r\nActionID: p1\r\nChannel: {name}\r\nDigit: 5"
    ));
    assert!(ami.response("p1").contains("DTMF successfully queued"));
    ami.send("Action: DeviceStateList\r\nActionID: d1");
    let devices = ami.read_until("Event: DeviceStateListComplete");
    assert!(
        devices.contains("Device: PJSIP/102\r\nState: INUSE"),
        "{devices}"
    );

    ami.send("Action: CoreShowChannels\r\nActionID: c1");
    let list = ami.read_until("Event: CoreShowChannelsComplete") + &ami.read_until("ListItems");
    assert!(list.contains(&format!("Channel: {name}")), "{list}");
    assert!(list.contains("ListItems: 1"), "{list}");

    ami.send(&format!(
        "Action: Setvar\r\nActionID: s1\r\nChannel: {name}\r\nVariable: FOO\r\nValue: bar"
    ));
    assert!(ami.response("s1").contains("Success"));
    ami.send(&format!(
        "Action: Getvar\r\nActionID: g1\r\nChannel: {name}\r\nVariable: FOO"
    ));
    let got = ami.response("g1");
    assert!(got.contains("Value: bar"), "{got}");
    ami.send(&format!(
        "Action: Getvar\r\nActionID: g2\r\nChannel: {name}\r\nVariable: CALLERID(num)"
    ));
    let got = ami.response("g2");
    assert!(got.contains("Value: 900"), "{got}");

    ami.send(&format!("Action: Redirect\r\nActionID: r1\r\nChannel: {name}\r\nContext: testing\r\nExten: 800\r\nPriority: 1"));
    let redirected = ami.response("r1");
    assert!(redirected.contains("Redirect successful"), "{redirected}");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        ami.send(&format!(
            "Action: Getvar\r\nActionID: g3\r\nChannel: {name}\r\nVariable: REDIRECTED"
        ));
        let got = ami.response("g3");
        if got.contains("Value: yes") {
            break;
        }
        assert!(Instant::now() < deadline, "never redirected: {got}");
        std::thread::sleep(Duration::from_millis(100));
    }

    ami.send(&format!(
        "Action: Hangup\r\nActionID: h1\r\nChannel: {name}\r\nCause: 16"
    ));
    assert!(ami.response("h1").contains("Channel Hungup"));
    let hangup = ami.read_until("Cause-txt: Normal Clearing");
    assert!(hangup.contains("Event: Hangup"), "{hangup}");
    let idle = ami.read_until("State: NOT_INUSE");
    assert!(idle.contains("Device: PJSIP/102"), "{idle}");
    // The phone got its BYE: its scenario ends cleanly.
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = callee.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the phone never got BYE");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "phone scenario failed");

    ami.send("Action: Hangup\r\nActionID: h2\r\nChannel: PJSIP/nobody-00000000");
    let missing = ami.response("h2");
    assert!(
        missing.contains("Response: Error") && missing.contains("No such channel"),
        "{missing}"
    );
    ami.send("Action: Originate\r\nActionID: o2\r\nChannel: nonsense");
    let bad = ami.response("o2");
    assert!(bad.contains("Response: Error"), "{bad}");
}

/// A Dial between Local channels makes a bridge: BridgeList and BridgeInfo
/// show it while it lasts; the hint on the dialled device reports its
/// states as ExtensionStatus events.
#[test]
fn bridges_and_hint_states_over_ami() {
    let conf = ConfDir::new();
    let ami_port = enable_ami(&conf, "all");
    // The upper part of the hundred whose lower part ami.rs's frozen-client
    // test uses.
    let start = 25070 + (std::process::id() % 70) as u16 * 100;
    conf.write(
        "rtp.conf",
        &format!("[general]\nrtpstart={start}\nrtpend={}\n", start + 28),
    );
    conf.write(
        "extensions.conf",
        "[br]\nexten => 100,1,Answer()\n same => n,Dial(Local/200@br)\n\
         exten => 200,1,Answer()\n same => n,Wait(30)\n\
         exten => 300,hint,Local/200@br\n",
    );
    let _daemon = conf.start_foreground();
    let mut ami = AmiSession::login(ami_port);

    ami.send("Action: BridgeList\r\nActionID: b0");
    let empty = ami.read_until("Event: BridgeListComplete") + &ami.read_until("\r\n\r\n");
    assert!(
        empty.contains(
            "Event: BridgeListComplete\r\nActionID: b0\r\nEventList: Complete\r\nListItems: 0\r\n"
        ),
        "{empty}"
    );

    ami.send("Action: Originate\r\nActionID: o1\r\nChannel: Local/100@br\r\nApplication: Wait\r\nData: 30\r\nAsync: true");
    // The order of these depends on timing; wait for all of them.
    let started = collect_until(&mut ami, |t| {
        t.matches("Event: BridgeEnter").count() == 2
            && t.contains("Event: OriginateResponse")
            && t.contains("StatusText: InUse")
    });
    let created = &started[started.find("Event: BridgeCreate").expect("BridgeCreate")..];
    let bridge = header(created, "BridgeUniqueid").unwrap().to_owned();
    assert!(
        created.contains("BridgeType: basic\r\nBridgeTechnology: simple_bridge\r\nBridgeCreator: Dial\r\nBridgeName: <unknown>\r\n"),
        "{created}"
    );
    assert!(
        started.contains("Event: ExtensionStatus\r\nPrivilege: call,all\r\nExten: 300\r\nContext: br\r\nHint: Local/200@br\r\nStatus: 1\r\nStatusText: InUse\r\n"),
        "{started}"
    );
    let outcome = &started[started.find("Event: OriginateResponse").unwrap()..];
    let originated = header(outcome, "Channel").unwrap().to_owned();
    assert!(originated.starts_with("Local/100@br-"), "{outcome}");

    ami.send("Action: BridgeList\r\nActionID: b1");
    let list = ami.read_until("Event: BridgeListComplete") + &ami.read_until("\r\n\r\n");
    assert!(
        list.contains("Response: Success\r\nActionID: b1\r\nEventList: start\r\nMessage: Bridge listing will follow\r\n"),
        "{list}"
    );
    assert!(
        list.contains(&format!(
            "Event: BridgeListItem\r\nActionID: b1\r\nBridgeUniqueid: {bridge}\r\nBridgeType: basic\r\n"
        )),
        "{list}"
    );
    assert!(list.contains("BridgeNumChannels: 2\r\n"), "{list}");
    assert!(list.contains("ListItems: 1\r\n"), "{list}");
    ami.send("Action: BridgeList\r\nActionID: b2\r\nBridgeType: softmix");
    let none = ami.read_until("Event: BridgeListComplete") + &ami.read_until("\r\n\r\n");
    assert!(
        none.contains("ListItems: 0"),
        "filtered by technology: {none}"
    );

    ami.send(&format!(
        "Action: BridgeInfo\r\nActionID: i1\r\nBridgeUniqueid: {bridge}"
    ));
    let info = ami.read_until("Event: BridgeInfoComplete") + &ami.read_until("\r\n\r\n");
    assert!(
        info.contains("Message: Bridge channel listing will follow"),
        "{info}"
    );
    let channels: Vec<&str> = info
        .split("\r\n\r\n")
        .filter(|m| m.contains("Event: BridgeInfoChannel"))
        .filter_map(|m| header(m, "Channel"))
        .collect();
    assert_eq!(channels.len(), 2, "{info}");
    assert!(
        channels
            .iter()
            .any(|c| c.starts_with("Local/100@br-") && c.ends_with(";2"))
            && channels
                .iter()
                .any(|c| c.starts_with("Local/200@br-") && c.ends_with(";1")),
        "{channels:?}"
    );
    let complete = &info[info.find("Event: BridgeInfoComplete").unwrap()..];
    assert!(
        complete.contains(&format!(
            "ActionID: i1\r\nEventList: Complete\r\nListItems: 2\r\nBridgeUniqueid: {bridge}\r\n"
        )),
        "{complete}"
    );
    ami.send("Action: BridgeInfo\r\nActionID: i2\r\nBridgeUniqueid: nosuch");
    assert!(
        ami.response("i2")
            .contains("Message: Specified BridgeUniqueid not found")
    );
    ami.send("Action: BridgeInfo\r\nActionID: i3");
    assert!(
        ami.response("i3")
            .contains("Message: BridgeUniqueid must be provided")
    );

    // Hanging up the originated half ends everything.
    ami.send(&format!(
        "Action: Hangup\r\nActionID: h1\r\nChannel: {originated}"
    ));
    assert!(ami.response("h1").contains("Channel Hungup"));
    let ended = collect_until(&mut ami, |t| {
        t.contains("Event: BridgeDestroy") && t.contains("StatusText: Idle")
    });
    assert!(
        ended.contains(
            "Exten: 300\r\nContext: br\r\nHint: Local/200@br\r\nStatus: 0\r\nStatusText: Idle\r\n"
        ),
        "{ended}"
    );
    ami.send("Action: BridgeList\r\nActionID: b3");
    let after = ami.read_until("Event: BridgeListComplete") + &ami.read_until("\r\n\r\n");
    assert!(after.contains("ListItems: 0"), "{after}");
}

/// Reads whole messages until what was read satisfies `done`.
fn collect_until(ami: &mut AmiSession, done: impl Fn(&str) -> bool) -> String {
    let mut text = String::new();
    while !done(&text) {
        text.push_str(&ami.read_until("\r\n\r\n"));
    }
    text
}
