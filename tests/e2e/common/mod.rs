//! Starting the real `obelus` binary on a private configuration directory,
//! talking to it, and cleaning up.

pub mod ari;

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The daemon binary cargo built for these tests.
pub const OBELUS: &str = env!("CARGO_BIN_EXE_obelus");

/// A configuration directory whose `asterisk.conf` keeps every state
/// directory inside it, so tests never touch the system and never collide.
pub struct ConfDir {
    pub dir: tempfile::TempDir,
}

impl ConfDir {
    /// A directory with `asterisk.conf`, `modules.conf` and `logger.conf`.
    pub fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("obelus-e2e")
            .tempdir()
            .expect("tempdir");
        let root = dir.path().display().to_string();
        let conf = Self { dir };
        conf.write(
            "asterisk.conf",
            &format!(
                "[directories]\nastrundir => {root}/run\nastlogdir => {root}/log\nastvarlibdir => {root}/lib\nastspooldir => {root}/spool\n\n[options]\nverbose = 3\n"
            ),
        );
        conf.write("modules.conf", "[modules]\nautoload = yes\n");
        conf.write(
            "logger.conf",
            "[general]\ndateformat = %F %T\n[logfiles]\nconsole => notice,warning,error\nmessages => notice,warning,error,verbose\n",
        );
        conf
    }

    /// Writes (or replaces) one file of the configuration.
    pub fn write(&self, name: &str, text: &str) {
        std::fs::write(self.dir.path().join(name), text).expect("write config");
    }

    /// The configuration directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The control socket the daemon will listen on.
    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("run/obelus.ctl")
    }

    /// `obelus -C <dir> <args>`.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(OBELUS);
        command.arg("-C").arg(self.path()).args(args);
        command
    }

    /// Runs `obelus -C <dir> <args>` to completion.
    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run obelus")
    }

    /// `obelus -rx "<command>"`: (exit status, stdout, stderr).
    pub fn rx(&self, command: &str) -> (i32, String, String) {
        let out = self.run(&["-rx", command]);
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// Starts `obelus -f` and waits until its control socket answers.
    pub fn start_foreground(&self) -> Daemon {
        let child = self
            .command(&["-f"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn obelus -f");
        let daemon = Daemon { child: Some(child) };
        wait_for_socket(&self.socket());
        daemon
    }
}

/// Waits (bounded) until a daemon greets on the socket: the greeting comes
/// only once every module has loaded.
pub fn wait_for_socket(socket: &Path) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(stream) = UnixStream::connect(socket) {
            let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
            let mut line = String::new();
            if BufReader::new(stream).read_line(&mut line).is_ok() && line.contains('/') {
                return;
            }
        }
        assert!(
            Instant::now() < deadline,
            "obelus did not open {}",
            socket.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits (bounded) until nothing answers on the socket any more.
pub fn wait_for_stop(socket: &Path) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while UnixStream::connect(socket).is_ok() {
        assert!(Instant::now() < deadline, "obelus did not stop");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A daemon started by a test; killed if the test ends without stopping it.
pub struct Daemon {
    child: Option<Child>,
}

/// A TCP port nothing listens on now (the OS picks it).
pub fn free_port() -> u16 {
    // Below the kernel's ephemeral range (32768+) and the tests' RTP ranges
    // (20000+): a port handed out here is not taken meanwhile by a socket
    // bound to port 0, which parallel tests open by the dozen. Free for both
    // TCP and UDP, since SIP listens on both.
    use std::sync::atomic::{AtomicU16, Ordering};
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let start = 10_000 + (std::process::id() % 500) as u16 * 20;
    for _ in 0..10_000 {
        let offset = NEXT.fetch_add(1, Ordering::Relaxed) % 10_000;
        let port = 10_000 + (start - 10_000 + offset) % 10_000;
        let tcp = std::net::TcpListener::bind(("127.0.0.1", port));
        let udp = std::net::UdpSocket::bind(("127.0.0.1", port));
        if tcp.is_ok() && udp.is_ok() {
            return port;
        }
    }
    panic!("no free port in 10000-19999");
}

impl Daemon {
    /// The daemon's process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(|c| c.id()).unwrap_or(0)
    }

    /// The daemon's resident memory in kB.
    pub fn rss_kb(&self) -> u64 {
        let pid = self.child.as_ref().map(|c| c.id()).unwrap_or(0);
        std::fs::read_to_string(format!("/proc/{pid}/status"))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("VmRSS:"))
                    .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
            })
            .unwrap_or(0)
    }

    /// Waits for the process to exit by itself; returns its exit code.
    pub fn wait(mut self) -> i32 {
        let mut child = self.child.take().expect("child");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = child.try_wait().expect("try_wait") {
                return status.code().unwrap_or(-1);
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("obelus did not exit");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Sends raw bytes on the control socket and closes it at once.
pub fn send_and_hang_up(socket: &Path, bytes: &[u8]) {
    let mut stream = UnixStream::connect(socket).expect("connect");
    let _ = stream.write_all(bytes);
}

/// AMI on a free port with user admin/s (reading `read`, writing all);
/// returns the port.
pub fn enable_ami(conf: &ConfDir, read: &str) -> u16 {
    let port = free_port();
    conf.write(
        "manager.conf",
        &format!("[general]\nenabled=yes\nport={port}\nbindaddr=127.0.0.1\n[admin]\nsecret=s\nread={read}\nwrite=all\n"),
    );
    port
}

/// Logs in to AMI as `admin`/`s` and returns a reader that blocks (bounded)
/// until the text it has read contains a needle, returning that text.
pub fn ami_watcher(port: u16) -> impl FnMut(&str) -> String {
    use std::io::{BufRead, BufReader, Write};
    let stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    let mut writer = stream.try_clone().unwrap();
    writer
        .write_all(b"Action: Login\r\nUsername: admin\r\nSecret: s\r\n\r\n")
        .unwrap();
    let mut reader = BufReader::new(stream);
    let mut read_until = move |needle: &str| {
        let mut text = String::new();
        while !text.contains(needle) {
            let mut line = String::new();
            assert!(reader.read_line(&mut line).unwrap() > 0, "closed:\n{text}");
            text.push_str(&line);
        }
        text
    };
    read_until("Authentication accepted");
    read_until
}

/// Logs in, sends one action, returns what arrived up to `until`.
pub fn ami_action(port: u16, action: &str, until: &str) -> String {
    use std::io::{BufRead, BufReader, Write};
    let stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .unwrap();
    let mut writer = stream.try_clone().unwrap();
    writer
        .write_all(
            format!(
                "Action: Login\r\nUsername: admin\r\nSecret: s\r\nEvents: off\r\n\r\n{action}\r\n"
            )
            .as_bytes(),
        )
        .unwrap();
    let mut reader = BufReader::new(stream);
    let mut text = String::new();
    while !text.contains(until) {
        let mut line = String::new();
        assert!(reader.read_line(&mut line).unwrap() > 0, "closed:\n{text}");
        text.push_str(&line);
    }
    text
}

/// One AMI session for a whole test: send actions, read until a needle.
pub struct AmiSession {
    writer: std::net::TcpStream,
    reader: std::io::BufReader<std::net::TcpStream>,
}

impl AmiSession {
    /// Logs in as `admin`/`s` with events on.
    pub fn login(port: u16) -> AmiSession {
        let stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(30)))
            .unwrap();
        let writer = stream.try_clone().unwrap();
        let mut session = AmiSession {
            writer,
            reader: std::io::BufReader::new(stream),
        };
        session.send("Action: Login\r\nUsername: admin\r\nSecret: s");
        session.read_until("Authentication accepted");
        session
    }

    /// Sends an action (lines without the final blank line).
    pub fn send(&mut self, action: &str) {
        use std::io::Write;
        self.writer
            .write_all(format!("{action}\r\n\r\n").as_bytes())
            .unwrap();
    }

    /// Reads until the text read contains `needle`; returns it all.
    pub fn read_until(&mut self, needle: &str) -> String {
        use std::io::BufRead;
        let mut text = String::new();
        while !text.contains(needle) {
            let mut line = String::new();
            assert!(
                self.reader.read_line(&mut line).unwrap() > 0,
                "closed before '{needle}':\n{text}"
            );
            text.push_str(&line);
        }
        text
    }
}

impl AmiSession {
    /// The response to the action with ActionID `id` (events around it are
    /// skipped): from its `Response:` line to the blank line ending it.
    pub fn response(&mut self, id: &str) -> String {
        let before = self.read_until(&format!("ActionID: {id}\r\n"));
        let start = before.rfind("Response:").unwrap_or(0);
        let mut block = before[start..].to_owned();
        block.push_str(&self.read_until("\r\n\r\n"));
        block
    }
}
