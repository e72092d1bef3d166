//! The HTTPS server (`http.conf`: `tlsenable`, `tlsbindaddr`, `tlscertfile`)
//! and what runs on it: SIP over secure WebSocket (`protocol=wss`) and ARI
//! (REST over https://, events over wss://), reached by clients that trust
//! a certificate made for the test; and a certificate that cannot be read,
//! which is a configuration error naming the file.

use std::io::{Read, Write};
use std::net::{TcpStream, UdpSocket};
use std::sync::Arc;
use std::time::Duration;

use rcgen::{CertifiedKey, KeyPair};
use rustls::{ClientConnection, StreamOwned};
use tungstenite::client::IntoClientRequest;

use crate::common::ari::{enable_ari, next_json, wait_for_app};
use crate::common::{AmiSession, ConfDir, enable_ami, free_port};
use crate::sip_register::contacts;
use crate::sip_streams::{
    header, messages, originate_response, pbx, phone, respond, wait_idle, wait_log, ws_read,
    ws_register,
};

/// A TLS connection to the test's server.
type Tls = StreamOwned<ClientConnection, TcpStream>;

/// HTTP as [`enable_ari`] sets it up, plus HTTPS on a free port of
/// 127.0.0.1 with a certificate made now for `localhost` (its key in a file
/// of its own); returns the HTTP and HTTPS ports and the certificate.
fn enable_https(conf: &ConfDir) -> (u16, u16, CertifiedKey<KeyPair>) {
    let http = enable_ari(conf);
    let https = free_port();
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])
            .expect("test certificate");
    conf.write("web-cert.pem", &certified.cert.pem());
    conf.write("web-key.pem", &certified.signing_key.serialize_pem());
    conf.write(
        "http.conf",
        &format!(
            "[general]\nenabled=yes\nbindaddr=127.0.0.1\nbindport={http}\n\
             tlsenable=yes\ntlsbindaddr=127.0.0.1:{https}\n\
             tlscertfile=web-cert.pem\ntlsprivatekey=web-key.pem\n"
        ),
    );
    (http, https, certified)
}

/// A TLS connection to `port` that trusts only `certificate`, checked for
/// the name `localhost`.
fn connect(certificate: &CertifiedKey<KeyPair>, port: u16) -> Tls {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(certificate.cert.der().clone()).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connection =
        ClientConnection::new(Arc::new(config), "localhost".try_into().unwrap()).unwrap();
    let tcp = TcpStream::connect(("127.0.0.1", port)).expect("connect to HTTPS");
    tcp.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    StreamOwned::new(connection, tcp)
}

/// A secure WebSocket to `path` on `port`, asking for `protocol` if any.
fn wss(
    certificate: &CertifiedKey<KeyPair>,
    port: u16,
    path: &str,
    protocol: Option<&str>,
) -> tungstenite::WebSocket<Tls> {
    let mut request = format!("wss://localhost:{port}{path}")
        .into_client_request()
        .unwrap();
    if let Some(p) = protocol {
        request
            .headers_mut()
            .insert("Sec-WebSocket-Protocol", p.parse().unwrap());
    }
    let (ws, response) =
        tungstenite::client(request, connect(certificate, port)).expect("WebSocket upgrade");
    assert_eq!(response.status(), 101);
    ws
}

/// One request over HTTPS as `ari:s3cret` (unless `auth` is false):
/// (status, body).
fn https_request(
    certificate: &CertifiedKey<KeyPair>,
    port: u16,
    method: &str,
    path: &str,
    auth: bool,
) -> (u16, String) {
    let mut tls = connect(certificate, port);
    let authorization = if auth {
        "Authorization: Basic YXJpOnMzY3JldA==\r\n"
    } else {
        ""
    };
    write!(
        tls,
        "{method} {path} HTTP/1.1\r\nHost: localhost:{port}\r\n{authorization}\
         Connection: close\r\nContent-Length: 0\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    // A peer that closes without close_notify ends the read with an
    // error; what arrived before is the answer.
    let _ = tls.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP answer: {text}"));
    let body = text
        .split_once("\r\n\r\n")
        .map_or(String::new(), |(_, b)| b.to_owned());
    (status, body)
}

/// A phone registers over secure WebSocket and gets a call down its
/// socket (Via WSS, our Contact `transport=ws` as RFC 7118 §5.2 has it);
/// over plain HTTP, with no `protocol=ws` transport, `/ws` is refused.
/// When its socket drops in the middle of a second call, the contact goes
/// and the hangup ends the call here: a WebSocket peer cannot be reached
/// any other way.
#[test]
fn a_secure_websocket_phone_registers_and_gets_calls() {
    let (conf, _) = pbx(
        1,
        &format!(
            "[transport-wss]\ntype=transport\nprotocol=wss\n\n{}",
            phone("103", "", "")
        ),
    );
    let (http, https, certificate) = enable_https(&conf);
    let ami_port = enable_ami(&conf, "call");
    let _daemon = conf.start_foreground();
    let (_, status, _) = conf.rx("http show status");
    assert!(
        status.contains(&format!(
            "HTTPS Server Enabled and Bound to 127.0.0.1:{https}"
        )),
        "{status}"
    );

    let mut plain = format!("ws://127.0.0.1:{http}/ws")
        .into_client_request()
        .unwrap();
    plain
        .headers_mut()
        .insert("Sec-WebSocket-Protocol", "sip".parse().unwrap());
    let tcp = TcpStream::connect(("127.0.0.1", http)).unwrap();
    match tungstenite::client(plain, tcp) {
        Err(tungstenite::HandshakeError::Failure(tungstenite::Error::Http(response))) => {
            assert_eq!(response.status(), 404);
            let body = String::from_utf8_lossy(response.body().as_deref().unwrap_or_default())
                .into_owned();
            assert!(body.contains("protocol=ws"), "{body}");
        }
        other => panic!("plain /ws was not refused: {:?}", other.map(|(_, r)| r)),
    }

    let mut ws = wss(&certificate, https, "/ws", Some("sip"));
    ws_register(&mut ws, "103", "WSS");
    let contact = "sip:103@df7jal23ls0d.invalid;transport=ws";
    assert!(
        contacts(&conf).contains(&format!("103/{contact}")),
        "{}",
        contacts(&conf)
    );

    let mut ami = AmiSession::login(ami_port);
    ami.send(
        "Action: Originate\r\nActionID: o1\r\nChannel: PJSIP/103\r\n\
         Application: Wait\r\nData: 1\r\nAsync: true",
    );
    let invite = ws_read(&mut ws);
    assert!(
        invite.starts_with(&format!("INVITE {contact} SIP/2.0\r\n")),
        "{invite}"
    );
    assert!(
        header(&invite, "Via").is_some_and(|v| v.starts_with("SIP/2.0/WSS ")),
        "{invite}"
    );
    assert!(
        header(&invite, "Contact").is_some_and(|c| c.ends_with(";transport=ws>")),
        "{invite}"
    );
    let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = rtp.local_addr().unwrap().port();
    let answer = respond(&invite, "200 OK", Some("wssanswer"), Some(port));
    ws.send(tungstenite::Message::text(answer)).unwrap();
    assert!(ws_read(&mut ws).starts_with("ACK "));
    let bye = ws_read(&mut ws);
    assert!(bye.starts_with("BYE "), "{bye}");
    ws.send(tungstenite::Message::text(respond(
        &bye, "200 OK", None, None,
    )))
    .unwrap();
    let outcome = originate_response(&mut ami);
    assert!(outcome.contains("Response: Success"), "{outcome}");

    ami.send(
        "Action: Originate\r\nActionID: o2\r\nChannel: PJSIP/103\r\n\
         Application: Wait\r\nData: 60\r\nAsync: true",
    );
    let invite = ws_read(&mut ws);
    let answer = respond(&invite, "200 OK", Some("wssagain"), Some(port));
    ws.send(tungstenite::Message::text(answer)).unwrap();
    assert!(ws_read(&mut ws).starts_with("ACK "));
    let outcome = originate_response(&mut ami);
    assert!(outcome.contains("Response: Success"), "{outcome}");
    drop(ws);
    wait_log(
        &conf,
        &format!("Removed contact '{contact}' from AOR '103' due to shutdown"),
    );
    ami.send("Action: Hangup\r\nActionID: h1\r\nChannel: /^PJSIP\\/103-/");
    let hung = ami.response("h1");
    assert!(hung.contains("Response: Success"), "{hung}");
    let log = wait_log(&conf, "BYE not sent: the connection to the peer closed");
    assert!(log.contains("the call ends here"), "{log}");
    wait_idle(&conf);
}

/// ARI over HTTPS: REST (refused without credentials, as over HTTP) and
/// the events WebSocket over wss://, which gets what the application is
/// sent.
#[test]
fn ari_answers_over_https_and_sends_events_over_wss() {
    let conf = ConfDir::new();
    let (_, https, certificate) = enable_https(&conf);
    let _daemon = conf.start_foreground();

    let (status, body) = https_request(&certificate, https, "GET", "/ari/asterisk/info", true);
    assert_eq!(status, 200, "{body}");
    let info: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert!(info["system"].is_object(), "{info}");
    let (status, _) = https_request(&certificate, https, "GET", "/ari/asterisk/info", false);
    assert_eq!(status, 401);

    let mut events = wss(
        &certificate,
        https,
        "/ari/events?app=secure&api_key=ari:s3cret",
        None,
    );
    wait_for_app(&conf, "secure");
    events
        .get_ref()
        .get_ref()
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let (status, body) = https_request(
        &certificate,
        https,
        "POST",
        "/ari/events/user/ping?application=secure",
        true,
    );
    assert_eq!(status, 204, "{body}");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        assert!(std::time::Instant::now() < deadline, "no ChannelUserevent");
        if let Some(event) = next_json(&mut events)
            && event["type"] == "ChannelUserevent"
        {
            assert_eq!(event["eventname"], "ping", "{event}");
            break;
        }
    }
}

/// `tlsenable` with a certificate that is not there: `config check`
/// names the file and the line, and the running server says why HTTPS is
/// off while plain HTTP goes on.
#[test]
fn a_missing_certificate_is_named_and_leaves_http_running() {
    let conf = ConfDir::new();
    let http = enable_ari(&conf);
    let https = free_port();
    conf.write(
        "http.conf",
        &format!(
            "[general]\nenabled=yes\nbindaddr=127.0.0.1\nbindport={http}\n\
             tlsenable=yes\ntlsbindaddr=127.0.0.1:{https}\ntlscertfile=missing.pem\n"
        ),
    );
    let out = conf.run(&["config", "check"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("http.conf:7: option 'tlscertfile'") && stdout.contains("missing.pem"),
        "{stdout}"
    );

    let _daemon = conf.start_foreground();
    let log = wait_log(&conf, "HTTPS server not started");
    assert!(log.contains("missing.pem"), "{log}");
    let (code, body) = crate::common::ari::call(http, "GET", "/ari/asterisk/info", None);
    assert_eq!(code, 200, "{body}");
    assert!(
        TcpStream::connect(("127.0.0.1", https)).is_err(),
        "{}",
        messages(&conf)
    );
}
