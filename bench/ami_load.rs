//! AMI load: Ping actions/s with N clients, and event fan-out to 50 clients,
//! against the real `obelus` binary.
//!
//! Figures are relative, never bare times: Ping throughput is compared with a
//! minimal AMI-framing echo server run in this process in the same run, and
//! fan-out is reported as events delivered per CPU-second of the daemon
//! (from /proc), i.e. CPU per unit of work.
//!
//! Run: `cargo bench -p obelus --bench ami_load`

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Instant;

#[path = "common/mod.rs"]
#[allow(dead_code)] // each load bench uses a part of the shared helpers
mod common;

use common::{Guard, TICKS_PER_SECOND, cpu_ticks, free_port, start_obelus, tcp_listening};

const PINGS_PER_CLIENT: usize = 20_000;
const FANOUT_CLIENTS: usize = 50;
const FANOUT_EVENTS: usize = 20_000;

fn start(dir: &std::path::Path, port: u16) -> Guard {
    let files = [(
        "manager.conf",
        format!(
            "[general]\nenabled=yes\nport={port}\nbindaddr=127.0.0.1\ndisplayconnects=no\n[bench]\nsecret=bench\nread=all\nwrite=all\nwritetimeout=10000\n"
        ),
    )];
    start_obelus(dir, &files, tcp_listening(port))
}

/// Reads messages until `n` responses (or events) matching `needle` arrived.
fn count(reader: &mut BufReader<TcpStream>, needle: &str, n: usize) {
    let mut seen = 0;
    let mut line = String::new();
    while seen < n {
        line.clear();
        if reader.read_line(&mut line).unwrap() == 0 {
            panic!("connection closed after {seen} of {n}");
        }
        if line.starts_with(needle) {
            seen += 1;
        }
    }
}

fn login(port: u16, events: &str) -> (TcpStream, BufReader<TcpStream>) {
    let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_nodelay(true).unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut banner = String::new();
    reader.read_line(&mut banner).unwrap();
    let mut writer = stream;
    writer
        .write_all(
            format!(
                "Action: Login\r\nUsername: bench\r\nSecret: bench\r\nEvents: {events}\r\n\r\n"
            )
            .as_bytes(),
        )
        .unwrap();
    count(&mut reader, "Message: Authentication accepted", 1);
    (writer, reader)
}

/// Pipelined Pings from `clients` connections; returns Pings per second.
fn ping_rate(port: u16, clients: usize, with_login: bool) -> f64 {
    let start = Instant::now();
    let handles: Vec<_> = (0..clients)
        .map(|_| {
            std::thread::spawn(move || {
                let (mut writer, mut reader) = if with_login {
                    login(port, "off")
                } else {
                    let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
                    (s.try_clone().unwrap(), BufReader::new(s))
                };
                let batch = "Action: Ping\r\nActionID: x\r\n\r\n".repeat(PINGS_PER_CLIENT);
                let sender =
                    std::thread::spawn(move || writer.write_all(batch.as_bytes()).unwrap());
                count(&mut reader, "Ping: Pong", PINGS_PER_CLIENT);
                sender.join().unwrap();
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    (clients * PINGS_PER_CLIENT) as f64 / start.elapsed().as_secs_f64()
}

/// The reference: the least an AMI server can do per Ping (read a framed
/// message, write a fixed response), one thread per connection.
fn baseline_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let _ = stream.set_nodelay(true);
                let mut writer = std::io::BufWriter::new(stream.try_clone().unwrap());
                let mut reader = BufReader::new(stream);
                let mut line = String::new();
                loop {
                    line.clear();
                    match reader.read_line(&mut line) {
                        Ok(0) | Err(_) => return,
                        Ok(_) if line == "\r\n" => {
                            let _ = writer.write_all(
                                b"Response: Success\r\nActionID: x\r\nPing: Pong\r\n\r\n",
                            );
                            if reader.buffer().is_empty() {
                                let _ = writer.flush();
                            }
                        }
                        Ok(_) => {}
                    }
                }
            });
        }
    });
    port
}

fn fanout(port: u16, daemon: &Guard) -> (f64, f64) {
    let watchers: Vec<_> = (0..FANOUT_CLIENTS).map(|_| login(port, "user")).collect();
    let (mut sender, mut sender_reader) = login(port, "off");
    let ticks_before = cpu_ticks(daemon.0.id());
    let start = Instant::now();
    let handles: Vec<_> = watchers
        .into_iter()
        .map(|(_w, mut r)| {
            std::thread::spawn(move || count(&mut r, "Event: UserEvent", FANOUT_EVENTS))
        })
        .collect();
    let batch =
        "Action: UserEvent\r\nUserEvent: Bench\r\nValue: 12345\r\n\r\n".repeat(FANOUT_EVENTS);
    sender.write_all(batch.as_bytes()).unwrap();
    count(&mut sender_reader, "Message: Event Sent", FANOUT_EVENTS);
    for h in handles {
        h.join().unwrap();
    }
    let elapsed = start.elapsed().as_secs_f64();
    let ticks = cpu_ticks(daemon.0.id()).saturating_sub(ticks_before).max(1);
    let cpu_seconds = ticks as f64 / TICKS_PER_SECOND;
    let delivered = (FANOUT_EVENTS * FANOUT_CLIENTS) as f64;
    let mut drain = Vec::new();
    let _ = sender_reader.get_mut().set_nonblocking(true);
    let _ = sender_reader.read_to_end(&mut drain);
    (delivered / elapsed, delivered / cpu_seconds)
}

fn main() {
    // `cargo test --benches` runs benches with --bench absent: do nothing heavy then.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let daemon = start(dir.path(), port);
    let base = baseline_server();
    println!("AMI load (obelus vs a minimal framing echo server, same run)");
    for clients in [1, 10] {
        let reference = ping_rate(base, clients, false);
        let obelus = ping_rate(port, clients, true);
        println!(
            "  Ping, {clients:>2} client(s): obelus {obelus:>10.0} actions/s, baseline {reference:>10.0} actions/s, ratio {:.2}",
            obelus / reference
        );
    }
    let (wall, per_cpu) = fanout(port, &daemon);
    println!(
        "  Fan-out to {FANOUT_CLIENTS} clients: {wall:>10.0} events/s delivered, {per_cpu:>10.0} events delivered per daemon CPU-second"
    );
}
