//! SIP over WebSocket (RFC 7118) on the HTTP server: a WebSocket client with
//! subprotocol `sip` sends OPTIONS, then a REGISTER answered with digest
//! credentials; the contact is registered.

use std::net::TcpStream;

use md5::{Digest, Md5};
use tungstenite::client::IntoClientRequest;

use crate::common::{ConfDir, free_port};
use crate::sip_register::contacts;

pub(crate) fn md5_hex(text: &str) -> String {
    Md5::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The value of `name="value"` (or `name=value`) in a challenge.
pub(crate) fn param(challenge: &str, name: &str) -> String {
    challenge
        .split(',')
        .filter_map(|p| p.trim().split_once('='))
        .find(|(k, _)| {
            k.trim()
                .trim_start_matches("Digest ")
                .eq_ignore_ascii_case(name)
        })
        .map(|(_, v)| v.trim().trim_matches('"').to_owned())
        .unwrap_or_default()
}

fn register(cseq: u32, branch: &str, authorization: Option<&str>) -> String {
    let auth = authorization
        .map(|a| format!("Authorization: {a}\r\n"))
        .unwrap_or_default();
    format!(
        "REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/WS df7jal23ls0d.invalid;branch={branch};rport\r\nMax-Forwards: 70\r\nFrom: <sip:101@127.0.0.1>;tag=wsphone\r\nTo: <sip:101@127.0.0.1>\r\nCall-ID: ws-register-1\r\nCSeq: {cseq} REGISTER\r\nContact: <sip:101@df7jal23ls0d.invalid;transport=ws>;expires=300\r\n{auth}Content-Length: 0\r\n\r\n"
    )
}

#[test]
fn sip_register_over_websocket() {
    let conf = ConfDir::new();
    let http_port = free_port();
    conf.write(
        "http.conf",
        &format!("[general]\nenabled=yes\nbindaddr=127.0.0.1\nbindport={http_port}\n"),
    );
    conf.write(
        "pjsip.conf",
        "[transport-ws]\ntype=transport\nprotocol=ws\n\n\
         [101]\ntype=endpoint\ncontext=default\nauth=101-auth\naors=101\n\n\
         [101-auth]\ntype=auth\nauth_type=userpass\nusername=101\npassword=101\n\n\
         [101]\ntype=aor\nmax_contacts=1\nremove_existing=yes\n",
    );
    let _daemon = conf.start_foreground();

    let mut request = format!("ws://127.0.0.1:{http_port}/ws")
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("Sec-WebSocket-Protocol", "sip".parse().unwrap());
    let stream = TcpStream::connect(("127.0.0.1", http_port)).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .unwrap();
    let (mut ws, response) = tungstenite::client(request, stream).expect("WebSocket upgrade");
    assert_eq!(
        response
            .headers()
            .get("sec-websocket-protocol")
            .and_then(|v| v.to_str().ok()),
        Some("sip")
    );
    let mut exchange = |text: String| -> String {
        ws.send(tungstenite::Message::text(text)).unwrap();
        loop {
            match ws.read().unwrap() {
                tungstenite::Message::Text(t) => return t.to_string(),
                tungstenite::Message::Binary(b) => return String::from_utf8_lossy(&b).into_owned(),
                _ => continue,
            }
        }
    };

    let options = exchange(
        "OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bKopt1\r\nMax-Forwards: 70\r\nFrom: <sip:101@127.0.0.1>;tag=o1\r\nTo: <sip:127.0.0.1>\r\nCall-ID: ws-options-1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n".to_owned(),
    );
    assert!(options.starts_with("SIP/2.0 200 OK\r\n"), "{options}");

    let challenge = exchange(register(1, "z9hG4bKreg1", None));
    assert!(
        challenge.starts_with("SIP/2.0 401 Unauthorized\r\n"),
        "{challenge}"
    );
    let www = challenge
        .lines()
        .find_map(|l| l.strip_prefix("WWW-Authenticate: "))
        .expect("a challenge")
        .to_owned();
    let (realm, nonce, qop) = (
        param(&www, "realm"),
        param(&www, "nonce"),
        param(&www, "qop"),
    );
    let ha1 = md5_hex(&format!("101:{realm}:101"));
    let ha2 = md5_hex("REGISTER:sip:127.0.0.1");
    let authorization = if qop.is_empty() {
        let response = md5_hex(&format!("{ha1}:{nonce}:{ha2}"));
        format!(
            "Digest username=\"101\", realm=\"{realm}\", nonce=\"{nonce}\", uri=\"sip:127.0.0.1\", response=\"{response}\", algorithm=MD5"
        )
    } else {
        let response = md5_hex(&format!("{ha1}:{nonce}:00000001:wscnonce:auth:{ha2}"));
        format!(
            "Digest username=\"101\", realm=\"{realm}\", nonce=\"{nonce}\", uri=\"sip:127.0.0.1\", response=\"{response}\", algorithm=MD5, qop=auth, nc=00000001, cnonce=\"wscnonce\""
        )
    };
    let ok = exchange(register(2, "z9hG4bKreg2", Some(&authorization)));
    assert!(ok.starts_with("SIP/2.0 200 OK\r\n"), "{ok}");
    assert!(ok.contains("transport=ws"), "{ok}");

    let listed = contacts(&conf);
    assert!(
        listed.contains("101/sip:101@df7jal23ls0d.invalid;transport=ws"),
        "{listed}"
    );
    let (_, status, _) = conf.rx("http show status");
    assert!(status.contains("/ws => SIP over WebSocket"), "{status}");
}
