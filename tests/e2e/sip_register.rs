//! The SIP registrar end to end: the real daemon with a pjsip.conf, driven
//! by sipp (tests/sipp/*.xml) over UDP and over TCP, checked through
//! `pjsip show contacts` between the steps.
//!
//! Asterisk behaviour checked: REGISTER is challenged with a 401
//! (`realm="asterisk"`); digest credentials register the contact and the
//! 200 lists it with `;expires=`; a wrong password and an unknown user get
//! the same 401 (no account enumeration); with `max_contacts=1` and
//! `remove_existing=yes` a new contact replaces the old one; `Expires: 0`
//! unregisters; OPTIONS to the server is answered 200.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::common::{ConfDir, free_port};

fn pjsip_conf(port: u16) -> String {
    let mut conf = format!(
        "[transport-udp]\ntype=transport\nprotocol=udp\nbind=127.0.0.1:{port}\n\n\
[transport-tcp]\ntype=transport\nprotocol=tcp\nbind=127.0.0.1:{port}\n\n"
    );
    for user in ["101", "102"] {
        conf.push_str(&format!(
            "[{user}]\ntype=endpoint\ncontext=default\nauth={user}-auth\naors={user}\n\n\
[{user}-auth]\ntype=auth\nauth_type=userpass\nusername={user}\npassword={user}\n\n\
[{user}]\ntype=aor\nmax_contacts=1\nremove_existing=yes\n\n"
        ));
    }
    conf
}

pub(crate) fn scenario(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/sipp")
        .join(name)
}

/// Runs one sipp call of `scenario_name` as `user`/`password` from local port
/// `local`; true when sipp reports the call successful.
pub(crate) fn sipp(
    server: u16,
    transport: &str,
    scenario_name: &str,
    user: &str,
    password: &str,
    local: u16,
) -> bool {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = Command::new("sipp")
        .current_dir(dir.path())
        .arg(format!("127.0.0.1:{server}"))
        .arg("-sf")
        .arg(scenario(scenario_name))
        .args(["-s", user, "-au", user, "-ap", password])
        .args(["-i", "127.0.0.1", "-p", &local.to_string()])
        .args(["-t", transport, "-m", "1", "-timeout", "15s", "-nostdin"])
        .stdin(Stdio::null())
        .output()
        .expect("run sipp (apt-get install sip-tester)");
    if !out.status.success() {
        eprintln!(
            "sipp {scenario_name} as {user} failed ({:?}):\n{}\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .rev()
                .take(30)
                .collect::<Vec<_>>()
                .join("\n"),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    out.status.success()
}

pub(crate) fn contacts(conf: &ConfDir) -> String {
    let (code, out, err) = conf.rx("pjsip show contacts");
    assert_eq!(code, 0, "pjsip show contacts: {err}");
    out
}

fn walk(transport: &str) {
    let port = free_port();
    let conf = ConfDir::new();
    conf.write("pjsip.conf", &pjsip_conf(port));
    let _daemon = conf.start_foreground();
    let (code, out, _) = conf.rx("pjsip show transports");
    assert_eq!(code, 0);
    assert!(
        out.contains("transport-udp") && out.contains("transport-tcp"),
        "{out}"
    );
    assert!(contacts(&conf).contains("No objects found."));

    assert!(sipp(
        port,
        transport,
        "options.xml",
        "101",
        "101",
        free_port()
    ));

    // REGISTER -> 401 -> REGISTER with credentials -> 200 with the contact.
    let first = free_port();
    assert!(sipp(port, transport, "register.xml", "101", "101", first));
    let list = contacts(&conf);
    assert!(
        list.contains(&format!("101/sip:101@127.0.0.1:{first}")),
        "{list}"
    );
    assert!(list.contains("Objects found: 1"), "{list}");

    // Wrong password and unknown user: the same 401, nothing registered.
    assert!(sipp(
        port,
        transport,
        "register_rejected.xml",
        "102",
        "wrong",
        free_port()
    ));
    assert!(sipp(
        port,
        transport,
        "register_rejected.xml",
        "999",
        "999",
        free_port()
    ));
    assert!(contacts(&conf).contains("Objects found: 1"));

    // Re-REGISTER from the same contact refreshes it: still one.
    assert!(sipp(port, transport, "register.xml", "101", "101", first));
    assert!(contacts(&conf).contains("Objects found: 1"));

    // A second contact replaces the first (max_contacts=1, remove_existing).
    let second = free_port();
    assert!(sipp(port, transport, "register.xml", "101", "101", second));
    let list = contacts(&conf);
    assert!(
        list.contains(&format!("101/sip:101@127.0.0.1:{second}")),
        "{list}"
    );
    assert!(!list.contains(&format!(":{first}")), "{list}");

    // 102 registers beside it.
    let other = free_port();
    assert!(sipp(port, transport, "register.xml", "102", "102", other));
    assert!(contacts(&conf).contains("Objects found: 2"));

    // Expires: 0 removes the binding.
    assert!(sipp(
        port,
        transport,
        "unregister.xml",
        "101",
        "101",
        second
    ));
    let list = contacts(&conf);
    assert!(!list.contains("101/sip:"), "{list}");
    assert!(list.contains("Objects found: 1"), "{list}");
}

#[test]
fn sip_register_over_udp() {
    walk("u1");
}

#[test]
fn sip_register_over_tcp() {
    walk("t1");
}

/// realtime.md §7: with `contact=realtime,ps_contacts` the registrar's
/// contacts are rows of ps_contacts (id `<aor>;@<md5>`, `reg_server` =
/// asterisk.conf `systemname`), and unregistering deletes the row.
#[test]
fn sip_register_contacts_in_realtime() {
    let port = free_port();
    let conf = ConfDir::new();
    let asterisk =
        std::fs::read_to_string(conf.path().join("asterisk.conf")).expect("asterisk.conf");
    conf.write("asterisk.conf", &format!("{asterisk}systemname = pbx1\n"));
    conf.write("pjsip.conf", &pjsip_conf(port));
    conf.write(
        "res_config_sqlite3.conf",
        "[obelus]\ndbfile => obelus.sqlite3\n",
    );
    conf.write(
        "extconfig.conf",
        "[settings]\nps_contacts => sqlite3,obelus\n",
    );
    conf.write(
        "sorcery.conf",
        "[res_pjsip]\ncontact = realtime,ps_contacts\n",
    );
    let _daemon = conf.start_foreground();
    let local = free_port();
    assert!(sipp(port, "u1", "register.xml", "101", "101", local));
    let (_, row, _) = conf.rx("realtime load ps_contacts endpoint 101");
    assert!(row.contains("101;@"), "{row}");
    assert!(row.contains(&format!("sip:101@127.0.0.1:{local}")), "{row}");
    assert!(row.contains("pbx1"), "{row}");
    assert!(row.contains("expiration_time"), "{row}");
    assert!(contacts(&conf).contains("Objects found: 1"));
    assert!(sipp(port, "u1", "unregister.xml", "101", "101", local));
    let (_, row, _) = conf.rx("realtime load ps_contacts endpoint 101");
    assert!(row.contains("No rows found"), "{row}");
}

/// RFC 3261 §21.5.7 and RFC 4475 §3.1.2: a request the parser refuses is
/// answered with the specific error when it names its headers; OPTIONS
/// gets a 200 whose top Via carries `received`/`rport` (RFC 3581).
#[test]
fn sip_bad_requests_get_error_responses() {
    let port = free_port();
    let conf = ConfDir::new();
    conf.write("pjsip.conf", &pjsip_conf(port));
    let _daemon = conf.start_foreground();
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    socket
        .set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .expect("timeout");
    let local = socket.local_addr().expect("local").port();
    let options = format!(
        "OPTIONS sip:127.0.0.1:{port} SIP/2.0\r\nVia: SIP/2.0/UDP 10.9.9.9:5060;rport;branch=z9hG4bK-e2e\r\n\
From: <sip:probe@10.9.9.9>;tag=1\r\nTo: <sip:127.0.0.1>\r\nCall-ID: bad-1\r\nCSeq: 1 OPTIONS\r\n\
Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
    );
    let exchange = |text: &str| {
        socket
            .send_to(text.as_bytes(), ("127.0.0.1", port))
            .expect("send");
        let mut buf = [0u8; 4096];
        let n = socket.recv(&mut buf).expect("an answer");
        String::from_utf8_lossy(&buf[..n]).into_owned()
    };
    let ok = exchange(&options);
    assert!(ok.starts_with("SIP/2.0 200 OK\r\n"), "{ok}");
    assert!(
        ok.contains(&format!(
            ";rport={local};branch=z9hG4bK-e2e;received=127.0.0.1"
        )),
        "{ok}"
    );
    assert!(ok.contains("Allow: OPTIONS, REGISTER"), "{ok}");
    let bad_version = exchange(&options.replacen("SIP/2.0\r\n", "SIP/3.0\r\n", 1));
    assert!(bad_version.starts_with("SIP/2.0 505 "), "{bad_version}");
    let bad_header = exchange(&options.replace("Max-Forwards: 70", "Max-Forwards: lots"));
    assert!(
        bad_header.starts_with("SIP/2.0 400 Bad Max-Forwards Header\r\n"),
        "{bad_header}"
    );
    let unknown = exchange(&options.replace("OPTIONS", "FROBNICATE"));
    assert!(unknown.starts_with("SIP/2.0 501 "), "{unknown}");
}

/// Asterisk: expiries are clamped to the AOR's `maximum_expiration`, and
/// lapsed contacts are deleted every `contact_expiration_check_interval`.
#[test]
fn sip_register_expired_contacts_are_pruned() {
    let port = free_port();
    let conf = ConfDir::new();
    let pjsip = pjsip_conf(port).replace(
        "max_contacts=1\n",
        "max_contacts=1\nminimum_expiration=1\nmaximum_expiration=2\n",
    );
    conf.write(
        "pjsip.conf",
        &format!("[global]\ntype=global\ncontact_expiration_check_interval=1\n\n{pjsip}"),
    );
    let _daemon = conf.start_foreground();
    assert!(sipp(port, "u1", "register.xml", "101", "101", free_port()));
    assert!(contacts(&conf).contains("Objects found: 1"));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !contacts(&conf).contains("No objects found.") {
        assert!(std::time::Instant::now() < deadline, "contact not pruned");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}
