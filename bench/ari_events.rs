//! Events per second to one ARI WebSocket: the real `obelus` binary runs
//! `ARI_EVENTS_CHANNELS` Local channels through a dialplan loop that sets a
//! variable `ARI_EVENTS_PER_CHANNEL` times (each `Set` is a ChannelVarset,
//! each priority a ChannelDialplan event), pausing `ARI_EVENTS_PACE_MS`
//! per turn, and one client subscribed with `subscribeAll=true` reads every
//! event. The pace keeps the offered load steady: an unpaced loop bursts
//! faster than any socket drains, and the server then drops the client
//! once its queue (1,024 events) is full, as Asterisk drops a socket whose
//! writes time out. Beside it, in the same run, a
//! minimal WebSocket server in this process pushes the same number of
//! messages of the same mean size to the same kind of client (the
//! reference: what the client and loopback cost by themselves).
//!
//! Reported: events received, events/s on the socket, Obelus's CPU per
//! event (utime+stime over the burst), and the ratio of its rate to the
//! reference's.
//!
//! Run: `cargo bench -p obelus --bench ari_events`.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

#[path = "common/mod.rs"]
#[allow(dead_code)] // each load bench uses a part of the shared helpers
mod common;

use common::{Guard, TICKS_PER_SECOND, cpu_ticks, free_port, start_obelus, tcp_listening};
use tungstenite::{Message, WebSocket};

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn start(dir: &std::path::Path, http: u16, per_channel: u64, pace_ms: u64) -> Guard {
    let pause = if pace_ms > 0 {
        format!(" same => n,Wait({})\n", pace_ms as f64 / 1000.0)
    } else {
        String::new()
    };
    let files = [
        (
            "modules.conf",
            "[modules]\nautoload=yes\nnoload => manager\n".to_owned(),
        ),
        (
            "http.conf",
            format!("[general]\nenabled=yes\nbindaddr=127.0.0.1\nbindport={http}\n"),
        ),
        (
            "ari.conf",
            "[general]\nenabled=yes\n[bench]\ntype=user\npassword=bench\n".to_owned(),
        ),
        (
            "extensions.conf",
            format!(
                "[burst]\nexten => s,1,Set(i=0)\n same => n(top),Set(i=$[${{i}} + 1])\n{pause} same => n,GotoIf($[${{i}} < {per_channel}]?top)\n same => n,Hangup()\n"
            ),
        ),
        ("pjsip.conf", String::new()),
        ("sorcery.conf", String::new()),
        ("extconfig.conf", String::new()),
    ];
    start_obelus(dir, &files, tcp_listening(http))
}

/// One HTTP request on a fresh connection; the status code.
fn request(port: u16, method: &str, path: &str) -> u16 {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Basic YmVuY2g6YmVuY2g=\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut reply = String::new();
    let _ = s.read_to_string(&mut reply);
    reply
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

/// Reads messages until `quiet` passes without one; count, bytes, and the
/// time from the first message to the last.
fn drain(ws: &mut WebSocket<TcpStream>, quiet: Duration) -> (u64, u64, Duration) {
    ws.get_mut().set_read_timeout(Some(quiet)).unwrap();
    let (mut count, mut bytes) = (0u64, 0u64);
    let (mut first, mut last) = (None, Instant::now());
    while let Ok(msg) = ws.read() {
        if let Message::Text(text) = msg {
            count += 1;
            bytes += text.len() as u64;
            last = Instant::now();
            first.get_or_insert(last);
        }
    }
    (count, bytes, last - first.unwrap_or(last))
}

/// The reference: a WebSocket server that sends `count` messages of `size`
/// bytes as fast as the connection takes them.
fn reference(count: u64, size: usize) -> (u64, Duration) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut ws = tungstenite::accept(stream).unwrap();
        let body = format!(
            "{{\"type\":\"ChannelVarset\",\"pad\":\"{}\"}}",
            "x".repeat(size.saturating_sub(32))
        );
        for _ in 0..count {
            ws.send(Message::text(body.clone())).unwrap();
        }
        ws.flush().unwrap();
        std::thread::sleep(Duration::from_secs(2));
    });
    let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let (mut ws, _) = tungstenite::client(format!("ws://127.0.0.1:{port}/"), stream).unwrap();
    let (received, _, elapsed) = drain(&mut ws, Duration::from_millis(500));
    let _ = server.join();
    (received, elapsed)
}

fn main() {
    let channels = env_num("ARI_EVENTS_CHANNELS", 40);
    let per_channel = env_num("ARI_EVENTS_PER_CHANNEL", 2_000);
    let pace_ms = env_num("ARI_EVENTS_PACE_MS", 2);
    let dir = tempfile::tempdir().unwrap();
    let http = free_port();
    let obelus = start(dir.path(), http, per_channel, pace_ms);

    let stream = TcpStream::connect(("127.0.0.1", http)).unwrap();
    let (mut ws, _) = tungstenite::client(
        format!("ws://127.0.0.1:{http}/ari/events?app=bench&subscribeAll=true&api_key=bench:bench"),
        stream,
    )
    .expect("ARI events WebSocket");

    let before = cpu_ticks(obelus.0.id());
    for n in 0..channels {
        let status = request(
            http,
            "POST",
            &format!("/ari/channels?endpoint=Local/s@burst&app=bench&channelId=burst-{n}"),
        );
        assert_eq!(status, 200, "originate of Local/s@burst refused");
    }
    let (events, bytes, elapsed) = drain(&mut ws, Duration::from_secs(2));
    let used = cpu_ticks(obelus.0.id()).saturating_sub(before) as f64 / TICKS_PER_SECOND;
    let rate = events as f64 / elapsed.as_secs_f64().max(1e-9);
    let mean = bytes.checked_div(events).unwrap_or(0) as usize;

    let (ref_events, ref_elapsed) = reference(events, mean);
    let ref_rate = ref_events as f64 / ref_elapsed.as_secs_f64().max(1e-9);

    println!(
        "ari_events: {channels} Local channels x {per_channel} Set() in a loop, {pace_ms} ms pause per turn, one subscribeAll WebSocket"
    );
    println!(
        "{:<22} {:>10} {:>12} {:>10} {:>14}",
        "server", "events", "events/s", "mean bytes", "µs CPU/event"
    );
    println!(
        "{:<22} {:>10} {:>12.0} {:>10} {:>14.2}",
        "reference (in-process)", ref_events, ref_rate, mean, "-"
    );
    println!(
        "{:<22} {:>10} {:>12.0} {:>10} {:>14.2}",
        "Obelus ARI",
        events,
        rate,
        mean,
        used * 1e6 / events.max(1) as f64
    );
    println!(
        "ratio Obelus/reference events/s: {:.2}",
        rate / ref_rate.max(1e-9)
    );
}
