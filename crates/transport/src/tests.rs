use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::*;

const OPTIONS: &str = "OPTIONS sip:127.0.0.1 SIP/2.0\r\n\
Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK-1\r\n\
From: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:b@127.0.0.1>\r\n\
Call-ID: c1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n";

fn local(protocol: Protocol) -> TransportConfig {
    TransportConfig {
        name: "t".into(),
        protocol,
        bind: "127.0.0.1:0".parse().unwrap(),
    }
}

#[test]
fn bind_forms_match_asterisk() {
    assert_eq!(parse_bind("").unwrap().to_string(), "0.0.0.0:5060");
    assert_eq!(
        parse_bind("127.0.0.1").unwrap().to_string(),
        "127.0.0.1:5060"
    );
    assert_eq!(
        parse_bind("127.0.0.1:5070").unwrap().to_string(),
        "127.0.0.1:5070"
    );
    assert_eq!(parse_bind("[::1]").unwrap().to_string(), "[::1]:5060");
    assert!(parse_bind("nonsense:x").is_err());
}

/// RFC 7118: WSS is its own Via transport but the same `ws` URI
/// parameter (§5.2); both are reliable and reached only over their socket.
#[test]
fn secure_websocket_is_a_websocket() {
    let wss = Protocol::parse("WSS").expect("wss runs");
    assert_eq!(wss, Protocol::Wss);
    assert_eq!((wss.as_str(), wss.via_name()), ("wss", "WSS"));
    assert_eq!(wss.uri_param(), Some("ws"));
    assert_eq!(Protocol::Ws.uri_param(), Some("ws"));
    assert_eq!(Protocol::Udp.uri_param(), None);
    assert!(wss.is_reliable() && wss.is_websocket() && Protocol::Ws.is_websocket());
    assert!(!Protocol::Tls.is_websocket());
    assert_eq!(Protocol::parse("flow"), None);
}

#[tokio::test]
async fn udp_delivers_and_replies_to_source() {
    let (tx, mut rx) = mpsc::channel(8);
    let l = Listener::start(local(Protocol::Udp), Arc::new(tx))
        .await
        .unwrap();
    let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    client
        .send_to(OPTIONS.as_bytes(), l.local_addr())
        .await
        .unwrap();
    let inc = tokio::time::timeout(Duration::from_secs(2), rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(inc.source, client.local_addr().unwrap());
    assert!(matches!(inc.message, Message::Request(_)));
    inc.reply.send(Bytes::from_static(b"hello")).await.unwrap();
    let mut buf = [0u8; 16];
    let (n, _) = client.recv_from(&mut buf).await.unwrap();
    assert_eq!(&buf[..n], b"hello");
    assert_eq!(l.stats().received, 1);
}

/// A burst larger than one receive batch, keep-alives mixed in, from two
/// sources: every request arrives once, in order per source, with its own
/// source address.
#[tokio::test]
async fn udp_bursts_arrive_whole_through_batched_receive() {
    let (tx, mut rx) = mpsc::channel(1024);
    let l = Listener::start(local(Protocol::Udp), Arc::new(tx))
        .await
        .unwrap();
    let (a, b) = (
        UdpSocket::bind("127.0.0.1:0").await.unwrap(),
        UdpSocket::bind("127.0.0.1:0").await.unwrap(),
    );
    for n in 0..100usize {
        let request = OPTIONS.replace("Call-ID: c1", &format!("Call-ID: c{n}"));
        let from = if n.is_multiple_of(2) { &a } else { &b };
        from.send_to(request.as_bytes(), l.local_addr())
            .await
            .unwrap();
        from.send_to(b"\r\n\r\n", l.local_addr()).await.unwrap();
    }
    let mut seen = Vec::new();
    while seen.len() < 100 {
        let inc = tokio::time::timeout(Duration::from_secs(5), rx.recv())
            .await
            .expect("all 100 requests")
            .unwrap();
        let Message::Request(req) = inc.message else {
            panic!("a request");
        };
        let n: usize = req
            .headers()
            .call_id()
            .trim_start_matches('c')
            .parse()
            .unwrap();
        let from = if n.is_multiple_of(2) { &a } else { &b };
        assert_eq!(inc.source, from.local_addr().unwrap());
        seen.push(n);
    }
    let evens: Vec<usize> = seen
        .iter()
        .copied()
        .filter(|n| n.is_multiple_of(2))
        .collect();
    assert!(evens.windows(2).all(|w| w[0] < w[1]), "{evens:?}");
    assert_eq!(l.stats().received, 100);
}

/// RFC 3261 §21.5.7 / RFC 4475 §3.1.2.17: an unknown version gets 505;
/// a bad header a 400 naming it (RFC 4475 §3.1.2); garbage is dropped.
#[tokio::test]
async fn udp_answers_malformed_requests() {
    let (tx, _rx) = mpsc::channel(8);
    let l = Listener::start(local(Protocol::Udp), Arc::new(tx))
        .await
        .unwrap();
    let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let mut buf = [0u8; 2048];
    client
        .send_to(
            OPTIONS.replace("SIP/2.0\r\n", "SIP/7.0\r\n").as_bytes(),
            l.local_addr(),
        )
        .await
        .unwrap();
    let (n, _) = client.recv_from(&mut buf).await.unwrap();
    assert!(
        std::str::from_utf8(&buf[..n])
            .unwrap()
            .starts_with("SIP/2.0 505 ")
    );
    client
        .send_to(
            OPTIONS
                .replace("Max-Forwards: 70", "Max-Forwards: many")
                .as_bytes(),
            l.local_addr(),
        )
        .await
        .unwrap();
    let (n, _) = client.recv_from(&mut buf).await.unwrap();
    assert!(
        std::str::from_utf8(&buf[..n])
            .unwrap()
            .starts_with("SIP/2.0 400 ")
    );
    client
        .send_to(b"\x00\xffgarbage", l.local_addr())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let s = l.stats();
    assert_eq!((s.answered_malformed, s.dropped, s.received), (2, 1, 0));
}

/// RFC 3261 §18.3 framing and RFC 5626 §3.5.1 ping/pong on TCP.
#[tokio::test]
async fn tcp_frames_messages_and_answers_pings() {
    let (tx, mut rx) = mpsc::channel(8);
    let l = Listener::start(local(Protocol::Tcp), Arc::new(tx))
        .await
        .unwrap();
    let mut s = tokio::net::TcpStream::connect(l.local_addr())
        .await
        .unwrap();
    s.write_all(b"\r\n\r\n").await.unwrap();
    let mut pong = [0u8; 2];
    s.read_exact(&mut pong).await.unwrap();
    assert_eq!(&pong, b"\r\n");
    let two = format!("{OPTIONS}{OPTIONS}");
    let (a, b) = two.as_bytes().split_at(100);
    s.write_all(a).await.unwrap();
    s.write_all(b).await.unwrap();
    for _ in 0..2 {
        let inc = tokio::time::timeout(Duration::from_secs(2), rx.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(inc.protocol, Protocol::Tcp);
        assert!(l.connection_to(inc.source).is_some());
    }
}

/// A sink that also records which connections closed.
struct Recorder {
    tx: mpsc::Sender<Incoming>,
    closed: mpsc::UnboundedSender<(String, Protocol, SocketAddr)>,
}

impl Sink for Recorder {
    fn deliver(&self, incoming: Incoming) -> Result<(), Incoming> {
        self.tx.deliver(incoming)
    }

    fn closed(&self, transport: &str, protocol: Protocol, peer: SocketAddr) {
        let _ = self.closed.send((transport.to_owned(), protocol, peer));
    }
}

type Closed = mpsc::UnboundedReceiver<(String, Protocol, SocketAddr)>;

async fn recording(protocol: Protocol) -> (Listener, mpsc::Receiver<Incoming>, Closed) {
    let (tx, rx) = mpsc::channel(8);
    let (closed, closes) = mpsc::unbounded_channel();
    let l = Listener::start(local(protocol), Arc::new(Recorder { tx, closed }))
        .await
        .unwrap();
    (l, rx, closes)
}

async fn next(rx: &mut mpsc::Receiver<Incoming>) -> Incoming {
    tokio::time::timeout(Duration::from_secs(2), rx.recv())
        .await
        .expect("a message in time")
        .expect("the listener runs")
}

/// Reads from `s` until `n` bytes came.
async fn read_n<S: tokio::io::AsyncRead + Unpin>(s: &mut S, n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    tokio::time::timeout(Duration::from_secs(2), s.read_exact(&mut buf))
        .await
        .expect("bytes in time")
        .unwrap();
    buf
}

const OK: &str = "SIP/2.0 200 OK\r\n\
Via: SIP/2.0/TCP 127.0.0.1:5060;branch=z9hG4bK-1\r\n\
From: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:b@127.0.0.1>;tag=2\r\n\
Call-ID: c1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";

/// RFC 3261 §18.1.1: a request of ours to a peer with no connection opens
/// one; it is then reused (no second connect), frames both ways (RFC 3261
/// §18.3, split writes), delivers what the peer sends like an accepted
/// connection does, and its end is reported to the sink.
#[tokio::test]
async fn tcp_connects_out_reuses_and_reports_the_close() {
    let (l, mut rx, mut closes) = recording(Protocol::Tcp).await;
    let stream = l.stream().expect("a stream transport");
    let peer_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let peer = peer_listener.local_addr().unwrap();
    assert!(stream.connection_to(peer).is_none());

    let reply = stream.connect(peer, None).await.unwrap();
    let (mut phone, _) = peer_listener.accept().await.unwrap();
    reply.send(Bytes::from(OPTIONS)).await.unwrap();
    assert_eq!(read_n(&mut phone, OPTIONS.len()).await, OPTIONS.as_bytes());

    // Reused: the same connection, no new accept.
    let again = stream.connect(peer, None).await.unwrap();
    again.send(Bytes::from(OPTIONS)).await.unwrap();
    assert_eq!(read_n(&mut phone, OPTIONS.len()).await, OPTIONS.as_bytes());
    assert!(
        tokio::time::timeout(Duration::from_millis(200), peer_listener.accept())
            .await
            .is_err(),
        "no second connection"
    );
    assert_eq!(stream.open_connections(), 1);
    assert!(l.connection_to(peer).is_some());

    // The peer's response and a request of its own, in odd pieces.
    let both = format!("{OK}{OPTIONS}");
    let (a, b) = both.as_bytes().split_at(37);
    phone.write_all(a).await.unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    phone.write_all(b).await.unwrap();
    let first = next(&mut rx).await;
    assert!(matches!(first.message, Message::Response(_)));
    assert_eq!((first.source, first.protocol), (peer, Protocol::Tcp));
    assert_eq!(first.local, l.local_addr());
    let second = next(&mut rx).await;
    assert!(matches!(second.message, Message::Request(_)));
    // Answers go back down the same connection.
    second.reply.send(Bytes::from(OK)).await.unwrap();
    assert_eq!(read_n(&mut phone, OK.len()).await, OK.as_bytes());
    assert!(!second.reply.is_closed());

    drop(phone);
    let (name, protocol, gone) = tokio::time::timeout(Duration::from_secs(2), closes.recv())
        .await
        .expect("the close is reported")
        .unwrap();
    assert_eq!((name.as_str(), protocol, gone), ("t", Protocol::Tcp, peer));
    // By the time the close is reported, a request of ours down the old
    // connection fails at once instead of vanishing into a dead socket.
    assert!(second.reply.is_closed());
    assert!(matches!(
        second.reply.send(Bytes::from(OPTIONS)).await,
        Err(TransportError::Closed)
    ));
    assert!(stream.connection_to(peer).is_none());
    assert_eq!(stream.open_connections(), 0);
}

/// A refused connection is an error naming the peer, not a hang or panic.
#[tokio::test]
async fn tcp_connect_refused_is_an_error() {
    let (l, _rx, _closes) = recording(Protocol::Tcp).await;
    let nobody = {
        let s = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        s.local_addr().unwrap()
    };
    let err = l.stream().unwrap().connect(nobody, None).await.unwrap_err();
    assert!(err.to_string().contains(&nobody.to_string()), "{err}");
}

/// A peer's connection closing is reported too.
#[tokio::test]
async fn an_accepted_connection_closing_is_reported() {
    let (l, mut rx, mut closes) = recording(Protocol::Tcp).await;
    let mut s = tokio::net::TcpStream::connect(l.local_addr())
        .await
        .unwrap();
    s.write_all(OPTIONS.as_bytes()).await.unwrap();
    let inc = next(&mut rx).await;
    drop(s);
    let (_, _, gone) = tokio::time::timeout(Duration::from_secs(2), closes.recv())
        .await
        .expect("reported")
        .unwrap();
    assert_eq!(gone, inc.source);
}

fn certificate(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert, certified.cert.pem()).unwrap();
    std::fs::write(&key, certified.signing_key.serialize_pem()).unwrap();
    (cert, key)
}

/// TLS out: the handshake checks the server's certificate against the CA
/// list and the name it was reached by; then SIP flows both ways inside.
#[tokio::test]
async fn tls_connects_out_with_a_checked_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = certificate(dir.path());
    let server_tls = tls::acceptor(&cert, &key).unwrap();
    let (tx, mut rx) = mpsc::channel(8);
    let l = Listener::start_tls(local(Protocol::Tls), server_tls.clone(), Arc::new(tx))
        .await
        .unwrap();
    let peer_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let peer = peer_listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (tcp, _) = peer_listener.accept().await.unwrap();
        let mut secure = server_tls.accept(tcp).await.unwrap();
        let got = read_n(&mut secure, OPTIONS.len()).await;
        secure.write_all(OK.as_bytes()).await.unwrap();
        secure.flush().await.unwrap();
        // Keep it open until the client has read.
        tokio::time::sleep(Duration::from_millis(500)).await;
        got
    });
    let checked = tls::client_connector(&[cert.as_path()], &[], true, true).unwrap();
    let stream = l.stream().unwrap();
    let reply = stream
        .connect(peer, Some((&checked, "127.0.0.1")))
        .await
        .unwrap();
    reply.send(Bytes::from(OPTIONS)).await.unwrap();
    let answer = next(&mut rx).await;
    assert_eq!(answer.protocol, Protocol::Tls);
    assert!(matches!(answer.message, Message::Response(_)));
    assert_eq!(server.await.unwrap(), OPTIONS.as_bytes());
}

/// verify_server: a certificate no listed CA signed fails the handshake,
/// with the reason; the name it must carry is checked too.
#[tokio::test]
async fn tls_refuses_an_unknown_or_misnamed_server() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = certificate(dir.path());
    let other = tempfile::tempdir().unwrap();
    let (other_cert, _) = certificate(other.path());
    let server_tls = tls::acceptor(&cert, &key).unwrap();
    let (tx, _rx) = mpsc::channel(8);
    let l = Listener::start_tls(local(Protocol::Tls), server_tls.clone(), Arc::new(tx))
        .await
        .unwrap();
    let peer_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let peer = peer_listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = peer_listener.accept().await {
            let _ = server_tls.accept(tcp).await;
        }
    });
    let stream = l.stream().unwrap();
    let strangers = tls::client_connector(&[other_cert.as_path()], &[], true, true).unwrap();
    let err = stream
        .connect(peer, Some((&strangers, "127.0.0.1")))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("TLS handshake"), "{err}");
    let checked = tls::client_connector(&[cert.as_path()], &[], true, true).unwrap();
    let err = stream
        .connect(peer, Some((&checked, "sip.example.com")))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("TLS handshake"), "{err}");
    assert_eq!(stream.open_connections(), 0);
    // verify_server=no: anything goes.
    let lenient = tls::client_connector(&[], &[], false, false).unwrap();
    assert!(
        stream
            .connect(peer, Some((&lenient, "sip.example.com")))
            .await
            .is_ok()
    );
}
