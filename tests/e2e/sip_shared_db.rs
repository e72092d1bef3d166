//! Scale-out: two Obelus servers sharing one database. A phone registered
//! through one server is seen by the other, because contacts are stored
//! through sorcery in `ps_contacts` (with the registering server's
//! `systemname` in `reg_server`), on PostgreSQL and on a shared SQLite file.

use sqlx::Connection as _;

use crate::common::{ConfDir, ami_action, ami_watcher, enable_ami, free_port};
use crate::sip_register::{contacts, sipp};

const FAMILIES: [&str; 4] = ["ps_endpoints", "ps_auths", "ps_aors", "ps_contacts"];

/// A server of the pair: its own state directories, name and SIP port,
/// the shared database given by `driver`/`database` and the connection file.
pub(crate) fn server(
    name: &str,
    driver: &str,
    database: &str,
    connection: (&str, &str),
) -> (ConfDir, u16) {
    let conf = ConfDir::new();
    let root = conf.path().display().to_string();
    conf.write(
        "asterisk.conf",
        &format!(
            "[directories]\nastrundir => {root}/run\nastlogdir => {root}/log\nastvarlibdir => {root}/lib\n[options]\nsystemname = {name}\n"
        ),
    );
    conf.write(connection.0, connection.1);
    let mut extconfig = String::from("[settings]\n");
    for family in FAMILIES {
        extconfig.push_str(&format!("{family} => {driver},{database}\n"));
    }
    conf.write("extconfig.conf", &extconfig);
    conf.write(
        "sorcery.conf",
        "[res_pjsip]\nendpoint = realtime,ps_endpoints\nauth = realtime,ps_auths\naor = realtime,ps_aors\ncontact = realtime,ps_contacts\n",
    );
    let port = free_port();
    conf.write(
        "pjsip.conf",
        &format!("[transport-udp]\ntype=transport\nprotocol=udp\nbind=127.0.0.1:{port}\n"),
    );
    (conf, port)
}

fn shared_registration(driver: &str, database: &str, connection: (&str, &str)) {
    let (a, a_port) = server("pbx-a", driver, database, connection);
    let (b, _) = server("pbx-b", driver, database, connection);
    let upgrade = a.run(&["db", "upgrade"]);
    assert!(
        upgrade.status.success(),
        "{}",
        String::from_utf8_lossy(&upgrade.stderr)
    );
    let _a = a.start_foreground();
    let _b = b.start_foreground();

    // The phone is defined through server B, registers through server A.
    for command in [
        "realtime store ps_aors id 101 max_contacts 1 remove_existing yes",
        "realtime store ps_auths id 101 auth_type userpass username 101 password 101",
        "realtime store ps_endpoints id 101 aors 101 auth 101 context testing",
    ] {
        let (_, out, _) = b.rx(command);
        assert_eq!(out, "Stored RealTime record.\n", "{command}");
    }
    assert!(
        sipp(a_port, "u1", "register.xml", "101", "101", free_port()),
        "register through A"
    );

    let seen_by_b = contacts(&b);
    assert!(
        seen_by_b.contains("Contact:  101/sip:101@127.0.0.1:"),
        "B sees A's contact:\n{seen_by_b}"
    );
    let (_, row, _) = b.rx("realtime load ps_contacts endpoint 101");
    assert!(
        row.contains("pbx-a"),
        "reg_server names the registering server:\n{row}"
    );
    let (_, out, _) = b.rx("pjsip show endpoints");
    assert!(out.contains("Not in use"), "{out}");
    assert!(
        out.contains("      Contact:  101/sip:101@127.0.0.1:"),
        "{out}"
    );
}

#[test]
fn two_servers_share_contacts_through_postgresql() {
    let dbname = format!("obelus_shared_{}", std::process::id());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let admin = "postgres://postgres@127.0.0.1:5432/test";
    runtime.block_on(async {
        let mut c = sqlx::PgConnection::connect(admin)
            .await
            .expect("PostgreSQL on 127.0.0.1:5432");
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {dbname}")))
            .execute(&mut c)
            .await
            .unwrap();
    });
    let connection =
        format!("[general]\ndbhost=127.0.0.1\ndbport=5432\ndbname={dbname}\ndbuser=postgres\n");
    shared_registration("pgsql", "general", ("res_pgsql.conf", &connection));
    runtime.block_on(async {
        if let Ok(mut c) = sqlx::PgConnection::connect(admin).await {
            let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {dbname} WITH (FORCE)"
            )))
            .execute(&mut c)
            .await;
        }
    });
}

#[test]
fn two_servers_share_contacts_through_one_sqlite_file() {
    let shared = tempfile::tempdir().unwrap();
    let file = shared.path().join("shared.sqlite3");
    let connection = format!("[obelus]\ndbfile => {}\n", file.display());
    shared_registration(
        "sqlite3",
        "obelus",
        ("res_config_sqlite3.conf", &connection),
    );
}

/// Registrations are `ContactStatus` events on AMI (class system).
#[test]
fn contact_changes_are_ami_events() {
    let (_shared, conf, sip_port) = sqlite_server("pbx-a");
    let ami_port = enable_ami(&conf, "system");
    let _daemon = conf.start_foreground();
    add_phone_101(&conf, "", "");
    let mut read_until = ami_watcher(ami_port);
    let phone_port = free_port();
    assert!(sipp(
        sip_port,
        "u1",
        "register.xml",
        "101",
        "101",
        phone_port
    ));
    let created = read_until("ContactStatus: Created");
    assert!(
        created.contains("Privilege: system,all\r\nSystemName: pbx-a\r\nURI: sip:101@127.0.0.1:"),
        "{created}"
    );
    let listed = ami_action(
        ami_port,
        "Action: PJSIPShowContacts\r\n",
        "EventList: Complete",
    );
    assert!(
        listed.contains("Event: ContactList\r\nObjectType: contact\r\nObjectName: 101;@"),
        "{listed}"
    );
    assert!(listed.contains("Status: NonQualified"), "{listed}");
    let event = read_until("RoundtripUsec: N/A");
    assert!(
        event.contains("AOR: 101\r\nEndpointName: 101\r\n"),
        "{event}"
    );
    assert!(sipp(
        sip_port,
        "u1",
        "unregister.xml",
        "101",
        "101",
        phone_port
    ));
    read_until("ContactStatus: Removed");
    // The endpoint lost its last contact: PeerStatus follows.
    let peer = read_until("PeerStatus: Unreachable\r\n");
    assert!(
        peer.contains("Event: PeerStatus\r\n")
            && peer.contains("ChannelType: PJSIP\r\nPeer: PJSIP/101\r\n"),
        "{peer}"
    );
    let empty = ami_action(
        ami_port,
        "Action: PJSIPShowContacts\r\n",
        "No Contacts found",
    );
    assert!(
        empty.contains("Response: Error\r\nMessage: No Contacts found"),
        "{empty}"
    );
}

/// Qualify: with `qualify_frequency`, the registered contact is pinged with
/// OPTIONS; a phone that answers is Reachable (with its round trip), one
/// that stops answering becomes Unreachable — both as AMI events.
#[test]
fn qualify_marks_contacts_reachable_then_unreachable() {
    let (_shared, conf, sip_port) = sqlite_server("pbx-q");
    let ami_port = enable_ami(&conf, "system");
    let _daemon = conf.start_foreground();
    add_phone_101(&conf, "qualify_frequency 1 qualify_timeout 1", "");
    let mut read_until = ami_watcher(ami_port);

    let phone_port = free_port();
    assert!(sipp(
        sip_port,
        "u1",
        "register.xml",
        "101",
        "101",
        phone_port
    ));
    read_until("ContactStatus: Created");
    // The phone now answers one ping.
    let scenario = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/sipp/uas_options.xml");
    let dir = tempfile::tempdir().unwrap();
    let mut phone = std::process::Command::new("sipp")
        .current_dir(dir.path())
        .arg("-sf")
        .arg(&scenario)
        .args([
            "-i",
            "127.0.0.1",
            "-p",
            &phone_port.to_string(),
            "-t",
            "u1",
            "-m",
            "1",
            "-nostdin",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("sipp");
    read_until("ContactStatus: Reachable");
    let rest = read_until("RoundtripUsec: ");
    let rest = rest + &read_until("\r\n");
    let rtt = rest
        .lines()
        .find_map(|l| l.strip_prefix("RoundtripUsec: "))
        .expect("a round trip");
    assert!(rtt.trim().parse::<u64>().is_ok(), "{rest}");
    let listed = contacts(&conf);
    assert!(listed.contains(" Avail "), "{listed}");
    assert!(!listed.contains(" nan"), "a round trip is shown:\n{listed}");
    let _ = phone.wait();
    // Nobody answers any more.
    read_until("ContactStatus: Unreachable");
    let listed = contacts(&conf);
    assert!(listed.contains(" Unavail "), "{listed}");
}

/// `pjsip set logger`: SIP messages in and out, in Asterisk's format, in the
/// log; `host` limits it to one peer; `off` stops it.
#[test]
fn sip_logger_shows_messages() {
    let (_shared, conf, sip_port) = sqlite_server("pbx-l");
    let _daemon = conf.start_foreground();
    let log = conf.path().join("log/messages");
    let wait_for = |needle: &str| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            if text.contains(needle) {
                return text;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "'{needle}' not logged:\n{text}"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    };
    assert_eq!(conf.rx("pjsip set logger on").1, "PJSIP Logging enabled\n");
    assert!(sipp(sip_port, "u1", "options.xml", "101", "x", free_port()));
    let text = wait_for("<--- Transmitting SIP response (");
    assert!(text.contains("<--- Received SIP request ("), "{text}");
    assert!(text.contains("bytes) from UDP:127.0.0.1:"), "{text}");
    assert!(text.contains("OPTIONS sip:"), "{text}");
    assert!(text.contains("SIP/2.0 200 OK"), "{text}");

    assert_eq!(
        conf.rx("pjsip set logger host 10.9.9.9").1,
        "PJSIP Logging Enabled for host: 10.9.9.9\n"
    );
    let before = std::fs::read_to_string(&log)
        .unwrap()
        .matches("<--- Received")
        .count();
    assert!(sipp(sip_port, "u1", "options.xml", "101", "x", free_port()));
    assert_eq!(
        conf.rx("pjsip set logger off").1,
        "PJSIP Logging disabled\n"
    );
    assert!(sipp(sip_port, "u1", "options.xml", "101", "x", free_port()));
    std::thread::sleep(std::time::Duration::from_millis(200));
    let after = std::fs::read_to_string(&log)
        .unwrap()
        .matches("<--- Received")
        .count();
    assert_eq!(before, after, "other hosts and 'off' log nothing");
}

/// An endpoint's `deny`/`permit` ACL is applied before authentication: a
/// REGISTER from outside it gets 403; changing the row takes effect at once.
#[test]
fn endpoint_acl_refuses_registrations() {
    let (_shared, conf, sip_port) = sqlite_server("pbx-acl");
    let _daemon = conf.start_foreground();
    add_phone_101(&conf, "", "deny 0.0.0.0/0.0.0.0 permit 10.0.0.0/255.0.0.0");
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let local = socket.local_addr().unwrap();
    let register = |branch: &str| {
        format!(
            "REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch={branch}\r\nMax-Forwards: 70\r\nFrom: <sip:101@127.0.0.1>;tag=acl\r\nTo: <sip:101@127.0.0.1>\r\nCall-ID: acl-test@{local}\r\nCSeq: 1 REGISTER\r\nContact: <sip:101@{local}>\r\nContent-Length: 0\r\n\r\n"
        )
    };
    let ask = |text: String| -> String {
        socket
            .send_to(text.as_bytes(), ("127.0.0.1", sip_port))
            .unwrap();
        let mut buf = [0u8; 4096];
        let (n, _) = socket.recv_from(&mut buf).unwrap();
        String::from_utf8_lossy(&buf[..n]).into_owned()
    };
    let refused = ask(register("z9hG4bKacl1"));
    assert!(
        refused.starts_with("SIP/2.0 403 Forbidden\r\n"),
        "{refused}"
    );

    let (_, out, _) = conf.rx("realtime update ps_endpoints id 101 permit 127.0.0.1");
    assert_eq!(out, "Updated 1 RealTime record.\n");
    let challenged = ask(register("z9hG4bKacl2"));
    assert!(
        challenged.starts_with("SIP/2.0 401 Unauthorized\r\n"),
        "{challenged}"
    );
}

/// A server of its own on a SQLite file; the directory holding the file is
/// returned so it lives as long as the test.
fn sqlite_server(name: &str) -> (tempfile::TempDir, ConfDir, u16) {
    let shared = tempfile::tempdir().unwrap();
    let connection = format!(
        "[obelus]\ndbfile => {}\n",
        shared.path().join("db.sqlite3").display()
    );
    let (conf, port) = server(
        name,
        "sqlite3",
        "obelus",
        ("res_config_sqlite3.conf", &connection),
    );
    (shared, conf, port)
}

/// Phone 101 (password 101) in the running server's database, with extra
/// options for its aor and endpoint rows.
fn add_phone_101(conf: &ConfDir, aor_options: &str, endpoint_options: &str) {
    for command in [
        format!("realtime store ps_aors id 101 max_contacts 1 {aor_options}"),
        "realtime store ps_auths id 101 auth_type userpass username 101 password 101".to_owned(),
        format!("realtime store ps_endpoints id 101 aors 101 auth 101 {endpoint_options}"),
    ] {
        assert_eq!(
            conf.rx(command.trim_end()).1,
            "Stored RealTime record.\n",
            "{command}"
        );
    }
}

/// `rewrite_contact=yes`: the stored contact is where the REGISTER came
/// from, not the (NATed) address the phone wrote in its Contact.
#[test]
fn rewrite_contact_stores_the_source_address() {
    let (_shared, conf, sip_port) = sqlite_server("pbx-nat");
    let _daemon = conf.start_foreground();
    add_phone_101(&conf, "", "rewrite_contact yes");
    let dir = tempfile::tempdir().unwrap();
    let local = free_port();
    let status = std::process::Command::new("sipp")
        .current_dir(dir.path())
        .arg(format!("127.0.0.1:{sip_port}"))
        .arg("-sf")
        .arg(crate::sip_register::scenario("register_contact.xml"))
        .args([
            "-s",
            "101",
            "-au",
            "101",
            "-ap",
            "101",
            "-key",
            "contact_port",
            "5999",
        ])
        .args([
            "-i",
            "127.0.0.1",
            "-p",
            &local.to_string(),
            "-m",
            "1",
            "-nostdin",
        ])
        .args(["-timeout", "15s"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "REGISTER failed");
    let shown = contacts(&conf);
    assert!(
        shown.contains(&format!("101/sip:101@127.0.0.1:{local} ")),
        "{shown}"
    );
    assert!(!shown.contains(":5999"), "{shown}");
}

/// Named ACLs from acl.conf (`acl = office`) guard an endpoint like its own
/// deny/permit lines, and an unknown ACL name refuses rather than opens.
#[test]
fn named_acls_from_acl_conf_guard_an_endpoint() {
    let (_shared, conf, sip_port) = sqlite_server("pbx-named-acl");
    conf.write(
        "acl.conf",
        "[office]\ndeny = 0.0.0.0/0.0.0.0\npermit = 10.0.0.0/8\n\n[local]\ndeny = 0.0.0.0/0\npermit = 127.0.0.0/8\n",
    );
    let _daemon = conf.start_foreground();
    add_phone_101(&conf, "", "acl office");
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let local = socket.local_addr().unwrap();
    let ask = |branch: &str| -> String {
        let text = format!(
            "REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch={branch}\r\nMax-Forwards: 70\r\nFrom: <sip:101@127.0.0.1>;tag=acl\r\nTo: <sip:101@127.0.0.1>\r\nCall-ID: {branch}@{local}\r\nCSeq: 1 REGISTER\r\nContact: <sip:101@{local}>\r\nContent-Length: 0\r\n\r\n"
        );
        socket
            .send_to(text.as_bytes(), ("127.0.0.1", sip_port))
            .unwrap();
        let mut buf = [0u8; 4096];
        let (n, _) = socket.recv_from(&mut buf).unwrap();
        String::from_utf8_lossy(&buf[..n]).into_owned()
    };
    assert!(ask("z9hG4bKn1").starts_with("SIP/2.0 403 Forbidden\r\n"));
    for (acl, status) in [("local", "401 Unauthorized"), ("nosuch", "403 Forbidden")] {
        let (_, out, _) = conf.rx(&format!("realtime update ps_endpoints id 101 acl {acl}"));
        assert_eq!(out, "Updated 1 RealTime record.\n");
        let answer = ask(&format!("z9hG4bKn{acl}"));
        assert!(
            answer.starts_with(&format!("SIP/2.0 {status}\r\n")),
            "{acl}: {answer}"
        );
    }
}

/// `contact_deny`/`contact_permit`: a REGISTER whose Contact points into a
/// refused network is answered 403 after authentication; no contact is
/// stored.
#[test]
fn contact_acls_refuse_contacts_in_denied_networks() {
    let (_shared, conf, sip_port) = sqlite_server("pbx-contact-acl");
    let _daemon = conf.start_foreground();
    add_phone_101(&conf, "", "contact_deny 127.0.0.0/8");
    assert!(
        !sipp(sip_port, "u1", "register.xml", "101", "101", free_port()),
        "a contact in a denied network was accepted"
    );
    assert!(contacts(&conf).contains("No objects found."));
    let (_, out, _) = conf.rx("realtime update ps_endpoints id 101 contact_permit 127.0.0.1");
    assert_eq!(out, "Updated 1 RealTime record.\n");
    assert!(sipp(
        sip_port,
        "u1",
        "register.xml",
        "101",
        "101",
        free_port()
    ));
}
