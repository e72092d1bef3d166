//! ARI's call control against the real daemon, with sipp phones and a real
//! WebSocket client: a channel created and dialled to a registered phone
//! and bridged with a caller (they hear each other); a ringing caller
//! redirected with a 302, an answered one transferred with REFER; text
//! messages to a phone and from one, a REFER outside calls; bridge
//! variables, log channels and modules over REST.

use std::net::UdpSocket;
use std::path::Path;
use std::process::Child;
use std::thread;
use std::time::{Duration, Instant};

use obelus_media::Codec;
use serde_json::Value;

use crate::call::{
    Phone, add_phone, assert_hears, phone_media, register, rtp_ports, sqlite_server, wait_ok,
};
use crate::common::ari::{self, Events, channel_id, enable_ari};
use crate::common::{ConfDir, Daemon, free_port};

/// A daemon with phones 101 and 102 (realtime), ARI user ari/s3cret,
/// `exten => 900,1,Stasis(ctl)`, and 902 entering it with transfers left
/// to the application.
struct Pbx {
    conf: ConfDir,
    sip_port: u16,
    http_port: u16,
    _daemon: Daemon,
    _db: tempfile::TempDir,
}

fn pbx() -> Pbx {
    let (db, conf, sip_port) = sqlite_server();
    let http_port = enable_ari(&conf);
    conf.write(
        "extensions.conf",
        "[testing]\nexten => 900,1,Stasis(ctl)\n\
         exten => 902,1,Set(PJSIP_TRANSFER_HANDLING()=ari-only)\n same => n,Stasis(ctl)\n",
    );
    rtp_ports(&conf, 24000 + (std::process::id() % 100) as u16 * 100);
    let daemon = conf.start_foreground();
    add_phone(&conf, "101", "ulaw");
    add_phone(&conf, "102", "ulaw");
    Pbx {
        conf,
        sip_port,
        http_port,
        _daemon: daemon,
        _db: db,
    }
}

impl Pbx {
    /// An ARI request that must answer `status`; its body as JSON (null if
    /// empty).
    fn expect(&self, method: &str, path: &str, json: Option<&str>, status: u16) -> Value {
        ari::expect_with(self.http_port, method, path, json, status).json_or_null()
    }

    /// Registers phone `id` with its contact at `contact_port` (where a
    /// sipp phone answers).
    fn register(&self, id: &str, dir: &Path, contact_port: u16) {
        register(self.sip_port, dir, id, contact_port);
    }

    /// Phone `id` registered, `scenario` answering at its contact and
    /// logging to `log`.
    fn registered(&self, id: &str, dir: &Path, scenario: &str, log: &Path) -> Child {
        let contact = free_port();
        let phone = Phone::listening(contact)
            .log(log)
            .start(self.sip_port, dir, scenario);
        self.register(id, dir, contact);
        phone
    }

    /// The events of application `ctl`.
    fn events(&self) -> Events {
        Events::connect(self.http_port, "ctl")
    }
}

/// Waits for a `prefix ...` line in a sipp log; the rest of the line.
fn log_line(log: &Path, prefix: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(text) = std::fs::read_to_string(log)
            && let Some(rest) = text.lines().find_map(|l| l.strip_prefix(prefix))
        {
            return rest.trim().to_owned();
        }
        assert!(
            Instant::now() < deadline,
            "no '{prefix}' line in {}",
            log.display()
        );
        thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_created_channel_dials_a_registered_phone_and_is_bridged() {
    let pbx = pbx();
    let mut events = pbx.events();
    let dir = tempfile::tempdir().unwrap();
    let (log_a, log_b) = (dir.path().join("a.log"), dir.path().join("b.log"));
    let rtp_a = UdpSocket::bind("127.0.0.1:0").unwrap();
    let rtp_b = UdpSocket::bind("127.0.0.1:0").unwrap();
    let phone_b = free_port();
    let callee = Phone::listening(phone_b).rtp(&rtp_b).log(&log_b).start(
        pbx.sip_port,
        dir.path(),
        "call_callee.xml",
    );
    pbx.register("102", dir.path(), phone_b);
    let caller = Phone::calling("101", "900")
        .rtp(&rtp_a)
        .codec("0", "PCMU")
        .args(&["-d", "9000"])
        .log(&log_a)
        .start(pbx.sip_port, dir.path(), "call_caller.xml");
    let start = events.until("StasisStart");
    let a = channel_id(&start);
    pbx.expect(
        "POST",
        &format!("/ari/channels/{a}/variable?variable=CALLERID(name)&value=Alice%20B"),
        None,
        204,
    );
    let renamed = events.until("ChannelCallerId");
    assert_eq!(renamed["channel"]["id"], a.as_str(), "{renamed}");
    assert_eq!(renamed["channel"]["caller"]["name"], "Alice B", "{renamed}");
    assert_eq!(renamed["caller_presentation"], 0, "{renamed}");
    assert_eq!(
        renamed["caller_presentation_txt"], "Presentation Allowed, Not Screened",
        "{renamed}"
    );

    let created = pbx.expect(
        "POST",
        "/ari/channels/create?endpoint=PJSIP/102&app=ctl&appArgs=callee&channelId=callee-102&formats=ulaw",
        None,
        200,
    );
    assert_eq!(created["id"], "callee-102");
    assert_eq!(created["state"], "Down");
    assert!(
        created["name"]
            .as_str()
            .is_some_and(|n| n.starts_with("PJSIP/102-")),
        "{created}"
    );
    let start = events.until("StasisStart");
    assert_eq!(start["channel"]["id"], "callee-102");
    assert_eq!(start["args"], serde_json::json!(["callee"]));
    pbx.expect(
        "POST",
        "/ari/channels/create?endpoint=PJSIP/102&app=ctl&channelId=callee-102",
        None,
        409,
    );

    let bridge = pbx.expect("POST", "/ari/bridges?type=mixing", None, 200);
    let bridge = bridge["id"].as_str().unwrap().to_owned();
    pbx.expect(
        "POST",
        &format!("/ari/bridges/{bridge}/addChannel?channel={a},callee-102"),
        None,
        204,
    );
    pbx.expect("POST", &format!("/ari/channels/{a}/answer"), None, 204);
    let media_a = thread::spawn(move || phone_media(rtp_a, log_a, Codec::Ulaw, 0, 1000.0));
    let media_b = thread::spawn(move || phone_media(rtp_b, log_b, Codec::Ulaw, 0, 440.0));
    pbx.expect(
        "POST",
        &format!("/ari/channels/callee-102/dial?caller={a}&timeout=20"),
        None,
        204,
    );
    let line = events.until("ChannelConnectedLine");
    assert_eq!(line["channel"]["id"], "callee-102", "{line}");
    assert_eq!(
        line["channel"]["connected"],
        serde_json::json!({"name": "Alice B", "number": "101"}),
        "{line}"
    );
    let mut statuses = Vec::new();
    while statuses.last().map(String::as_str) != Some("ANSWER") {
        let dial = events.until("Dial");
        assert_eq!(dial["peer"]["id"], "callee-102", "{dial}");
        assert_eq!(dial["caller"]["id"], a.as_str(), "{dial}");
        statuses.push(dial["dialstatus"].as_str().unwrap().to_owned());
    }
    assert_eq!(statuses, ["", "RINGING", "ANSWER"]);
    pbx.expect("POST", "/ari/channels/callee-102/dial", None, 409);
    let shown = pbx.expect("GET", "/ari/channels/callee-102", None, 200);
    assert_eq!(shown["state"], "Up");

    let heard_a = media_a.join().unwrap();
    let heard_b = media_b.join().unwrap();
    assert_hears("101", &heard_a, 0, 440.0, 1000.0);
    assert_hears("102", &heard_b, 0, 1000.0, 440.0);
    pbx.expect("DELETE", "/ari/channels/callee-102", None, 204);
    wait_ok(callee, "102 answering the created channel", dir.path());
    wait_ok(caller, "101's call into the application", dir.path());
}

#[test]
fn a_ringing_caller_is_redirected_with_a_302() {
    let pbx = pbx();
    let mut events = pbx.events();
    let dir = tempfile::tempdir().unwrap();
    let phone_b = free_port();
    pbx.register("102", dir.path(), phone_b);
    let targets = [
        ("PJSIP/102", format!("<sip:102@127.0.0.1:{phone_b}>")),
        (
            "PJSIP/sip:voicemail@127.0.0.1:5999",
            "<sip:voicemail@127.0.0.1:5999>".to_owned(),
        ),
    ];
    for (i, (endpoint, contact)) in targets.iter().enumerate() {
        let log = dir.path().join(format!("redirect{i}.log"));
        let caller = Phone::calling("101", "900").log(&log).start(
            pbx.sip_port,
            dir.path(),
            "redirect_caller.xml",
        );
        let start = events.until("StasisStart");
        let id = channel_id(&start);
        assert_eq!(start["channel"]["state"], "Ring");
        pbx.expect(
            "POST",
            &format!("/ari/channels/{id}/redirect?endpoint=Local/100@default"),
            None,
            422,
        );
        pbx.expect(
            "POST",
            &format!("/ari/channels/{id}/redirect?endpoint=PJSIP/nobody"),
            None,
            404,
        );
        pbx.expect(
            "POST",
            &format!("/ari/channels/{id}/redirect?endpoint={endpoint}"),
            None,
            204,
        );
        let end = events.until("StasisEnd");
        assert_eq!(end["channel"]["id"], id.as_str());
        wait_ok(caller, "the redirected call", dir.path());
        assert_eq!(log_line(&log, "CONTACT "), *contact);
    }
}

#[test]
fn an_answered_call_is_transferred_with_refer() {
    let pbx = pbx();
    let mut events = pbx.events();
    let dir = tempfile::tempdir().unwrap();
    let phone_b = free_port();
    pbx.register("102", dir.path(), phone_b);
    let log = dir.path().join("refer.log");
    let caller =
        Phone::calling("101", "900")
            .log(&log)
            .start(pbx.sip_port, dir.path(), "refer_caller.xml");
    let start = events.until("StasisStart");
    let id = channel_id(&start);
    pbx.expect("POST", &format!("/ari/channels/{id}/answer"), None, 204);
    pbx.expect(
        "POST",
        &format!("/ari/channels/{id}/redirect?endpoint=PJSIP/102"),
        None,
        204,
    );
    // The phone reports the transfer done; Obelus hangs up.
    let end = events.until("StasisEnd");
    assert_eq!(end["channel"]["id"], id.as_str());
    wait_ok(caller, "the transferred call", dir.path());
    assert_eq!(
        log_line(&log, "REFERTO "),
        format!("<sip:102@127.0.0.1:{phone_b}>")
    );
}

#[test]
fn a_transfer_the_phone_asks_for_is_left_to_the_application() {
    let pbx = pbx();
    let mut events = pbx.events();
    let dir = tempfile::tempdir().unwrap();
    let caller =
        Phone::calling("101", "902").start(pbx.sip_port, dir.path(), "refer_transferor.xml");
    let start = events.until("StasisStart");
    let id = channel_id(&start);
    let progress = format!("/ari/channels/{id}/transfer_progress");
    pbx.expect(
        "POST",
        &format!("{progress}?states=channel_answered"),
        None,
        412,
    );
    pbx.expect("POST", &format!("{progress}?states=sideways"), None, 400);
    pbx.expect(
        "POST",
        "/ari/channels/nope/transfer_progress?states=channel_answered",
        None,
        404,
    );
    pbx.expect("POST", &format!("/ari/channels/{id}/answer"), None, 204);
    let transfer = events.until("ChannelTransfer");
    assert_eq!(
        transfer["refer_to"]["requested_destination"]["destination"], "104",
        "{transfer}"
    );
    assert_eq!(transfer["referred_by"]["source_channel"]["id"], id.as_str());
    pbx.expect(
        "POST",
        &format!("{progress}?states=channel_answered"),
        None,
        204,
    );
    // The news was final: nothing waits for more.
    pbx.expect(
        "POST",
        &format!("{progress}?states=channel_progress"),
        None,
        412,
    );
    wait_ok(caller, "the transferor", dir.path());
    let end = events.until("StasisEnd");
    assert_eq!(end["channel"]["id"], id.as_str());
}

#[test]
fn text_messages_reach_a_phone_and_come_back_as_events() {
    let pbx = pbx();
    let mut events = pbx.events();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("uas.log");
    let uas = pbx.registered("102", dir.path(), "message_uas.xml", &log);
    pbx.expect(
        "PUT",
        "/ari/endpoints/sendMessage?to=pjsip:102&from=ari&body=hello%20from%20ari",
        Some(r#"{"variables": {"X-Ari": "yes"}}"#),
        202,
    );
    wait_ok(uas, "102 receiving a MESSAGE", dir.path());
    assert_eq!(log_line(&log, "BODY "), "hello from ari");
    assert_eq!(log_line(&log, "XARI "), "yes");
    pbx.expect(
        "PUT",
        "/ari/endpoints/sendMessage?to=pjsip:nobody&from=ari&body=x",
        None,
        404,
    );
    pbx.expect(
        "PUT",
        "/ari/endpoints/PJSIP/nobody/sendMessage?from=ari&body=x",
        None,
        404,
    );

    // 101's messages reach the application once it follows 101.
    pbx.expect(
        "POST",
        "/ari/applications/ctl/subscription?eventSource=endpoint:PJSIP/101",
        None,
        200,
    );
    let uac = Phone::calling("101", "ctl").start(pbx.sip_port, dir.path(), "message_uac.xml");
    wait_ok(uac, "101 sending a MESSAGE", dir.path());
    let received = events.until("TextMessageReceived");
    assert_eq!(
        received["message"]["body"].as_str().map(str::trim),
        Some("hello from sipp"),
        "{received}"
    );
    assert!(
        received["message"]["from"]
            .as_str()
            .is_some_and(|f| f.contains("sip:101@")),
        "{received}"
    );
    assert!(
        received["message"]["to"]
            .as_str()
            .is_some_and(|t| t.starts_with("sip:ctl@")),
        "{received}"
    );
    assert_eq!(received["message"]["variables"]["X-Mood"], "cheerful");
    assert_eq!(received["endpoint"]["technology"], "PJSIP");
    assert_eq!(received["endpoint"]["resource"], "101");

    // Out of any call, 101 is asked to call 102 at this server.
    let log = dir.path().join("refer.log");
    let referred = pbx.registered("101", dir.path(), "refer_uas.xml", &log);
    pbx.expect(
        "POST",
        "/ari/endpoints/PJSIP/101/refer?from=ari&refer_to=102&to_self=yes",
        Some(r#"{"variables": {"display_name": "Bob"}}"#),
        202,
    );
    wait_ok(referred, "101 receiving a REFER", dir.path());
    assert_eq!(
        log_line(&log, "REFERTO "),
        format!("\"Bob\" <sip:102@127.0.0.1:{}>", pbx.sip_port)
    );
    pbx.expect(
        "POST",
        "/ari/endpoints/refer?to=pjsip:nobody&from=ari&refer_to=102",
        None,
        404,
    );
}

#[test]
fn bridge_variables_log_channels_and_modules_over_rest() {
    let pbx = pbx();
    let bridge = pbx.expect("POST", "/ari/bridges", None, 200);
    let id = bridge["id"].as_str().unwrap().to_owned();
    pbx.expect(
        "POST",
        &format!("/ari/bridges/{id}/variable?variable=TOPIC&value=sales&report_events=true"),
        None,
        204,
    );
    let value = pbx.expect(
        "GET",
        &format!("/ari/bridges/{id}/variable?variable=TOPIC"),
        None,
        200,
    );
    assert_eq!(value["value"], "sales");
    let shown = pbx.expect("GET", &format!("/ari/bridges/{id}"), None, 200);
    assert_eq!(shown["bridgevars"]["TOPIC"], "sales");
    pbx.expect(
        "GET",
        &format!("/ari/bridges/{id}/variable?variable=NOPE"),
        None,
        404,
    );
    pbx.expect("GET", &format!("/ari/bridges/{id}/variable"), None, 400);
    pbx.expect(
        "GET",
        "/ari/bridges/nope/variable?variable=TOPIC",
        None,
        404,
    );

    // Log channels: logger.conf's, and one added at run time.
    let listed = pbx.expect("GET", "/ari/asterisk/logging", None, 200);
    let messages = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|c| {
            c["channel"]
                .as_str()
                .is_some_and(|n| n.ends_with("/log/messages"))
        })
        .unwrap_or_else(|| panic!("{listed}"))
        .clone();
    assert_eq!(messages["type"], "File");
    assert_eq!(messages["status"], "Enabled");
    assert_eq!(messages["configuration"], "NOTICE WARNING ERROR VERBOSE ");
    pbx.expect(
        "POST",
        "/ari/asterisk/logging/ari_test?configuration=notice,warning,error,verbose",
        None,
        204,
    );
    pbx.expect(
        "POST",
        "/ari/asterisk/logging/ari_test?configuration=notice",
        None,
        409,
    );
    pbx.expect("POST", "/ari/asterisk/logging/other", None, 400);
    pbx.expect(
        "POST",
        "/ari/asterisk/logging/other?configuration=loud",
        None,
        400,
    );
    let listed = pbx.expect("GET", "/ari/asterisk/logging", None, 200);
    assert!(
        listed[0]["channel"]
            .as_str()
            .is_some_and(|c| c.ends_with("/log/ari_test")),
        "{listed}"
    );

    // Modules: the astdb goes and comes back; modules in use refuse.
    let astdb = pbx.expect("GET", "/ari/asterisk/modules/astdb", None, 200);
    assert_eq!(astdb["status"], "Running");
    assert!(pbx.conf.rx("database show").1.contains("results found"));
    pbx.expect("DELETE", "/ari/asterisk/modules/astdb", None, 204);
    let astdb = pbx.expect("GET", "/ari/asterisk/modules/astdb", None, 200);
    assert_eq!(astdb["status"], "Not Running");
    let (_, shown, _) = pbx.conf.rx("database show");
    assert!(!shown.contains("results found"), "{shown}");
    pbx.expect("DELETE", "/ari/asterisk/modules/astdb", None, 404);
    pbx.expect("POST", "/ari/asterisk/modules/astdb", None, 204);
    pbx.expect("POST", "/ari/asterisk/modules/astdb", None, 409);
    assert!(pbx.conf.rx("database show").1.contains("results found"));
    let astdb = pbx.expect("GET", "/ari/asterisk/modules/astdb", None, 200);
    assert_eq!(astdb["status"], "Running");
    pbx.expect("DELETE", "/ari/asterisk/modules/res_pjsip.so", None, 409);
    pbx.expect("DELETE", "/ari/asterisk/modules/res_nothing.so", None, 404);
    pbx.expect("POST", "/ari/asterisk/modules/res_nothing.so", None, 409);

    // Rotation keeps what was written (the astdb's unload) in ari_test.0.
    pbx.expect("PUT", "/ari/asterisk/logging/ari_test/rotate", None, 204);
    pbx.expect("PUT", "/ari/asterisk/logging/nothing/rotate", None, 404);
    let log = pbx.conf.path().join("log");
    let rotated = std::fs::read_to_string(log.join("ari_test.0")).unwrap();
    assert!(rotated.contains("Unloaded astdb"), "{rotated}");
    assert!(log.join("ari_test").exists());
    pbx.expect("DELETE", "/ari/asterisk/logging/ari_test", None, 204);
    pbx.expect("DELETE", "/ari/asterisk/logging/ari_test", None, 404);
    pbx.expect("DELETE", "/ari/asterisk/logging/messages", None, 404);
}
