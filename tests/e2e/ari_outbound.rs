//! ARI outbound WebSockets against the real daemon: Obelus connects to an
//! application server (here a tungstenite server in the test) named in
//! `websocket_client.conf`, with the configured credentials and
//! subprotocol, announces its applications, carries events and REST over
//! the connection, reconnects when it drops, and follows reloads that
//! change the applications without reconnecting.

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tungstenite::{Message, WebSocket};

use crate::common::ConfDir;
use crate::common::ari::{self, enable_ari};

/// The application server's side of one connection from Obelus, with
/// the messages read but not asked for yet.
struct AppServer<S: Read + Write = TcpStream>(WebSocket<S>, VecDeque<Value>);

/// What `accept_hdr` checks of Obelus's request: it logs in as `srv:pw`
/// and asks for the `ari` subprotocol, which the server agrees to.
#[expect(
    clippy::result_large_err,
    reason = "tungstenite's handshake callback type returns its error response by value"
)]
fn check_request(request: &Request, mut response: Response) -> Result<Response, ErrorResponse> {
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(header("authorization"), "Basic c3J2OnB3", "srv:pw");
    assert_eq!(header("sec-websocket-protocol"), "ari");
    assert_eq!(request.uri().path(), "/events");
    response
        .headers_mut()
        .insert("Sec-WebSocket-Protocol", "ari".parse().unwrap());
    Ok(response)
}

impl AppServer {
    /// Accepts Obelus's next connection (see [`check_request`]).
    fn accept(listener: &TcpListener) -> AppServer {
        let (stream, _) = listener.accept().expect("Obelus connects");
        stream
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let ws = tungstenite::accept_hdr(stream, check_request).expect("WebSocket handshake");
        AppServer(ws, VecDeque::new())
    }
}

impl<S: Read + Write> AppServer<S> {
    fn send(&mut self, text: &str) {
        self.0.send(Message::Text(text.into())).expect("send");
    }

    /// The first message `wanted` accepts, from those read before or the
    /// next ones (the others are kept for later).
    fn find(&mut self, what: &str, wanted: impl Fn(&Value) -> bool) -> Value {
        if let Some(at) = self.1.iter().position(&wanted) {
            return self.1.remove(at).expect("found");
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            assert!(Instant::now() < deadline, "no {what}");
            if let Some(message) = ari::next_json(&mut self.0) {
                if wanted(&message) {
                    return message;
                }
                self.1.push_back(message);
            }
        }
    }

    /// The next message of type `kind`.
    fn until(&mut self, kind: &str) -> Value {
        self.find(kind, |m| m["type"] == kind)
    }

    /// A REST call over the connection; its `RESTResponse`.
    fn rest(&mut self, id: &str, method: &str, uri: &str) -> Value {
        self.send(&format!(
            r#"{{"type":"RESTRequest","transaction_id":"t","request_id":"{id}","method":"{method}","uri":"{uri}"}}"#
        ));
        self.find(&format!("response to {id}"), |m| {
            m["type"] == "RESTResponse" && m["request_id"] == id
        })
    }
}

fn ari_conf(apps: &str) -> String {
    format!(
        "[general]\nenabled=yes\n[ari]\ntype=user\npassword=s3cret\n\
         [conn1]\ntype=outbound_websocket\nwebsocket_client_id=appsrv\napps={apps}\nlocal_ari_user=ari\n"
    )
}

#[test]
fn obelus_connects_to_an_application_server_and_serves_its_apps_over_it() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let conf = ConfDir::new();
    enable_ari(&conf);
    conf.write("ari.conf", &ari_conf("obapp"));
    conf.write(
        "websocket_client.conf",
        &format!(
            "[appsrv]\ntype=websocket_client\nuri=ws://127.0.0.1:{port}/events\nprotocols=ari\n\
             username=srv\npassword=pw\nconnection_type=persistent\nreconnect_interval=200\n"
        ),
    );
    conf.write(
        "extensions.conf",
        "[out]\nexten => 1,1,Answer()\n same => n,Wait(30)\n",
    );
    let _daemon = conf.start_foreground();

    let mut server = AppServer::accept(&listener);
    let registered = server.until("ApplicationRegistered");
    assert_eq!(registered["application"], "obapp", "{registered}");
    let (_, table, _) = conf.rx("ari show outbound-websockets");
    assert!(
        table.contains("conn1") && table.contains("persistent") && table.contains("valid"),
        "{table}"
    );
    let (_, apps, _) = conf.rx("ari show apps");
    assert!(apps.contains("obapp"), "{apps}");

    // A call handed to the application, controlled over the connection.
    let originated = server.rest(
        "o1",
        "POST",
        "channels?endpoint=Local/1@out&app=obapp&channelId=ob-1",
    );
    assert_eq!(originated["status_code"], 200, "{originated}");
    let start = server.until("StasisStart");
    assert_eq!(start["application"], "obapp", "{start}");
    let id = start["channel"]["id"].as_str().unwrap().to_owned();
    let hangup = server.rest("h1", "DELETE", &format!("channels/{id}"));
    assert_eq!(hangup["status_code"], 204, "{hangup}");
    server.until("StasisEnd");

    // The server goes away and comes back: Obelus reconnects.
    drop(server);
    let mut server = AppServer::accept(&listener);
    let again = server.until("ApplicationRegistered");
    assert_eq!(again["application"], "obapp", "{again}");

    // A reload that changes only the applications keeps the connection.
    conf.write("ari.conf", &ari_conf("obapp,second"));
    conf.rx("module reload res_ari.so");
    let added = server.until("ApplicationRegistered");
    assert_eq!(added["application"], "second", "{added}");
    conf.write("ari.conf", &ari_conf("second"));
    conf.rx("module reload res_ari.so");
    let removed = server.until("ApplicationUnregistered");
    assert_eq!(removed["application"], "obapp", "{removed}");
    let (_, apps, _) = conf.rx("ari show apps");
    assert!(apps.contains("second") && !apps.contains("obapp"), "{apps}");
    let info = server.rest("i1", "GET", "asterisk/ping");
    assert_eq!(
        info["status_code"], 200,
        "the same connection still answers: {info}"
    );
}

/// A per-call configuration: `Stasis(pcapp)` opens a connection of its own
/// for the call, whose application is `pcapp:<channel>`; the call is
/// controlled over it, and the connection closes when the channel leaves
/// Stasis. With no server listening, `Stasis()` gives up after
/// `reconnect_attempts` and the dialplan goes on with `STASISSTATUS=FAILED`.
#[test]
fn a_per_call_connection_lives_as_long_as_the_call_is_in_stasis() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_port = closed.local_addr().unwrap().port();
    drop(closed);
    let conf = ConfDir::new();
    let http = enable_ari(&conf);
    conf.write(
        "ari.conf",
        "[general]\nenabled=yes\n[ari]\ntype=user\npassword=s3cret\n\
         [pc]\ntype=outbound_websocket\nwebsocket_client_id=percall\napps=pcapp\nlocal_ari_user=ari\n\
         [gone]\ntype=outbound_websocket\nwebsocket_client_id=nobody\napps=lost\nlocal_ari_user=ari\n",
    );
    conf.write(
        "websocket_client.conf",
        &format!(
            "[percall]\ntype=websocket_client\nuri=ws://127.0.0.1:{port}/events\nprotocols=ari\n\
             username=srv\npassword=pw\nconnection_type=per_call_config\n\
             [nobody]\ntype=websocket_client\nuri=ws://127.0.0.1:{closed_port}/events\n\
             connection_type=per_call_config\nreconnect_attempts=2\nreconnect_interval=50\n"
        ),
    );
    conf.write(
        "extensions.conf",
        "[out]\nexten => 1,1,Answer()\n same => n,Wait(30)\n\
         exten => 2,1,Answer()\n same => n,Stasis(pcapp)\n same => n,Set(GLOBAL(PC)=${STASISSTATUS})\n same => n,Wait(30)\n\
         exten => 3,1,Answer()\n same => n,Stasis(lost)\n same => n,Set(GLOBAL(LOST)=${STASISSTATUS})\n same => n,Wait(30)\n",
    );
    let _daemon = conf.start_foreground();
    let (_, table, _) = conf.rx("ari show outbound-websockets");
    assert!(table.contains("per_call_config"), "{table}");

    ari::expect(
        http,
        "POST",
        "/ari/channels?endpoint=Local/2@out&extension=1&context=out&channelId=pc-1",
        200,
    );
    let mut server = AppServer::accept(&listener);
    let registered = server.until("ApplicationRegistered");
    let app = registered["application"].as_str().unwrap().to_owned();
    assert!(app.starts_with("pcapp:Local/2@out-"), "{registered}");
    let start = server.until("StasisStart");
    assert_eq!(start["application"], app.as_str(), "{start}");
    let id = start["channel"]["id"].as_str().unwrap().to_owned();
    let moved = server.rest("c1", "POST", &format!("channels/{id}/continue"));
    assert_eq!(moved["status_code"], 204, "{moved}");
    server.until("StasisEnd");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match server.0.read() {
            Ok(Message::Close(_)) | Err(tungstenite::Error::ConnectionClosed) => break,
            Err(tungstenite::Error::Io(e))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(e) => panic!("Obelus closed the per-call socket without a close frame: {e}"),
            Ok(_) => {}
        }
        assert!(
            Instant::now() < deadline,
            "Obelus keeps the per-call socket open"
        );
    }
    let global = |name: &str| {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let (status, body) = ari::call(
                http,
                "GET",
                &format!("/ari/asterisk/variable?variable=GLOBAL({name})"),
                None,
            );
            assert_eq!(status, 200, "{body}");
            let value: Value = serde_json::from_str(&body).unwrap();
            if value["value"] != "" {
                return value["value"].as_str().unwrap().to_owned();
            }
            assert!(Instant::now() < deadline, "{name} never set");
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    assert_eq!(global("PC"), "SUCCESS");

    ari::expect(
        http,
        "POST",
        "/ari/channels?endpoint=Local/3@out&extension=1&context=out",
        200,
    );
    assert_eq!(global("LOST"), "FAILED");
}

/// `wss://`: Obelus connects over TLS, checking the server's certificate
/// against `ca_list_file` (here the server's own self-signed certificate),
/// and the connection carries events and REST as over `ws://`.
#[test]
fn obelus_connects_over_tls_to_a_server_its_ca_list_vouches_for() {
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])
            .expect("test certificate");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let conf = ConfDir::new();
    enable_ari(&conf);
    conf.write("app-ca.pem", &certified.cert.pem());
    conf.write("ari.conf", &ari_conf("secure"));
    conf.write(
        "websocket_client.conf",
        &format!(
            "[appsrv]\ntype=websocket_client\nuri=wss://localhost:{port}/events\nprotocols=ari\n\
             username=srv\npassword=pw\nreconnect_interval=200\nca_list_file={}\n",
            conf.path().join("app-ca.pem").display()
        ),
    );
    let _daemon = conf.start_foreground();

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![certified.cert.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into()),
        )
        .expect("server TLS config");
    let (tcp, _) = listener.accept().expect("Obelus connects");
    tcp.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut tls = rustls::StreamOwned::new(
        rustls::ServerConnection::new(Arc::new(config)).unwrap(),
        tcp,
    );
    while tls.conn.is_handshaking() {
        match tls.conn.complete_io(&mut tls.sock) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => panic!("TLS handshake with Obelus: {e}"),
        }
    }
    let ws = tungstenite::accept_hdr(tls, check_request).expect("WebSocket over TLS");
    let mut server = AppServer(ws, VecDeque::new());
    let registered = server.until("ApplicationRegistered");
    assert_eq!(registered["application"], "secure", "{registered}");
    let pong = server.rest("p1", "GET", "asterisk/ping");
    assert_eq!(pong["status_code"], 200, "{pong}");
}
