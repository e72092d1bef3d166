//! Anchored G.711 calls with RTP through the real `obelus` binary: N
//! concurrent calls (sipp for signalling, this program for the media of
//! both phones), PCMU on both legs, media relayed by Obelus.
//!
//! Reported per step: packets sent and received by the phones (loss), and
//! Obelus's CPU per call-second (utime+stime from /proc over the window,
//! divided by calls x seconds), beside the same figure per forwarded
//! packet. The phones are two banks (one socket each, one per leg side)
//! sending with batched `sendmmsg` and counting with `recvmmsg`
//! (bench/common/phones.rs): check the loss column before the CPU one.
//!
//! Run: `cargo bench -p obelus --bench rtp_load` (needs `sipp`).
//! `RTP_LOAD_CALLS=100,500` and `RTP_LOAD_SECONDS=10` change the steps.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[path = "common/mod.rs"]
#[allow(dead_code)] // each load bench uses a part of the shared helpers
mod common;

use common::phones::{PhoneBank, Voice, phone_socket};
use common::{Guard, TICKS_PER_SECOND, cpu_ticks, free_port, sip_bound, start_obelus};

fn scenario(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/sipp")
        .join(name)
}

fn start(dir: &Path, sip_port: u16, callee_port: u16) -> Guard {
    let files = [
        (
            "modules.conf",
            "[modules]\nautoload=yes\nnoload => manager\nnoload => http\n".to_owned(),
        ),
        (
            "rtp.conf",
            "[general]\nrtpstart=20000\nrtpend=60000\n".to_owned(),
        ),
        ("sorcery.conf", String::new()),
        ("extconfig.conf", String::new()),
        (
            "extensions.conf",
            "[load]\nexten => 102,1,Dial(PJSIP/102)\n".to_owned(),
        ),
        (
            "pjsip.conf",
            format!(
                "[transport-udp]\ntype=transport\nprotocol=udp\nbind=127.0.0.1:{sip_port}\n\n[101]\ntype=auth\nauth_type=userpass\nusername=101\npassword=101\n\n[101]\ntype=endpoint\nauth=101\ncontext=load\ndisallow=all\nallow=ulaw\ndirect_media=no\n\n[102]\ntype=endpoint\ncontext=load\ndisallow=all\nallow=ulaw\naors=102\ndirect_media=no\n\n[102]\ntype=aor\ncontact=sip:102@127.0.0.1:{callee_port}\n"
            ),
        ),
    ];
    let guard = start_obelus(dir, &files, sip_bound(sip_port));
    std::thread::sleep(Duration::from_millis(300));
    guard
}

fn sipp(dir: &Path, args: &[&str]) -> Guard {
    Guard(
        Command::new("sipp")
            .current_dir(dir)
            .args(args)
            .args([
                "-i",
                "127.0.0.1",
                "-nostdin",
                "-timeout",
                "600s",
                "-trace_err",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("sipp (apt-get install sip-tester)"),
    )
}

/// The Obelus RTP addresses sipp logged (`RTP ip:port` lines).
fn addresses(log: &Path) -> Vec<SocketAddr> {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let set: HashSet<SocketAddr> = text
        .lines()
        .filter_map(|l| l.split("RTP ").nth(1))
        .filter_map(|a| a.trim().parse().ok())
        .collect();
    set.into_iter().collect()
}

/// One step: `calls` concurrent calls talking for `seconds`.
fn step(calls: usize, seconds: u64) {
    let dir = tempfile::tempdir().unwrap();
    let (sip_port, callee_port) = (free_port(), free_port());
    let (phone_a, phone_b) = (phone_socket(), phone_socket());
    let (port_a, port_b) = (
        phone_a.local_addr().unwrap().port().to_string(),
        phone_b.local_addr().unwrap().port().to_string(),
    );
    let (log_a, log_b) = (dir.path().join("a.log"), dir.path().join("b.log"));
    let obelus = start(dir.path(), sip_port, callee_port);
    let target = format!("127.0.0.1:{sip_port}");
    let n = calls.to_string();
    let hold = ((seconds + 60) * 1000).to_string();
    let _callee = sipp(
        dir.path(),
        &[
            &target,
            "-sf",
            scenario("call_callee.xml").to_str().unwrap(),
            "-p",
            &callee_port.to_string(),
            "-m",
            &n,
            "-key",
            "rtp_port",
            &port_b,
            "-trace_logs",
            "-log_file",
            log_b.to_str().unwrap(),
        ],
    );
    let _caller = sipp(
        dir.path(),
        &[
            &target,
            "-sf",
            scenario("call_caller.xml").to_str().unwrap(),
            "-s",
            "101",
            "-au",
            "101",
            "-ap",
            "101",
            "-key",
            "dest",
            "102",
            "-p",
            &free_port().to_string(),
            "-m",
            &n,
            "-r",
            "100",
            "-l",
            &n,
            "-d",
            &hold,
            "-key",
            "rtp_port",
            &port_a,
            "-key",
            "pt",
            "0",
            "-key",
            "codec",
            "PCMU",
            "-trace_logs",
            "-log_file",
            log_a.to_str().unwrap(),
        ],
    );
    let deadline = Instant::now() + Duration::from_secs(calls as u64 / 50 + 20);
    let (legs_a, legs_b) = loop {
        let (a, b) = (addresses(&log_a), addresses(&log_b));
        print!(
            "\rrtp_load: {} calls: {}/{} legs set up   ",
            calls,
            a.len() + b.len(),
            2 * calls
        );
        if a.len() >= calls && b.len() >= calls {
            println!();
            break (a, b);
        }
        assert!(
            Instant::now() < deadline,
            "only {} + {} legs came up",
            a.len(),
            b.len()
        );
        std::thread::sleep(Duration::from_millis(250));
    };
    let started = Instant::now();
    let before = cpu_ticks(obelus.0.id());
    let talking = |legs: Vec<SocketAddr>| legs.into_iter().map(|l| (l, Voice::Talking)).collect();
    let mut banks = [
        PhoneBank::start(phone_a, talking(legs_a)),
        PhoneBank::start(phone_b, talking(legs_b)),
    ];
    std::thread::sleep(Duration::from_secs(seconds));
    banks.iter_mut().for_each(PhoneBank::stop_sending);
    let (window, used) = (
        started.elapsed().as_secs_f64(),
        cpu_ticks(obelus.0.id()).saturating_sub(before) as f64 / TICKS_PER_SECOND,
    );
    // Packets still queued in Obelus or in flight arrive late rather than
    // never: wait until the counts stop moving (at most 5 s), and report
    // how long that took (the relay's backlog when the senders stopped).
    let counts = |banks: &[PhoneBank; 2]| {
        banks
            .iter()
            .map(PhoneBank::counts)
            .fold((0, 0), |(s, r), (a, b)| (s + a, r + b))
    };
    let stopped = Instant::now();
    let mut last = counts(&banks);
    let drained = loop {
        std::thread::sleep(Duration::from_millis(100));
        let now = counts(&banks);
        if now == last || stopped.elapsed() > Duration::from_secs(5) {
            break stopped.elapsed().saturating_sub(Duration::from_millis(100));
        }
        last = now;
    };
    let (sent, received) = last;
    let loss = 100.0 * (sent.saturating_sub(received)) as f64 / sent.max(1) as f64;
    println!(
        "{:>6} {:>10} {:>10} {:>7.2}% {:>14.3} {:>12.2} {:>10}",
        calls,
        sent,
        received,
        loss,
        used * 1000.0 / (calls as f64 * window),
        used * 1e6 / received.max(1) as f64,
        drained.as_millis()
    );
}

fn main() {
    if Command::new("sipp")
        .arg("-v")
        .stdout(Stdio::null())
        .status()
        .is_err()
    {
        eprintln!("rtp_load: sipp is not installed (apt-get install sip-tester); skipped");
        return;
    }
    let steps: Vec<usize> = std::env::var("RTP_LOAD_CALLS")
        .unwrap_or_else(|_| "100,500,1000".to_owned())
        .split(',')
        .filter_map(|c| c.trim().parse().ok())
        .collect();
    let seconds = std::env::var("RTP_LOAD_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    println!("rtp_load: {seconds} s of PCMU both ways per call, steps {steps:?}");
    println!(
        "{:>6} {:>10} {:>10} {:>8} {:>14} {:>12} {:>10}",
        "calls", "sent", "received", "loss", "ms CPU/call-s", "µs/packet", "drain ms"
    );
    for calls in steps {
        step(calls, seconds);
    }
}
