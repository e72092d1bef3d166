//! RFC 4475's torture messages sent over the wire to the real daemon, over
//! UDP and over TCP. The parser's verdict on each is checked by the unit
//! tests of `crates/sip`; here the point is the server: none of them may
//! crash it, hang it or get it to answer with an internal error, and it
//! keeps answering OPTIONS after every one.

use std::io::{Read, Write};
use std::net::{TcpStream, UdpSocket};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::common::{ConfDir, free_port};

fn torture_messages() -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../sip/tests/data/rfc4475");
    let mut messages: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.expect("dir entry").path();
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).expect("read"))
        })
        .collect();
    messages.sort();
    assert!(
        messages.len() >= 40,
        "the RFC has 49 messages: {}",
        messages.len()
    );
    messages
}

fn pjsip_conf(port: u16) -> String {
    format!(
        "[transport-udp]\ntype=transport\nprotocol=udp\nbind=127.0.0.1:{port}\n\n\
[transport-tcp]\ntype=transport\nprotocol=tcp\nbind=127.0.0.1:{port}\n\n\
[101]\ntype=endpoint\ncontext=default\nauth=101-auth\naors=101\n\n\
[101-auth]\ntype=auth\nauth_type=userpass\nusername=101\npassword=101\n\n\
[101]\ntype=aor\nmax_contacts=1\n"
    )
}

/// An OPTIONS probe with rport, so that the answer comes back to `local`.
fn probe(port: u16, local: u16, n: usize) -> String {
    format!(
        "OPTIONS sip:127.0.0.1:{port} SIP/2.0\r\n\
Via: SIP/2.0/UDP 127.0.0.1:{local};rport;branch=z9hG4bK-probe{n}\r\n\
From: <sip:probe@127.0.0.1>;tag=p{n}\r\nTo: <sip:127.0.0.1>\r\n\
Call-ID: torture-probe-{n}\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n\
Content-Length: 0\r\n\r\n"
    )
}

/// Sends probes until the 200 for this one arrives; every datagram seen on
/// the way (answers to the torture message itself) is returned too.
fn alive(socket: &UdpSocket, port: u16, n: usize) -> Vec<String> {
    let local = socket.local_addr().expect("local").port();
    let branch = format!("branch=z9hG4bK-probe{n}");
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut seen = Vec::new();
    socket
        .send_to(probe(port, local, n).as_bytes(), ("127.0.0.1", port))
        .expect("send probe");
    let mut buf = vec![0u8; 65536];
    while Instant::now() < deadline {
        let Ok(len) = socket.recv(&mut buf) else {
            // Lost or not answered yet: ask again (the branch is the same,
            // so the server sees a retransmission).
            socket
                .send_to(probe(port, local, n).as_bytes(), ("127.0.0.1", port))
                .expect("send probe");
            continue;
        };
        let text = String::from_utf8_lossy(&buf[..len]).into_owned();
        if text.starts_with("SIP/2.0 200 ") && text.contains(&branch) {
            return seen;
        }
        seen.push(text);
    }
    panic!("the server stopped answering OPTIONS after torture message {n}");
}

fn status_line(text: &str) -> &str {
    text.lines().next().unwrap_or("")
}

#[test]
fn rfc4475_torture_over_udp_and_tcp_never_hurts_the_server() {
    let port = free_port();
    let conf = ConfDir::new();
    conf.write("pjsip.conf", &pjsip_conf(port));
    let daemon = conf.start_foreground();
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind");
    socket
        .set_read_timeout(Some(Duration::from_millis(500)))
        .expect("timeout");
    let messages = torture_messages();
    let mut probes = 0;
    let mut answers = Vec::new();

    for (name, bytes) in &messages {
        socket
            .send_to(bytes, ("127.0.0.1", port))
            .unwrap_or_else(|e| panic!("udp {name}: {e}"));
        probes += 1;
        for reply in alive(&socket, port, probes) {
            answers.push((format!("udp {name}"), reply));
        }
    }

    for (name, bytes) in &messages {
        let mut stream = TcpStream::connect(("127.0.0.1", port))
            .unwrap_or_else(|e| panic!("tcp connect for {name}: {e}"));
        stream
            .set_read_timeout(Some(Duration::from_millis(300)))
            .expect("timeout");
        // The server may close the connection on a framing error before all
        // of it is written; that is an answer too.
        let _ = stream.write_all(bytes);
        let mut reply = Vec::new();
        let _ = stream.read_to_end(&mut reply);
        if !reply.is_empty() {
            answers.push((
                format!("tcp {name}"),
                String::from_utf8_lossy(&reply).into_owned(),
            ));
        }
        probes += 1;
        alive(&socket, port, probes);
    }

    for (what, reply) in &answers {
        let status = status_line(reply);
        assert!(
            !status.starts_with("SIP/2.0 500"),
            "{what} got an internal error: {reply}"
        );
    }
    // Over TCP an answer belongs to the message on its connection: the
    // invalid ones get the response the RFC expects a server to send.
    let expected = [
        ("badvers", "505"),
        ("unkscm", "416"),
        ("novelsc", "416"),
        ("mismatch01", "400"),
        ("mismatch02", "400"),
        ("ncl", "400"),
        ("badinv01", "400"),
        ("quotbal", "400"),
        ("ltgtruri", "400"),
        ("lwsstart", "400"),
        ("multi01", "400"),
    ];
    for (name, code) in expected {
        let what = format!("tcp {name}");
        let reply = answers
            .iter()
            .find(|(w, _)| *w == what)
            .map(|(_, r)| r.as_str())
            .unwrap_or_else(|| panic!("no answer to {what}"));
        assert!(
            status_line(reply).starts_with(&format!("SIP/2.0 {code} ")),
            "{what}: expected {code}, got {}",
            status_line(reply)
        );
    }
    // Still the same process, still up.
    assert!(
        std::path::Path::new(&format!("/proc/{}", daemon.pid())).exists(),
        "the daemon died"
    );
    assert!(
        answers.iter().any(|(what, _)| what.starts_with("tcp ")),
        "no torture message got an answer over TCP: {answers:?}"
    );
}
