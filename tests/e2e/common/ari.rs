//! ARI on the real daemon, as its tests use it: enabling it, raw REST
//! requests over HTTP/1.1 (so the test sees exactly what went on the wire),
//! and the events WebSocket of an application.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;
use tungstenite::Message;

use super::{ConfDir, free_port};

/// `ari:s3cret`, the user [`enable_ari`] creates, as a Basic
/// `Authorization` header value.
const AUTH: &str = "Basic YXJpOnMzY3JldA==";

/// Enables HTTP on a free port of 127.0.0.1 and ARI with user `ari`,
/// password `s3cret`; returns the port.
pub fn enable_ari(conf: &ConfDir) -> u16 {
    let port = free_port();
    conf.write(
        "http.conf",
        &format!("[general]\nenabled=yes\nbindaddr=127.0.0.1\nbindport={port}\n"),
    );
    conf.write(
        "ari.conf",
        "[general]\nenabled=yes\n[ari]\ntype=user\npassword=s3cret\n",
    );
    port
}

/// One ARI answer, as it came.
pub struct Answer {
    pub status: u16,
    pub headers: String,
    pub body: Vec<u8>,
}

impl Answer {
    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON; fails the test if it is not.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    /// The body as JSON, or null when it is empty (a 204, say).
    pub fn json_or_null(&self) -> Value {
        if self.text().trim().is_empty() {
            Value::Null
        } else {
            self.json()
        }
    }

    /// The value of header `name` (any case), if it was sent.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.lines().find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

/// One ARI request as `ari:s3cret` on `port`; `path` is the whole path
/// (`/ari/...`, with its query) and `body`, if any, goes as JSON.
pub fn request(port: u16, method: &str, path: &str, body: Option<&str>) -> Answer {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to ARI");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let content_type = if body.is_some() {
        "Content-Type: application/json\r\n"
    } else {
        ""
    };
    let body = body.unwrap_or("");
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: {AUTH}\r\nConnection: close\r\n{content_type}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| {
            panic!(
                "no complete HTTP response: {}",
                String::from_utf8_lossy(&raw)
            )
        });
    let headers = String::from_utf8_lossy(&raw[..split]).into_owned();
    let status = headers
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {headers}"));
    Answer {
        status,
        headers,
        body: raw[split + 4..].to_vec(),
    }
}

/// [`request`], as (status, body text).
pub fn call(port: u16, method: &str, path: &str, body: Option<&str>) -> (u16, String) {
    let answer = request(port, method, path, body);
    (answer.status, answer.text())
}

/// A bodiless [`request`] that must answer `status` (the body is shown
/// when it does not).
pub fn expect(port: u16, method: &str, path: &str, status: u16) -> Answer {
    expect_with(port, method, path, None, status)
}

/// [`expect`] with a JSON body.
pub fn expect_with(port: u16, method: &str, path: &str, body: Option<&str>, status: u16) -> Answer {
    let answer = request(port, method, path, body);
    assert_eq!(answer.status, status, "{method} {path}: {}", answer.text());
    answer
}

/// Waits until the ARI application `name` is registered (its client's
/// WebSocket is up): events sent before then would be lost to it.
pub fn wait_for_app(conf: &ConfDir, name: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, apps, _) = conf.rx("ari show apps");
        if apps.contains(name) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the ARI application never connected:\n{apps}"
        );
        thread::sleep(Duration::from_millis(50));
    }
}

/// The id of the channel an event is about.
pub fn channel_id(event: &Value) -> String {
    event["channel"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no channel id: {event}"))
        .to_owned()
}

/// A REST request (`path` under `/ari`) that must succeed; its JSON body
/// (null when empty).
pub fn rest(port: u16, method: &str, path: &str) -> Value {
    let path = format!("/ari{path}");
    let answer = request(port, method, &path, None);
    assert!(
        (200..300).contains(&answer.status),
        "{method} {path}: {} {}",
        answer.status,
        answer.text()
    );
    answer.json_or_null()
}

/// The events WebSocket of one application.
pub struct Events(tungstenite::WebSocket<TcpStream>);

impl Events {
    /// Connects as `ari:s3cret` to the events of application `app`.
    pub fn connect(port: u16, app: &str) -> Events {
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to ARI");
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let url = format!("ws://127.0.0.1:{port}/ari/events?app={app}&api_key=ari:s3cret");
        let (ws, response) = tungstenite::client(url, stream).expect("WebSocket upgrade");
        assert_eq!(response.status(), 101);
        // Short reads from now on, so a missing event fails the test in
        // time instead of blocking it.
        ws.get_ref()
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        Events(ws)
    }

    /// Sends a text frame (a `RESTRequest`).
    pub fn send(&mut self, text: &str) {
        self.0
            .send(Message::Text(text.into()))
            .expect("send on the events WebSocket");
    }

    /// The next event of type `kind` (others are skipped).
    pub fn until(&mut self, kind: &str) -> Value {
        self.until_matching(kind, |_| true)
    }

    /// The next event of type `kind` that `matches` accepts (others are
    /// skipped).
    pub fn until_matching(&mut self, kind: &str, matches: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(40);
        loop {
            assert!(Instant::now() < deadline, "no {kind} event");
            if let Some(event) = next_json(&mut self.0)
                && event["type"] == kind
                && matches(&event)
            {
                return event;
            }
        }
    }
}

/// The next JSON text message of a WebSocket whose reads time out
/// briefly; `None` when none came in time or the frame was not text.
/// Panics when the connection is gone.
pub fn next_json<S: Read + Write>(ws: &mut tungstenite::WebSocket<S>) -> Option<Value> {
    match ws.read() {
        Ok(Message::Text(text)) => Some(serde_json::from_str(text.as_str()).expect("JSON message")),
        Ok(_) => None,
        Err(tungstenite::Error::Io(e))
            if matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) =>
        {
            None
        }
        Err(e) => panic!("the WebSocket closed: {e}"),
    }
}
