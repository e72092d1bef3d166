//! Call parking (`res_parking`) against the real binary with sipp phones:
//! a caller dials the lot's parking extension (`Park`) and another phone
//! picks the call up by dialling its slot (`ParkedCall`); a caller Dial
//! allows to park (`K`) parks the callee with `parkcall`, and the parked
//! call comes back to the parker's phone when `parkingtime` runs out.
//! Checked on the wire (who gets BYE, which keys reach whom), by AMI
//! events and actions, and by `parking show`.

use std::net::UdpSocket;
use std::time::Duration;

use crate::call::{obelus_media_address, wait_ok_within};
use crate::common::{ami_action, ami_watcher, free_port};
use crate::sip_session::{sipp, wait_idle};
use crate::transfer::{Ear, Keypad, ami_event, assert_fields, callee, pbx};

/// The default lot with the sample's extensions and a short time.
fn lot(parkingtime: u32) -> String {
    format!(
        "[general]\nparkeddynamic = no\n[default]\nparkext => 700\nparkpos => 701-720\n\
         context => parkedcalls\nparkingtime => {parkingtime}\ncomebacktoorigin = yes\n"
    )
}

/// alice dials 700 and is parked on 701 (`ParkedCall`); `ParkedCalls` and
/// `parking show default` list her. bob dials 701: alice is picked up
/// (`UnParkedCall` names bob as the retriever) and bob's 4 reaches her.
/// AMI `Park` parks her again on 702, and her hangup there is
/// `ParkedCallGiveUp`.
#[test]
fn a_call_parked_at_the_parking_extension_is_picked_up_at_its_slot() {
    let pbx = pbx(8);
    pbx.conf.write("res_parking.conf", &lot(60));
    let _daemon = pbx.conf.start_foreground();
    let mut ami = ami_watcher(pbx.ami);
    let dir = tempfile::tempdir().unwrap();
    let rtp_alice = UdpSocket::bind("127.0.0.1:0").unwrap();
    let alice = sipp(
        pbx.sip,
        dir.path(),
        "xfer_caller.xml",
        "alice",
        free_port(),
        &rtp_alice,
        &["-key", "dest", "700"],
    );
    let parked = ami_event(&mut ami, "ParkedCall");
    assert_fields(
        &parked,
        &[
            "ParkeeChannel: PJSIP/alice-",
            "ParkerDialString: PJSIP/alice\r\n",
            "Parkinglot: default\r\n",
            "ParkingSpace: 701\r\n",
            "ParkingTimeout: 60\r\n",
        ],
    );
    let list = ami_action(
        pbx.ami,
        "Action: ParkedCalls\r\nActionID: p1\r\n",
        "Event: ParkedCallsComplete",
    );
    assert!(list.contains("Message: Parked calls will follow"), "{list}");
    assert!(list.contains("ParkingSpace: 701\r\n"), "{list}");
    let lots = ami_action(
        pbx.ami,
        "Action: Parkinglots\r\nActionID: p2\r\n",
        "Event: ParkinglotsComplete",
    );
    assert!(
        lots.contains("Name: default\r\nStartSpace: 701\r\nStopSpace: 720\r\nTimeout: 60\r\n"),
        "{lots}"
    );
    let (_, shown, _) = pbx.conf.rx("parking show default");
    assert!(
        shown.contains("Parking Extension           :  700"),
        "{shown}"
    );
    assert!(shown.contains("  Space               : 701"), "{shown}");
    assert!(
        shown.contains("  Channel             : PJSIP/alice-"),
        "{shown}"
    );

    let rtp_bob = UdpSocket::bind("127.0.0.1:0").unwrap();
    let bob_log = dir.path().join("bob.log");
    let bob = sipp(
        pbx.sip,
        dir.path(),
        "xfer_caller.xml",
        "bob",
        free_port(),
        &rtp_bob,
        &[
            "-key",
            "dest",
            "701",
            "-trace_logs",
            "-log_file",
            bob_log.to_str().unwrap(),
        ],
    );
    let unparked = ami_event(&mut ami, "UnParkedCall");
    assert_fields(
        &unparked,
        &[
            "ParkeeChannel: PJSIP/alice-",
            "RetrieverChannel: PJSIP/bob-",
            "ParkingSpace: 701\r\n",
        ],
    );
    ami("Event: BridgeEnter\r\n");
    ami("Event: BridgeEnter\r\n");
    // alice's socket filled with music on hold while she was parked.
    let mut alice_ear = Ear::new(&rtp_alice);
    alice_ear.received();
    let mut bob_keys = Keypad::new(&rtp_bob, obelus_media_address(&bob_log));
    bob_keys.press('4');
    assert_eq!(alice_ear.until('4'), "4", "alice talks to bob");
    let (_, shown, _) = pbx.conf.rx("parking show default");
    assert!(shown.contains("  (none)"), "{shown}");

    // AMI Park takes alice out of her call with bob into slot 702; bob's
    // call ends. Hanging alice up then is a parked call giving up.
    let parked = ami_action(
        pbx.ami,
        "Action: Park\r\nActionID: p3\r\nChannel: PJSIP/alice-00000000\r\nParkingSpace: 702\r\n",
        "Message: Park successful",
    );
    assert!(parked.contains("ActionID: p3\r\n"), "{parked}");
    let again = ami_event(&mut ami, "ParkedCall");
    assert!(again.contains("ParkeeChannel: PJSIP/alice-"), "{again}");
    assert!(again.contains("ParkingSpace: 702\r\n"), "{again}");
    wait_ok_within(bob, "bob's call", dir.path(), Duration::from_secs(30));
    pbx.conf.rx("channel request hangup all");
    let gave_up = ami_event(&mut ami, "ParkedCallGiveUp");
    assert!(gave_up.contains("ParkingSpace: 702\r\n"), "{gave_up}");
    wait_ok_within(alice, "alice's call", dir.path(), Duration::from_secs(30));
    wait_idle(&pbx.conf);
}

/// alice dials 823, `Dial(PJSIP/bob,,K)`, and keys `#72` (`parkcall`):
/// bob is parked, alice's call ends. When the lot's 3 s run out, bob's
/// call times out (`ParkedCallTimeOut`) and comes back to alice's phone
/// through `park-dial`: alice answers and hears bob's 9.
#[test]
fn a_call_parked_by_dtmf_comes_back_to_the_parker_when_its_time_runs_out() {
    let pbx = pbx(9);
    pbx.conf.write("res_parking.conf", &lot(3));
    pbx.conf
        .write("features.conf", "[featuremap]\nparkcall => #72\n");
    let _daemon = pbx.conf.start_foreground();
    let mut ami = ami_watcher(pbx.ami);
    let dir = tempfile::tempdir().unwrap();
    let (bob, rtp_bob, bob_log) = callee(&pbx, dir.path(), "bob", pbx.bob);
    let rtp_alice = UdpSocket::bind("127.0.0.1:0").unwrap();
    let alice_log = dir.path().join("alice-call.log");
    let alice = sipp(
        pbx.sip,
        dir.path(),
        "xfer_caller.xml",
        "alice",
        free_port(),
        &rtp_alice,
        &[
            "-key",
            "dest",
            "823",
            "-trace_logs",
            "-log_file",
            alice_log.to_str().unwrap(),
        ],
    );
    ami("Event: BridgeEnter\r\n");
    ami("Event: BridgeEnter\r\n");
    let mut alice_keys = Keypad::new(&rtp_alice, obelus_media_address(&alice_log));
    alice_keys.keys("#72");
    let parked = ami_event(&mut ami, "ParkedCall");
    assert_fields(
        &parked,
        &[
            "ParkeeChannel: PJSIP/bob-",
            "ParkerChannel: PJSIP/alice-",
            "ParkerDialString: PJSIP/alice\r\n",
            "ParkingSpace: 701\r\n",
        ],
    );
    wait_ok_within(
        alice,
        "alice's call (ended once she parked bob)",
        dir.path(),
        Duration::from_secs(30),
    );
    // alice's phone now waits for the comeback on her contact's port.
    let (alice_again, rtp_alice_again, _) = callee(&pbx, dir.path(), "alice", pbx.alice);
    let timeout = ami_event(&mut ami, "ParkedCallTimeOut");
    assert!(timeout.contains("ParkeeChannel: PJSIP/bob-"), "{timeout}");
    assert!(timeout.contains("ParkingSpace: 701\r\n"), "{timeout}");
    let dialed = ami("Event: DialBegin\r\n");
    assert!(!dialed.is_empty());
    let dial = ami("\r\n\r\n");
    assert!(dial.contains("DestChannel: PJSIP/alice-"), "{dial}");
    assert!(dial.contains("Context: park-dial\r\n"), "{dial}");
    assert!(dial.contains("Exten: PJSIP_alice\r\n"), "{dial}");
    ami("Event: BridgeEnter\r\n");
    ami("Event: BridgeEnter\r\n");
    let mut alice_ear = Ear::new(&rtp_alice_again);
    let mut bob_keys = Keypad::new(&rtp_bob, obelus_media_address(&bob_log));
    bob_keys.press('9');
    assert_eq!(alice_ear.until('9'), "9", "bob came back to alice");
    pbx.conf.rx("channel request hangup all");
    wait_ok_within(bob, "bob's call", dir.path(), Duration::from_secs(30));
    wait_ok_within(
        alice_again,
        "alice's comeback call",
        dir.path(),
        Duration::from_secs(30),
    );
    wait_idle(&pbx.conf);
}
