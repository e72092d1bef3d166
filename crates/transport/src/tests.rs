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
