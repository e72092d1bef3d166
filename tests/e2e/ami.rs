//! AMI through the real binary: raw protocol, a real client library
//! (panoramisk), and a client that stops reading while events flood.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::common::{ConfDir, free_port};

fn manager_conf(port: u16) -> String {
    format!(
        "[general]\nenabled = yes\nport = {port}\nbindaddr = 127.0.0.1\n\n\
         [admin]\nsecret = s3cret\nread = all\nwrite = all\nwritetimeout = 5000\n\n\
         [frozen]\nsecret = cold\nread = all\nwrite = all\n\n\
         [limited]\nsecret = pw\nread = system\nwrite = user\n\n\
         [filtered]\nsecret = pw\nread = all\nwrite = all\n\
         eventfilter(action(include),name(UserEvent),header(UserEvent),method(starts_with)) = Keep\n\
         eventfilter = !Seq: 2\n\n\
         [faraway]\nsecret = pw\ndeny = 0.0.0.0/0.0.0.0\npermit = 10.0.0.0/8\nread = all\nwrite = all\n"
    )
}

/// A minimal AMI client for protocol-level checks.
struct Client {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Client {
    fn connect(port: u16) -> Self {
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to AMI");
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        let writer = stream.try_clone().unwrap();
        let mut client = Self {
            reader: BufReader::new(stream),
            writer,
        };
        let mut banner = String::new();
        client.reader.read_line(&mut banner).unwrap();
        assert_eq!(banner, "Asterisk Call Manager/12.0.0\r\n");
        client
    }

    fn send(&mut self, lines: &[(&str, &str)]) {
        let mut text = String::new();
        for (k, v) in lines {
            text.push_str(&format!("{k}: {v}\r\n"));
        }
        text.push_str("\r\n");
        self.writer.write_all(text.as_bytes()).unwrap();
    }

    /// The next message, as raw text without the final blank line.
    fn read(&mut self) -> String {
        let mut message = String::new();
        loop {
            let mut line = String::new();
            let n = self.reader.read_line(&mut line).expect("read from AMI");
            if n == 0 {
                return message;
            }
            if line == "\r\n" {
                if message.is_empty() {
                    continue;
                }
                return message;
            }
            message.push_str(&line);
        }
    }

    /// Reads until a message satisfies `pred`.
    fn read_until(&mut self, pred: impl Fn(&str) -> bool) -> String {
        loop {
            let m = self.read();
            assert!(!m.is_empty(), "connection closed while waiting");
            if pred(&m) {
                return m;
            }
        }
    }

    fn login(port: u16, user: &str, secret: &str) -> Self {
        let mut c = Self::connect(port);
        c.send(&[
            ("Action", "Login"),
            ("Username", user),
            ("Secret", secret),
            ("ActionID", "l1"),
        ]);
        let r = c.read();
        assert!(
            r.starts_with("Response: Success\r\nActionID: l1\r\nMessage: Authentication accepted"),
            "{r}"
        );
        c
    }
}

fn start(conf: &ConfDir) -> (crate::common::Daemon, u16) {
    let port = free_port();
    conf.write("manager.conf", &manager_conf(port));
    (conf.start_foreground(), port)
}

#[test]
fn login_ping_command_and_errors() {
    let conf = ConfDir::new();
    let (_daemon, port) = start(&conf);

    let mut c = Client::login(port, "admin", "s3cret");
    let booted = c.read();
    assert!(
        booted.starts_with("Event: FullyBooted\r\nPrivilege: system,all\r\n"),
        "{booted}"
    );
    assert!(booted.contains("Status: Fully Booted"), "{booted}");

    c.send(&[("Action", "Ping"), ("ActionID", "p1")]);
    let pong = c.read_until(|m| m.starts_with("Response:"));
    assert!(
        pong.starts_with("Response: Success\r\nActionID: p1\r\nPing: Pong\r\nTimestamp: "),
        "{pong}"
    );

    c.send(&[
        ("Action", "Command"),
        ("Command", "core show version"),
        ("ActionID", "c1"),
    ]);
    let out = c.read_until(|m| m.starts_with("Response:"));
    assert!(
        out.contains("Message: Command output follows\r\nOutput: Obelus 0.1.0"),
        "{out}"
    );

    c.send(&[("Action", "Bogus"), ("ActionID", "b1")]);
    let bad = c.read_until(|m| m.starts_with("Response:"));
    assert_eq!(
        bad,
        "Response: Error\r\nActionID: b1\r\nMessage: Invalid/unknown command: Bogus. Use Action: ListCommands to show available commands.\r\n"
    );

    c.send(&[("Action", "CoreShowChannels"), ("ActionID", "s1")]);
    let list = c.read_until(|m| m.starts_with("Response:"));
    assert!(list.contains("EventList: start"), "{list}");
    let done = c.read_until(|m| m.starts_with("Event: CoreShowChannelsComplete"));
    assert!(
        done.contains("ActionID: s1\r\nEventList: Complete\r\nListItems: 0"),
        "{done}"
    );

    // Oversized input gets an error, not memory growth or a hang.
    let mut huge = b"Action: Ping\r\nX-Big: ".to_vec();
    huge.extend(std::iter::repeat_n(b'a', 1_000_000));
    huge.extend_from_slice(b"\r\n\r\n");
    c.writer.write_all(&huge).unwrap();
    let err = c.read_until(|m| m.starts_with("Response:"));
    assert!(err.contains("line too long"), "{err}");

    c.send(&[("Action", "Logoff")]);
    let bye = c.read_until(|m| m.starts_with("Response:"));
    assert!(
        bye.starts_with("Response: Goodbye\r\nMessage: Thanks for all the fish."),
        "{bye}"
    );
}

#[test]
fn failed_logins_look_alike_and_permissions_hold() {
    let conf = ConfDir::new();
    let (_daemon, port) = start(&conf);

    for (user, secret) in [("admin", "wrong"), ("nosuchuser", "x"), ("faraway", "pw")] {
        let mut c = Client::connect(port);
        let t = Instant::now();
        c.send(&[("Action", "Login"), ("Username", user), ("Secret", secret)]);
        let r = c.read();
        assert_eq!(
            r, "Response: Error\r\nMessage: Authentication failed\r\n",
            "{user}"
        );
        assert!(
            t.elapsed() >= Duration::from_millis(900),
            "failures are delayed"
        );
        assert_eq!(c.read(), "", "closed after a failed login");
    }

    let mut c = Client::connect(port);
    c.send(&[("Action", "Ping")]);
    assert!(
        c.read().contains("Permission denied"),
        "actions need a login"
    );

    // MD5 challenge login.
    let mut c = Client::connect(port);
    c.send(&[("Action", "Challenge"), ("AuthType", "MD5")]);
    let challenge = c.read();
    let value = challenge
        .lines()
        .find_map(|l| l.strip_prefix("Challenge: "))
        .unwrap()
        .to_owned();
    let key = format!("{:x}", md5_of(&format!("{value}s3cret")));
    c.send(&[
        ("Action", "Login"),
        ("AuthType", "MD5"),
        ("Username", "admin"),
        ("Key", &key),
    ]);
    let accepted = c.read();
    assert!(
        accepted.contains("Authentication accepted"),
        "MD5 login: {accepted}"
    );

    let mut limited = Client::login(port, "limited", "pw");
    limited.send(&[("Action", "Command"), ("Command", "core show version")]);
    let denied = limited.read_until(|m| m.starts_with("Response:"));
    assert!(denied.contains("Message: Permission denied"), "{denied}");
}

fn md5_of(text: &str) -> u128 {
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            &format!("import hashlib;print(hashlib.md5({text:?}.encode()).hexdigest())"),
        ])
        .output()
        .expect("python3");
    u128::from_str_radix(String::from_utf8_lossy(&out.stdout).trim(), 16).unwrap()
}

/// panoramisk, an unmodified AMI client library, against Obelus: the basic
/// actions, then a call it originates to a Local channel, watches through
/// its event callbacks and hangs up.
#[test]
fn panoramisk_client_library() {
    let conf = ConfDir::new();
    conf.write(
        "extensions.conf",
        "[somecontext]\nexten => 100,1,Answer()\n same => n,Wait(30)\n",
    );
    let (_daemon, port) = start(&conf);
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/clients/ami_panoramisk.py"
    );
    let out = std::process::Command::new("python3")
        .args([script, &port.to_string(), "admin", "s3cret"])
        .output()
        .expect("python3 (install panoramisk: pip install panoramisk)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("all steps passed"), "{stdout}");
}

/// One client logs in with events on and never reads. Thousands of events
/// flow; the others receive every event in order, the frozen one is dropped,
/// and the daemon's memory stays bounded.
#[test]
fn a_frozen_client_cannot_stall_anyone() {
    let conf = ConfDir::new();
    let (daemon, port) = start(&conf);

    let mut frozen = Client::login(port, "frozen", "cold");
    let _ = frozen.read(); // FullyBooted; then it never reads again.

    let mut watcher = Client::login(port, "admin", "s3cret");
    let _ = watcher.read();
    let rss_before = daemon.rss_kb();

    const EVENTS: usize = 20_000;
    let payload = "x".repeat(900);
    // The sender behaves like a real client: at most 500 actions outstanding.
    let mut sender = Client::login(port, "admin", "s3cret");
    let _ = sender.read();
    let mut sender_writer = sender.writer.try_clone().unwrap();
    let (acks_tx, acks_rx) = std::sync::mpsc::channel::<()>();
    let acker = std::thread::spawn(move || {
        let mut acked = 0;
        while acked < EVENTS {
            let m = sender.read();
            if m.is_empty() {
                return;
            }
            if m.contains("Message: Event Sent") {
                acked += 1;
                if acks_tx.send(()).is_err() {
                    return;
                }
            }
        }
    });
    let flood = std::thread::spawn(move || {
        const WINDOW: usize = 500;
        for chunk in 0..EVENTS / WINDOW {
            let mut batch = String::new();
            for i in chunk * WINDOW..(chunk + 1) * WINDOW {
                batch.push_str(&format!(
                    "Action: UserEvent\r\nUserEvent: Flood\r\nSeq: {i}\r\nPad: {payload}\r\n\r\n"
                ));
            }
            sender_writer.write_all(batch.as_bytes()).unwrap();
            for _ in 0..WINDOW {
                if acks_rx.recv().is_err() {
                    return;
                }
            }
        }
        let _ = sender_writer.write_all(b"Action: Logoff\r\n\r\n");
    });

    let mut next = 0;
    while next < EVENTS {
        let m = watcher.read();
        assert!(!m.is_empty(), "watcher disconnected at event {next}");
        if let Some(seq) = m.lines().find_map(|l| l.strip_prefix("Seq: ")) {
            assert_eq!(seq, next.to_string(), "events arrive in order, none lost");
            next += 1;
        }
    }

    let (_, connected, _) = conf.rx("manager show connected");
    assert!(
        !connected.contains("frozen"),
        "the frozen client was dropped:\n{connected}"
    );
    let (_, settings, _) = conf.rx("manager show settings");
    assert!(
        settings.contains("Sessions dropped (slow):   1"),
        "{settings}"
    );
    let growth = daemon.rss_kb().saturating_sub(rss_before);
    assert!(growth < 64 * 1024, "daemon memory grew by {growth} kB");

    flood.join().unwrap();
    let _ = acker.join();
    let _ = frozen.writer.shutdown(std::net::Shutdown::Both);
}

/// The frozen client again, now against calls: 1,000 originated Local
/// calls run while one client never reads. The far half answers; the
/// originated half, once answered, runs `Hangup`, which ends both (hanging
/// up on the originated side keeps each originate's outcome certain).
/// Another client sees every channel of every call from `Newchannel` to
/// `Hangup`, in that order; the frozen one is dropped after its write
/// timeout; the daemon's memory stays bounded.
#[test]
fn a_frozen_client_cannot_stall_calls() {
    const CALLS: usize = 1_000;
    const SENDERS: usize = 4;
    let conf = ConfDir::new();
    conf.write(
        "extensions.conf",
        "[short]\nexten => 1,1,Answer()\n same => n,Wait(20)\n",
    );
    // Below the kernel's ephemeral ports (32768+), apart from the other
    // tests' RTP ranges in this process (ami_calls uses the rest of this
    // hundred).
    let start_port = 25000 + (std::process::id() % 70) as u16 * 100;
    conf.write(
        "rtp.conf",
        &format!(
            "[general]\nrtpstart={start_port}\nrtpend={}\n",
            start_port + 68
        ),
    );
    let (daemon, port) = start(&conf);

    let mut frozen = Client::login(port, "frozen", "cold");
    let _ = frozen.read(); // FullyBooted; then it never reads again.
    let mut watcher = Client::login(port, "admin", "s3cret");
    let _ = watcher.read();
    let rss_before = daemon.rss_kb();

    // Senders run synchronous Originates; they take no events themselves.
    // A long caller name makes every channel event big: more than the
    // socket buffers of the frozen client can hold.
    let caller = format!("\"{}\" <100>", "x".repeat(900));
    let senders: Vec<_> = (0..SENDERS)
        .map(|n| {
            let mut c = Client::login(port, "admin", "s3cret");
            c.send(&[
                ("Action", "Events"),
                ("EventMask", "off"),
                ("ActionID", "q"),
            ]);
            let _ = c.read_until(|m| m.contains("ActionID: q\r\n"));
            let caller = caller.clone();
            std::thread::spawn(move || {
                for i in 0..CALLS / SENDERS {
                    let id = format!("o{n}-{i}");
                    c.send(&[
                        ("Action", "Originate"),
                        ("ActionID", &id),
                        ("Channel", "Local/1@short"),
                        ("Application", "Hangup"),
                        ("CallerID", &caller),
                    ]);
                    let r = c.read_until(|m| m.contains(&format!("ActionID: {id}\r\n")));
                    assert!(r.starts_with("Response: Success"), "{id}: {r}");
                }
            })
        })
        .collect();

    // Every event of every Local/1@short channel, by uniqueid.
    let mut channels: std::collections::HashMap<String, Vec<String>> = Default::default();
    let mut hung_up = 0;
    while hung_up < 2 * CALLS {
        let m = watcher.read();
        assert!(
            !m.is_empty(),
            "watcher disconnected after {hung_up} hangups"
        );
        let field = |key: &str| {
            m.lines()
                .find_map(|l| l.strip_prefix(key))
                .map(|v| v.trim_end().to_owned())
        };
        let (Some(event), Some(channel), Some(uniqueid)) =
            (field("Event: "), field("Channel: "), field("Uniqueid: "))
        else {
            continue;
        };
        if !channel.starts_with("Local/1@short-") {
            continue;
        }
        let seen = channels.entry(uniqueid.clone()).or_default();
        assert!(
            seen.last().is_none_or(|e| e != "Hangup"),
            "{event} after Hangup for {uniqueid}: {seen:?}"
        );
        if seen.is_empty() {
            assert_eq!(event, "Newchannel", "first event of {uniqueid}");
        }
        if event == "Hangup" {
            hung_up += 1;
        }
        seen.push(event);
    }
    for sender in senders {
        sender.join().expect("sender");
    }
    assert_eq!(channels.len(), 2 * CALLS, "two halves per call");
    for (uniqueid, events) in &channels {
        let count = |name: &str| events.iter().filter(|e| *e == name).count();
        assert_eq!(
            (count("Newchannel"), count("Hangup")),
            (1, 1),
            "{uniqueid}: {events:?}"
        );
    }

    let (_, connected, _) = conf.rx("manager show connected");
    assert!(
        !connected.contains("frozen"),
        "the frozen client was dropped:\n{connected}"
    );
    let (_, settings, _) = conf.rx("manager show settings");
    assert!(
        settings.contains("Sessions dropped (slow):   1"),
        "{settings}"
    );
    // About 8 MB of events went by; the shared event ring holds at most
    // 8,192 of them, so growth beyond that would be a queue without bound.
    let growth = daemon.rss_kb().saturating_sub(rss_before);
    assert!(growth < 32 * 1024, "daemon memory grew by {growth} kB");
    let _ = frozen.writer.shutdown(std::net::Shutdown::Both);
}

/// astdb over AMI and the console; PJSIP endpoints from the database over AMI.
#[test]
fn astdb_and_pjsip_lists_over_ami() {
    let conf = ConfDir::new();
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
        "[res_pjsip]\nendpoint = realtime,ps_endpoints\n",
    );
    let (_daemon, port) = start(&conf);
    let mut c = Client::login(port, "admin", "s3cret");

    c.send(&[("Action", "PJSIPShowEndpoints"), ("ActionID", "e0")]);
    let empty = c.read_until(|m| m.starts_with("Response:"));
    assert!(
        empty.contains("Response: Error") && empty.contains("No endpoints found"),
        "{empty}"
    );

    let (_, out, _) =
        conf.rx("realtime store ps_endpoints id 101 aors 101 auth 101 context testing");
    assert_eq!(out, "Stored RealTime record.\n");
    c.send(&[("Action", "PJSIPShowEndpoints"), ("ActionID", "e1")]);
    let item = c.read_until(|m| m.starts_with("Event: EndpointList\r\n"));
    assert!(
        item.contains("ActionID: e1\r\nObjectType: endpoint\r\nObjectName: 101\r\n"),
        "{item}"
    );
    assert!(item.contains("Auths: 101\r\n"), "{item}");
    let done = c.read_until(|m| m.starts_with("Event: EndpointListComplete"));
    assert!(done.contains("ListItems: 1"), "{done}");

    c.send(&[
        ("Action", "DBPut"),
        ("Family", "cidname"),
        ("Key", "5551234"),
        ("Val", "Alice"),
        ("ActionID", "p"),
    ]);
    let put = c.read_until(|m| m.starts_with("Response:"));
    assert!(put.contains("Updated database successfully"), "{put}");
    let (_, out, _) = conf.rx("database get cidname 5551234");
    assert_eq!(out, "Value: Alice\n");
    let (_, out, _) = conf.rx("database show cidname");
    assert!(
        out.contains("/cidname/5551234") && out.ends_with("1 results found.\n"),
        "{out}"
    );

    c.send(&[
        ("Action", "DBGet"),
        ("Family", "cidname"),
        ("Key", "5551234"),
        ("ActionID", "g"),
    ]);
    let got = c.read_until(|m| m.starts_with("Event: DBGetResponse"));
    assert!(got.contains("Val: Alice"), "{got}");
    c.send(&[
        ("Action", "DBDel"),
        ("Family", "cidname"),
        ("Key", "5551234"),
        ("ActionID", "d"),
    ]);
    let del = c.read_until(|m| m.starts_with("Response:") && m.contains("ActionID: d"));
    assert!(del.contains("Key deleted successfully"), "{del}");
    c.send(&[
        ("Action", "DBGet"),
        ("Family", "cidname"),
        ("Key", "5551234"),
        ("ActionID", "g2"),
    ]);
    let gone = c.read_until(|m| m.starts_with("Response:") && m.contains("ActionID: g2"));
    assert!(gone.contains("Database entry not found"), "{gone}");
}

/// AMI over TLS (`tlsenable`): a rustls client that trusts only the
/// configured certificate logs in and pings; a plain-text client gets nothing.
#[test]
fn ami_over_tls() {
    use std::sync::Arc;

    let conf = ConfDir::new();
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])
            .expect("test certificate");
    conf.write("ami-cert.pem", &certified.cert.pem());
    conf.write("ami-key.pem", &certified.signing_key.serialize_pem());
    let (plain_port, tls_port) = (free_port(), free_port());
    conf.write(
        "manager.conf",
        &format!(
            "[general]\nenabled = yes\nport = {plain_port}\nbindaddr = 127.0.0.1\ntlsenable = yes\ntlsbindaddr = 127.0.0.1:{tls_port}\ntlscertfile = ami-cert.pem\ntlsprivatekey = ami-key.pem\n\n[admin]\nsecret = s3cret\nread = all\nwrite = all\n"
        ),
    );
    let _daemon = conf.start_foreground();

    let mut roots = rustls::RootCertStore::empty();
    roots.add(certified.cert.der().clone()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let server = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let connection = rustls::ClientConnection::new(Arc::new(config), server).unwrap();
    let tcp = TcpStream::connect(("127.0.0.1", tls_port)).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut tls = rustls::StreamOwned::new(connection, tcp);
    tls.write_all(b"Action: Login\r\nUsername: admin\r\nSecret: s3cret\r\nEvents: off\r\n\r\nAction: Ping\r\nActionID: tls1\r\n\r\n")
        .unwrap();
    let mut reader = BufReader::new(tls);
    let mut text = String::new();
    while !text.contains("Ping: Pong") {
        let mut line = String::new();
        assert!(
            reader.read_line(&mut line).unwrap() > 0,
            "closed early:\n{text}"
        );
        text.push_str(&line);
    }
    assert!(
        text.starts_with("Asterisk Call Manager/12.0.0\r\n"),
        "{text}"
    );
    assert!(text.contains("Message: Authentication accepted"), "{text}");
    assert!(text.contains("ActionID: tls1\r\nPing: Pong"), "{text}");

    let (_, settings, _) = conf.rx("manager show settings");
    assert!(
        settings.contains(&format!("127.0.0.1:{tls_port}")),
        "{settings}"
    );
}

/// UpdateConfig edits a file in place, keeping its comments and order.
#[test]
fn update_config_keeps_comments() {
    let conf = ConfDir::new();
    conf.write(
        "demo.conf",
        "; the demo file\n[general]\nfoo = 1 ; keep me\n\n[old]\nx = y\n",
    );
    let (_daemon, port) = start(&conf);
    let mut c = Client::login(port, "admin", "s3cret");
    c.send(&[
        ("Action", "UpdateConfig"),
        ("ActionID", "u1"),
        ("SrcFilename", "demo.conf"),
        ("DstFilename", "demo.conf"),
        ("Action-000000", "Update"),
        ("Cat-000000", "general"),
        ("Var-000000", "foo"),
        ("Value-000000", "2"),
        ("Action-000001", "NewCat"),
        ("Cat-000001", "added"),
        ("Action-000002", "Append"),
        ("Cat-000002", "added"),
        ("Var-000002", "allow"),
        ("Value-000002", "ulaw"),
        ("Action-000003", "RenameCat"),
        ("Cat-000003", "old"),
        ("Value-000003", "renamed"),
    ]);
    let r = c.read_until(|m| m.starts_with("Response:"));
    assert_eq!(r, "Response: Success\r\nActionID: u1\r\n", "{r}");
    let text = std::fs::read_to_string(conf.path().join("demo.conf")).unwrap();
    assert!(text.starts_with("; the demo file\n[general]\n"), "{text}");
    assert!(text.contains("foo = 2 ; keep me"), "{text}");
    assert!(
        text.contains("[renamed]") && !text.contains("[old]"),
        "{text}"
    );
    assert!(text.contains("[added]") && text.contains("allow"), "{text}");

    c.send(&[
        ("Action", "GetConfig"),
        ("Filename", "demo.conf"),
        ("Category", "added"),
        ("ActionID", "g"),
    ]);
    let got = c.read_until(|m| m.starts_with("Response:"));
    assert!(got.contains("Line-000000-000000: allow=ulaw"), "{got}");

    c.send(&[
        ("Action", "UpdateConfig"),
        ("ActionID", "u2"),
        ("SrcFilename", "demo.conf"),
        ("DstFilename", "demo.conf"),
        ("Action-000000", "Delete"),
        ("Cat-000000", "nosuch"),
        ("Var-000000", "x"),
    ]);
    let err = c.read_until(|m| m.starts_with("Response:"));
    assert!(
        err.contains("Message: Given category does not exist"),
        "{err}"
    );
}

/// One HTTP/1.1 request; returns (status line, headers, body).
fn http_get(port: u16, path: &str, cookie: Option<&str>) -> (String, String, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to HTTP");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let cookie = cookie
        .map(|c| format!("Cookie: {c}\r\n"))
        .unwrap_or_default();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{cookie}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = String::new();
    std::io::Read::read_to_string(&mut stream, &mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let (status, headers) = head.split_once("\r\n").unwrap_or((head, ""));
    (status.to_owned(), headers.to_owned(), body.to_owned())
}

/// AMI over HTTP: login and actions through /rawman, /mxml and /manager,
/// the session kept by its cookie, listed by `http show status`.
#[test]
fn ami_over_http() {
    let conf = ConfDir::new();
    let (ami_port, http_port) = (free_port(), free_port());
    conf.write(
        "http.conf",
        &format!("[general]\nenabled = yes\nbindaddr = 127.0.0.1\nbindport = {http_port}\n"),
    );
    conf.write(
        "manager.conf",
        &format!("[general]\nenabled = yes\nwebenabled = yes\nport = {ami_port}\nbindaddr = 127.0.0.1\n[admin]\nsecret = s3cret\nread = all\nwrite = all\n"),
    );
    let _daemon = conf.start_foreground();

    let (status, _, body) = http_get(http_port, "/rawman?action=ping", None);
    assert!(status.contains("200"), "{status}");
    assert!(body.contains("Permission denied"), "no login yet: {body}");

    let (_, headers, body) = http_get(
        http_port,
        "/rawman?action=login&username=admin&secret=s3cret",
        None,
    );
    assert!(
        body.starts_with("Response: Success\r\nMessage: Authentication accepted"),
        "{body}"
    );
    let cookie = headers
        .lines()
        .find_map(|l| {
            l.strip_prefix("set-cookie: ")
                .or_else(|| l.strip_prefix("Set-Cookie: "))
        })
        .and_then(|c| c.split(';').next())
        .expect("a session cookie")
        .to_owned();
    assert!(cookie.starts_with("mansession_id="), "{cookie}");

    let (_, _, pong) = http_get(http_port, "/rawman?action=ping&actionid=h1", Some(&cookie));
    assert!(pong.contains("Ping: Pong"), "{pong}");
    let (_, headers, xml) = http_get(http_port, "/mxml?action=ping", Some(&cookie));
    assert!(
        headers
            .to_ascii_lowercase()
            .contains("content-type: text/xml"),
        "{headers}"
    );
    assert!(
        xml.contains("<generic response='Success' ping='Pong'"),
        "{xml}"
    );
    let (_, _, html) = http_get(http_port, "/manager?action=ping", Some(&cookie));
    assert!(
        html.contains("<tr><td>Ping</td><td>Pong</td></tr>"),
        "{html}"
    );
    let (_, _, bye) = http_get(http_port, "/rawman?action=logoff", Some(&cookie));
    assert!(bye.contains("Response: Goodbye"), "{bye}");
    let (_, _, after) = http_get(http_port, "/rawman?action=ping", Some(&cookie));
    assert!(
        after.contains("Permission denied"),
        "the session ended: {after}"
    );

    let (status, _, _) = http_get(http_port, "/nothing/here", None);
    assert!(status.contains("404"), "{status}");
    let (_, out, _) = conf.rx("http show status");
    assert!(
        out.contains(&format!(
            "Server Enabled and Bound to 127.0.0.1:{http_port}"
        )),
        "{out}"
    );
    assert!(
        out.contains("/rawman => Raw HTTP Manager Event Interface"),
        "{out}"
    );
}

/// The sorcery memory cache actions against a real cache of realtime endpoints.
#[test]
fn sorcery_memory_cache_actions() {
    let conf = ConfDir::new();
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
        "[res_pjsip]\nendpoint/cache = memory_cache,object_lifetime_maximum=3600\nendpoint = realtime,ps_endpoints\n",
    );
    let (_daemon, port) = start(&conf);
    let (_, out, _) = conf.rx("realtime store ps_endpoints id 101 context testing");
    assert_eq!(out, "Stored RealTime record.\n");
    let (_, out, _) = conf.rx("pjsip show endpoint 101");
    assert!(out.contains("testing"), "{out}");

    let mut c = Client::login(port, "admin", "s3cret");
    let mut run = |pairs: &[(&str, &str)]| {
        c.send(pairs);
        c.read_until(|m| m.starts_with("Response:"))
    };
    let r = run(&[
        ("Action", "SorceryMemoryCacheExpireObject"),
        ("Cache", "res_pjsip/endpoint"),
        ("Object", "101"),
    ]);
    assert!(
        r.contains("Response: Success"),
        "the lookup filled the cache: {r}"
    );
    let r = run(&[
        ("Action", "SorceryMemoryCacheExpireObject"),
        ("Cache", "res_pjsip/endpoint"),
        ("Object", "101"),
    ]);
    assert!(r.contains("Response: Error"), "no longer cached: {r}");
    let r = run(&[
        ("Action", "SorceryMemoryCacheStale"),
        ("Cache", "res_pjsip/endpoint"),
    ]);
    assert!(r.contains("Response: Success"), "{r}");
    let r = run(&[("Action", "SorceryMemoryCacheExpire"), ("Cache", "nosuch")]);
    assert!(r.contains("could not be found"), "{r}");
    let r = run(&[
        ("Action", "SorceryMemoryCachePopulate"),
        ("Cache", "res_pjsip/endpoint"),
    ]);
    assert!(r.contains("full_backend_cache"), "{r}");
}

/// ShowDialPlan lists every priority as ListDialplan events.
#[test]
fn show_dialplan_lists_priorities() {
    let conf = ConfDir::new();
    conf.write(
        "extensions.conf",
        "[testing]\nexten => _1XX,1,NoOp()\n same => n,Dial(PJSIP/${EXTEN})\ninclude => other\n[other]\nexten => 600,1,Answer()\n",
    );
    let (_daemon, port) = start(&conf);
    let mut c = Client::login(port, "admin", "s3cret");
    c.send(&[
        ("Action", "ShowDialPlan"),
        ("Context", "testing"),
        ("ActionID", "sd"),
    ]);
    let start = c.read_until(|m| m.starts_with("Response:"));
    assert!(
        start.contains("Message: DialPlan list will follow"),
        "{start}"
    );
    let second = c.read_until(|m| m.contains("Priority: 2"));
    assert!(second.contains("Extension: _1XX\r\nPriority: 2\r\nApplication: Dial\r\nAppData: PJSIP/${EXTEN}\r\nRegistrar: pbx_config"), "{second}");
    let include = c.read_until(|m| m.contains("IncludeContext"));
    assert!(include.contains("IncludeContext: other"), "{include}");
    let done = c.read_until(|m| m.starts_with("Event: ShowDialPlanComplete"));
    assert!(
        done.contains("ListItems: 3\r\nListExtensions: 1\r\nListPriorities: 2\r\nListContexts: 1"),
        "{done}"
    );
    c.send(&[
        ("Action", "ShowDialPlan"),
        ("Context", "nosuch"),
        ("ActionID", "n"),
    ]);
    let missing = c.read_until(|m| m.starts_with("Response:") && m.contains("ActionID: n"));
    assert!(missing.contains("Did not find context nosuch"), "{missing}");
}

/// The `Seq` values of the `UserEvent`s a client reads until `last`.
fn user_events_until(c: &mut Client, last: &str) -> Vec<String> {
    let mut seen = Vec::new();
    loop {
        let m = c.read();
        assert!(!m.is_empty(), "closed; saw {seen:?}");
        if !m.starts_with("Event: UserEvent\r\n") {
            continue;
        }
        let name = m
            .lines()
            .find_map(|l| l.strip_prefix("UserEvent: "))
            .unwrap_or("");
        let seq = m
            .lines()
            .find_map(|l| l.strip_prefix("Seq: "))
            .unwrap_or("");
        let item = format!("{name}/{seq}");
        if name == last {
            return seen;
        }
        seen.push(item);
    }
}

/// Event filters: a user's `eventfilter` lines in both syntaxes, and the
/// `Filter` action adding advanced and legacy filters to one session.
#[test]
fn advanced_and_legacy_event_filters() {
    let conf = ConfDir::new();
    let (_daemon, port) = start(&conf);
    let mut filtered = Client::login(port, "filtered", "pw");
    let mut dynamic = Client::login(port, "admin", "s3cret");
    let run = |c: &mut Client, pairs: &[(&str, &str)]| {
        c.send(pairs);
        c.read_until(|m| m.starts_with("Response:"))
    };
    let added = run(
        &mut dynamic,
        &[
            ("Action", "Filter"),
            ("ActionID", "f1"),
            ("Operation", "Add"),
            (
                "MatchCriteria",
                "action(exclude),header(UserEvent),method(exact)",
            ),
            ("Filter", "Noise"),
        ],
    );
    assert_eq!(
        added,
        "Response: Success\r\nActionID: f1\r\nMessage: Success\r\n"
    );
    let added = run(
        &mut dynamic,
        &[
            ("Action", "Filter"),
            ("ActionID", "f2"),
            ("Filter", "!Seq: 3"),
        ],
    );
    assert!(added.contains("Message: Success"), "{added}");
    let bad = run(
        &mut dynamic,
        &[
            ("Action", "Filter"),
            ("ActionID", "f3"),
            ("MatchCriteria", "color(red)"),
            ("Filter", "x"),
        ],
    );
    assert_eq!(
        bad,
        "Response: Error\r\nActionID: f3\r\nMessage: Filter was formatted incorrectly.  Check the syntax of the filter given.\r\n"
    );
    let bad = run(
        &mut dynamic,
        &[("Action", "Filter"), ("ActionID", "f4"), ("Filter", "(")],
    );
    assert!(bad.contains("Filter did not compile."), "{bad}");

    let mut sender = Client::login(port, "admin", "s3cret");
    for (name, seq) in [
        ("Keep", "1"),
        ("Drop", "1"),
        ("Keep", "2"),
        ("Noise", "1"),
        ("KeepToo", "3"),
        ("Signal", "4"),
        ("KeepEnd", "9"),
    ] {
        sender.send(&[("Action", "UserEvent"), ("UserEvent", name), ("Seq", seq)]);
        let _ = sender.read_until(|m| m.contains("Event Sent"));
    }
    // manager.conf: only UserEvents named Keep*, and never Seq 2.
    assert_eq!(
        user_events_until(&mut filtered, "KeepEnd"),
        ["Keep/1", "KeepToo/3"]
    );
    // Filter actions: no UserEvent named exactly Noise, and never Seq 3.
    assert_eq!(
        user_events_until(&mut dynamic, "KeepEnd"),
        ["Keep/1", "Drop/1", "Keep/2", "Signal/4"]
    );
}

/// WaitEvent on a connection (ends with an event, a timeout, or the next
/// action) and over HTTP (long-polls for the events since login).
#[test]
fn wait_event_over_tcp_and_http() {
    let conf = ConfDir::new();
    let (ami_port, http_port) = (free_port(), free_port());
    conf.write(
        "http.conf",
        &format!("[general]\nenabled = yes\nbindaddr = 127.0.0.1\nbindport = {http_port}\n"),
    );
    conf.write(
        "manager.conf",
        &format!("[general]\nenabled = yes\nwebenabled = yes\nport = {ami_port}\nbindaddr = 127.0.0.1\n[admin]\nsecret = s3cret\nread = all\nwrite = all\nwritetimeout = 5000\n"),
    );
    let _daemon = conf.start_foreground();
    let mut sender = Client::login(ami_port, "admin", "s3cret");
    sender.send(&[
        ("Action", "Events"),
        ("EventMask", "off"),
        ("ActionID", "off"),
    ]);
    let _ = sender.read_until(|m| m.contains("ActionID: off"));
    // The waiter takes only user events, so its own login's security
    // events cannot end a wait.
    let mut waiter = Client::login(ami_port, "admin", "s3cret");
    waiter.send(&[
        ("Action", "Events"),
        ("EventMask", "user"),
        ("ActionID", "m"),
    ]);
    let _ = waiter.read_until(|m| m.contains("ActionID: m"));

    waiter.send(&[
        ("Action", "WaitEvent"),
        ("ActionID", "w1"),
        ("Timeout", "30"),
    ]);
    let response = waiter.read();
    assert_eq!(
        response,
        "Response: Success\r\nActionID: w1\r\nMessage: Waiting for Event completed.\r\n"
    );
    sender.send(&[("Action", "UserEvent"), ("UserEvent", "Wake")]);
    let event = waiter.read();
    assert!(event.contains("UserEvent: Wake"), "{event}");
    assert_eq!(
        waiter.read(),
        "Event: WaitEventComplete\r\nActionID: w1\r\n"
    );

    // Nothing happens: the timeout ends the wait.
    waiter.send(&[
        ("Action", "WaitEvent"),
        ("ActionID", "w2"),
        ("Timeout", "1"),
    ]);
    assert!(
        waiter
            .read()
            .contains("ActionID: w2\r\nMessage: Waiting for Event completed.")
    );
    assert_eq!(
        waiter.read(),
        "Event: WaitEventComplete\r\nActionID: w2\r\n"
    );

    // No timeout: the next action ends the wait, and is answered after it.
    waiter.send(&[("Action", "WaitEvent"), ("ActionID", "w3")]);
    assert!(waiter.read().contains("ActionID: w3\r\n"));
    waiter.send(&[("Action", "Ping"), ("ActionID", "p")]);
    assert_eq!(
        waiter.read(),
        "Event: WaitEventComplete\r\nActionID: w3\r\n"
    );
    assert!(
        waiter
            .read()
            .starts_with("Response: Success\r\nActionID: p\r\nPing: Pong")
    );

    // HTTP: events since login wait for the WaitEvent request.
    let (_, headers, body) = http_get(
        http_port,
        "/rawman?action=login&username=admin&secret=s3cret",
        None,
    );
    assert!(body.contains("Authentication accepted"), "{body}");
    let cookie = headers
        .lines()
        .find_map(|l| {
            l.strip_prefix("set-cookie: ")
                .or_else(|| l.strip_prefix("Set-Cookie: "))
        })
        .and_then(|c| c.split(';').next())
        .expect("a session cookie")
        .to_owned();
    sender.send(&[
        ("Action", "UserEvent"),
        ("UserEvent", "HttpWake"),
        ("ActionID", "u"),
    ]);
    let _ = sender.read_until(|m| m.contains("ActionID: u"));
    let (_, _, body) = http_get(
        http_port,
        "/rawman?action=waitevent&timeout=20&actionid=hw",
        Some(&cookie),
    );
    assert!(
        body.starts_with(
            "Response: Success\r\nActionID: hw\r\nMessage: Waiting for Event completed.\r\n"
        ),
        "{body}"
    );
    assert!(body.contains("UserEvent: HttpWake"), "{body}");
    assert!(
        body.ends_with("Event: WaitEventComplete\r\nActionID: hw\r\n\r\n"),
        "{body}"
    );
}

/// MailboxCount and MailboxStatus count app_voicemail's message files.
#[test]
fn mailbox_count_and_status() {
    let conf = ConfDir::new();
    let (_daemon, port) = start(&conf);
    let vm = conf.path().join("spool/voicemail");
    for (folder, n) in [
        ("default/100/INBOX", 0),
        ("default/100/INBOX", 1),
        ("default/100/Old", 0),
        ("default/100/Urgent", 0),
        ("sales/200/Old", 0),
    ] {
        let dir = vm.join(folder);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("msg{n:04}.txt")), "[message]\n").unwrap();
        std::fs::write(dir.join(format!("msg{n:04}.wav")), "").unwrap();
    }
    let mut c = Client::login(port, "admin", "s3cret");
    let mut run = |pairs: &[(&str, &str)]| {
        c.send(pairs);
        c.read_until(|m| m.starts_with("Response:"))
    };
    assert_eq!(
        run(&[
            ("Action", "MailboxCount"),
            ("ActionID", "c"),
            ("Mailbox", "100@default")
        ]),
        "Response: Success\r\nActionID: c\r\nMessage: Mailbox Message Count\r\nMailbox: 100@default\r\nUrgMessages: 1\r\nNewMessages: 2\r\nOldMessages: 1\r\n"
    );
    assert!(
        run(&[("Action", "MailboxCount"), ("Mailbox", "100,200@sales")])
            .contains("UrgMessages: 1\r\nNewMessages: 2\r\nOldMessages: 2\r\n")
    );
    assert_eq!(
        run(&[
            ("Action", "MailboxStatus"),
            ("ActionID", "s"),
            ("Mailbox", "100")
        ]),
        "Response: Success\r\nActionID: s\r\nMessage: Mailbox Status\r\nMailbox: 100\r\nWaiting: 1\r\n"
    );
    assert!(run(&[("Action", "MailboxStatus"), ("Mailbox", "200@sales")]).contains("Waiting: 0"));
    assert_eq!(
        run(&[("Action", "MailboxStatus"), ("ActionID", "e")]),
        "Response: Error\r\nActionID: e\r\nMessage: Mailbox not specified\r\n"
    );
}

/// The value of a SIP header in a request.
fn sip_header<'a>(request: &'a str, name: &str) -> &'a str {
    request
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
        .unwrap_or("")
}

/// PJSIPShowEndpoint lists an endpoint with every object tied to it;
/// PJSIPQualify pings its registered contact at once, which a phone (a UDP
/// socket here) answers: ContactStatus says Reachable.
#[test]
fn pjsip_show_endpoint_and_qualify() {
    let conf = ConfDir::new();
    let sip_port = free_port();
    conf.write(
        "pjsip.conf",
        &format!(
            "[transport-udp]\ntype=transport\nprotocol=udp\nbind=127.0.0.1:{sip_port}\n\n\
             [101]\ntype=endpoint\ncontext=default\naors=101\noutbound_auth=101-out\ntransport=transport-udp\n\n\
             [101-out]\ntype=auth\nauth_type=userpass\nusername=101\npassword=secret101\n\n\
             [101]\ntype=aor\nmax_contacts=1\n\n\
             [101-id]\ntype=identify\nendpoint=101\nmatch=192.0.2.1\n\n\
             [102]\ntype=endpoint\ncontext=default\n"
        ),
    );
    let (_daemon, port) = start(&conf);
    let mut c = Client::login(port, "admin", "s3cret");
    let list = |c: &mut Client, action: &str, id: &str| {
        c.send(&[("Action", action), ("ActionID", id), ("Endpoint", "101")]);
        let start = c.read_until(|m| m.contains(&format!("ActionID: {id}\r\n")));
        let mut items = vec![start];
        while !items
            .last()
            .unwrap()
            .starts_with("Event: EndpointDetailComplete")
        {
            let m = c.read();
            if m.contains(&format!("ActionID: {id}\r\n")) {
                items.push(m);
            }
        }
        items
    };

    let items = list(&mut c, "PJSIPShowEndpoint", "s1");
    assert_eq!(
        items[0],
        "Response: Success\r\nActionID: s1\r\nEventList: start\r\nMessage: Following are Events for each object associated with the Endpoint\r\n"
    );
    let names: Vec<&str> = items[1..]
        .iter()
        .map(|m| m.lines().next().unwrap_or(""))
        .collect();
    assert_eq!(
        names,
        [
            "Event: EndpointDetail",
            "Event: AuthDetail",
            "Event: AorDetail",
            "Event: TransportDetail",
            "Event: IdentifyDetail",
            "Event: EndpointDetailComplete",
        ]
    );
    let detail = &items[1];
    assert!(
        detail.starts_with(
            "Event: EndpointDetail\r\nActionID: s1\r\nObjectType: endpoint\r\nObjectName: 101\r\n"
        ),
        "{detail}"
    );
    assert!(
        detail.contains("Context: default\r\n") && detail.contains("Aors: 101\r\n"),
        "{detail}"
    );
    assert!(
        detail.contains("DeviceState: Unavailable\r\nActiveChannels: \r\n"),
        "{detail}"
    );
    assert!(items[2].contains("ObjectName: 101-out\r\n") && items[2].contains("EndpointName: 101"));
    assert!(
        items[3].contains("TotalContacts: 0\r\nContactsRegistered: 0\r\nEndpointName: 101"),
        "{}",
        items[3]
    );
    assert!(
        items[4].contains("ObjectName: transport-udp\r\n"),
        "{}",
        items[4]
    );
    assert!(
        items[5].contains("ObjectName: 101-id\r\n") && items[5].contains("Match: 192.0.2.1"),
        "{}",
        items[5]
    );
    assert!(
        items[6].contains("EventList: Complete\r\nListItems: 5\r\n"),
        "{}",
        items[6]
    );

    let run = |c: &mut Client, pairs: &[(&str, &str)]| {
        c.send(pairs);
        c.read_until(|m| m.starts_with("Response:"))
    };
    let missing = run(
        &mut c,
        &[("Action", "PJSIPShowEndpoint"), ("Endpoint", "nosuch")],
    );
    assert!(
        missing.contains("Message: Unable to retrieve endpoint nosuch"),
        "{missing}"
    );
    let no_aors = run(&mut c, &[("Action", "PJSIPQualify"), ("Endpoint", "102")]);
    assert!(
        no_aors.contains("Message: No AoRs configured for endpoint"),
        "{no_aors}"
    );
    let unknown = run(
        &mut c,
        &[("Action", "PJSIPQualify"), ("Endpoint", "nosuch")],
    );
    assert!(
        unknown.contains("Message: Could not find endpoint"),
        "{unknown}"
    );

    // The phone registers (the endpoint has no inbound auth).
    let phone = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    phone
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let me = phone.local_addr().unwrap().port();
    let register = format!(
        "REGISTER sip:127.0.0.1:{sip_port} SIP/2.0\r\n\
         Via: SIP/2.0/UDP 127.0.0.1:{me};branch=z9hG4bK-reg-1;rport\r\n\
         Max-Forwards: 70\r\nFrom: <sip:101@127.0.0.1>;tag=reg1\r\nTo: <sip:101@127.0.0.1>\r\n\
         Call-ID: reg-1@127.0.0.1\r\nCSeq: 1 REGISTER\r\nContact: <sip:101@127.0.0.1:{me}>\r\n\
         Expires: 3600\r\nContent-Length: 0\r\n\r\n"
    );
    phone
        .send_to(register.as_bytes(), ("127.0.0.1", sip_port))
        .unwrap();
    let mut buf = [0u8; 4096];
    let (n, _) = phone.recv_from(&mut buf).expect("a REGISTER response");
    let answer = String::from_utf8_lossy(&buf[..n]).into_owned();
    assert!(answer.starts_with("SIP/2.0 200"), "{answer}");

    let qualified = run(
        &mut c,
        &[
            ("Action", "PJSIPQualify"),
            ("ActionID", "q"),
            ("Endpoint", "101"),
        ],
    );
    assert_eq!(
        qualified,
        "Response: Success\r\nActionID: q\r\nMessage: Endpoint found, will qualify\r\n"
    );
    // The OPTIONS ping arrives; the phone answers it.
    let (n, from) = phone.recv_from(&mut buf).expect("an OPTIONS ping");
    let options = String::from_utf8_lossy(&buf[..n]).into_owned();
    assert!(
        options.starts_with("OPTIONS sip:101@127.0.0.1:"),
        "{options}"
    );
    let ok = format!(
        "SIP/2.0 200 OK\r\nVia: {}\r\nFrom: {}\r\nTo: {};tag=phone\r\nCall-ID: {}\r\nCSeq: {}\r\nContent-Length: 0\r\n\r\n",
        sip_header(&options, "Via"),
        sip_header(&options, "From"),
        sip_header(&options, "To"),
        sip_header(&options, "Call-ID"),
        sip_header(&options, "CSeq"),
    );
    phone.send_to(ok.as_bytes(), from).unwrap();
    let status = c.read_until(|m| m.starts_with("Event: ContactStatus") && m.contains("Reachable"));
    assert!(
        status.contains(&format!("URI: sip:101@127.0.0.1:{me}\r\nContactStatus: Reachable\r\nAOR: 101\r\nEndpointName: 101\r\n")),
        "{status}"
    );

    c.send(&[("Action", "PJSIPShowEndpoints"), ("ActionID", "all")]);
    let listed = c.read_until(|m| {
        m.starts_with("Event: EndpointList\r\n") && m.contains("ObjectName: 101\r\n")
    });
    assert!(
        listed.contains(&format!(
            "Contacts: 101/sip:101@127.0.0.1:{me}\r\nDeviceState: Not in use\r\nActiveChannels: \r\n"
        )),
        "{listed}"
    );

    let items = list(&mut c, "PJSIPShowEndpoint", "s2");
    let contact = items
        .iter()
        .find(|m| m.starts_with("Event: ContactStatusDetail"))
        .expect("a ContactStatusDetail");
    assert!(
        contact.contains(&format!(
            "AOR: 101\r\nURI: sip:101@127.0.0.1:{me}\r\nStatus: Reachable\r\n"
        )),
        "{contact}"
    );
    let aor = items
        .iter()
        .find(|m| m.starts_with("Event: AorDetail"))
        .unwrap();
    assert!(
        aor.contains("TotalContacts: 1\r\nContactsRegistered: 1\r\n"),
        "{aor}"
    );
    assert!(items.last().unwrap().contains("ListItems: 6\r\n"));
}
