//! What the load benches share: starting the real `obelus` binary on a
//! scratch configuration, free ports, and the daemon's CPU time from /proc
//! (so that figures are CPU per unit of work, not bare times).

pub mod phones;

use std::net::{TcpListener, TcpStream, UdpSocket};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Clock ticks per second of /proc figures (USER_HZ, 100 on Linux).
pub const TICKS_PER_SECOND: f64 = 100.0;

/// A child process killed when dropped.
pub struct Guard(pub Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A port nobody holds at the moment, for TCP and for UDP.
pub fn free_port() -> u16 {
    loop {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        if UdpSocket::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// CPU ticks (utime + stime) of a process.
pub fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    let field = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    field(11) + field(12)
}

/// Writes `files` (with an `asterisk.conf` pointing every state directory
/// into `dir` and an errors-only console) and starts the daemon in the
/// foreground; returns once `ready` says it is up.
pub fn start_obelus(dir: &Path, files: &[(&str, String)], ready: impl Fn() -> bool) -> Guard {
    start_obelus_within(dir, files, ready, Duration::from_secs(20))
}

/// As [`start_obelus`], waiting up to `patience` for `ready`: a
/// configuration of tens of thousands of objects takes longer to load.
pub fn start_obelus_within(
    dir: &Path,
    files: &[(&str, String)],
    ready: impl Fn() -> bool,
    patience: Duration,
) -> Guard {
    let root = dir.display();
    std::fs::write(
        dir.join("asterisk.conf"),
        format!("[directories]\nastrundir => {root}/run\nastlogdir => {root}/log\nastvarlibdir => {root}/lib\nastdatadir => {root}/lib\n"),
    )
    .unwrap();
    std::fs::write(dir.join("logger.conf"), "[logfiles]\nconsole => error\n").unwrap();
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
    let guard = Guard(
        Command::new(env!("CARGO_BIN_EXE_obelus"))
            .arg("-C")
            .arg(dir.join("asterisk.conf"))
            .arg("-f")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + patience;
    while !ready() {
        assert!(Instant::now() < deadline, "obelus did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    guard
}

/// Ready test for a daemon listening for SIP on UDP `port`.
pub fn sip_bound(port: u16) -> impl Fn() -> bool {
    move || UdpSocket::bind(("127.0.0.1", port)).is_err()
}

/// Ready test for a daemon listening on TCP `port` (AMI, HTTP).
pub fn tcp_listening(port: u16) -> impl Fn() -> bool {
    move || TcpStream::connect(("127.0.0.1", port)).is_ok()
}

/// The last value of column `name` in a sipp `-trace_stat` file (its final
/// totals, e.g. `SuccessfulCall(C)`); 0 when missing.
pub fn sipp_stat(file: &Path, name: &str) -> u64 {
    let text = std::fs::read_to_string(file).unwrap_or_default();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or("").split(';').collect();
    let last: Vec<&str> = lines.last().unwrap_or("").split(';').collect();
    header
        .iter()
        .position(|h| *h == name)
        .and_then(|i| last.get(i))
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(0)
}
