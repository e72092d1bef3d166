//! The remote console client: `obelus -rx "command"` and `obelus -r`.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::protocol::{self, Greeting};
use crate::console::{Backend, Printer};

/// Silence after which `-rx` gives up waiting (as Asterisk does).
const SILENCE_LIMIT: Duration = Duration::from_secs(60);

/// Why the client could not talk to the daemon.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// No daemon listens on the socket.
    #[error(
        "Unable to connect to remote Obelus (does {} exist?): {source}\nIs Obelus running? Start it with 'obelus' (in the background) or 'obelus -c' (with a console).",
        path.display()
    )]
    NotRunning {
        /// The control socket tried.
        path: PathBuf,
        /// What the connect said.
        source: std::io::Error,
    },
    /// Something listens there, but does not speak the console protocol.
    #[error("{} is not an Obelus control socket (unexpected greeting)", .0.display())]
    NotObelus(PathBuf),
    /// The connection failed half way.
    #[error("lost the connection to Obelus: {0}")]
    Io(#[from] std::io::Error),
}

/// Connects and reads the greeting.
pub fn connect(path: &Path) -> Result<(UnixStream, Greeting), ClientError> {
    let stream = UnixStream::connect(path).map_err(|source| ClientError::NotRunning {
        path: path.to_path_buf(),
        source,
    })?;
    stream.set_read_timeout(Some(SILENCE_LIMIT))?;
    let mut line = Vec::new();
    BufReader::new(&stream)
        .take(1024)
        .read_until(b'\n', &mut line)?;
    let greeting = Greeting::parse(&String::from_utf8_lossy(&line))
        .ok_or_else(|| ClientError::NotObelus(path.to_path_buf()))?;
    Ok((stream, greeting))
}

/// Runs one command and returns its output, without log lines (`-rx`).
pub fn execute_once(path: &Path, command: &str) -> Result<String, ClientError> {
    let (mut stream, _) = connect(path)?;
    stream.write_all(format!("{}{command}\0", protocol::QUIT_AFTER).as_bytes())?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    Ok(strip_log_lines(&raw))
}

/// Command output with every marker-prefixed log line removed.
fn strip_log_lines(raw: &[u8]) -> String {
    let mut out = Vec::with_capacity(raw.len());
    let mut at_line_start = true;
    let mut skipping = false;
    for &byte in raw {
        if at_line_start && protocol::is_log_marker(byte) {
            skipping = true;
        }
        if !skipping {
            out.push(byte);
        }
        at_line_start = byte == b'\n';
        if at_line_start {
            skipping = false;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A connection used by the interactive console: commands and completion
/// requests go out; their answers come back through the reader thread.
pub struct RemoteBackend {
    stream: Mutex<UnixStream>,
    answers: Mutex<mpsc::Receiver<String>>,
}

impl RemoteBackend {
    /// Connects, starts the reader thread and returns the backend with the
    /// greeting. Log lines go to `printer`, which can be set later when the
    /// line editor exists.
    pub fn start(path: &Path, printer: Arc<Printer>) -> Result<(Self, Greeting), ClientError> {
        let (stream, greeting) = connect(path)?;
        stream.set_read_timeout(None)?;
        let reader = stream.try_clone()?;
        let (tx, rx) = mpsc::channel();
        std::thread::Builder::new()
            .name("console-reader".into())
            .spawn(move || read_frames(reader, tx, printer))?;
        Ok((
            Self {
                stream: Mutex::new(stream),
                answers: Mutex::new(rx),
            },
            greeting,
        ))
    }

    fn request(&self, text: &str) -> Option<String> {
        let mut stream = self.stream.lock().unwrap_or_else(|e| e.into_inner());
        stream.write_all(text.as_bytes()).ok()?;
        stream.write_all(b"\0").ok()?;
        drop(stream);
        self.answers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .recv()
            .ok()
    }
}

impl Backend for RemoteBackend {
    fn execute(&self, line: &str) -> Option<String> {
        self.request(line)
    }

    fn complete(&self, line: &str) -> Vec<String> {
        let word = line.rsplit(' ').next().unwrap_or("");
        let request = format!("{}\"{line}\" \"{word}\"", protocol::MATCHES);
        self.request(&request)
            .map(|answer| {
                answer
                    .split_whitespace()
                    .filter(|w| *w != protocol::MATCHES_EOF)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Splits the daemon's stream into command answers (NUL-terminated) and log
/// lines (marker-prefixed), until the daemon goes away.
fn read_frames(stream: UnixStream, answers: mpsc::Sender<String>, printer: Arc<Printer>) {
    let mut reader = BufReader::new(stream);
    loop {
        let first = match reader.fill_buf() {
            Ok([]) | Err(_) => break,
            Ok(buf) => buf[0],
        };
        let mut frame = Vec::new();
        if protocol::is_log_marker(first) {
            if reader.read_until(b'\n', &mut frame).is_err() {
                break;
            }
            let text = String::from_utf8_lossy(frame.get(1..).unwrap_or_default());
            printer.print(text.trim_end_matches('\n'));
        } else {
            match reader.read_until(0, &mut frame) {
                Ok(_) if frame.last() == Some(&0) => {
                    frame.pop();
                    if answers
                        .send(String::from_utf8_lossy(&frame).into_owned())
                        .is_err()
                    {
                        break;
                    }
                }
                _ => break,
            }
        }
    }
    printer.print("Disconnected from Obelus server");
    drop(answers);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_log_lines_only() {
        let mut raw = b"Obelus 0.1.0\n".to_vec();
        raw.push(0xFC);
        raw.extend_from_slice(b"    -- a verbose line\nmore output\n");
        assert_eq!(strip_log_lines(&raw), "Obelus 0.1.0\nmore output\n");
    }
}
