//! Trunks: endpoint identification by source address (`type=identify`,
//! `match=`) takes a trunk's calls without a challenge from its network and
//! challenges them from elsewhere; a transport's external addresses are
//! advertised to peers outside its `local_net`.

use std::process::{Command, Stdio};

use crate::common::{ConfDir, free_port};

fn pjsip_conf(port: u16, network: &str) -> String {
    format!(
        "[transport-udp]\ntype=transport\nprotocol=udp\nbind=127.0.0.1:{port}\n\n\
         [trunk]\ntype=endpoint\ncontext=from-trunk\ndisallow=all\nallow=ulaw\n\n\
         [trunk]\ntype=identify\nendpoint=trunk\nmatch={network}\n"
    )
}

/// sipp's built-in `uac` call (INVITE, 200, ACK, BYE) from `sipp@127.0.0.1`.
fn uac_call(port: u16) -> bool {
    let dir = tempfile::tempdir().unwrap();
    Command::new("sipp")
        .current_dir(dir.path())
        .arg(format!("127.0.0.1:{port}"))
        .args([
            "-sn",
            "uac",
            "-s",
            "700",
            "-i",
            "127.0.0.1",
            "-p",
            &free_port().to_string(),
        ])
        .args(["-m", "1", "-d", "500", "-timeout", "15s", "-nostdin"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("sipp")
        .success()
}

#[test]
fn a_trunk_is_identified_by_its_source_address() {
    let port = free_port();
    let conf = ConfDir::new();
    conf.write("pjsip.conf", &pjsip_conf(port, "127.0.0.0/8"));
    conf.write(
        "extensions.conf",
        "[from-trunk]\nexten => 700,1,Answer()\n same => n,Wait(10)\n",
    );
    let start = 23000 + (std::process::id() % 100) as u16 * 100;
    conf.write(
        "rtp.conf",
        &format!("[general]\nrtpstart={start}\nrtpend={}\n", start + 98),
    );
    let _daemon = conf.start_foreground();
    assert!(
        uac_call(port),
        "a call from the trunk's network was not taken"
    );
    let (_, out, _) = conf.rx("pjsip show identifies");
    assert!(out.contains("trunk"), "{out}");
    assert!(out.contains("127.0.0.0/8"), "{out}");
}

#[test]
fn outside_the_trunks_network_a_call_is_challenged() {
    let port = free_port();
    let conf = ConfDir::new();
    conf.write("pjsip.conf", &pjsip_conf(port, "192.0.2.0/24"));
    conf.write(
        "extensions.conf",
        "[from-trunk]\nexten => 700,1,Answer()\n same => n,Wait(10)\n",
    );
    let _daemon = conf.start_foreground();
    assert!(!uac_call(port), "an unidentified call went through");
}

/// The 200 OK Obelus answers an INVITE with, sent from a raw socket.
fn answer_to_invite(port: u16) -> String {
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let local = socket.local_addr().unwrap();
    let sdp = format!(
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio {} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n",
        local.port() + 1
    );
    let invite = format!(
        "INVITE sip:700@127.0.0.1:{port} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bKnat1\r\nMax-Forwards: 70\r\nFrom: <sip:carrier@127.0.0.1>;tag=n1\r\nTo: <sip:700@127.0.0.1>\r\nCall-ID: nat-test@{local}\r\nCSeq: 1 INVITE\r\nContact: <sip:carrier@{local}>\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{sdp}",
        sdp.len()
    );
    socket
        .send_to(invite.as_bytes(), ("127.0.0.1", port))
        .unwrap();
    let mut buf = [0u8; 8192];
    loop {
        let (n, _) = socket.recv_from(&mut buf).unwrap();
        let text = String::from_utf8_lossy(&buf[..n]).into_owned();
        if text.starts_with("SIP/2.0 200") {
            return text;
        }
        assert!(text.starts_with("SIP/2.0 1"), "unexpected answer:\n{text}");
    }
}

/// A transport's external addresses are advertised to peers outside its
/// `local_net`, and the bound ones to peers inside it.
#[test]
fn external_addresses_are_advertised_outside_local_net() {
    for (local_net, expect_public) in [("10.0.0.0/8", true), ("127.0.0.0/8", false)] {
        let port = free_port();
        let conf = ConfDir::new();
        conf.write(
            "pjsip.conf",
            &format!(
                "[transport-udp]\ntype=transport\nprotocol=udp\nbind=127.0.0.1:{port}\n\
                 external_media_address=203.0.113.10\nexternal_signaling_address=203.0.113.10\n\
                 external_signaling_port=5999\nlocal_net={local_net}\n\n\
                 [trunk]\ntype=endpoint\ncontext=from-trunk\ndisallow=all\nallow=ulaw\n\n\
                 [trunk]\ntype=identify\nendpoint=trunk\nmatch=127.0.0.0/8\n"
            ),
        );
        conf.write(
            "extensions.conf",
            "[from-trunk]\nexten => 700,1,Answer()\n same => n,Wait(10)\n",
        );
        let start = 24000 + (std::process::id() % 100) as u16 * 100;
        conf.write(
            "rtp.conf",
            &format!("[general]\nrtpstart={start}\nrtpend={}\n", start + 98),
        );
        let _daemon = conf.start_foreground();
        let ok = answer_to_invite(port);
        if expect_public {
            assert!(ok.contains("c=IN IP4 203.0.113.10\r\n"), "{ok}");
            assert!(ok.contains("Contact: <sip:203.0.113.10:5999>"), "{ok}");
        } else {
            assert!(ok.contains("c=IN IP4 127.0.0.1\r\n"), "{ok}");
            assert!(
                ok.contains(&format!("Contact: <sip:127.0.0.1:{port}>")),
                "{ok}"
            );
        }
    }
}
