//! `symmetric_transport`: a phone that registers over a transport with
//! the option on is reached back over that transport (Asterisk keeps its
//! name in the contact as `x-ast-txp`), never with the parameter on the
//! wire; a phone cannot choose the transport by writing the parameter
//! itself.

use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use crate::common::{AmiSession, ConfDir, enable_ami, free_port};
use crate::sip_register::contacts;
use crate::sip_streams::{header, phone, register_over, respond};

/// One datagram off `socket`, with its source.
fn receive(socket: &UdpSocket) -> (String, SocketAddr) {
    let mut buf = vec![0u8; 65_535];
    let (n, from) = socket.recv_from(&mut buf).expect("a SIP message");
    (String::from_utf8_lossy(&buf[..n]).into_owned(), from)
}

/// A UDP phone on 127.0.0.1 (reads time out, so a missing message fails
/// the test), and its port.
fn udp_phone() -> (UdpSocket, u16) {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let port = socket.local_addr().unwrap().port();
    (socket, port)
}

/// REGISTERs `user` from `socket` to the server's UDP port `to`, its
/// Contact `contact`.
fn register(socket: &UdpSocket, user: &str, to: u16, contact: &str) {
    register_over(user, "UDP", contact, |request| {
        socket
            .send_to(request.as_bytes(), ("127.0.0.1", to))
            .unwrap();
        receive(socket).0
    });
}

/// Two UDP transports, the second with `symmetric_transport=yes`. 102
/// registers over the second: its contact keeps the transport's name, and
/// Originate's INVITE to it leaves from that transport (where the first,
/// the default, would have sent it), with no `x-ast-txp` in it. 103
/// registers over the first with an `x-ast-txp` of its own: it is dropped,
/// and 103 is called from the default transport.
#[test]
fn a_contact_is_reached_over_the_transport_it_registered_on() {
    let conf = ConfDir::new();
    let (first, second) = (free_port(), free_port());
    conf.write(
        "pjsip.conf",
        &format!(
            "[transport-a]\ntype=transport\nprotocol=udp\nbind=127.0.0.1:{first}\n\n\
             [transport-b]\ntype=transport\nprotocol=udp\nbind=127.0.0.1:{second}\n\
             symmetric_transport=yes\n\n{}\n{}",
            phone("102", "", ""),
            phone("103", "", "")
        ),
    );
    let ami_port = enable_ami(&conf, "call");
    let _daemon = conf.start_foreground();

    let (p102, port102) = udp_phone();
    register(
        &p102,
        "102",
        second,
        &format!("sip:102@127.0.0.1:{port102}"),
    );
    let (p103, port103) = udp_phone();
    register(
        &p103,
        "103",
        first,
        &format!("sip:103@127.0.0.1:{port103};x-ast-txp=transport-b"),
    );
    let mut ami = AmiSession::login(ami_port);
    ami.send("Action: PJSIPShowContacts\r\nActionID: c1");
    let listed = ami.read_until("Event: ContactListComplete");
    assert!(
        listed.contains(&format!(
            "Uri: sip:102@127.0.0.1:{port102};x-ast-txp=transport-b\r\n"
        )),
        "{listed}"
    );
    assert!(
        listed.contains(&format!("Uri: sip:103@127.0.0.1:{port103}\r\n")),
        "{listed}"
    );
    // The console shows it too (cut to its column, as Asterisk's).
    assert!(
        contacts(&conf).contains(";x-ast-txp="),
        "{}",
        contacts(&conf)
    );

    for (user, socket, port, via) in [
        ("102", &p102, port102, second),
        ("103", &p103, port103, first),
    ] {
        ami.send(&format!(
            "Action: Originate\r\nActionID: o{user}\r\nChannel: PJSIP/{user}\r\n\
             Application: Wait\r\nData: 1\r\nAsync: true"
        ));
        let (invite, from) = receive(socket);
        assert!(
            invite.starts_with(&format!("INVITE sip:{user}@127.0.0.1:{port} SIP/2.0\r\n")),
            "{invite}"
        );
        assert_eq!(from.port(), via, "{invite}");
        assert!(
            header(&invite, "Via")
                .is_some_and(|v| v.starts_with(&format!("SIP/2.0/UDP 127.0.0.1:{via};"))),
            "{invite}"
        );
        assert!(!invite.to_ascii_lowercase().contains("x-ast"), "{invite}");
        socket
            .send_to(
                respond(&invite, "486 Busy Here", Some("busy"), None).as_bytes(),
                from,
            )
            .unwrap();
        // The ACK (a retransmitted INVITE first, if the answer crossed it).
        while !receive(socket).0.starts_with("ACK ") {}
        ami.read_until("Event: OriginateResponse");
        let outcome = ami.read_until("\r\n\r\n");
        assert!(outcome.contains("Response: Failure"), "{outcome}");
    }
}
