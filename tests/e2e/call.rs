//! The seed tutorial's call, end to end: phones 101 and 102 defined in the
//! database, `exten => _1XX,1,NoOp()` / `same => n,Dial(PJSIP/${EXTEN})`,
//! media anchored in Obelus. 101 talks G.722, 102 only PCMU, so Obelus
//! transcodes. The test owns both phones' RTP sockets and checks from the
//! audio it receives that each side hears the other's tone.

use std::ffi::OsStr;
use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use obelus_media::analysis::{goertzel_power, sine};
use obelus_media::rtp::{RtpHeader, RtpPacket, build_packet, is_rtcp};
use obelus_media::{Codec, Decoder, Encoder};
use sqlx::Connection as _;

use crate::common::{ConfDir, free_port};
use crate::sip_register::{contacts, scenario};
use crate::sip_shared_db::server;

/// How long the phones talk.
pub(crate) const TALK: Duration = Duration::from_secs(5);

const DIALPLAN: &str = "[testing]\nexten => _1XX,1,NoOp()\n same => n,Dial(PJSIP/${EXTEN})\n";

pub(crate) fn add_phone(conf: &ConfDir, id: &str, allow: &str) {
    for command in [
        format!("realtime store ps_aors id {id} max_contacts 1"),
        format!("realtime store ps_auths id {id} auth_type userpass username {id} password {id}"),
        format!(
            "realtime store ps_endpoints id {id} aors {id} auth {id} context testing disallow all allow {allow} direct_media no"
        ),
    ] {
        assert_eq!(
            conf.rx(&command).1,
            "Stored RealTime record.\n",
            "{command}"
        );
    }
}

/// Starts a sipp scenario in the background.
pub(crate) fn sipp(
    server: u16,
    dir: &Path,
    name: &str,
    args: impl IntoIterator<Item = impl AsRef<OsStr>>,
) -> Child {
    Command::new("sipp")
        .current_dir(dir)
        .arg(format!("127.0.0.1:{server}"))
        .arg("-sf")
        .arg(scenario(name))
        .args(["-i", "127.0.0.1", "-m", "1", "-nostdin", "-timeout", "40s"])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("run sipp (apt-get install sip-tester)")
}

/// A sipp phone's arguments, put together from what its scenario needs;
/// [`Phone::start`] adds `-trace_err`, so that a failure leaves the error
/// log [`wait_ok`] shows.
pub(crate) struct Phone(Vec<String>);

impl Phone {
    /// Phone `id` (its user, auth user and password alike) calling `dest`
    /// from a free port.
    pub(crate) fn calling(id: &str, dest: &str) -> Phone {
        Phone::listening(free_port()).args(&["-s", id, "-au", id, "-ap", id, "-key", "dest", dest])
    }

    /// A phone on `port`: a callee, or a scenario that waits for requests.
    pub(crate) fn listening(port: u16) -> Phone {
        Phone(vec!["-p".to_owned(), port.to_string()])
    }

    /// Its media on `rtp` (the scenarios' `rtp_port` key), where the test
    /// talks and listens.
    pub(crate) fn rtp(self, rtp: &UdpSocket) -> Phone {
        let port = rtp.local_addr().unwrap().port().to_string();
        self.args(&["-key", "rtp_port", &port])
    }

    /// The one codec its offer carries: payload type and name (the `pt` and
    /// `codec` keys).
    pub(crate) fn codec(self, pt: &str, name: &str) -> Phone {
        self.args(&["-key", "pt", pt, "-key", "codec", name])
    }

    /// The messages it exchanges logged to `log` (where the test reads
    /// Obelus's media address and what the scenario captured).
    pub(crate) fn log(self, log: &Path) -> Phone {
        self.args(&["-trace_logs", "-log_file", log.to_str().unwrap()])
    }

    /// More arguments, as they are.
    pub(crate) fn args(mut self, more: &[&str]) -> Phone {
        self.0.extend(more.iter().map(|a| (*a).to_owned()));
        self
    }

    /// Starts `scenario` against Obelus on `server`, in `dir`.
    pub(crate) fn start(self, server: u16, dir: &Path, scenario: &str) -> Child {
        sipp(server, dir, scenario, self.args(&["-trace_err"]).0)
    }
}

/// Registers phone `id` with its contact at `contact_port` (where a sipp
/// phone answers), and waits until that is done.
pub(crate) fn register(server: u16, dir: &Path, id: &str, contact_port: u16) {
    let register = Phone::listening(free_port())
        .args(&["-s", id, "-au", id, "-ap", id])
        .args(&["-key", "contact_port", &contact_port.to_string()])
        .start(server, dir, "register_contact.xml");
    wait_ok(register, &format!("{id}'s REGISTER"), dir);
}

/// Registers phone 102 as a callee running `scenario` on a port of its
/// own, its media on `rtp`; returns the callee's sipp and its log.
pub(crate) fn callee_102(
    conf: &ConfDir,
    server: u16,
    dir: &Path,
    scenario: &str,
    rtp: &UdpSocket,
) -> (Child, PathBuf) {
    let log = dir.join("b.log");
    let phone = free_port();
    let callee = Phone::listening(phone)
        .rtp(rtp)
        .log(&log)
        .start(server, dir, scenario);
    register(server, dir, "102", phone);
    assert!(
        contacts(conf).contains("102/sip:102@127.0.0.1:"),
        "{}",
        contacts(conf)
    );
    (callee, log)
}

pub(crate) fn wait_ok(child: Child, what: &str, dir: &Path) {
    wait_ok_within(child, what, dir, Duration::from_secs(60));
}

/// Waits for sipp to finish (within `limit`) and fails with its error log
/// unless the scenario succeeded.
pub(crate) fn wait_ok_within(mut child: Child, what: &str, dir: &Path, limit: Duration) {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            if !status.success() {
                let mut errors = String::new();
                for entry in std::fs::read_dir(dir).unwrap().flatten() {
                    if entry.file_name().to_string_lossy().contains("errors") {
                        errors.push_str(&std::fs::read_to_string(entry.path()).unwrap_or_default());
                    }
                }
                panic!("{what} failed ({status}):\n{errors}");
            }
            return;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{what} did not finish");
        }
        thread::sleep(Duration::from_millis(50));
    }
}

/// Waits for sipp's `RTP ip:port` log line: where Obelus wants this
/// phone's media.
pub(crate) fn obelus_media_address(log: &Path) -> SocketAddr {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(text) = std::fs::read_to_string(log)
            && let Some(line) = text.lines().find_map(|l| l.strip_prefix("RTP "))
        {
            return line.trim().parse().expect("ip:port");
        }
        assert!(
            Instant::now() < deadline,
            "no SDP from Obelus in {}",
            log.display()
        );
        thread::sleep(Duration::from_millis(20));
    }
}

/// What a phone received.
pub(crate) struct Heard {
    pub(crate) payload_types: Vec<u8>,
    pub(crate) audio: Vec<i16>,
    pub(crate) rate: u32,
    /// When each audio packet arrived, with where its samples start in
    /// `audio`.
    pub(crate) arrivals: Vec<(Instant, usize)>,
}

impl Heard {
    /// The audio of the packets that arrived between `from` and `to`, and
    /// how many packets that was.
    pub(crate) fn between(&self, from: Instant, to: Instant) -> (&[i16], usize) {
        let inside: Vec<usize> = self
            .arrivals
            .iter()
            .filter(|(at, _)| *at >= from && *at < to)
            .map(|(_, offset)| *offset)
            .collect();
        match (inside.first(), inside.last()) {
            (Some(&first), Some(&last)) => {
                let end = self
                    .arrivals
                    .iter()
                    .map(|(_, offset)| *offset)
                    .find(|offset| *offset > last)
                    .unwrap_or(self.audio.len());
                (&self.audio[first..end], inside.len())
            }
            _ => (&[], 0),
        }
    }
}

/// One phone's media: sends `tone` Hz encoded with `codec` (payload type
/// `pt`) to Obelus for [`TALK`], and decodes what comes back.
pub(crate) fn phone_media(
    socket: UdpSocket,
    log: PathBuf,
    codec: Codec,
    pt: u8,
    tone: f32,
) -> Heard {
    phone_media_for(socket, log, codec, pt, tone, TALK)
}

/// [`phone_media`] for `talk` instead of [`TALK`].
pub(crate) fn phone_media_for(
    socket: UdpSocket,
    log: PathBuf,
    codec: Codec,
    pt: u8,
    tone: f32,
    talk: Duration,
) -> Heard {
    let obelus = obelus_media_address(&log);
    talk_to(&socket, obelus, codec, pt, tone, talk)
}

/// Sends `tone` Hz encoded with `codec` (payload type `pt`) from `socket`
/// to `obelus` every 20 ms for `talk`, and decodes what comes back (RTCP
/// that comes by is not audio and is left out).
pub(crate) fn talk_to(
    socket: &UdpSocket,
    obelus: SocketAddr,
    codec: Codec,
    pt: u8,
    tone: f32,
    talk: Duration,
) -> Heard {
    socket
        .set_read_timeout(Some(Duration::from_millis(5)))
        .unwrap();
    let rate = codec.sample_rate();
    let frame = (rate / 50) as usize;
    let signal = sine(rate, tone, 8000.0, frame * 50 * 6);
    let mut encoder = Encoder::new(codec);
    let mut decoder = Decoder::new(codec);
    let mut heard = Heard {
        payload_types: Vec::new(),
        audio: Vec::new(),
        rate,
        arrivals: Vec::new(),
    };
    let started = Instant::now();
    let mut next = started;
    let mut seq = 0u16;
    let mut payload = [0u8; 400];
    let mut packet = [0u8; 500];
    let mut buf = [0u8; 1500];
    let mut pcm = vec![0i16; 2000];
    while started.elapsed() < talk {
        if Instant::now() >= next {
            let i = usize::from(seq) % 250;
            let samples = &signal[i * frame..(i + 1) * frame];
            let n = encoder.encode(samples, &mut payload);
            let header = RtpHeader {
                payload_type: pt,
                marker: seq == 0,
                sequence: seq,
                timestamp: u32::from(seq) * 160,
                ssrc: 0x1234_0000 + u32::from(pt),
            };
            let len = build_packet(&header, &payload[..n], &mut packet).unwrap();
            socket.send_to(&packet[..len], obelus).unwrap();
            seq = seq.wrapping_add(1);
            next += Duration::from_millis(20);
        }
        if let Ok((n, _)) = socket.recv_from(&mut buf)
            && !is_rtcp(&buf[..n])
            && let Ok(p) = RtpPacket::parse(&buf[..n])
        {
            heard.payload_types.push(p.header.payload_type);
            if p.header.payload_type == pt {
                heard.arrivals.push((Instant::now(), heard.audio.len()));
                let m = decoder.decode(p.payload, &mut pcm);
                heard.audio.extend_from_slice(&pcm[..m]);
            }
        }
    }
    heard
}

/// The received audio holds `want` Hz well above `other` Hz (the tone the
/// phone itself sent, which must not come back).
pub(crate) fn assert_hears(who: &str, heard: &Heard, pt: u8, want: f32, other: f32) {
    assert!(
        heard.payload_types.len() > 100,
        "{who} received {} packets",
        heard.payload_types.len()
    );
    assert!(
        heard.payload_types.iter().all(|p| *p == pt || *p == 101),
        "{who} received payload types {:?}",
        heard
            .payload_types
            .iter()
            .collect::<std::collections::BTreeSet<_>>()
    );
    // Skip the first half second (bridging starts a little after media).
    let tail = &heard.audio[(heard.rate as usize / 2).min(heard.audio.len())..];
    assert!(
        tail.len() > heard.rate as usize,
        "{who}: {} samples",
        tail.len()
    );
    let p_want = goertzel_power(tail, heard.rate, want);
    let p_other = goertzel_power(tail, heard.rate, other);
    assert!(
        p_want > 20.0 * p_other.max(1.0),
        "{who}: {want} Hz power {p_want:.0} vs {other} Hz {p_other:.0}"
    );
}

/// Registers 102, lets 101 call it, and checks the media both ways.
fn call_101_to_102(conf: &ConfDir, sip_port: u16) {
    call_101(conf, sip_port, "102", 1, "");
}

/// Registers 102, lets 101 dial `dest` (which must reach 102), and checks
/// the media both ways; `runs` dialplan runs are expected in all, and
/// `core show channel` of 101's leg must contain `shows` mid-call.
pub(crate) fn call_101(conf: &ConfDir, sip_port: u16, dest: &str, runs: u32, shows: &str) {
    add_phone(conf, "101", "g722,ulaw");
    add_phone(conf, "102", "ulaw");
    let dir = tempfile::tempdir().unwrap();
    let log_a = dir.path().join("a.log");
    let rtp_a = UdpSocket::bind("127.0.0.1:0").unwrap();
    let rtp_b = UdpSocket::bind("127.0.0.1:0").unwrap();
    let (callee, log_b) = callee_102(conf, sip_port, dir.path(), "call_callee.xml", &rtp_b);
    let talk_ms = (TALK.as_millis() + 1000).to_string();
    let caller = Phone::calling("101", dest)
        .rtp(&rtp_a)
        .codec("9", "G722")
        .args(&["-d", &talk_ms])
        .log(&log_a)
        .start(sip_port, dir.path(), "call_caller.xml");
    let flood_target = log_a.clone();
    let a = thread::spawn(move || phone_media(rtp_a, log_a, Codec::G722, 9, 1000.0));
    let b = thread::spawn(move || phone_media(rtp_b, log_b, Codec::Ulaw, 0, 440.0));
    // Meanwhile a stranger floods 101's RTP port with a 3 kHz tone: strict
    // RTP must drop it (and count it) rather than let 102 hear it.
    let flood = thread::spawn(move || {
        let stranger = UdpSocket::bind("127.0.0.1:0").unwrap();
        let target = obelus_media_address(&flood_target);
        let tone = sine(16000, 3000.0, 12000.0, 320);
        let mut encoder = Encoder::new(Codec::G722);
        let mut payload = [0u8; 160];
        let n = encoder.encode(&tone, &mut payload);
        let mut packet = [0u8; 200];
        for seq in 0..400u16 {
            let header = RtpHeader {
                payload_type: 9,
                marker: false,
                sequence: seq,
                timestamp: u32::from(seq) * 160,
                ssrc: 0xbad,
            };
            let len = build_packet(&header, &payload[..n], &mut packet).unwrap();
            let _ = stranger.send_to(&packet[..len], target);
            thread::sleep(Duration::from_millis(5));
        }
    });
    thread::sleep(TALK / 2);
    let (_, concise, _) = conf.rx("core show channels concise");
    let leg_a = concise
        .lines()
        .find_map(|l| l.split('!').next().filter(|n| n.starts_with("PJSIP/101-")))
        .unwrap_or_else(|| panic!("no 101 channel:\n{concise}"))
        .to_owned();
    let (_, shown, _) = conf.rx(&format!("core show channel {leg_a}"));
    flood.join().unwrap();
    let dropped: u64 = shown
        .lines()
        .find_map(|l| l.trim().strip_prefix("Dropped (Strict RTP): "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no RTP section:\n{shown}"));
    assert!(dropped > 50, "strict RTP dropped only {dropped}:\n{shown}");
    assert!(shown.contains(shows), "no '{shows}' in:\n{shown}");
    let (_, endpoints, _) = conf.rx("pjsip show endpoints");
    let line_101 = endpoints
        .lines()
        .find(|l| l.trim_start().starts_with("Endpoint:  101"))
        .unwrap_or_default();
    assert!(
        line_101.contains("In use") && line_101.contains("1 of inf"),
        "{endpoints}"
    );
    let (heard_a, heard_b) = (a.join().unwrap(), b.join().unwrap());
    wait_ok(caller, "101's call", dir.path());
    wait_ok(callee, "102's answer", dir.path());
    // 101 (G.722) hears 102's 440 Hz, transcoded from PCMU; 102 (PCMU)
    // hears 101's 1 kHz, transcoded from G.722.
    assert_hears("101", &heard_a, 9, 440.0, 1000.0);
    assert_hears("102", &heard_b, 0, 1000.0, 440.0);
    assert_hears("102 (not the stranger)", &heard_b, 0, 1000.0, 3000.0);
    // Both legs are gone once the BYE has been relayed.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let (_, channels, _) = conf.rx("core show channels");
        if channels.contains("0 active channels") {
            let processed = format!("{runs} call{} processed", if runs == 1 { "" } else { "s" });
            assert!(channels.contains(&processed), "{channels}");
            break;
        }
        assert!(Instant::now() < deadline, "{channels}");
        thread::sleep(Duration::from_millis(100));
    }
}

/// `rtp.conf`: 99 RTP ports from `first`.
pub(crate) fn rtp_ports(conf: &ConfDir, first: u16) {
    conf.write(
        "rtp.conf",
        &format!("[general]\nrtpstart={first}\nrtpend={}\n", first + 98),
    );
}

fn rtp_conf(conf: &ConfDir) {
    rtp_ports(conf, 20000 + (std::process::id() % 200) as u16 * 100);
    conf.write("extensions.conf", DIALPLAN);
}

/// A server on an SQLite file of its own (kept alive by the returned
/// directory), not started: its configuration, and its SIP port.
pub(crate) fn sqlite_server() -> (tempfile::TempDir, ConfDir, u16) {
    let shared = tempfile::tempdir().unwrap();
    let connection = format!(
        "[obelus]\ndbfile => {}\n",
        shared.path().join("db.sqlite3").display()
    );
    let (conf, port) = server(
        "pbx",
        "sqlite3",
        "obelus",
        ("res_config_sqlite3.conf", &connection),
    );
    (shared, conf, port)
}

/// [`sqlite_server`] with the RTP ports and the dialplan of these tests.
pub(crate) fn sqlite_pbx() -> (tempfile::TempDir, ConfDir, u16) {
    let (shared, conf, port) = sqlite_server();
    rtp_conf(&conf);
    (shared, conf, port)
}

/// Runs a scenario as phone 101 calling `dest` to the end; fails the test
/// unless sipp saw what the scenario expects.
fn call_as_101(port: u16, scenario_name: &str, dest: &str, extra: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let child = Phone::calling("101", dest)
        .rtp(&rtp)
        .codec("9", "G722")
        .args(extra)
        .start(port, dir.path(), scenario_name);
    wait_ok(child, scenario_name, dir.path());
}

#[test]
fn a_call_through_sqlite_is_transcoded_both_ways() {
    let (_shared, conf, port) = sqlite_pbx();
    let _daemon = conf.start_foreground();
    call_101_to_102(&conf, port);
}

/// Bad calls get the right answer: an extension that does not exist 404,
/// an offer that is not SDP 488 (after authentication, as Asterisk).
#[test]
fn missing_extensions_get_404_and_malformed_offers_488() {
    let (_shared, conf, port) = sqlite_pbx();
    let _daemon = conf.start_foreground();
    add_phone(&conf, "101", "g722,ulaw");
    call_as_101(port, "call_not_found.xml", "999", &[]);
    call_as_101(port, "call_bad_sdp.xml", "102", &[]);
    let (_, channels, _) = conf.rx("core show channels");
    assert!(channels.contains("0 active channels"), "{channels}");
}

/// `switch => Realtime/@extensions`: a row stored while the server runs is
/// dialable by the next call, without a reload.
#[test]
fn an_extension_stored_while_running_is_dialable_at_once() {
    let (_shared, conf, port) = sqlite_pbx();
    let mut extconfig = String::from("[settings]\n");
    for family in [
        "ps_endpoints",
        "ps_auths",
        "ps_aors",
        "ps_contacts",
        "extensions",
    ] {
        extconfig.push_str(&format!("{family} => sqlite3,obelus\n"));
    }
    conf.write("extconfig.conf", &extconfig);
    conf.write(
        "extensions.conf",
        "[testing]\nswitch => Realtime/@extensions\n",
    );
    let _daemon = conf.start_foreground();
    add_phone(&conf, "101", "g722,ulaw");
    call_as_101(port, "call_not_found.xml", "600", &[]);
    for (priority, app, data) in [("1", "Answer", "0"), ("2", "Wait", "5")] {
        let command = format!(
            "realtime store extensions context testing exten 600 priority {priority} app {app} appdata {data}"
        );
        assert_eq!(
            conf.rx(&command).1,
            "Stored RealTime record.\n",
            "{command}"
        );
    }
    call_as_101(port, "call_caller.xml", "600", &["-d", "500"]);
}

#[test]
fn a_call_through_postgresql_is_transcoded_both_ways() {
    let dbname = format!("obelus_call_{}", std::process::id());
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
    let (conf, port) = server("pbx", "pgsql", "general", ("res_pgsql.conf", &connection));
    rtp_conf(&conf);
    let upgrade = conf.run(&["db", "upgrade"]);
    assert!(
        upgrade.status.success(),
        "{}",
        String::from_utf8_lossy(&upgrade.stderr)
    );
    {
        let _daemon = conf.start_foreground();
        call_101_to_102(&conf, port);
    }
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

/// `Dial(Local/102@testing)`: the call goes through both halves of a Local
/// channel (their audio crosses on the loopback) and still carries each
/// side's tone to the other.
#[test]
fn a_call_through_a_local_channel_carries_audio() {
    let (_shared, conf, port) = sqlite_pbx();
    conf.write(
        "extensions.conf",
        &format!("{DIALPLAN}exten => 300,1,Dial(Local/102@testing)\n"),
    );
    let _daemon = conf.start_foreground();
    call_101(&conf, port, "300", 2, "");
}

/// `PJSIP_HEADER(read,...)` reads the caller's INVITE, and
/// `Dial(${PJSIP_DIAL_CONTACTS(102)})` rings 102's registered contact.
#[test]
fn pjsip_functions_read_headers_and_list_contacts() {
    let (_shared, conf, port) = sqlite_pbx();
    conf.write(
        "extensions.conf",
        &format!(
            "{DIALPLAN}exten => 800,1,Set(UA=${{PJSIP_HEADER(read,User-Agent)}})\n same => n,Set(TARGETS=${{PJSIP_DIAL_CONTACTS(102)}})\n same => n,Dial(${{TARGETS}})\n"
        ),
    );
    let _daemon = conf.start_foreground();
    call_101(&conf, port, "800", 1, "UA=sipp");
}
