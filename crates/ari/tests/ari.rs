//! End-to-end tests of ARI: the module's routes served on a real socket,
//! driven by a hand-written HTTP/1.1 client and a real WebSocket client,
//! with channels run by the real dialplan executor on a test channel
//! driver.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use futures_util::StreamExt;
use obelus_apps::globals::Globals;
use obelus_apps::pbx::{Executor, Pbx};
use obelus_apps::registry::Registry;
use obelus_apps::switch::Switches;
use obelus_ari::{Ari, AriConf};
use obelus_core::Core;
use obelus_core::channel::{
    Cause, Channel, ChannelInit, ChannelState, Channels, Control, Driver, Indication, Party,
    Technology,
};
use obelus_core::events::ChannelEventKind;
use obelus_dialplan::module::DialplanService;
use obelus_media::{Codec, MediaEngine, RtpConfig, Stream, StreamEvent, StreamParams};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;

/// How long any single wait may take before the test gives up (a guard
/// against hanging, not a speed requirement).
const PATIENCE: Duration = Duration::from_secs(20);

const DIALPLAN: &str = "\
[default]
exten => 1,1,Stasis(test,a,b)
 same => n,Set(AFTER=${STASISSTATUS})
 same => n,Hangup()
exten => 2,1,Set(CONTINUED=yes)
 same => n,Hangup()
exten => 3,1,Stasis(nobody)
 same => n,Set(AFTER=${STASISSTATUS})
 same => n,Hangup()
exten => 4,1,Stasis(test)
 same => n,Hangup()
exten => 5,1,StasisBroadcast(10000,^te,p1:p2)
 same => n,Set(AFTER=${STASISSTATUS})
 same => n,Hangup()
exten => 6,1,StasisBroadcast(50)
 same => n,Set(AFTER=${STASISSTATUS})
 same => n,Hangup()
";

const ARI_CONF: &str = "\
[general]
enabled = yes
allowed_origins = http://app.example

[ari]
type = user
password = secret

[viewer]
type = user
password = look
read_only = yes
";

// ---------------------------------------------------------------- driver

/// A channel driver that records what it is asked and, when it has a
/// media stream, reports its playback ends to the channel as a SIP
/// session does.
#[derive(Default)]
struct TestDriver {
    log: Mutex<Vec<String>>,
    media: Option<Arc<Stream>>,
    answers_calls: bool,
}

impl TestDriver {
    fn log(&self) -> Vec<String> {
        self.log.lock().expect("log").clone()
    }

    fn push(&self, line: String) {
        self.log.lock().expect("log").push(line);
    }
}

#[async_trait]
impl Driver for TestDriver {
    async fn call(&self, channel: &Arc<Channel>) -> Result<(), Cause> {
        self.push("call".into());
        if self.answers_calls {
            channel.queue(Control::Ringing);
            channel.queue(Control::Answer);
        }
        Ok(())
    }

    async fn answer(&self, _channel: &Arc<Channel>) -> Result<(), Cause> {
        self.push("answer".into());
        Ok(())
    }

    async fn indicate(&self, _channel: &Arc<Channel>, indication: Indication) {
        self.push(format!("indicate {indication:?}"));
    }

    async fn hangup(&self, _channel: &Arc<Channel>, cause: Cause) {
        self.push(format!("hangup {}", cause.code()));
    }

    async fn send_digit(&self, _channel: &Arc<Channel>, digit: char, _duration_ms: u32) {
        self.push(format!("digit {digit}"));
    }

    fn media(&self) -> Option<Arc<Stream>> {
        self.media.clone()
    }
}

/// `Test/<resource>`: outbound channels that answer at once.
struct TestTech;

#[async_trait]
impl Technology for TestTech {
    fn name(&self) -> &'static str {
        "Test"
    }

    fn description(&self) -> &'static str {
        "Test channels"
    }

    async fn request(
        &self,
        channels: &Arc<Channels>,
        resource: &str,
        requestor: Option<&Arc<Channel>>,
    ) -> Result<Arc<Channel>, Cause> {
        let driver = Arc::new(TestDriver {
            answers_calls: true,
            ..TestDriver::default()
        });
        Ok(Channel::create(
            channels,
            ChannelInit {
                tech: "Test",
                resource: resource.to_owned(),
                state: ChannelState::Down,
                caller: Party::default(),
                context: "default".into(),
                exten: "s".into(),
                language: String::new(),
                accountcode: String::new(),
            },
            driver,
            requestor,
        ))
    }
}

// ---------------------------------------------------------------- harness

struct Harness {
    core: Arc<Core>,
    executor: Arc<Executor>,
    ari: Arc<Ari>,
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

async fn harness() -> Harness {
    harness_with(ARI_CONF).await
}

async fn harness_with(ari_conf: &str) -> Harness {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut settings, _) =
        obelus_core::settings::Settings::load(&dir.path().join("asterisk.conf"));
    // Recordings and sounds stay inside the test's directory.
    settings.dirs.spool = dir.path().join("spool");
    settings.dirs.data = dir.path().join("data");
    let core = Arc::new(Core::new(settings, Arc::default()));
    let (dialplan, errors) = obelus_dialplan::from_text(DIALPLAN, "extensions.conf");
    assert!(errors.is_empty(), "{errors:?}");
    let registry = Arc::new(Registry::default());
    obelus_apps::applications::register_all(&registry);
    obelus_apps::functions::register_all(&registry);
    let executor = Executor::new(
        Arc::clone(&core),
        registry,
        Arc::new(Globals::default()),
        Arc::new(Switches::default()),
        Arc::new(DialplanService::new(dialplan)),
    );
    core.provide(Arc::clone(&executor));
    core.channels
        .set_pbx(Arc::clone(&executor) as Arc<dyn obelus_core::channel::Pbx>);
    core.channels.register_technology(Arc::new(TestTech));
    let conf = AriConf::from_config(
        &obelus_conf::parse_str("ari.conf", ari_conf).expect("ari.conf parses"),
    )
    .0;
    let ari = obelus_ari::start(&core, conf).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = obelus_ari::http::routes(&ari).into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Harness {
        core,
        executor,
        ari,
        addr,
        _dir: dir,
    }
}

impl Harness {
    /// A new inbound test channel at `exten@default`, caller 101.
    fn channel(&self, exten: &str, media: Option<Arc<Stream>>) -> (Arc<Channel>, Arc<TestDriver>) {
        let driver = Arc::new(TestDriver {
            media,
            ..TestDriver::default()
        });
        let channel = Channel::create(
            &self.core.channels,
            ChannelInit {
                tech: "Test",
                resource: "101".into(),
                state: ChannelState::Ring,
                caller: Party {
                    number: "101".into(),
                    name: "Alice".into(),
                },
                context: "default".into(),
                exten: exten.into(),
                language: String::new(),
                accountcode: String::new(),
            },
            Arc::clone(&driver) as Arc<dyn Driver>,
            None,
        );
        (channel, driver)
    }

    /// Starts the dialplan on a new channel; the handle ends when the
    /// channel has hung up.
    fn call(&self, exten: &str) -> (Arc<Channel>, Arc<TestDriver>, tokio::task::JoinHandle<()>) {
        let (channel, driver) = self.channel(exten, None);
        let pbx = Pbx::new(Arc::clone(&self.executor), Arc::clone(&channel)).expect("pbx");
        let run = tokio::spawn(obelus_apps::pbx::run(pbx));
        (channel, driver, run)
    }

    async fn http(&self, method: &str, path: &str) -> Response {
        self.send(
            method,
            path,
            &[("Authorization", basic("ari:secret"))],
            None,
        )
        .await
    }

    async fn http_json(&self, method: &str, path: &str, body: &str) -> Response {
        self.send(
            method,
            path,
            &[("Authorization", basic("ari:secret"))],
            Some(("application/json", body)),
        )
        .await
    }

    async fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, String)],
        body: Option<(&str, &str)>,
    ) -> Response {
        let mut stream = TcpStream::connect(self.addr).await.expect("connect");
        let mut request =
            format!("{method} {path} HTTP/1.1\r\nHost: pbx.example:8088\r\nConnection: close\r\n");
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        match body {
            Some((content_type, body)) => request.push_str(&format!(
                "Content-Type: {content_type}\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            )),
            None => request.push_str("\r\n"),
        }
        stream.write_all(request.as_bytes()).await.expect("write");
        let mut raw = Vec::new();
        tokio::time::timeout(PATIENCE, stream.read_to_end(&mut raw))
            .await
            .expect("response in time")
            .expect("read");
        Response::parse(&raw)
    }

    async fn events(&self, apps: &str) -> Events {
        let stream = TcpStream::connect(self.addr).await.expect("connect");
        let url = format!(
            "ws://{}/ari/events?app={apps}&api_key=ari:secret",
            self.addr
        );
        let (ws, response) = tokio_tungstenite::client_async(url, stream)
            .await
            .expect("websocket upgrade");
        assert_eq!(response.status(), 101);
        Events { ws }
    }
}

fn basic(credentials: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(credentials)
    )
}

#[derive(Debug)]
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Response {
    fn parse(raw: &[u8]) -> Response {
        let text = String::from_utf8_lossy(raw).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").expect("header end");
        let mut lines = head.lines();
        let status = lines
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|s| s.parse().ok())
            .expect("status line");
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        Response {
            status,
            headers,
            body: body.to_owned(),
        }
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }
}

struct Events {
    ws: WebSocketStream<TcpStream>,
}

impl Events {
    /// The next event.
    async fn next(&mut self) -> Value {
        loop {
            let message = tokio::time::timeout(PATIENCE, self.ws.next())
                .await
                .expect("an event in time")
                .expect("socket open")
                .expect("a frame");
            if let Message::Text(text) = message {
                return serde_json::from_str(text.as_str()).expect("event is JSON");
            }
        }
    }

    /// The next event of `kind`, with the types of those skipped before it.
    async fn until(&mut self, kind: &str) -> (Value, Vec<String>) {
        let mut skipped = Vec::new();
        loop {
            let event = self.next().await;
            if event["type"] == kind {
                return (event, skipped);
            }
            skipped.push(event["type"].as_str().unwrap_or_default().to_owned());
        }
    }
}

/// Waits until `check` holds (for state changed by another task).
async fn eventually(mut check: impl FnMut() -> bool) {
    tokio::time::timeout(PATIENCE, async {
        while !check() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("condition reached in time");
}

// ---------------------------------------------------------------- tests

#[tokio::test]
async fn stasis_start_answer_continue_and_end() {
    let h = harness().await;
    let mut events = h.events("test").await;
    let (channel, driver, run) = h.call("1");
    let id = channel.uniqueid().to_owned();

    let (start, _) = events.until("StasisStart").await;
    assert_eq!(start["application"], "test");
    assert_eq!(start["args"], serde_json::json!(["a", "b"]));
    assert_eq!(start["channel"]["id"], id.as_str());
    assert_eq!(start["channel"]["state"], "Ring");
    assert_eq!(start["channel"]["caller"]["number"], "101");
    assert_eq!(start["channel"]["dialplan"]["app_name"], "Stasis");
    assert_eq!(start["channel"]["dialplan"]["app_data"], "test,a,b");
    assert_eq!(start["asterisk_id"], h.ari.entity_id());
    let timestamp = start["timestamp"].as_str().expect("timestamp");
    assert_eq!(timestamp.len(), "2026-11-23T19:25:10.432+0000".len());

    let answered = h.http("POST", &format!("/ari/channels/{id}/answer")).await;
    assert_eq!(answered.status, 204, "{}", answered.body);
    assert!(driver.log().contains(&"answer".to_owned()));
    let (state, _) = events.until("ChannelStateChange").await;
    assert_eq!(state["channel"]["state"], "Up");

    channel.announce(ChannelEventKind::DtmfEnd {
        digit: '5',
        duration_ms: 120,
        direction: "Received",
    });
    let (dtmf, _) = events.until("ChannelDtmfReceived").await;
    assert_eq!(dtmf["digit"], "5");
    assert_eq!(dtmf["duration_ms"], 120);
    assert_eq!(dtmf["channel"]["id"], id.as_str());

    let got = h.http("GET", &format!("/ari/channels/{id}")).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.header("content-type"), Some("application/json"));
    assert_eq!(got.header("cache-control"), Some("no-cache, no-store"));
    assert_eq!(got.json()["state"], "Up");
    let listed = h.http("GET", "/ari/channels").await.json();
    assert_eq!(listed[0]["id"], id.as_str());

    let set = h
        .http(
            "POST",
            &format!("/ari/channels/{id}/variable?variable=FOO&value=bar"),
        )
        .await;
    assert_eq!(set.status, 204);
    let (varset, _) = events.until("ChannelVarset").await;
    assert_eq!(varset["variable"], "FOO");
    assert_eq!(varset["value"], "bar");
    let value = h
        .http("GET", &format!("/ari/channels/{id}/variable?variable=FOO"))
        .await;
    assert_eq!(value.json(), serde_json::json!({"value": "bar"}));
    let function = h
        .http(
            "GET",
            &format!("/ari/channels/{id}/variable?variable=CALLERID(num)"),
        )
        .await;
    assert_eq!(function.json()["value"], "101");
    let missing = h
        .http("GET", &format!("/ari/channels/{id}/variable?variable=NOPE"))
        .await;
    assert_eq!(missing.status, 404);

    let dtmf = h
        .http(
            "POST",
            &format!("/ari/channels/{id}/dtmf?dtmf=12&between=10&duration=100"),
        )
        .await;
    assert_eq!(dtmf.status, 204);
    assert!(driver.log().contains(&"digit 2".to_owned()));

    let cont = h
        .http("POST", &format!("/ari/channels/{id}/continue?extension=2"))
        .await;
    assert_eq!(cont.status, 204, "{}", cont.body);
    let (end, _) = events.until("StasisEnd").await;
    assert_eq!(end["channel"]["id"], id.as_str());
    tokio::time::timeout(PATIENCE, run)
        .await
        .expect("call ends")
        .expect("no panic");
    assert_eq!(channel.var("CONTINUED").as_deref(), Some("yes"));
    assert_eq!(channel.var("STASISSTATUS").as_deref(), Some("SUCCESS"));
    assert_eq!(driver.log().last().map(String::as_str), Some("hangup 16"));
    let gone = h.http("GET", &format!("/ari/channels/{id}")).await;
    assert_eq!(gone.status, 404);
    assert_eq!(gone.body, r#"{"message":"Channel not found"}"#);
}

#[tokio::test]
async fn stasis_without_a_connected_app_fails_and_continues() {
    let h = harness().await;
    let (channel, _, run) = h.call("3");
    tokio::time::timeout(PATIENCE, run)
        .await
        .expect("call ends")
        .expect("no panic");
    assert_eq!(channel.var("AFTER").as_deref(), Some("FAILED"));
}

#[tokio::test]
async fn a_hangup_ends_stasis_in_order() {
    let h = harness().await;
    let mut events = h.events("test").await;
    let (channel, driver, run) = h.call("1");
    let id = channel.uniqueid().to_owned();
    events.until("StasisStart").await;
    let deleted = h
        .http("DELETE", &format!("/ari/channels/{id}?reason=busy"))
        .await;
    assert_eq!(deleted.status, 204);
    let (request, _) = events.until("ChannelHangupRequest").await;
    assert_eq!(request["cause"], 17);
    let (end, skipped) = events.until("StasisEnd").await;
    assert!(skipped.is_empty(), "{skipped:?}");
    assert_eq!(end["channel"]["id"], id.as_str());
    tokio::time::timeout(PATIENCE, run)
        .await
        .expect("call ends")
        .expect("no panic");
    assert_eq!(driver.log().last().map(String::as_str), Some("hangup 17"));
    // Not in Stasis any more: control operations are refused.
    let (other, _, _run2) = h.call("2");
    let refused = h
        .http(
            "POST",
            &format!("/ari/channels/{}/answer", other.uniqueid()),
        )
        .await;
    assert!(
        refused.status == 409 || refused.status == 404,
        "{} {}",
        refused.status,
        refused.body
    );
}

#[tokio::test]
async fn authentication_and_errors() {
    let h = harness().await;
    let anonymous = h.send("GET", "/ari/asterisk/info", &[], None).await;
    assert_eq!(anonymous.status, 401);
    assert_eq!(
        anonymous.header("www-authenticate"),
        Some("Basic realm=\"Asterisk REST Interface\"")
    );
    assert_eq!(anonymous.json()["message"], "Authentication required");
    let wrong = h
        .send(
            "GET",
            "/ari/asterisk/info",
            &[("Authorization", basic("ari:nope"))],
            None,
        )
        .await;
    assert_eq!(wrong.status, 401);
    let key = h
        .send("GET", "/ari/asterisk/ping?api_key=ari:secret", &[], None)
        .await;
    assert_eq!(key.status, 200);
    assert_eq!(key.json()["ping"], "pong");

    let viewer = [("Authorization", basic("viewer:look"))];
    let read = h.send("GET", "/ari/channels", &viewer, None).await;
    assert_eq!(read.status, 200);
    assert_eq!(read.body, "[]");
    let write = h.send("POST", "/ari/bridges", &viewer, None).await;
    assert_eq!(write.status, 403);
    assert_eq!(write.json()["message"], "Write access denied");

    let unknown = h.http("GET", "/ari/nothing").await;
    assert_eq!(unknown.status, 404);
    let slash = h.http("GET", "/ari/channels/").await;
    assert_eq!(slash.status, 404);
    let method = h.http("PATCH", "/ari/channels").await;
    assert_eq!(method.status, 405);
    assert_eq!(method.header("allow"), Some("GET, POST"));
    // What Obelus cannot do answers 501, as Asterisk does for it.
    let not_yet = h
        .http(
            "POST",
            "/ari/channels/externalMedia?app=test&format=ulaw&external_host=127.0.0.1:9&encapsulation=audiosocket&transport=tcp",
        )
        .await;
    assert_eq!(not_yet.status, 501);
    assert!(not_yet.json()["message"].as_str().is_some());
    let bad_json = h.http_json("POST", "/ari/bridges", "{oops").await;
    assert_eq!(bad_json.status, 400);
    let bad_param = h
        .http(
            "POST",
            "/ari/channels?endpoint=Test/1&extension=1&timeout=soon",
        )
        .await;
    assert_eq!(bad_param.status, 400);
    let no_endpoint = h.http("POST", "/ari/channels?extension=1").await;
    assert_eq!(no_endpoint.json()["message"], "Endpoint must be specified");
    let channel_404 = h.http("POST", "/ari/channels/nope/answer").await;
    assert_eq!(channel_404.status, 404);

    let cors = h
        .send(
            "GET",
            "/ari/asterisk/ping",
            &[
                ("Authorization", basic("ari:secret")),
                ("Origin", "http://app.example".to_owned()),
            ],
            None,
        )
        .await;
    assert_eq!(
        cors.header("access-control-allow-origin"),
        Some("http://app.example")
    );
    let upgrade = [
        ("Upgrade", "websocket".to_owned()),
        ("Connection", "Upgrade".to_owned()),
        ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==".to_owned()),
        ("Sec-WebSocket-Version", "13".to_owned()),
    ];
    let bad_ws = h
        .send(
            "GET",
            "/ari/events?app=rawtest&api_key=ari:wrong",
            &upgrade,
            None,
        )
        .await;
    assert_eq!(bad_ws.status, 401);
    assert_eq!(bad_ws.body, r#"{"message":"Authentication required"}"#);
    let no_app = h
        .send("GET", "/ari/events?api_key=ari:secret", &upgrade, None)
        .await;
    assert_eq!(no_app.status, 400);
    assert_eq!(
        no_app.json()["message"],
        "HTTP request is missing param: [app]"
    );
    let not_upgraded = h.http("GET", "/ari/events?app=x").await;
    assert_eq!(not_upgraded.status, 426);
    let info = h.http("GET", "/ari/asterisk/info?only=system").await.json();
    assert_eq!(info["system"]["entity_id"], h.ari.entity_id());
    assert!(info.get("build").is_none());
}

#[tokio::test]
async fn api_docs_are_served_from_the_route_table() {
    let h = harness().await;
    let listing = h.http("GET", "/ari/api-docs/resources.json").await;
    assert_eq!(listing.status, 200);
    let listing = listing.json();
    assert_eq!(listing["swaggerVersion"], "1.1");
    assert_eq!(listing["basePath"], "http://pbx.example:8088/ari");
    assert_eq!(listing["apis"].as_array().map(Vec::len), Some(11));
    let channels = h.http("GET", "/ari/api-docs/channels.json").await.json();
    assert_eq!(channels["resourcePath"], "/api-docs/channels.{format}");
    assert_eq!(channels["basePath"], "http://pbx.example:8088/ari");
    assert!(channels["models"]["Channel"]["properties"]["state"].is_object());
    let events = h.http("GET", "/ari/api-docs/events.json").await.json();
    assert_eq!(events["apis"][0]["operations"][0]["upgrade"], "websocket");
    assert_eq!(h.http("GET", "/ari/api-docs/nope.json").await.status, 404);
    assert_eq!(
        h.http("POST", "/ari/api-docs/resources.json").await.status,
        405
    );
    let anonymous = h
        .send("GET", "/ari/api-docs/resources.json", &[], None)
        .await;
    assert_eq!(anonymous.status, 401);
}

#[tokio::test]
async fn applications_subscriptions_and_replacement() {
    let h = harness().await;
    let mut first = h.events("test,other").await;
    let apps = h.http("GET", "/ari/applications").await.json();
    assert_eq!(apps.as_array().map(Vec::len), Some(2));
    assert_eq!(
        apps[1],
        serde_json::json!({"name": "test", "channel_ids": [], "bridge_ids": [],
            "endpoint_ids": [], "device_names": [], "events_allowed": [], "events_disallowed": []})
    );
    assert_eq!(h.http("GET", "/ari/applications/none").await.status, 404);

    let (channel, _, _run) = h.call("4");
    first.until("StasisStart").await;
    let sub = h
        .http(
            "POST",
            &format!(
                "/ari/applications/other/subscription?eventSource=channel:{}",
                channel.uniqueid()
            ),
        )
        .await;
    assert_eq!(sub.status, 200, "{}", sub.body);
    assert_eq!(sub.json()["channel_ids"][0], channel.uniqueid());
    let bad = h
        .http(
            "POST",
            "/ari/applications/other/subscription?eventSource=channel:nope",
        )
        .await;
    assert_eq!(bad.status, 422);
    let scheme = h
        .http(
            "POST",
            "/ari/applications/other/subscription?eventSource=moon:1",
        )
        .await;
    assert_eq!(scheme.status, 400);
    let filter = h
        .http_json(
            "PUT",
            "/ari/applications/other/eventFilter",
            r#"{"allowed":[{"type":"ChannelVarset"}]}"#,
        )
        .await;
    assert_eq!(filter.json()["events_allowed"][0]["type"], "ChannelVarset");

    let mut second = h.events("test").await;
    let (replaced, _) = first.until("ApplicationReplaced").await;
    assert_eq!(replaced["application"], "test");
    // The new socket gets the app's events now.
    let (stasis, _, _run3) = h.call("4");
    let (start, _) = second.until("StasisStart").await;
    assert_eq!(start["channel"]["id"], stasis.uniqueid());
    stasis.request_hangup(Cause::NORMAL_CLEARING);
    second.until("StasisEnd").await;
}

#[tokio::test]
async fn bridges_join_channels_in_stasis() {
    let h = harness().await;
    let mut events = h.events("test").await;
    let (a, _, run_a) = h.call("4");
    let (b, _, run_b) = h.call("4");
    events.until("StasisStart").await;
    events.until("StasisStart").await;

    let created = h
        .http_json(
            "POST",
            "/ari/bridges",
            r#"{"type": "mixing", "name": "benchbridge"}"#,
        )
        .await;
    assert_eq!(created.status, 200, "{}", created.body);
    let bridge = created.json();
    let id = bridge["id"].as_str().expect("id").to_owned();
    assert_eq!(bridge["bridge_type"], "mixing");
    assert_eq!(bridge["bridge_class"], "stasis");
    assert_eq!(bridge["creator"], "Stasis");
    assert_eq!(bridge["name"], "benchbridge");
    assert_eq!(bridge["channels"], serde_json::json!([]));

    let add = h
        .http_json(
            "POST",
            &format!("/ari/bridges/{id}/addChannel"),
            &format!(r#"{{"channel": "{},{}"}}"#, a.uniqueid(), b.uniqueid()),
        )
        .await;
    assert_eq!(add.status, 204, "{}", add.body);
    let (entered, _) = events.until("ChannelEnteredBridge").await;
    assert_eq!(entered["bridge"]["id"], id.as_str());
    assert_eq!(entered["channel"]["id"], a.uniqueid());
    let (entered, _) = events.until("ChannelEnteredBridge").await;
    assert_eq!(
        entered["bridge"]["channels"].as_array().map(Vec::len),
        Some(2)
    );
    let got = h.http("GET", &format!("/ari/bridges/{id}")).await.json();
    assert_eq!(
        got["channels"],
        serde_json::json!([a.uniqueid(), b.uniqueid()])
    );
    assert_eq!(
        h.http("GET", "/ari/bridges").await.json()[0]["id"],
        id.as_str()
    );
    let not_in_stasis = h
        .http(
            "POST",
            &format!("/ari/bridges/{id}/addChannel?channel=nope"),
        )
        .await;
    assert_eq!(not_in_stasis.status, 400);

    let removed = h
        .http(
            "POST",
            &format!("/ari/bridges/{id}/removeChannel?channel={}", a.uniqueid()),
        )
        .await;
    assert_eq!(removed.status, 204);
    let (left, _) = events.until("ChannelLeftBridge").await;
    assert_eq!(left["channel"]["id"], a.uniqueid());
    let again = h
        .http(
            "POST",
            &format!("/ari/bridges/{id}/removeChannel?channel={}", a.uniqueid()),
        )
        .await;
    assert_eq!(again.status, 422);

    // Hanging up a member takes it out of the bridge before StasisEnd.
    b.request_hangup(Cause::NORMAL_CLEARING);
    let (_, skipped) = events.until("StasisEnd").await;
    assert!(
        skipped.contains(&"ChannelLeftBridge".to_owned()),
        "{skipped:?}"
    );
    let destroyed = h.http("DELETE", &format!("/ari/bridges/{id}")).await;
    assert_eq!(destroyed.status, 204);
    let (gone, _) = events.until("BridgeDestroyed").await;
    assert_eq!(gone["bridge"]["id"], id.as_str());
    assert_eq!(
        h.http("GET", &format!("/ari/bridges/{id}")).await.status,
        404
    );
    a.request_hangup(Cause::NORMAL_CLEARING);
    for run in [run_a, run_b] {
        tokio::time::timeout(PATIENCE, run)
            .await
            .expect("call ends")
            .expect("no panic");
    }
}

#[tokio::test]
async fn a_missing_sound_fails_its_playback() {
    let h = harness().await;
    let mut events = h.events("test").await;
    let (channel, _, _run) = h.call("4");
    events.until("StasisStart").await;
    let id = channel.uniqueid();
    let play = h
        .http_json(
            "POST",
            &format!("/ari/channels/{id}/play"),
            r#"{"media": "sound:beep", "playbackId": "pb-1"}"#,
        )
        .await;
    assert_eq!(play.status, 201, "{}", play.body);
    assert_eq!(play.header("location"), Some("/ari/playbacks/pb-1"));
    assert_eq!(
        play.body,
        format!(
            r#"{{"id":"pb-1","media_uri":"sound:beep","target_uri":"channel:{id}","language":"en","state":"queued"}}"#
        )
    );
    let (started, _) = events.until("PlaybackStarted").await;
    assert_eq!(started["playback"]["state"], "playing");
    let (finished, _) = events.until("PlaybackFinished").await;
    assert_eq!(finished["playback"]["state"], "failed");
    assert_eq!(h.http("GET", "/ari/playbacks/pb-1").await.status, 404);
    channel.request_hangup(Cause::NORMAL_CLEARING);
}

#[tokio::test]
async fn a_tone_plays_to_its_end_on_the_media_stream() {
    let h = harness().await;
    let engine = MediaEngine::start(RtpConfig {
        port_start: 41000,
        port_end: 41999,
        workers: 1,
        ..RtpConfig::default()
    })
    .expect("media engine");
    h.core.provide(Arc::clone(&engine));
    let sink = std::net::UdpSocket::bind("127.0.0.1:0").expect("sink");
    let stream = Arc::new(
        engine
            .open("127.0.0.1".parse().expect("ip"))
            .expect("stream"),
    );
    stream.configure(StreamParams {
        remote: Some(sink.local_addr().expect("addr")),
        ..StreamParams::new(Codec::Ulaw)
    });
    let mut stream_events = stream.take_events().expect("events");
    let mut events = h.events("test").await;
    let (channel, _) = h.channel("4", Some(Arc::clone(&stream)));
    let relay = Arc::clone(&channel);
    tokio::spawn(async move {
        while let Some(event) = stream_events.recv().await {
            if let StreamEvent::PlaybackFinished { id, completed } = event {
                relay.queue(Control::PlaybackFinished { id, completed });
            }
        }
    });
    let pbx = Pbx::new(Arc::clone(&h.executor), Arc::clone(&channel)).expect("pbx");
    let run = tokio::spawn(obelus_apps::pbx::run(pbx));
    events.until("StasisStart").await;
    let id = channel.uniqueid();
    let play = h
        .http(
            "POST",
            &format!("/ari/channels/{id}/play?media=tone:!1000/100,tone:!500/60"),
        )
        .await;
    assert_eq!(play.status, 201, "{}", play.body);
    let playback_id = play.json()["id"].as_str().expect("id").to_owned();
    let (started, _) = events.until("PlaybackStarted").await;
    assert_eq!(started["playback"]["id"], playback_id.as_str());
    assert_eq!(started["playback"]["next_media_uri"], "tone:!500/60");
    let (continuing, _) = events.until("PlaybackContinuing").await;
    assert_eq!(continuing["playback"]["media_uri"], "tone:!500/60");
    let (finished, _) = events.until("PlaybackFinished").await;
    assert_eq!(finished["playback"]["state"], "done");
    eventually(|| stream.stats().packets_tx > 0).await;

    // An endless tone is stopped by DELETE.
    let play = h
        .http(
            "POST",
            &format!("/ari/channels/{id}/play/endless?media=tone:ring"),
        )
        .await;
    assert_eq!(play.status, 201);
    events.until("PlaybackStarted").await;
    assert_eq!(
        h.http("GET", "/ari/playbacks/endless").await.json()["state"],
        "playing"
    );
    assert_eq!(h.http("DELETE", "/ari/playbacks/endless").await.status, 204);
    let (finished, _) = events.until("PlaybackFinished").await;
    assert_eq!(finished["playback"]["id"], "endless");
    assert_eq!(finished["playback"]["state"], "done");
    channel.request_hangup(Cause::NORMAL_CLEARING);
    tokio::time::timeout(PATIENCE, run)
        .await
        .expect("call ends")
        .expect("no panic");
    engine.stop();
}

#[tokio::test]
async fn originate_into_an_application() {
    let h = harness().await;
    let mut events = h.events("test").await;
    let created = h
        .http_json(
            "POST",
            "/ari/channels?endpoint=Test/102&app=test&appArgs=x,y&channelId=my-call",
            r#"{"variables": {"GREETING": "hello", "OTHER": {"value": "1"}}}"#,
        )
        .await;
    assert_eq!(created.status, 200, "{}", created.body);
    let channel = created.json();
    assert_eq!(channel["id"], "my-call");
    assert!(
        channel["name"]
            .as_str()
            .is_some_and(|n| n.starts_with("Test/102-"))
    );
    let (dial, _) = events.until("Dial").await;
    assert_eq!(dial["peer"]["id"], "my-call");
    let (start, skipped) = events.until("StasisStart").await;
    assert!(skipped.contains(&"Dial".to_owned()), "{skipped:?}");
    assert_eq!(start["args"], serde_json::json!(["x", "y"]));
    assert_eq!(start["channel"]["id"], "my-call");
    assert_eq!(start["channel"]["state"], "Up");
    let var = h
        .http("GET", "/ari/channels/my-call/variable?variable=GREETING")
        .await;
    assert_eq!(var.json()["value"], "hello");
    let taken = h
        .http(
            "POST",
            "/ari/channels?endpoint=Test/103&app=test&channelId=my-call",
        )
        .await;
    assert_eq!(taken.status, 409);
    let bad = h
        .http("POST", "/ari/channels?endpoint=Nope/1&app=test")
        .await;
    assert_eq!(bad.status, 400);
    assert_eq!(h.http("DELETE", "/ari/channels/my-call").await.status, 204);
    events.until("StasisEnd").await;
    let (destroyed, _) = events.until("ChannelDestroyed").await;
    assert_eq!(destroyed["channel"]["id"], "my-call");
    assert_eq!(destroyed["cause"], 16);
    assert_eq!(destroyed["cause_txt"], "Normal Clearing");
}

#[tokio::test]
async fn a_client_that_never_reads_is_dropped_without_stalling_calls() {
    let h = harness().await;
    // Subscribed to everything, never read.
    let stream = TcpStream::connect(h.addr).await.expect("connect");
    let url = format!(
        "ws://{}/ari/events?app=slow&subscribeAll=true&api_key=ari:secret",
        h.addr
    );
    let (_silent, _) = tokio_tungstenite::client_async(url, stream)
        .await
        .expect("upgrade");
    assert!(h.ari.app_names().contains(&"slow".to_owned()));
    let (channel, _) = h.channel("2", None);
    let big = "x".repeat(4096);
    // Far more than the socket queue and the kernel buffers hold; setting
    // variables never waits for the client.
    for i in 0..4000 {
        channel.set_var(&format!("V{i}"), &big);
    }
    eventually(|| !h.ari.app_names().contains(&"slow".to_owned())).await;
}

#[tokio::test]
async fn device_states_of_stasis_devices() {
    let h = harness().await;
    let mut events = h.events("test").await;
    let sub = h
        .http(
            "POST",
            "/ari/applications/test/subscription?eventSource=deviceState:Stasis:door",
        )
        .await;
    assert_eq!(sub.status, 200);
    let put = h
        .http("PUT", "/ari/deviceStates/Stasis:door?deviceState=BUSY")
        .await;
    assert_eq!(put.status, 204, "{}", put.body);
    let (changed, _) = events.until("DeviceStateChanged").await;
    assert_eq!(
        changed["device_state"],
        serde_json::json!({"name": "Stasis:door", "state": "BUSY"})
    );
    let list = h.http("GET", "/ari/deviceStates").await.json();
    assert_eq!(
        list,
        serde_json::json!([{"name": "Stasis:door", "state": "BUSY"}])
    );
    let other = h
        .http("PUT", "/ari/deviceStates/PJSIP/101?deviceState=BUSY")
        .await;
    assert_eq!(other.status, 404);
    let uncontrolled = h
        .http("PUT", "/ari/deviceStates/PJSIP%2F101?deviceState=BUSY")
        .await;
    assert_eq!(uncontrolled.status, 409);
    let bad = h
        .http("PUT", "/ari/deviceStates/Stasis:door?deviceState=ASLEEP")
        .await;
    assert_eq!(bad.status, 400);
    assert_eq!(
        h.http("DELETE", "/ari/deviceStates/Stasis:door")
            .await
            .status,
        204
    );
    assert_eq!(h.http("GET", "/ari/deviceStates").await.body, "[]");
}

// ------------------------------------------------------------ recordings

/// A channel in `Stasis(test)` whose media stream talks to `phone`, a UDP
/// socket of the test playing the far end. With `relay`, the stream's
/// playback ends reach the channel, as the SIP driver passes them on.
struct MediaCall {
    channel: Arc<Channel>,
    stream: Arc<Stream>,
    phone: std::net::UdpSocket,
    run: tokio::task::JoinHandle<()>,
    engine: Arc<MediaEngine>,
}

async fn media_call(h: &Harness, events: &mut Events, relay: bool) -> MediaCall {
    let engine = MediaEngine::start(RtpConfig {
        port_start: 44000,
        port_end: 45999,
        workers: 1,
        ..RtpConfig::default()
    })
    .expect("media engine");
    h.core.provide(Arc::clone(&engine));
    let phone = std::net::UdpSocket::bind("127.0.0.1:0").expect("phone");
    let stream = Arc::new(
        engine
            .open("127.0.0.1".parse().expect("ip"))
            .expect("stream"),
    );
    stream.configure(StreamParams {
        remote: Some(phone.local_addr().expect("addr")),
        ..StreamParams::new(Codec::Ulaw)
    });
    let mut stream_events = stream.take_events().expect("events");
    let (channel, _) = h.channel("4", Some(Arc::clone(&stream)));
    let target = Arc::clone(&channel);
    tokio::spawn(async move {
        while let Some(event) = stream_events.recv().await {
            if let (true, StreamEvent::PlaybackFinished { id, completed }) = (relay, event) {
                target.queue(Control::PlaybackFinished { id, completed });
            }
        }
    });
    let pbx = Pbx::new(Arc::clone(&h.executor), Arc::clone(&channel)).expect("pbx");
    let run = tokio::spawn(obelus_apps::pbx::run(pbx));
    events.until("StasisStart").await;
    MediaCall {
        channel,
        stream,
        phone,
        run,
        engine,
    }
}

impl MediaCall {
    /// The phone says `freq` Hz for `frames` 20 ms packets, in a thread.
    fn talk(&self, freq: f32, frames: usize) -> std::thread::JoinHandle<()> {
        let phone = self.phone.try_clone().expect("clone");
        let to = self.stream.local_addr();
        std::thread::spawn(move || {
            let pcm = obelus_media::analysis::sine(8000, freq, 8000.0, 160 * frames);
            let mut encoder = obelus_media::Encoder::new(Codec::Ulaw);
            for (seq, frame) in pcm.chunks(160).enumerate() {
                let mut payload = [0u8; 160];
                let n = encoder.encode(frame, &mut payload);
                let header = obelus_media::rtp::RtpHeader {
                    marker: seq == 0,
                    payload_type: 0,
                    sequence: seq as u16,
                    timestamp: seq as u32 * 160,
                    ssrc: 0x0bad_cafe,
                };
                let mut packet = [0u8; 200];
                let len = obelus_media::rtp::build_packet(&header, &payload[..n], &mut packet)
                    .expect("packet");
                let _ = phone.send_to(&packet[..len], to);
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    }

    /// Waits until the phone receives a packet that is loud (or silent).
    async fn hears(&self, loud: bool) {
        let phone = self.phone.try_clone().expect("clone");
        let found = tokio::task::spawn_blocking(move || {
            phone
                .set_read_timeout(Some(Duration::from_millis(100)))
                .expect("timeout");
            let deadline = std::time::Instant::now() + PATIENCE;
            let mut buf = [0u8; 1500];
            let mut decoder = obelus_media::Decoder::new(Codec::Ulaw);
            while std::time::Instant::now() < deadline {
                let Ok(n) = phone.recv(&mut buf) else {
                    continue;
                };
                let Ok(packet) = obelus_media::rtp::RtpPacket::parse(&buf[..n]) else {
                    continue;
                };
                let mut pcm = [0i16; 1024];
                let m = decoder.decode(packet.payload, &mut pcm);
                let power = obelus_media::analysis::signal_power(&pcm[..m]);
                if (power > 1e5) == loud {
                    return true;
                }
            }
            false
        })
        .await
        .expect("no panic");
        assert!(
            found,
            "the phone never heard a {} packet",
            if loud { "loud" } else { "silent" }
        );
    }

    async fn hang_up(self) {
        self.channel.request_hangup(Cause::NORMAL_CLEARING);
        tokio::time::timeout(PATIENCE, self.run)
            .await
            .expect("call ends")
            .expect("no panic");
        self.engine.stop();
    }
}

/// Writes an 8 kHz tone as `<data>/sounds/en/<name>.wav`.
fn install_tone(h: &Harness, name: &str, freq: f32, ms: usize) {
    let dir = h.core.settings.dirs.data.join("sounds/en");
    std::fs::create_dir_all(&dir).expect("sounds dir");
    let pcm = obelus_media::analysis::sine(8000, freq, 8000.0, 8 * ms);
    obelus_media::sound::write_wav(dir.join(format!("{name}.wav")), 8000, &pcm).expect("wav");
}

#[tokio::test]
async fn a_channel_recording_takes_what_the_caller_says_after_the_beep() {
    let h = harness().await;
    install_tone(&h, "beep", 1000.0, 200);
    let mut events = h.events("test").await;
    let call = media_call(&h, &mut events, true).await;
    let id = call.channel.uniqueid().to_owned();
    let talk = call.talk(600.0, 150);
    let created = h
        .http(
            "POST",
            &format!(
                "/ari/channels/{id}/record?name=t/one&format=sln&maxDurationSeconds=1&beep=yes"
            ),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(
        created.header("location"),
        Some("/ari/recordings/live/t%2Fone")
    );
    assert_eq!(
        created.body,
        format!(
            r#"{{"name":"t/one","format":"sln","state":"queued","target_uri":"channel:{id}"}}"#
        )
    );
    // The beep comes first, then the recording.
    call.hears(true).await;
    let (started, _) = events.until("RecordingStarted").await;
    assert_eq!(started["recording"]["state"], "recording");
    // It ends by itself at its limit.
    let (finished, _) = events.until("RecordingFinished").await;
    let mut recording = finished["recording"].clone();
    let duration = recording["duration"].take();
    assert!(duration.as_u64().is_some_and(|d| d <= 1), "{duration}");
    assert_eq!(
        recording,
        serde_json::json!({"name": "t/one", "format": "sln", "state": "done",
            "target_uri": format!("channel:{id}"), "duration": null})
    );
    let bytes = std::fs::read(h.core.settings.dirs.spool.join("recording/t/one.sln"))
        .expect("the recording file");
    let samples: Vec<i16> = bytes
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect();
    assert!(samples.len() >= 4000, "{} samples", samples.len());
    let share = obelus_media::analysis::goertzel_power(&samples, 8000, 600.0)
        / obelus_media::analysis::signal_power(&samples).max(1.0);
    assert!(share > 0.8, "600 Hz is {share:.2} of the recording");
    let stored = h.http("GET", "/ari/recordings/stored/t%2Fone/file").await;
    assert_eq!(stored.header("content-type"), Some("audio/sln"));
    talk.join().expect("talked");
    call.hang_up().await;
}

#[tokio::test]
async fn recordings_stop_on_their_key_on_hangup_and_not_before_they_start() {
    let h = harness().await;
    install_tone(&h, "beep", 1000.0, 200);
    let mut events = h.events("test").await;
    // Playback ends are not passed on: the beep is waited for to its
    // length and a bit, so the recording stays queued meanwhile.
    let call = media_call(&h, &mut events, false).await;
    let id = call.channel.uniqueid().to_owned();
    let created = h
        .http(
            "POST",
            &format!("/ari/channels/{id}/record?name=keyed&format=wav&beep=true&terminateOn=%23"),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let queued = h.http("POST", "/ari/recordings/live/keyed/pause").await;
    assert_eq!(queued.status, 409, "{}", queued.body);
    assert_eq!(queued.json()["message"], "Recording not in session");
    events.until("RecordingStarted").await;
    // Another key does nothing; the terminating one ends it.
    call.channel.queue(Control::Dtmf {
        digit: '1',
        duration_ms: 100,
    });
    call.channel.queue(Control::Dtmf {
        digit: '#',
        duration_ms: 100,
    });
    let (finished, _) = events.until("RecordingFinished").await;
    assert_eq!(finished["recording"]["state"], "done");
    assert_eq!(
        h.http("GET", "/ari/recordings/live/keyed").await.status,
        404
    );
    let stored = h.http("GET", "/ari/recordings/stored/keyed").await;
    assert_eq!(
        stored.json(),
        serde_json::json!({"name": "keyed", "format": "wav"})
    );
    let exists = h
        .http(
            "POST",
            &format!("/ari/channels/{id}/record?name=keyed&format=wav"),
        )
        .await;
    assert_eq!(exists.status, 409, "ifExists=fail: {}", exists.body);

    // A recording running when the caller hangs up is finished and kept.
    let created = h
        .http(
            "POST",
            &format!("/ari/channels/{id}/record?name=keyed&format=wav&ifExists=append"),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    events.until("RecordingStarted").await;
    call.hang_up().await;
    // It ends before the channel leaves the application.
    let (finished, skipped) = events.until("RecordingFinished").await;
    assert_eq!(finished["recording"]["state"], "done");
    assert!(!skipped.contains(&"StasisEnd".to_owned()), "{skipped:?}");
    assert_eq!(
        h.http("GET", "/ari/recordings/stored/keyed").await.status,
        200
    );
}

#[tokio::test]
async fn bridge_recordings_need_a_mixing_bridge() {
    let h = harness().await;
    let mut events = h.events("test").await;
    let holding = h
        .http("POST", "/ari/bridges?type=holding&bridgeId=hold")
        .await;
    assert_eq!(holding.status, 200, "{}", holding.body);
    let (channel, _, _run) = h.call("4");
    events.until("StasisStart").await;
    let add = h
        .http(
            "POST",
            &format!(
                "/ari/bridges/hold/addChannel?channel={}",
                channel.uniqueid()
            ),
        )
        .await;
    assert_eq!(add.status, 204);
    let bad = h
        .http("POST", "/ari/bridges/hold/record?name=h&format=gsm")
        .await;
    assert_eq!(bad.status, 422);
    let missing = h
        .http("POST", "/ari/bridges/nope/record?name=h&format=wav")
        .await;
    assert_eq!(missing.status, 404);
    let created = h
        .http("POST", "/ari/bridges/hold/record?name=h&format=wav")
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let (failed, _) = events.until("RecordingFailed").await;
    assert_eq!(failed["recording"]["state"], "failed");
    assert_eq!(failed["recording"]["target_uri"], "bridge:hold");
    assert!(
        failed["recording"]["cause"]
            .as_str()
            .is_some_and(|c| !c.is_empty())
    );
    channel.request_hangup(Cause::NORMAL_CLEARING);
    events.until("StasisEnd").await;

    // A mixing bridge's recording ends, with its event, when the bridge
    // is destroyed.
    let engine = MediaEngine::start(RtpConfig {
        port_start: 46000,
        port_end: 46999,
        workers: 1,
        ..RtpConfig::default()
    })
    .expect("media engine");
    h.core.provide(Arc::clone(&engine));
    let mixing = h.http("POST", "/ari/bridges?bridgeId=mix").await;
    assert_eq!(mixing.status, 200, "{}", mixing.body);
    let (member, _, _run) = h.call("4");
    events.until("StasisStart").await;
    let add = h
        .http(
            "POST",
            &format!("/ari/bridges/mix/addChannel?channel={}", member.uniqueid()),
        )
        .await;
    assert_eq!(add.status, 204);
    let created = h
        .http("POST", "/ari/bridges/mix/record?name=m&format=wav")
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    events.until("RecordingStarted").await;
    assert_eq!(h.http("DELETE", "/ari/bridges/mix").await.status, 204);
    let (finished, skipped) = events.until("RecordingFinished").await;
    assert_eq!(finished["recording"]["target_uri"], "bridge:mix");
    assert!(
        !skipped.contains(&"BridgeDestroyed".to_owned()),
        "{skipped:?}"
    );
    assert_eq!(h.http("GET", "/ari/recordings/stored/m").await.status, 200);
    member.request_hangup(Cause::NORMAL_CLEARING);
    engine.stop();
}

#[tokio::test]
async fn a_paused_playback_is_silent_until_resumed() {
    let h = harness().await;
    install_tone(&h, "long", 800.0, 10_000);
    let mut events = h.events("test").await;
    let call = media_call(&h, &mut events, true).await;
    let id = call.channel.uniqueid().to_owned();
    let play = h
        .http(
            "POST",
            &format!("/ari/channels/{id}/play/long?media=sound:long"),
        )
        .await;
    assert_eq!(play.status, 201, "{}", play.body);
    events.until("PlaybackStarted").await;
    call.hears(true).await;
    let paused = h
        .http("POST", "/ari/playbacks/long/control?operation=pause")
        .await;
    assert_eq!(paused.status, 204, "{}", paused.body);
    assert_eq!(
        h.http("GET", "/ari/playbacks/long").await.json()["state"],
        "paused"
    );
    call.hears(false).await;
    let refused = h
        .http("POST", "/ari/playbacks/long/control?operation=forward")
        .await;
    assert_eq!(refused.status, 409);
    let resumed = h
        .http("POST", "/ari/playbacks/long/control?operation=unpause")
        .await;
    assert_eq!(resumed.status, 204);
    let (started, _) = events.until("PlaybackStarted").await;
    assert_eq!(started["playback"]["state"], "playing");
    call.hears(true).await;
    let skip = h
        .http("POST", "/ari/playbacks/long/control?operation=forward")
        .await;
    assert_eq!(skip.status, 204);
    let bad = h
        .http("POST", "/ari/playbacks/long/control?operation=sideways")
        .await;
    assert_eq!(bad.status, 400);
    assert_eq!(h.http("DELETE", "/ari/playbacks/long").await.status, 204);
    let (finished, _) = events.until("PlaybackFinished").await;
    assert_eq!(finished["playback"]["state"], "done");
    call.hang_up().await;
}

// ------------------------------------------------ create, dial, bridges

#[tokio::test]
async fn a_created_channel_is_bridged_then_dialled() {
    let h = harness().await;
    let mut events = h.events("test").await;
    let created = h
        .http_json(
            "POST",
            "/ari/channels/create?endpoint=Test/102&app=test&appArgs=x&channelId=leg-b",
            r#"{"variables": {"ROLE": "callee"}}"#,
        )
        .await;
    assert_eq!(created.status, 200, "{}", created.body);
    assert_eq!(created.json()["id"], "leg-b");
    assert_eq!(created.json()["state"], "Down");
    // In the application before any call is placed.
    let (start, skipped) = events.until("StasisStart").await;
    assert!(!skipped.contains(&"Dial".to_owned()), "{skipped:?}");
    assert_eq!(start["channel"]["id"], "leg-b");
    assert_eq!(start["channel"]["state"], "Down");
    assert_eq!(start["args"], serde_json::json!(["x"]));
    let role = h
        .http("GET", "/ari/channels/leg-b/variable?variable=ROLE")
        .await;
    assert_eq!(role.json()["value"], "callee");

    for (path, status, message) in [
        (
            "/ari/channels/create?endpoint=Test/103&app=test&channelId=leg-b",
            409,
            "Channel with given unique ID already exists",
        ),
        (
            "/ari/channels/create?endpoint=Test/103&app=test&formats=ulaw,nope",
            400,
            "Provided format (nope) was not found",
        ),
        (
            "/ari/channels/create?endpoint=Test/103&app=test&formats=ulaw&originator=leg-b",
            400,
            "Originator and formats can't both be specified",
        ),
        (
            "/ari/channels/create?endpoint=Test103&app=test",
            400,
            "Invalid endpoint specified",
        ),
    ] {
        let refused = h.http("POST", path).await;
        assert_eq!(refused.status, status, "{path}: {}", refused.body);
        assert_eq!(refused.json()["message"], message, "{path}");
    }

    let (a, _, run_a) = h.call("4");
    events.until("StasisStart").await;
    let bridge = h
        .http_json(
            "POST",
            "/ari/bridges?type=mixing",
            r#"{"variables": {"TOPIC": {"value": "sales", "report_events": true}, "HIDDEN": "1"}}"#,
        )
        .await;
    assert_eq!(bridge.status, 200, "{}", bridge.body);
    let bridge = bridge.json();
    assert_eq!(bridge["bridgevars"], serde_json::json!({"TOPIC": "sales"}));
    let id = bridge["id"].as_str().expect("id").to_owned();
    let add = h
        .http(
            "POST",
            &format!(
                "/ari/bridges/{id}/addChannel?channel={},leg-b",
                a.uniqueid()
            ),
        )
        .await;
    assert_eq!(add.status, 204, "{}", add.body);

    let dial = h
        .http(
            "POST",
            &format!(
                "/ari/channels/leg-b/dial?caller={}&timeout=10",
                a.uniqueid()
            ),
        )
        .await;
    assert_eq!(dial.status, 204, "{}", dial.body);
    let mut statuses = Vec::new();
    while statuses.last().map(String::as_str) != Some("ANSWER") {
        let (dial, _) = events.until("Dial").await;
        assert_eq!(dial["peer"]["id"], "leg-b");
        assert_eq!(dial["caller"]["id"], a.uniqueid());
        if dial["dialstatus"] == "" {
            assert_eq!(dial["dialstring"], "102");
        }
        statuses.push(dial["dialstatus"].as_str().unwrap_or_default().to_owned());
    }
    assert_eq!(statuses, ["", "RINGING", "ANSWER"]);
    eventually(|| {
        h.core
            .channels
            .find("leg-b")
            .is_none_or(|c| c.state() == ChannelState::Up)
    })
    .await;
    let again = h.http("POST", "/ari/channels/leg-b/dial").await;
    assert_eq!(again.status, 409, "{}", again.body);
    assert_eq!(h.http("POST", "/ari/channels/nope/dial").await.status, 404);

    // Bridge variables.
    let set = h
        .http(
            "POST",
            &format!("/ari/bridges/{id}/variable?variable=MOOD&value=calm"),
        )
        .await;
    assert_eq!(set.status, 204, "{}", set.body);
    let got = h
        .http("GET", &format!("/ari/bridges/{id}/variable?variable=MOOD"))
        .await;
    assert_eq!(got.json()["value"], "calm");
    let missing = h
        .http("GET", &format!("/ari/bridges/{id}/variable?variable=NOPE"))
        .await;
    assert_eq!(missing.status, 404);
    let no_name = h.http("GET", &format!("/ari/bridges/{id}/variable")).await;
    assert_eq!(no_name.status, 400);
    let set_many = h
        .http_json(
            "POST",
            &format!("/ari/bridges/{id}/variables"),
            r#"{"variables": {"A": "1", "B": {"value": "2", "report_events": true}}}"#,
        )
        .await;
    assert_eq!(set_many.status, 204, "{}", set_many.body);
    let many = h
        .http(
            "GET",
            &format!("/ari/bridges/{id}/variables?variables=A,B,HIDDEN"),
        )
        .await;
    assert_eq!(
        many.json()["variables"],
        serde_json::json!({"A": "1", "B": "2", "HIDDEN": "1"})
    );
    let shown = h.http("GET", &format!("/ari/bridges/{id}")).await.json();
    assert_eq!(
        shown["bridgevars"],
        serde_json::json!({"B": "2", "TOPIC": "sales"})
    );
    assert_eq!(
        h.http("GET", "/ari/bridges/nope/variable?variable=A")
            .await
            .status,
        404
    );

    // Video source.
    let source = h
        .http("POST", &format!("/ari/bridges/{id}/videoSource/leg-b"))
        .await;
    assert_eq!(source.status, 204, "{}", source.body);
    let (changed, _) = events.until("BridgeVideoSourceChanged").await;
    assert_eq!(changed["bridge"]["video_source_id"], "leg-b");
    assert_eq!(changed["bridge"]["video_mode"], "single");
    assert!(changed.get("old_video_source_id").is_none());
    assert_eq!(
        h.http("POST", &format!("/ari/bridges/{id}/videoSource/nope"))
            .await
            .status,
        404
    );
    let cleared = h
        .http("DELETE", &format!("/ari/bridges/{id}/videoSource"))
        .await;
    assert_eq!(cleared.status, 204);
    let (changed, _) = events.until("BridgeVideoSourceChanged").await;
    assert_eq!(changed["old_video_source_id"], "leg-b");
    assert!(changed["bridge"].get("video_source_id").is_none());

    // Redirect needs the channel's own technology and a driver that can.
    for (endpoint, status) in [("PJSIP/102", 422), ("Test", 422), ("Test/103", 412)] {
        let r = h
            .http(
                "POST",
                &format!("/ari/channels/leg-b/redirect?endpoint={endpoint}"),
            )
            .await;
        assert_eq!(r.status, status, "{endpoint}: {}", r.body);
    }
    let no_endpoint = h.http("POST", "/ari/channels/leg-b/redirect").await;
    assert_eq!(no_endpoint.status, 400);
    // No transfer was asked for on it.
    for (states, status) in [("channel_answered", 412), ("sideways", 400)] {
        let r = h
            .http(
                "POST",
                &format!("/ari/channels/leg-b/transfer_progress?states={states}"),
            )
            .await;
        assert_eq!(r.status, status, "{states}: {}", r.body);
    }

    assert_eq!(h.http("DELETE", "/ari/channels/leg-b").await.status, 204);
    let (destroyed, _) = events.until("ChannelDestroyed").await;
    assert_eq!(destroyed["channel"]["id"], "leg-b");
    a.request_hangup(Cause::NORMAL_CLEARING);
    tokio::time::timeout(PATIENCE, run_a)
        .await
        .expect("call ends")
        .expect("no panic");
}

#[tokio::test]
async fn a_broadcast_channel_goes_to_the_first_claimant() {
    let h = harness().await;
    let mut events = h.events("test").await;
    let (channel, _, run) = h.call("5");
    let (offer, _) = events.until("CallBroadcast").await;
    assert_eq!(offer["channel"]["id"], channel.uniqueid());
    assert_eq!(offer["caller"], "101");
    assert_eq!(offer["called"], "5");
    let nothing = h
        .http("POST", "/ari/events/claim?channelId=nope&application=test")
        .await;
    assert_eq!(nothing.status, 404);
    let claim = format!(
        "/ari/events/claim?channelId={}&application=test",
        channel.uniqueid()
    );
    assert_eq!(h.http("POST", &claim).await.status, 204);
    let late = h
        .http(
            "POST",
            &format!(
                "/ari/events/claim?channelId={}&application=other",
                channel.uniqueid()
            ),
        )
        .await;
    assert_eq!(late.status, 409, "{}", late.body);
    let (claimed, _) = events.until("CallClaimed").await;
    assert_eq!(claimed["winner_app"], "test");
    let (start, _) = events.until("StasisStart").await;
    assert_eq!(start["args"], serde_json::json!(["p1", "p2"]));
    channel.request_hangup(Cause::NORMAL_CLEARING);
    events.until("StasisEnd").await;
    tokio::time::timeout(PATIENCE, run)
        .await
        .expect("call ends")
        .expect("no panic");
    assert_eq!(h.http("POST", &claim).await.status, 404);

    // Nobody claims: the dialplan goes on.
    let (unclaimed, _, run) = h.call("6");
    events.until("CallBroadcast").await;
    tokio::time::timeout(PATIENCE, run)
        .await
        .expect("call ends")
        .expect("no panic");
    assert_eq!(unclaimed.var("AFTER").as_deref(), Some("TIMEOUT"));
}

/// A `pjsip` message technology that keeps what it is asked to send.
#[derive(Default)]
struct Outbox(Mutex<Vec<String>>);

#[async_trait]
impl obelus_core::message::MessageTech for Outbox {
    fn scheme(&self) -> &'static str {
        "pjsip"
    }

    async fn send(
        &self,
        message: &obelus_core::message::Message,
    ) -> Result<(), obelus_core::message::MessageError> {
        if message.to == "pjsip:ghost" {
            return Err(obelus_core::message::MessageError::EndpointNotFound(
                "ghost".into(),
            ));
        }
        self.0.lock().expect("outbox").push(format!(
            "MESSAGE {} {} {} {:?}",
            message.to, message.from, message.body, message.variables
        ));
        Ok(())
    }

    async fn refer(
        &self,
        refer: &obelus_core::message::Refer,
    ) -> Result<(), obelus_core::message::MessageError> {
        self.0.lock().expect("outbox").push(format!(
            "REFER {} {} {}",
            refer.to, refer.refer_to, refer.to_self
        ));
        Ok(())
    }
}

#[tokio::test]
async fn text_messages_both_ways() {
    let h = harness().await;
    let outbox = Arc::new(Outbox::default());
    h.core
        .messages
        .register_tech(Arc::clone(&outbox) as Arc<dyn obelus_core::message::MessageTech>);
    let sent = h
        .http_json(
            "PUT",
            "/ari/endpoints/sendMessage?to=pjsip:102&from=ari&body=hello",
            r#"{"variables": {"X-Ari": "1"}}"#,
        )
        .await;
    assert_eq!(sent.status, 202, "{}", sent.body);
    let refer = h
        .http(
            "POST",
            "/ari/endpoints/refer?to=pjsip:102&from=ari&refer_to=103&to_self=yes",
        )
        .await;
    assert_eq!(refer.status, 202, "{}", refer.body);
    assert_eq!(
        *outbox.0.lock().expect("outbox"),
        vec![
            r#"MESSAGE pjsip:102 ari hello [("X-Ari", "1")]"#.to_owned(),
            "REFER pjsip:102 103 true".to_owned(),
        ]
    );
    for (method, path, body, status) in [
        (
            "PUT",
            "/ari/endpoints/sendMessage?to=pjsip:ghost&from=a",
            "",
            404,
        ),
        (
            "PUT",
            "/ari/endpoints/sendMessage?to=xmpp:bob&from=a",
            "",
            404,
        ),
        ("PUT", "/ari/endpoints/sendMessage?from=a", "", 400),
        (
            "PUT",
            "/ari/endpoints/sendMessage?to=pjsip:102&from=a",
            r#"{"variables": {"X": 1}}"#,
            400,
        ),
        (
            "PUT",
            "/ari/endpoints/PJSIP/ghost/sendMessage?from=a",
            "",
            404,
        ),
        ("POST", "/ari/endpoints/refer?to=pjsip:102&from=a", "", 400),
    ] {
        let r = if body.is_empty() {
            h.http(method, path).await
        } else {
            h.http_json(method, path, body).await
        };
        assert_eq!(r.status, status, "{path}: {}", r.body);
    }

    let received = obelus_core::message::Message {
        from: "\"Bob\" <sip:102@192.0.2.2>".into(),
        to: "sip:test@192.0.2.1".into(),
        body: "hi there".into(),
        variables: vec![("X-Mood".into(), "calm".into())],
        endpoint: Some("PJSIP/102".into()),
    };
    // Nobody follows the endpoint yet: not taken (SIP would answer 404).
    let _quiet = h.events("test").await;
    assert!(!h.core.messages.route(&received));
    let mut events = h.events("watch&subscribeAll=true").await;
    assert!(h.core.messages.route(&received));
    let (message, _) = events.until("TextMessageReceived").await;
    assert_eq!(message["application"], "watch");
    assert_eq!(message["message"]["body"], "hi there");
    assert_eq!(message["message"]["from"], "\"Bob\" <sip:102@192.0.2.2>");
    assert_eq!(message["message"]["to"], "sip:test@192.0.2.1");
    assert_eq!(message["message"]["variables"]["X-Mood"], "calm");
}

/// A module that can be unloaded, and one that refuses.
struct Optional(bool);

#[async_trait]
impl obelus_core::module::Module for Optional {
    fn name(&self) -> &'static str {
        if self.0 {
            "res_optional.so"
        } else {
            "res_busy.so"
        }
    }

    fn description(&self) -> &'static str {
        "A test module"
    }

    fn check(
        &self,
        _: &obelus_core::settings::Settings,
    ) -> Vec<obelus_core::diagnostic::Diagnostic> {
        Vec::new()
    }

    async fn load(&self, _: &Arc<Core>) -> Result<(), obelus_core::module::ModuleError> {
        Ok(())
    }

    async fn reload(&self, _: &Arc<Core>) -> Result<(), obelus_core::module::ModuleError> {
        Ok(())
    }

    async fn unload(&self, core: &Arc<Core>) -> Result<(), obelus_core::module::ModuleError> {
        if self.0 {
            Ok(())
        } else {
            let _ = core;
            Err(obelus_core::module::ModuleError::Declined("in use".into()))
        }
    }
}

#[tokio::test]
async fn modules_load_and_unload() {
    let h = harness().await;
    h.core.modules.register(Arc::new(Optional(true)));
    h.core.modules.register(Arc::new(Optional(false)));
    let status = |body: Value| body["status"].as_str().unwrap_or_default().to_owned();
    let module = h.http("GET", "/ari/asterisk/modules/res_optional").await;
    assert_eq!(status(module.json()), "Not Running");
    for (method, path, expected) in [
        ("DELETE", "/ari/asterisk/modules/res_optional.so", 404),
        ("DELETE", "/ari/asterisk/modules/res_nothing.so", 404),
        ("POST", "/ari/asterisk/modules/res_nothing.so", 409),
        ("POST", "/ari/asterisk/modules/res_optional.so", 204),
        ("POST", "/ari/asterisk/modules/res_optional.so", 409),
        ("POST", "/ari/asterisk/modules/res_busy.so", 204),
        ("DELETE", "/ari/asterisk/modules/res_busy.so", 409),
    ] {
        let r = h.http(method, path).await;
        assert_eq!(r.status, expected, "{method} {path}: {}", r.body);
    }
    let module = h.http("GET", "/ari/asterisk/modules/res_optional.so").await;
    assert_eq!(status(module.json()), "Running");
    let unloaded = h.http("DELETE", "/ari/asterisk/modules/res_optional").await;
    assert_eq!(unloaded.status, 204);
    let module = h.http("GET", "/ari/asterisk/modules/res_optional.so").await;
    assert_eq!(status(module.json()), "Not Running");
    let busy = h.http("GET", "/ari/asterisk/modules/res_busy.so").await;
    assert_eq!(status(busy.json()), "Running");
}
