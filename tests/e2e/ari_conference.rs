//! ARI's "single slide conference bridge" with an unmodified client library
//! (Python aioari, tests/clients/ari_conference.py): three phones call
//! `Stasis(conf)`, the application answers each, plays a beep and puts them
//! in one mixing bridge. The test checks the bridge over REST, and from the
//! RTP each phone receives that it hears the two others and not itself.

use std::io::{BufRead, BufReader};
use std::net::UdpSocket;
use std::process::{Command, Stdio};
use std::thread;

use obelus_media::Codec;
use obelus_media::analysis::goertzel_power;

use crate::call::{Heard, Phone, add_phone, phone_media, rtp_ports, sqlite_server, wait_ok};
use crate::common::ari::{enable_ari, expect, wait_for_app};

/// Each phone's own tone.
const TONES: [f32; 3] = [600.0, 1500.0, 2200.0];

fn power_ratio(heard: &Heard, want: f32, own: f32) -> f64 {
    let tail = &heard.audio[(heard.rate as usize).min(heard.audio.len())..];
    goertzel_power(tail, heard.rate, want) / goertzel_power(tail, heard.rate, own).max(1.0)
}

#[test]
fn three_calls_are_mixed_by_an_unmodified_ari_client() {
    let (_shared, conf, sip_port) = sqlite_server();
    let http_port = enable_ari(&conf);
    conf.write(
        "extensions.conf",
        "[testing]\nexten => 900,1,Stasis(conf)\n",
    );
    rtp_ports(&conf, 22000 + (std::process::id() % 100) as u16 * 100);
    let _daemon = conf.start_foreground();
    for id in ["101", "102", "103"] {
        add_phone(&conf, id, "ulaw");
    }

    let client = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/clients/ari_conference.py");
    let mut app = Command::new("python3")
        .arg(client)
        .arg(format!("http://127.0.0.1:{http_port}"))
        .args(["ari", "s3cret", "conf", "3"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("python3 with aioari (pip install aioari)");
    let mut lines = BufReader::new(app.stdout.take().unwrap()).lines();
    // The application is registered once its WebSocket is up.
    wait_for_app(&conf, "conf");

    let dir = tempfile::tempdir().unwrap();
    let mut callers = Vec::new();
    let mut media = Vec::new();
    for (i, id) in ["101", "102", "103"].iter().enumerate() {
        let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
        let log = dir.path().join(format!("{id}.log"));
        callers.push(
            Phone::calling(id, "900")
                .rtp(&rtp)
                .codec("0", "PCMU")
                .args(&["-d", "7000"])
                .log(&log)
                .start(sip_port, dir.path(), "call_caller.xml"),
        );
        let tone = TONES[i];
        media.push(thread::spawn(move || {
            phone_media(rtp, log, Codec::Ulaw, 0, tone)
        }));
    }

    // The application reports its bridge once the three are in.
    let bridge = loop {
        let line = lines.next().expect("the ARI client exited").unwrap();
        if let Some(id) = line.strip_prefix("BRIDGE ") {
            break id.trim().to_owned();
        }
    };
    let body = expect(http_port, "GET", &format!("/ari/bridges/{bridge}"), 200).text();
    let listed = expect(http_port, "GET", "/ari/channels", 200).text();
    assert!(body.contains("\"bridge_type\":\"mixing\""), "{body}");
    let in_bridge = listed.matches("\"name\":\"PJSIP/10").count();
    assert_eq!(in_bridge, 3, "{listed}");
    assert_eq!(body.matches("\"channels\":[").count(), 1, "{body}");
    let members = body
        .split("\"channels\":[")
        .nth(1)
        .and_then(|rest| rest.split(']').next())
        .unwrap_or_default()
        .split(',')
        .filter(|c| !c.is_empty())
        .count();
    assert_eq!(members, 3, "{body}");

    let heard: Vec<Heard> = media.into_iter().map(|m| m.join().unwrap()).collect();
    for caller in callers {
        wait_ok(caller, "a conference call", dir.path());
    }
    let _ = app.kill();
    let _ = app.wait();
    for (i, h) in heard.iter().enumerate() {
        let own = TONES[i];
        for (j, other) in TONES.iter().enumerate() {
            if i != j {
                let ratio = power_ratio(h, *other, own);
                assert!(
                    ratio > 10.0,
                    "phone {} hears {other} Hz only {ratio:.1}x its own {own} Hz",
                    i + 1
                );
            }
        }
    }
}
