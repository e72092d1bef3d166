//! ARI REST latency at a paced 1,000 requests/s (`GET /ari/asterisk/ping`
//! over four keep-alive connections with Basic auth) against the real
//! `obelus` binary, beside the same client against a minimal HTTP/1.1
//! responder in this process (the reference: what the client and loopback
//! cost by themselves). Reported: p50, p99 and max latency of each, and the
//! ratio of Obelus's p50 and p99 to the reference's.
//!
//! Run: `cargo bench -p obelus --bench ari_load`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

#[path = "common/mod.rs"]
#[allow(dead_code)] // each load bench uses a part of the shared helpers
mod common;

use common::{Guard, free_port, start_obelus, tcp_listening};

const CONNECTIONS: usize = 4;
const RATE_PER_CONNECTION: u64 = 250;
const SECONDS: u64 = 5;

fn start(dir: &std::path::Path, http: u16) -> Guard {
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
        ("pjsip.conf", String::new()),
        ("sorcery.conf", String::new()),
        ("extconfig.conf", String::new()),
    ];
    start_obelus(dir, &files, tcp_listening(http))
}

/// The reference: answers every request on a connection with a fixed
/// small JSON body, one thread per connection.
fn reference_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut writer = stream;
                let body = "{\"asterisk_id\":\"00:00:00:00:00:00\",\"ping\":\"pong\",\"timestamp\":\"2026-11-23T20:00:00.000+0000\"}";
                loop {
                    let mut line = String::new();
                    loop {
                        line.clear();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        if line == "\r\n" {
                            break;
                        }
                    }
                    let response = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    if writer.write_all(response.as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    port
}

/// Reads one response (headers and a content-length body).
fn read_response(reader: &mut BufReader<TcpStream>) -> bool {
    let mut length = 0usize;
    let mut line = String::new();
    let mut ok = false;
    loop {
        line.clear();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return false;
        }
        if line.starts_with("HTTP/1.1 200") {
            ok = true;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
        if line == "\r\n" {
            break;
        }
    }
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body).is_ok() && ok
}

/// Paced requests from `CONNECTIONS` threads; every latency in µs.
fn run(port: u16) -> Vec<u64> {
    let threads: Vec<_> = (0..CONNECTIONS)
        .map(|_| {
            std::thread::spawn(move || {
                let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
                stream.set_nodelay(true).unwrap();
                let mut writer = stream.try_clone().unwrap();
                let mut reader = BufReader::new(stream);
                let request = format!(
                    "GET /ari/asterisk/ping HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Basic YmVuY2g6YmVuY2g=\r\n\r\n"
                );
                let interval = Duration::from_micros(1_000_000 / RATE_PER_CONNECTION);
                let started = Instant::now();
                let mut next = started;
                let mut latencies = Vec::new();
                while started.elapsed() < Duration::from_secs(SECONDS) {
                    let now = Instant::now();
                    if now < next {
                        std::thread::sleep(next - now);
                    }
                    let sent = Instant::now();
                    writer.write_all(request.as_bytes()).unwrap();
                    assert!(read_response(&mut reader), "request failed");
                    latencies.push(u64::try_from(sent.elapsed().as_micros()).unwrap_or(u64::MAX));
                    next += interval;
                }
                latencies
            })
        })
        .collect();
    let mut all: Vec<u64> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    all.sort_unstable();
    all
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).copied().unwrap_or(0)
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let http = free_port();
    let _obelus = start(dir.path(), http);
    let reference = reference_server();
    // Warm both up (connections, caches) before measuring.
    let _ = run(reference);
    println!(
        "ari_load: GET /ari/asterisk/ping, {} req/s over {CONNECTIONS} connections, {SECONDS} s",
        RATE_PER_CONNECTION * CONNECTIONS as u64
    );
    println!(
        "{:<28} {:>9} {:>9} {:>9} {:>9}",
        "server", "requests", "p50 µs", "p99 µs", "max µs"
    );
    let base = run(reference);
    let ours = run(http);
    for (name, l) in [("reference (minimal HTTP)", &base), ("obelus ARI", &ours)] {
        println!(
            "{name:<28} {:>9} {:>9} {:>9} {:>9}",
            l.len(),
            percentile(l, 0.5),
            percentile(l, 0.99),
            l.last().copied().unwrap_or(0)
        );
    }
    println!(
        "ratio obelus/reference: p50 {:.2}x, p99 {:.2}x",
        percentile(&ours, 0.5) as f64 / percentile(&base, 0.5).max(1) as f64,
        percentile(&ours, 0.99) as f64 / percentile(&base, 0.99).max(1) as f64
    );
}
