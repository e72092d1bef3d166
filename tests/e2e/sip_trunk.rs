//! SIP trunks between two real Obelus daemons, configured as an Asterisk
//! user configures them in pjsip.conf: obelus A registers to obelus B
//! (`type=registration` with `outbound_auth`, digest-challenged by B's
//! registrar), calls B through an endpoint whose INVITEs B challenges
//! (`outbound_auth` on A's endpoint, `auth` on B's), and is called by B
//! at its registered contact, identified by the contact's `line`
//! parameter.

use std::time::{Duration, Instant};

use crate::call::{Phone, wait_ok};
use crate::common::{AmiSession, ConfDir, Daemon, enable_ami, free_port};

const PASSWORD: &str = "s3cret";

/// B: a registrar and callee for A (identified by address, digest auth
/// `trunkuser`), extension 500 answers.
fn obelus_b(port: u16) -> ConfDir {
    let conf = ConfDir::new();
    conf.write(
        "pjsip.conf",
        &format!(
            "[transport-udp]\ntype=transport\nprotocol=udp\nbind=127.0.0.1:{port}\n\n\
[from-a]\ntype=endpoint\ncontext=in\naors=from-a\nauth=from-a-auth\ndisallow=all\nallow=ulaw\ndirect_media=no\n\n\
[from-a]\ntype=aor\nmax_contacts=1\nremove_existing=yes\n\n\
[from-a-auth]\ntype=auth\nauth_type=userpass\nusername=trunkuser\npassword={PASSWORD}\n\n\
[from-a]\ntype=identify\nendpoint=from-a\nmatch=127.0.0.1\n"
        ),
    );
    conf.write(
        "extensions.conf",
        "[in]\nexten => 500,1,Answer()\n same => n,Wait(20)\n same => n,Hangup()\n",
    );
    conf
}

/// A: phone 101 (for sipp), the trunk endpoint `to-b` with its static
/// contact at B and `outbound_auth`, and the registration `to-b`
/// (`registration_extra` adds options to it).
fn obelus_a(port: u16, b: u16, password: &str, registration_extra: &str) -> ConfDir {
    let conf = ConfDir::new();
    conf.write(
        "pjsip.conf",
        &a_pjsip(port, b, password, registration_extra),
    );
    conf.write(
        "extensions.conf",
        "[testing]\nexten => 500,1,Dial(PJSIP/500@to-b)\n\n\
[from-b]\nexten => a-in,1,Answer()\n same => n,Wait(20)\n same => n,Hangup()\n",
    );
    conf
}

fn a_endpoints(port: u16, b: u16, password: &str) -> String {
    format!(
        "[transport-udp]\ntype=transport\nprotocol=udp\nbind=127.0.0.1:{port}\n\n\
[101]\ntype=endpoint\ncontext=testing\nauth=101\naors=101\ndisallow=all\nallow=ulaw\ndirect_media=no\n\n\
[101]\ntype=auth\nauth_type=userpass\nusername=101\npassword=101\n\n\
[101]\ntype=aor\nmax_contacts=1\n\n\
[to-b]\ntype=endpoint\ncontext=from-b\naors=to-b\noutbound_auth=to-b-auth\ndisallow=all\nallow=ulaw\ndirect_media=no\n\n\
[to-b]\ntype=aor\ncontact=sip:127.0.0.1:{b}\n\n\
[to-b-auth]\ntype=auth\nauth_type=userpass\nusername=trunkuser\npassword={password}\n\n"
    )
}

fn a_pjsip(port: u16, b: u16, password: &str, registration_extra: &str) -> String {
    format!(
        "{}[to-b]\ntype=registration\nserver_uri=sip:127.0.0.1:{b}\nclient_uri=sip:from-a@127.0.0.1:{b}\n\
contact_user=a-in\noutbound_auth=to-b-auth\nmax_random_initial_delay=0\nexpiration=120\n\
line=yes\nendpoint=to-b\n{registration_extra}\n",
        a_endpoints(port, b, password)
    )
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

fn registered(conf: &ConfDir) -> String {
    until(conf, "pjsip show registrations", "A registered", |out| {
        out.contains("Registered ")
    })
}

/// The two daemons, each with AMI.
struct Trunk {
    a: ConfDir,
    b: ConfDir,
    a_port: u16,
    b_port: u16,
    a_ami: u16,
    b_ami: u16,
    _daemons: (Daemon, Daemon),
}

/// B, then A with its registration to B (`password` in A's auth,
/// `extra` options on the registration).
fn trunk(password: &str, extra: &str) -> Trunk {
    let (a_port, b_port) = (free_port(), free_port());
    let b = obelus_b(b_port);
    let b_ami = enable_ami(&b, "all");
    let b_daemon = b.start_foreground();
    let a = obelus_a(a_port, b_port, password, extra);
    let a_ami = enable_ami(&a, "all");
    let a_daemon = a.start_foreground();
    Trunk {
        a,
        b,
        a_port,
        b_port,
        a_ami,
        b_ami,
        _daemons: (a_daemon, b_daemon),
    }
}

/// Logs in to AMI on `port`, sends `action`, and returns everything that
/// arrived within `window` (events included).
fn ami_for(port: u16, action: &str, window: Duration) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    stream
        .write_all(
            format!("Action: Login\r\nUsername: admin\r\nSecret: s\r\n\r\n{action}\r\n\r\n")
                .as_bytes(),
        )
        .unwrap();
    let deadline = Instant::now() + window;
    let mut text = Vec::new();
    let mut buf = [0u8; 4096];
    while Instant::now() < deadline {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => text.extend_from_slice(&buf[..n]),
            Err(_) => {}
        }
    }
    String::from_utf8_lossy(&text).into_owned()
}

/// The `Registry` events in an AMI transcript.
fn registry_events(text: &str) -> Vec<&str> {
    text.split("\r\n\r\n")
        .filter(|block| block.contains("Event: Registry\r\n"))
        .collect()
}

/// res_pjsip_outbound_registration end to end: A registers to B through
/// B's digest challenge; the console, AMI and the `Registry` event say so;
/// unregister removes the contact on B; a reload without the registration
/// unregisters it, and with it registers again.
#[test]
fn a_registers_to_b_with_digest_auth() {
    let t = trunk(PASSWORD, "");
    let list = registered(&t.a);
    let server = format!("sip:127.0.0.1:{}", t.b_port);
    assert!(
        list.contains(
            " <Registration/ServerURI..............................>  <Auth....................>  <Status.......>"
        ),
        "{list}"
    );
    assert!(
        list.contains(&format!(
            " to-b/{server:<49}  {:<26}  Registered        (exp. 1",
            "to-b-auth"
        )),
        "{list}"
    );
    assert!(list.contains("\nObjects found: 1\n"), "{list}");
    let ours = format!("from-a/sip:a-in@127.0.0.1:{}", t.a_port);
    until(&t.b, "pjsip show contacts", "A's contact on B", |o| {
        o.contains(&ours)
    });
    let (_, one, _) = t.a.rx("pjsip show registration to-b");
    assert!(
        one.contains("Registered") && one.contains(&format!("{:<24} : {server}", "server_uri")),
        "{one}"
    );

    // PJSIPRegister: unregister, then register again, each a Registry event.
    let mut ami = AmiSession::login(t.a_ami);
    ami.send("Action: PJSIPRegister\r\nActionID: r1\r\nRegistration: to-b");
    let response = ami.response("r1");
    assert!(
        response.contains("Message: Reregistration sent"),
        "{response}"
    );
    let events = ami.read_until("Status: Registered\r\n");
    let registry = registry_events(&events);
    assert!(registry.len() >= 2, "{events}");
    for field in [
        "Privilege: system,all".to_owned(),
        "ChannelType: PJSIP".to_owned(),
        format!("Username: sip:from-a@127.0.0.1:{}", t.b_port),
        format!("Domain: {server}"),
    ] {
        assert!(
            registry.iter().all(|e| e.contains(&field)),
            "{field}: {events}"
        );
    }
    assert!(registry[0].contains("Status: Unregistered"), "{events}");

    ami.send("Action: PJSIPShowRegistrationsOutbound\r\nActionID: s1");
    let listing = ami.read_until("Event: OutboundRegistrationDetailComplete");
    let listing = listing + &ami.read_until("\r\n\r\n");
    for needle in [
        "Message: Following are Events for each Outbound registration",
        "Event: OutboundRegistrationDetail\r\nActionID: s1",
        "ObjectName: to-b",
        "Status: Registered",
        "ContactUser: a-in",
        "Event: AuthDetail",
        "Username: trunkuser",
        "ListItems: 1",
        "Registered: 1",
        "NotRegistered: 0",
    ] {
        assert!(listing.contains(needle), "{needle}: {listing}");
    }
    ami.send("Action: PJSIPUnregister\r\nActionID: u0\r\nRegistration: nope");
    assert!(ami.response("u0").contains("Response: Error"));

    // Unregister: the contact goes from B, and A stays unregistered.
    let (code, _, _) = t.a.rx("pjsip send unregister to-b");
    assert_eq!(code, 0);
    until(&t.b, "pjsip show contacts", "A's contact removed", |o| {
        !o.contains(&ours)
    });
    until(&t.a, "pjsip show registrations", "A unregistered", |o| {
        o.contains("Unregistered")
    });
    let (_, out, _) = t.a.rx("pjsip send register *all");
    assert!(out.contains("Re-register all queued"), "{out}");
    registered(&t.a);
    let (_, out, _) = t.a.rx("pjsip send register nope");
    assert!(
        out.contains("Unable to retrieve registration nope"),
        "{out}"
    );

    // A reload that removes the registration unregisters it; one that
    // brings it back registers.
    t.a.write("pjsip.conf", &a_endpoints(t.a_port, t.b_port, PASSWORD));
    t.a.rx("core reload");
    until(&t.b, "pjsip show contacts", "unregistered on reload", |o| {
        !o.contains(&ours)
    });
    until(&t.a, "pjsip show registrations", "registration gone", |o| {
        o.contains("No objects found.")
    });
    t.a.write("pjsip.conf", &a_pjsip(t.a_port, t.b_port, PASSWORD, ""));
    t.a.rx("module reload res_pjsip.so");
    t.a.rx("module reload res_pjsip_outbound_registration.so");
    registered(&t.a);
    until(&t.b, "pjsip show contacts", "registered again", |o| {
        o.contains(&ours)
    });

    // Stopping A unregisters it.
    t.a.rx("core stop now");
    until(
        &t.b,
        "pjsip show contacts",
        "unregistered at shutdown",
        |o| !o.contains(&ours),
    );
}

/// Realtime (`ps_registrations` through sorcery.conf): a registration
/// stored while A runs starts at the next reload, and one deleted stops
/// (unregistering) at the next.
#[test]
fn realtime_registrations_are_read_on_reload() {
    let (a_port, b_port) = (free_port(), free_port());
    let b = obelus_b(b_port);
    let _b = b.start_foreground();
    let a = ConfDir::new();
    a.write("pjsip.conf", &a_endpoints(a_port, b_port, PASSWORD));
    a.write(
        "res_config_sqlite3.conf",
        "[obelus]\ndbfile => obelus.sqlite3\n",
    );
    a.write(
        "extconfig.conf",
        "[settings]\nps_registrations => sqlite3,obelus\n",
    );
    a.write(
        "sorcery.conf",
        "[res_pjsip_outbound_registration]\nregistration = realtime,ps_registrations\n",
    );
    let _a = a.start_foreground();
    let (_, out, _) = a.rx("pjsip show registrations");
    assert!(out.contains("No objects found."), "{out}");
    let store = format!(
        "realtime store ps_registrations id to-b server_uri sip:127.0.0.1:{b_port} \
client_uri sip:from-a@127.0.0.1:{b_port} contact_user a-in outbound_auth to-b-auth \
max_random_initial_delay 0 expiration 120"
    );
    assert_eq!(a.rx(&store).1, "Stored RealTime record.\n");
    a.rx("module reload res_pjsip_outbound_registration.so");
    registered(&a);
    let ours = format!("from-a/sip:a-in@127.0.0.1:{a_port}");
    until(&b, "pjsip show contacts", "A's contact on B", |o| {
        o.contains(&ours)
    });
    a.rx("realtime destroy ps_registrations id to-b");
    a.rx("core reload");
    until(
        &b,
        "pjsip show contacts",
        "unregistered when deleted",
        |o| !o.contains(&ours),
    );
}

/// Against another implementation: a sipp trunk peer challenges A's
/// INVITE and, once the call is up, A's BYE; it checks A's credentials
/// itself (verifyauth), so the scenario only completes if A answered both
/// challenges correctly.
#[test]
fn invite_and_bye_answer_a_third_party_challenge() {
    let (a_port, peer) = (free_port(), free_port());
    let a = ConfDir::new();
    a.write("pjsip.conf", &a_endpoints(a_port, peer, PASSWORD));
    let ami = enable_ami(&a, "all");
    let _a = a.start_foreground();
    let dir = tempfile::tempdir().unwrap();
    let uas = Phone::listening(peer).start(a_port, dir.path(), "auth_uas.xml");
    let text = ami_for(
        ami,
        "Action: Originate\r\nChannel: PJSIP/to-b\r\nApplication: Wait\r\nData: 1\r\nAsync: true",
        Duration::from_secs(3),
    );
    let answered = text
        .split("\r\n\r\n")
        .find(|block| block.contains("Event: OriginateResponse"));
    assert!(
        answered.is_some_and(|block| block.contains("Response: Success")),
        "{text}"
    );
    wait_ok(uas, "the peer's challenges of INVITE and BYE", dir.path());
}

/// A wrong password: B refuses it (401 again), and A reports Rejected;
/// with `auth_rejection_permanent=no` it tries `max_retries` more times
/// every `retry_interval`, with the default it gives up at once.
#[test]
fn a_wrong_password_is_rejected_and_retried_as_configured() {
    let perm = "\n[perm]\ntype=registration\nserver_uri=sip:127.0.0.1:{b}\n\
client_uri=sip:perm@127.0.0.1:{b}\noutbound_auth=to-b-auth\nmax_random_initial_delay=0\n";
    let (a_port, b_port) = (free_port(), free_port());
    let b = obelus_b(b_port);
    let _b = b.start_foreground();
    let a = ConfDir::new();
    a.write(
        "pjsip.conf",
        &(a_pjsip(
            a_port,
            b_port,
            "wrong",
            "auth_rejection_permanent=no\nretry_interval=1\nmax_retries=2\n",
        ) + &perm.replace("{b}", &b_port.to_string())),
    );
    let ami = enable_ami(&a, "all");
    let _a = a.start_foreground();
    until(&a, "pjsip show registrations", "both rejected", |o| {
        o.matches("Rejected").count() == 2
    });
    // Let the start-up attempts (one, then two retries a second apart) end.
    std::thread::sleep(Duration::from_secs(4));

    let text = ami_for(
        ami,
        "Action: PJSIPRegister\r\nRegistration: to-b",
        Duration::from_secs(5),
    );
    let registry = registry_events(&text);
    assert_eq!(registry.len(), 3, "one attempt and two retries:\n{text}");
    assert!(
        registry
            .iter()
            .all(|e| e.contains("Status: Rejected") && e.contains("Cause: 401")),
        "{text}"
    );
    let text = ami_for(
        ami,
        "Action: PJSIPRegister\r\nRegistration: perm",
        Duration::from_secs(3),
    );
    let registry = registry_events(&text);
    assert_eq!(registry.len(), 1, "auth_rejection_permanent=yes:\n{text}");
    assert!(registry[0].contains(&format!("Username: sip:perm@127.0.0.1:{b_port}")));
    let (_, contacts, _) = b.rx("pjsip show contacts");
    assert!(!contacts.contains("from-a/"), "{contacts}");
}

/// Calls over the trunk: sipp phone 101 calls A's 500, which dials B
/// through `to-b`; B challenges the INVITE and A answers with its
/// `outbound_auth`, so the call connects. Then B calls A at the contact A
/// registered: A identifies the call as endpoint `to-b` by the contact's
/// `line` parameter, and runs it in `to-b`'s context.
#[test]
fn calls_through_the_trunk_both_ways() {
    let t = trunk(PASSWORD, "");
    registered(&t.a);
    let mut b_ami = AmiSession::login(t.b_ami);

    let dir = tempfile::tempdir().unwrap();
    let rtp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let caller = Phone::calling("101", "500")
        .rtp(&rtp)
        .codec("0", "PCMU")
        .args(&["-d", "3000"])
        .start(t.a_port, dir.path(), "call_caller.xml");
    until(&t.b, "core show channels", "B answered A's call", |o| {
        o.lines()
            .any(|l| l.starts_with("PJSIP/from-a-") && l.contains("500@in:") && l.contains(" Up "))
    });
    wait_ok(caller, "101's call through the trunk", dir.path());
    // B challenged that INVITE and accepted A's answer.
    loop {
        let block = b_ami.read_until("Event: SuccessfulAuth\r\n");
        let block = block + &b_ami.read_until("\r\n\r\n");
        let event = &block[block.rfind("Event: SuccessfulAuth").unwrap_or(0)..];
        if event.contains("RequestType: INVITE") {
            assert!(event.contains("AccountID: trunkuser"), "{event}");
            break;
        }
    }
    until(&t.a, "core show channels", "A's trunk call over", |o| {
        !o.contains("PJSIP/to-b-")
    });

    b_ami.send(
        "Action: Originate\r\nActionID: o1\r\nChannel: PJSIP/from-a\r\nApplication: Wait\r\nData: 20\r\nAsync: true",
    );
    let channels = until(
        &t.a,
        "core show channels",
        "A identified B's call by line",
        |o| o.contains("PJSIP/to-b-"),
    );
    assert!(channels.contains("a-in@from-b:"), "{channels}");
    let answered = b_ami.read_until("Event: OriginateResponse");
    let answered = answered + &b_ami.read_until("\r\n\r\n");
    assert!(answered.contains("Response: Success"), "{answered}");
}

/// Adds a TCP transport on `port` to the pjsip.conf of `conf`.
fn with_tcp(conf: &ConfDir, port: u16) {
    let path = conf.path().join("pjsip.conf");
    let text = std::fs::read_to_string(&path).unwrap();
    conf.write(
        "pjsip.conf",
        &format!("[transport-tcp]\ntype=transport\nprotocol=tcp\nbind=127.0.0.1:{port}\n\n{text}"),
    );
}

/// A registration whose server URI says `transport=tcp` connects out to B
/// over TCP: the REGISTER, its challenge and the refreshes go over that
/// connection, and B stores a contact that names TCP, so B's requests come
/// back the same way; unregistering removes it.
#[test]
fn a_registers_to_b_over_tcp() {
    let (a_port, b_port) = (free_port(), free_port());
    let b = obelus_b(b_port);
    with_tcp(&b, b_port);
    let _b_daemon = b.start_foreground();
    let a = ConfDir::new();
    a.write(
        "pjsip.conf",
        &a_pjsip(a_port, b_port, PASSWORD, "").replace(
            &format!("server_uri=sip:127.0.0.1:{b_port}\n"),
            // `;` starts a comment in .conf files: escaped, as Asterisk's.
            &format!("server_uri=sip:127.0.0.1:{b_port}\\;transport=tcp\n"),
        ),
    );
    with_tcp(&a, a_port);
    let _a_daemon = a.start_foreground();
    let list = registered(&a);
    assert!(list.contains(";transport=tcp"), "{list}");
    let ours = format!("from-a/sip:a-in@127.0.0.1:{a_port};transport=tcp");
    until(&b, "pjsip show contacts", "A's TCP contact on B", |o| {
        o.contains(&ours)
    });
    let (code, out, _) = a.rx("pjsip send unregister to-b");
    assert_eq!(code, 0, "{out}");
    until(&b, "pjsip show contacts", "A's contact gone from B", |o| {
        !o.contains("from-a/")
    });
}

/// RFC 5626 and RFC 3327 on the trunk: A registers to B over TCP as an
/// outbound flow (`support_outbound`, `support_path`). B's registrar takes
/// the flow's Contact as it comes (`;ob` in the URI; `reg-id` and
/// `+sip.instance` beside it), and B's call to A goes back down the
/// connection A opened, where A identifies it by its `line`.
#[test]
fn a_registers_to_b_as_an_outbound_flow_over_tcp() {
    let (a_port, b_port) = (free_port(), free_port());
    let b = obelus_b(b_port);
    with_tcp(&b, b_port);
    let b_ami = enable_ami(&b, "all");
    let _b_daemon = b.start_foreground();
    let flow = "support_outbound=yes\nsupport_path=yes\n";
    let a = obelus_a(a_port, b_port, PASSWORD, flow);
    a.write(
        "pjsip.conf",
        &a_pjsip(a_port, b_port, PASSWORD, flow).replace(
            &format!("server_uri=sip:127.0.0.1:{b_port}\n"),
            &format!("server_uri=sip:127.0.0.1:{b_port}\\;transport=tcp\n"),
        ),
    );
    with_tcp(&a, a_port);
    let _a_daemon = a.start_foreground();
    registered(&a);

    let list = crate::common::ami_action(
        b_ami,
        "Action: PJSIPShowContacts\r\nActionID: c1\r\n",
        "Event: ContactListComplete",
    );
    let uri = list
        .lines()
        .find(|l| l.starts_with("Uri: sip:a-in@"))
        .unwrap_or_else(|| panic!("no contact of A on B:\n{list}"));
    assert!(
        uri.starts_with(&format!(
            "Uri: sip:a-in@127.0.0.1:{a_port};transport=tcp;line="
        )) && uri.ends_with(";ob"),
        "{uri}"
    );

    let mut ami = AmiSession::login(b_ami);
    ami.send(
        "Action: Originate\r\nActionID: o1\r\nChannel: PJSIP/from-a\r\nApplication: Wait\r\nData: 20\r\nAsync: true",
    );
    until(
        &a,
        "core show channels",
        "A got B's call over the flow",
        |o| o.contains("PJSIP/to-b-"),
    );
    let answered = ami.read_until("Event: OriginateResponse");
    let answered = answered + &ami.read_until("\r\n\r\n");
    assert!(answered.contains("Response: Success"), "{answered}");
}
