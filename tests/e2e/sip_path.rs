//! The registrar behind an edge proxy (RFC 3327 Path), end to end: sipp
//! plays a phone registering through a proxy (register_path.xml, the
//! REGISTER carrying the proxy's Path) and the proxy itself
//! (path_proxy_*.xml, one per request, on the port the Path names). With
//! `support_path=yes`
//! on the AOR, the 200 echoes the Path, the contact keeps it (shown by
//! `pjsip show contact` and AMI `ContactStatusDetail`, stored in
//! `ps_contacts.path`), and what Obelus sends the phone (qualify OPTIONS,
//! the INVITE of a call, a MESSAGE) goes to the proxy with the path as
//! Route, the Request-URI still the phone's contact; a second server
//! sharing the database does the same from the stored path. Without
//! `support_path`, a REGISTER requiring the extension gets 420.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::call::{Phone, wait_ok};
use crate::common::ari::{enable_ari, expect};
use crate::common::{AmiSession, ConfDir, ami_action, enable_ami, free_port};
use crate::sip_register::sipp;
use crate::sip_shared_db::server;

/// Phone 101 on an AOR with `support_path=yes`, phone 102 on one without.
fn pjsip_conf(port: u16) -> String {
    let mut conf =
        format!("[transport-udp]\ntype=transport\nprotocol=udp\nbind=127.0.0.1:{port}\n\n");
    for (user, aor) in [("101", "support_path=yes\n"), ("102", "")] {
        conf.push_str(&format!(
            "[{user}]\ntype=endpoint\ncontext=default\nauth={user}\naors={user}\ndisallow=all\nallow=ulaw\ndirect_media=no\n\n\
[{user}]\ntype=auth\nauth_type=userpass\nusername={user}\npassword={user}\n\n\
[{user}]\ntype=aor\nmax_contacts=1\nremove_existing=yes\n{aor}\n"
        ));
    }
    conf
}

/// Runs a console command until its output satisfies `ok` (bounded).
fn until(conf: &ConfDir, command: &str, what: &str, ok: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (_, out, _) = conf.rx(command);
        if ok(&out) {
            return out;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: '{command}' says:\n{out}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The proxy on `port` while it sees one request (`path_proxy_<what>.xml`):
/// started, then `trigger` makes Obelus send it, then it must end well.
fn proxy_sees(port: u16, server: u16, what: &str, trigger: impl FnOnce()) {
    let dir = tempfile::tempdir().unwrap();
    let proxy = Phone::listening(port).start(server, dir.path(), &format!("path_proxy_{what}.xml"));
    trigger();
    wait_ok(
        proxy,
        &format!("the proxy seeing the {what} routed by the path"),
        dir.path(),
    );
}

/// Phone 101 registers to Obelus on `server` through the proxy on
/// `proxy`, its contact on `contact`.
fn register_through(server: u16, proxy: u16, contact: u16, dir: &Path) {
    let phone = Phone::listening(free_port())
        .args(&["-s", "101", "-au", "101", "-ap", "101"])
        .args(&["-key", "proxy_port", &proxy.to_string()])
        .args(&["-key", "contact_port", &contact.to_string()])
        .start(server, dir, "register_path.xml");
    wait_ok(phone, "101's REGISTER through the proxy", dir);
}

/// Originates a call to PJSIP/101 and waits for its outcome: the proxy
/// answers Busy, so the originate fails.
fn originate_busy(ami: &mut AmiSession) {
    ami.send(
        "Action: Originate\r\nActionID: o1\r\nChannel: PJSIP/101\r\nApplication: Wait\r\nData: 1\r\nAsync: true",
    );
    let queued = ami.response("o1");
    assert!(queued.contains("Response: Success"), "{queued}");
    let outcome = ami.read_until("Event: OriginateResponse");
    let outcome = outcome + &ami.read_until("\r\n\r\n");
    let tail = &outcome[outcome.find("Event: OriginateResponse").unwrap_or(0)..];
    assert!(tail.contains("Response: Failure"), "{tail}");
}

#[test]
fn a_phone_behind_a_proxy_is_reached_through_its_path() {
    let port = free_port();
    let conf = ConfDir::new();
    conf.write("pjsip.conf", &pjsip_conf(port));
    let ami_port = enable_ami(&conf, "all");
    let ari_port = enable_ari(&conf);
    let _daemon = conf.start_foreground();

    // Without support_path, requiring it is refused (420, Unsupported).
    assert!(sipp(
        port,
        "u1",
        "register_require_path.xml",
        "102",
        "102",
        free_port()
    ));

    let (proxy, contact) = (free_port(), free_port());
    let phone_dir = tempfile::tempdir().unwrap();
    register_through(port, proxy, contact, phone_dir.path());

    let route = format!("<sip:proxy@127.0.0.1:{proxy};lr>");
    let (_, shown, _) = conf.rx(&format!(
        "pjsip show contact 101/sip:101@127.0.0.1:{contact}"
    ));
    assert!(
        shown.contains(&format!(" {:<20} : {route}\n", "path")),
        "{shown}"
    );
    assert!(
        shown.contains(&format!("  Contact:  101/sip:101@127.0.0.1:{contact}")),
        "{shown}"
    );
    let detail = ami_action(
        ami_port,
        "Action: PJSIPShowEndpoint\r\nActionID: e1\r\nEndpoint: 101\r\n",
        "Event: EndpointDetailComplete",
    );
    let contact_detail = &detail[detail
        .find("Event: ContactStatusDetail")
        .unwrap_or_else(|| panic!("no ContactStatusDetail:\n{detail}"))..];
    assert!(
        contact_detail.contains(&format!("Path: {route}\r\n")),
        "{contact_detail}"
    );

    // Qualify pings the phone through the proxy; it answers.
    let mut ami = AmiSession::login(ami_port);
    proxy_sees(proxy, port, "options", || {
        ami.send("Action: PJSIPQualify\r\nActionID: q1\r\nEndpoint: 101");
        let queued = ami.response("q1");
        assert!(queued.contains("Response: Success"), "{queued}");
    });
    until(&conf, "pjsip show contacts", "101 reachable", |o| {
        o.lines()
            .any(|l| l.contains(&format!("101/sip:101@127.0.0.1:{contact}")) && l.contains("Avail"))
    });
    // A call to the phone goes through the proxy (which is busy).
    proxy_sees(proxy, port, "invite", || originate_busy(&mut ami));
    // So does a message.
    proxy_sees(proxy, port, "message", || {
        expect(
            ari_port,
            "PUT",
            "/ari/endpoints/sendMessage?to=pjsip:101&from=ari&body=through%20the%20proxy",
            202,
        );
    });
}

/// Two servers sharing one SQLite file: the phone registers through A,
/// its contact lands in `ps_contacts` with the path, and a call placed on
/// B reaches the phone through the proxy.
#[test]
fn a_path_stored_in_sqlite_routes_the_other_servers_calls() {
    let shared = tempfile::tempdir().unwrap();
    let connection = format!(
        "[obelus]\ndbfile => {}\n",
        shared.path().join("shared.sqlite3").display()
    );
    let connection = ("res_config_sqlite3.conf", connection.as_str());
    let (a, a_port) = server("pbx-a", "sqlite3", "obelus", connection);
    let (b, _) = server("pbx-b", "sqlite3", "obelus", connection);
    let upgrade = a.run(&["db", "upgrade"]);
    assert!(
        upgrade.status.success(),
        "{}",
        String::from_utf8_lossy(&upgrade.stderr)
    );
    let b_ami = enable_ami(&b, "all");
    let _a = a.start_foreground();
    let _b = b.start_foreground();
    for command in [
        "realtime store ps_aors id 101 max_contacts 1 support_path yes",
        "realtime store ps_auths id 101 auth_type userpass username 101 password 101",
        "realtime store ps_endpoints id 101 aors 101 auth 101 context default disallow all allow ulaw direct_media no",
    ] {
        let (_, out, _) = b.rx(command);
        assert_eq!(out, "Stored RealTime record.\n", "{command}");
    }

    let (proxy, contact) = (free_port(), free_port());
    let phone_dir = tempfile::tempdir().unwrap();
    register_through(a_port, proxy, contact, phone_dir.path());

    let (_, row, _) = b.rx("realtime load ps_contacts endpoint 101");
    assert!(
        row.contains(&format!("<sip:proxy@127.0.0.1:{proxy};lr>")),
        "ps_contacts.path:\n{row}"
    );
    let mut ami = AmiSession::login(b_ami);
    proxy_sees(proxy, a_port, "invite", || originate_busy(&mut ami));
}
