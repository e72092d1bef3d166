//! ARI dynamic configuration (`/ari/asterisk/config/dynamic/...`) and
//! mailboxes against the real daemon: an application creates a PJSIP
//! endpoint in the realtime database, reads it back, changes it and deletes
//! it, and the console sees each step without a reload; mailbox counts it
//! keeps survive a restart; endpoint events; REST over the events WebSocket.

use crate::common::ari::{self, enable_ari};
use crate::common::{ConfDir, free_port};

/// The value of `attribute` in a ConfigTuple list.
fn attribute(list: &str, attribute: &str) -> Option<String> {
    let tuples: serde_json::Value = serde_json::from_str(list).expect("JSON list");
    tuples.as_array()?.iter().find_map(|t| {
        (t.get("attribute")?.as_str()? == attribute)
            .then(|| t.get("value")?.as_str().map(str::to_owned))?
    })
}

#[test]
fn an_application_manages_endpoints_through_dynamic_configuration() {
    let conf = ConfDir::new();
    let http = enable_ari(&conf);
    conf.write(
        "res_config_sqlite3.conf",
        "[obelus]\ndbfile => obelus.sqlite3\n",
    );
    conf.write(
        "extconfig.conf",
        "[settings]\nps_endpoints => sqlite3,obelus\n",
    );
    conf.write(
        "sorcery.conf",
        "[res_pjsip]\nendpoint=realtime,ps_endpoints\n",
    );
    conf.write(
        "pjsip.conf",
        &format!(
            "[transport-udp]\ntype=transport\nprotocol=udp\nbind=127.0.0.1:{}\n\n\
[fromfile]\ntype=aor\nmax_contacts=1\n",
            free_port()
        ),
    );
    let _daemon = conf.start_foreground();
    let base = "/ari/asterisk/config/dynamic/res_pjsip/endpoint";

    let (status, body) = ari::call(http, "GET", &format!("{base}/201"), None);
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("not found"), "{body}");

    let fields = r#"{"fields":[{"attribute":"context","value":"phones"},{"attribute":"allow","value":"ulaw"},{"attribute":"direct_media","value":"no"}]}"#;
    let (status, body) = ari::call(http, "PUT", &format!("{base}/201"), Some(fields));
    assert_eq!(status, 200, "{body}");
    assert_eq!(attribute(&body, "context").as_deref(), Some("phones"));
    // Defaults of options not given come back too, as in Asterisk.
    assert!(attribute(&body, "dtmf_mode").is_some(), "{body}");

    let (_, out, _) = conf.rx("pjsip show endpoints");
    assert!(out.contains(" 201 "), "created endpoint listed: {out}");

    let (status, body) = ari::call(
        http,
        "PUT",
        &format!("{base}/201"),
        Some(r#"{"fields":[{"attribute":"context","value":"office"}]}"#),
    );
    assert_eq!(status, 200, "{body}");
    let (status, body) = ari::call(http, "GET", &format!("{base}/201"), None);
    assert_eq!(status, 200, "{body}");
    assert_eq!(attribute(&body, "context").as_deref(), Some("office"));
    assert_eq!(attribute(&body, "allow").as_deref(), Some("ulaw"));

    // A bad value is the caller's mistake; nothing is stored.
    let (status, body) = ari::call(
        http,
        "PUT",
        &format!("{base}/202"),
        Some(r#"{"fields":[{"attribute":"direct_media","value":"maybe"}]}"#),
    );
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("direct_media"), "{body}");
    let (status, _) = ari::call(http, "GET", &format!("{base}/202"), None);
    assert_eq!(status, 404);

    // Unknown class or type: 404; a type read only from pjsip.conf: 403.
    let (status, _) = ari::call(
        http,
        "GET",
        "/ari/asterisk/config/dynamic/res_nothing/endpoint/201",
        None,
    );
    assert_eq!(status, 404);
    let (status, _) = ari::call(
        http,
        "GET",
        "/ari/asterisk/config/dynamic/res_pjsip/gizmo/201",
        None,
    );
    assert_eq!(status, 404);
    let (status, body) = ari::call(
        http,
        "PUT",
        "/ari/asterisk/config/dynamic/res_pjsip/aor/fromfile",
        Some(r#"{"fields":[{"attribute":"max_contacts","value":"2"}]}"#),
    );
    assert_eq!(status, 403, "{body}");

    let (status, body) = ari::call(http, "DELETE", &format!("{base}/201"), None);
    assert_eq!(status, 204, "{body}");
    let (status, _) = ari::call(http, "GET", &format!("{base}/201"), None);
    assert_eq!(status, 404);
    let (status, _) = ari::call(http, "DELETE", &format!("{base}/201"), None);
    assert_eq!(status, 404);
}

/// External MWI: an application keeps a mailbox's counts; they survive a
/// restart (AstDB, written in batches and flushed when the daemon stops)
/// and are gone once deleted.
#[test]
fn mailbox_counts_kept_by_an_application_survive_a_restart() {
    let conf = ConfDir::new();
    let http = enable_ari(&conf);
    let daemon = conf.start_foreground();
    let (status, body) = ari::call(http, "GET", "/ari/mailboxes/1000@default", None);
    assert_eq!(status, 404, "{body}");
    let (status, body) = ari::call(
        http,
        "PUT",
        "/ari/mailboxes/1000@default?oldMessages=1&newMessages=3",
        None,
    );
    assert_eq!(status, 204, "{body}");
    let (status, body) = ari::call(
        http,
        "PUT",
        "/ari/mailboxes/1001@default?oldMessages=-1&newMessages=3",
        None,
    );
    assert_eq!(status, 400, "{body}");
    conf.rx("core stop now");
    assert_eq!(daemon.wait(), 0, "a clean stop");

    let _daemon = conf.start_foreground();
    let (status, body) = ari::call(http, "GET", "/ari/mailboxes/1000@default", None);
    assert_eq!(status, 200, "{body}");
    let mailbox: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(mailbox["name"], "1000@default");
    assert_eq!(mailbox["new_messages"], 3);
    assert_eq!(mailbox["old_messages"], 1);
    let (status, body) = ari::call(http, "GET", "/ari/mailboxes", None);
    assert_eq!(status, 200, "{body}");
    let list: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{body}");
    let (status, _) = ari::call(http, "DELETE", "/ari/mailboxes/1000@default", None);
    assert_eq!(status, 204);
    let (status, _) = ari::call(http, "DELETE", "/ari/mailboxes/1000@default", None);
    assert_eq!(status, 404);
}

/// An application following endpoint PJSIP/101 sees its phone register
/// (`ContactStatusChange` NonQualified, `EndpointStateChange` online,
/// `PeerStatusChange` Reachable) and unregister (`Removed`, then offline
/// and Unreachable), from a real sipp phone.
#[test]
fn an_application_following_an_endpoint_sees_its_contacts_come_and_go() {
    let (_shared, conf, sip_port) = crate::call::sqlite_server();
    let http = enable_ari(&conf);
    let _daemon = conf.start_foreground();
    crate::call::add_phone(&conf, "101", "ulaw");
    let mut events = ari::Events::connect(http, "watch");
    ari::expect(
        http,
        "POST",
        "/ari/applications/watch/subscription?eventSource=endpoint:PJSIP/101",
        200,
    );
    let dir = tempfile::tempdir().unwrap();
    let local = free_port();
    let phone = |scenario: &str| {
        let child = crate::call::Phone::listening(local)
            .args(&["-s", "101", "-au", "101", "-ap", "101"])
            .start(sip_port, dir.path(), scenario);
        crate::call::wait_ok(child, scenario, dir.path());
    };

    phone("register.xml");
    let added = events.until("ContactStatusChange");
    assert_eq!(added["endpoint"]["resource"], "101", "{added}");
    assert_eq!(added["contact_info"]["aor"], "101", "{added}");
    assert_eq!(
        added["contact_info"]["contact_status"], "NonQualified",
        "{added}"
    );
    let online = events.until("EndpointStateChange");
    assert_eq!(online["endpoint"]["state"], "online", "{online}");
    let reachable = events.until("PeerStatusChange");
    assert_eq!(reachable["peer"]["peer_status"], "Reachable", "{reachable}");
    assert_eq!(reachable["endpoint"]["resource"], "101", "{reachable}");

    phone("unregister.xml");
    let removed = events.until_matching("ContactStatusChange", |e| {
        e["contact_info"]["contact_status"] == "Removed"
    });
    assert!(
        removed["contact_info"]["uri"]
            .as_str()
            .is_some_and(|u| u.contains(&local.to_string())),
        "{removed}"
    );
    let offline = events.until("EndpointStateChange");
    assert_eq!(offline["endpoint"]["state"], "offline", "{offline}");
    let unreachable = events.until("PeerStatusChange");
    assert_eq!(
        unreachable["peer"]["peer_status"], "Unreachable",
        "{unreachable}"
    );
}

/// REST over the events WebSocket: requests sent as `RESTRequest` frames
/// are answered with `RESTResponse`s carrying what the same HTTP request
/// would have returned, in the socket's order with its events; malformed
/// frames get a 400 response, and the socket stays usable.
#[test]
fn an_application_calls_rest_over_its_events_websocket() {
    let conf = ConfDir::new();
    let http = enable_ari(&conf);
    let _daemon = conf.start_foreground();
    let mut events = ari::Events::connect(http, "wsrest");

    events.send(
        r#"{"type":"RESTRequest","transaction_id":"t1","request_id":"r1","method":"GET","uri":"asterisk/variable","query_strings":[{"name":"variable","value":"WSREST"}]}"#,
    );
    let missing = events.until("RESTResponse");
    assert_eq!(missing["transaction_id"], "t1", "{missing}");
    assert_eq!(missing["request_id"], "r1", "{missing}");
    assert_eq!(missing["uri"], "asterisk/variable", "{missing}");
    assert_eq!(missing["application"], "wsrest", "{missing}");
    assert!(missing["timestamp"].is_string(), "{missing}");

    events.send(
        r#"{"type":"RESTRequest","transaction_id":"t1","request_id":"r2","method":"POST","uri":"/asterisk/variable?variable=WSREST&value=from%20the%20socket"}"#,
    );
    let set = events.until("RESTResponse");
    assert_eq!(set["request_id"], "r2", "{set}");
    assert_eq!(set["status_code"], 204, "{set}");
    assert_eq!(set["reason_phrase"], "No Content", "{set}");
    assert!(set.get("message_body").is_none(), "{set}");

    events.send(
        r#"{"type":"RESTRequest","transaction_id":"t1","request_id":"r3","method":"GET","uri":"asterisk/variable?variable=WSREST"}"#,
    );
    let got = events.until("RESTResponse");
    assert_eq!(got["status_code"], 200, "{got}");
    assert_eq!(got["content_type"], "application/json", "{got}");
    let body: serde_json::Value =
        serde_json::from_str(got["message_body"].as_str().expect("a body")).unwrap();
    assert_eq!(body["value"], "from the socket", "{got}");
    let (status, text) = ari::call(http, "GET", "/ari/asterisk/variable?variable=WSREST", None);
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("from the socket"), "{text}");

    events.send(
        r#"{"type":"RESTRequest","transaction_id":"t2","request_id":"r4","method":"POST","uri":"events/user/ping","content_type":"application/json","message_body":"{\"variables\":{\"k\":\"v\"}}","query_strings":[{"name":"application","value":"wsrest"}]}"#,
    );
    let user = events.until("ChannelUserevent");
    assert_eq!(user["eventname"], "ping", "{user}");
    assert_eq!(user["userevent"]["k"], "v", "{user}");
    let posted = events.until("RESTResponse");
    assert_eq!(posted["status_code"], 204, "{posted}");

    events.send(r#"{"type":"RESTRequest","transaction_id":"t3","request_id":"r5","method":"GET","uri":"channels/nope"}"#);
    let unknown = events.until("RESTResponse");
    assert_eq!(unknown["status_code"], 404, "{unknown}");

    events.send(r#"{"type":"RESTRequest","transaction_id":"t3","request_id":"r6","method":"GET","uri":"events?app=other"}"#);
    let nested = events.until("RESTResponse");
    assert_eq!(nested["status_code"], 400, "{nested}");

    events.send("{not json");
    let garbage = events.until("RESTResponse");
    assert_eq!(garbage["status_code"], 400, "{garbage}");
    assert!(
        garbage["message_body"]
            .as_str()
            .is_some_and(|b| b.contains("Unable to parse")),
        "{garbage}"
    );

    events.send(
        r#"{"type":"RESTRequest","transaction_id":"t4","request_id":"r7","method":"GET","uri":"asterisk/ping"}"#,
    );
    let pong = events.until("RESTResponse");
    assert_eq!(
        pong["status_code"], 200,
        "the socket still answers after bad frames: {pong}"
    );
}
