//! ARI media features against the real daemon: external media
//! (`UnicastRTP` channels), snoop channels and RTP statistics.
//!
//! Phone 101 (sipp signalling, the test's own RTP socket sending 1000 Hz)
//! calls `Stasis(media)`. Over REST and the events WebSocket the test
//! answers it and bridges it with an external media channel whose RTP
//! goes to a socket of the test (sending 440 Hz back), then snoops on it
//! with `spy=in` and `whisper=out` into a second bridge with another
//! external media channel (sending 2200 Hz). From the RTP each socket
//! receives: the first external host hears the caller; the caller hears
//! the first external host and the whisper; the snoop's host hears what
//! the caller says and neither what the caller hears nor its own whisper.
//! `rtp_statistics` counts grow during the call, and the snoop ends when
//! the caller hangs up.

use std::net::{SocketAddr, UdpSocket};
use std::thread;
use std::time::Duration;

use obelus_media::Codec;
use obelus_media::analysis::goertzel_power;

use crate::call::{
    Heard, Phone, add_phone, assert_hears, phone_media, sqlite_pbx, talk_to, wait_ok,
};
use crate::common::ari::{self, Events, channel_id, enable_ari, rest};

/// The caller's tone, the first external host's, the snoop host's.
const CALLER: f32 = 1000.0;
const EXTERNAL: f32 = 440.0;
const WHISPER: f32 = 2200.0;

/// A REST request (`path` under `/ari`) that must fail with `want`; its
/// error message.
fn refused(port: u16, method: &str, path: &str, want: u16) -> String {
    let error = ari::expect(port, method, &format!("/ari{path}"), want).json();
    error["message"].as_str().expect("message").to_owned()
}

/// Creates an external media channel to `host` and waits until it is in
/// the application; its id and where it takes RTP.
fn external_media(port: u16, ws: &mut Events, host: SocketAddr) -> (String, SocketAddr) {
    let channel = rest(
        port,
        "POST",
        &format!("/channels/externalMedia?app=media&external_host={host}&format=ulaw"),
    );
    let name = channel["name"].as_str().expect("name");
    assert!(
        name.starts_with(&format!("UnicastRTP/{host}-")),
        "{channel}"
    );
    let vars = &channel["channelvars"];
    assert_eq!(vars["UNICASTRTP_LOCAL_ADDRESS"], "127.0.0.1", "{channel}");
    let local_port: u16 = vars["UNICASTRTP_LOCAL_PORT"]
        .as_str()
        .and_then(|p| p.parse().ok())
        .expect("UNICASTRTP_LOCAL_PORT");
    let id = channel["id"].as_str().expect("id").to_owned();
    ws.until_matching("StasisStart", |e| e["channel"]["id"] == id.as_str());
    (id, SocketAddr::from(([127, 0, 0, 1], local_port)))
}

/// A mixing bridge with `channels` (ids, comma-separated) in it.
fn mixing_bridge(port: u16, channels: &str) {
    let bridge = rest(port, "POST", "/bridges?type=mixing")["id"]
        .as_str()
        .expect("bridge id")
        .to_owned();
    rest(
        port,
        "POST",
        &format!("/bridges/{bridge}/addChannel?channel={channels}"),
    );
}

/// `want` Hz is well above `other` Hz in what `heard` holds.
fn dominates(who: &str, heard: &Heard, want: f32, other: f32) {
    assert!(
        heard.audio.len() > heard.rate as usize,
        "{who}: {} samples",
        heard.audio.len()
    );
    let tail = &heard.audio[heard.rate as usize / 2..];
    let p_want = goertzel_power(tail, heard.rate, want);
    let p_other = goertzel_power(tail, heard.rate, other);
    assert!(
        p_want > 20.0 * p_other.max(1.0),
        "{who}: {want} Hz power {p_want:.0} vs {other} Hz {p_other:.0}"
    );
}

#[test]
fn external_media_snoop_and_rtp_statistics() {
    let (_db, conf, sip_port) = sqlite_pbx();
    let http = enable_ari(&conf);
    conf.write(
        "extensions.conf",
        "[testing]\nexten => 900,1,Stasis(media)\n",
    );
    let _daemon = conf.start_foreground();
    add_phone(&conf, "101", "ulaw");
    let mut ws = Events::connect(http, "media");

    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("caller.log");
    let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let caller = Phone::calling("101", "900")
        .rtp(&rtp)
        .codec("0", "PCMU")
        .args(&["-d", "6000"])
        .log(&log)
        .start(sip_port, dir.path(), "call_caller.xml");
    let start = ws.until_matching("StasisStart", |e| {
        e["channel"]["name"]
            .as_str()
            .is_some_and(|n| n.starts_with("PJSIP/101-"))
    });
    let call = channel_id(&start);

    // What the reference says about bad requests.
    let message = refused(
        http,
        "POST",
        &format!("/channels/{call}/snoop?app=media"),
        400,
    );
    assert_eq!(
        message,
        "Direction must be specified for at least spy or whisper"
    );
    refused(
        http,
        "POST",
        &format!("/channels/{call}/snoop?app=media&spy=sideways"),
        400,
    );
    refused(http, "POST", "/channels/nosuch/snoop?app=media&spy=in", 404);
    refused(http, "GET", "/channels/nosuch/rtp_statistics", 404);
    let message = refused(
        http,
        "POST",
        "/channels/externalMedia?app=media&external_host=127.0.0.1:9&format=ulaw&encapsulation=audiosocket&transport=tcp",
        501,
    );
    assert_eq!(message, "Unsupported encapsulation/transport combination");
    refused(
        http,
        "POST",
        "/channels/externalMedia?app=media&external_host=127.0.0.1:9&format=nosuch",
        400,
    );

    rest(http, "POST", &format!("/channels/{call}/answer"));
    let phone = thread::spawn(move || phone_media(rtp, log, Codec::Ulaw, 0, CALLER));

    // The caller and the first external host talk in one bridge.
    let host_a = UdpSocket::bind("127.0.0.1:0").unwrap();
    let (media_a, obelus_a) = external_media(http, &mut ws, host_a.local_addr().unwrap());
    mixing_bridge(http, &format!("{call},{media_a}"));

    // The snoop hears what the caller says and whispers to it.
    let snoop = rest(
        http,
        "POST",
        &format!("/channels/{call}/snoop?spy=in&whisper=out&app=media&appArgs=watching"),
    );
    assert!(
        snoop["name"]
            .as_str()
            .is_some_and(|n| n.starts_with(&format!("Snoop/{call}-"))),
        "{snoop}"
    );
    let snoop_id = snoop["id"].as_str().expect("snoop id").to_owned();
    let started = ws.until_matching("StasisStart", |e| e["channel"]["id"] == snoop_id.as_str());
    assert_eq!(started["args"], serde_json::json!(["watching"]));
    let message = refused(
        http,
        "GET",
        &format!("/channels/{snoop_id}/rtp_statistics"),
        403,
    );
    assert_eq!(message, "Unsupported channel type");
    let host_b = UdpSocket::bind("127.0.0.1:0").unwrap();
    let (media_b, obelus_b) = external_media(http, &mut ws, host_b.local_addr().unwrap());
    mixing_bridge(http, &format!("{snoop_id},{media_b}"));

    let talk = Duration::from_millis(3500);
    let a = thread::spawn(move || talk_to(&host_a, obelus_a, Codec::Ulaw, 0, EXTERNAL, talk));
    let b = thread::spawn(move || talk_to(&host_b, obelus_b, Codec::Ulaw, 0, WHISPER, talk));

    // Statistics of the caller's stream grow while it talks.
    let stats = |port| rest(port, "GET", &format!("/channels/{call}/rtp_statistics"));
    let first = stats(http);
    thread::sleep(Duration::from_secs(1));
    let second = stats(http);
    for counter in ["rxcount", "txcount", "rxoctetcount", "txoctetcount"] {
        assert!(
            second[counter].as_u64() > first[counter].as_u64(),
            "{counter}: {first} then {second}"
        );
    }
    assert_eq!(second["remote_ssrc"], 0x1234_0000, "{second}");
    assert_ne!(second["local_ssrc"], 0, "{second}");
    assert_eq!(second["rxploss"], 0, "{second}");
    assert_eq!(second["channel_uniqueid"], call.as_str());
    assert!(
        second["rxjitter"]
            .as_f64()
            .is_some_and(|j| (0.0..0.05).contains(&j)),
        "{second}"
    );

    let heard_a = a.join().unwrap();
    let heard_b = b.join().unwrap();
    let heard_caller = phone.join().unwrap();
    wait_ok(caller, "the call to Stasis", dir.path());

    // The first host hears the caller; the caller hears the first host
    // and the whisper, never itself.
    dominates("external host", &heard_a, CALLER, EXTERNAL);
    assert_hears("the caller", &heard_caller, 0, EXTERNAL, CALLER);
    assert_hears("the caller (whisper)", &heard_caller, 0, WHISPER, CALLER);
    // The snoop's host hears what the caller says: not what the caller
    // hears, not its own whisper.
    dominates("snoop host", &heard_b, CALLER, EXTERNAL);
    dominates("snoop host", &heard_b, CALLER, WHISPER);

    // The caller hung up: the snoop ends with it.
    ws.until_matching("StasisEnd", |e| e["channel"]["id"] == snoop_id.as_str());
    for id in [&media_a, &media_b] {
        rest(http, "DELETE", &format!("/channels/{id}"));
    }
}
