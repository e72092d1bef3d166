//! The control socket server: one task per attached console.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use obelus_core::Core;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::unix::OwnedWriteHalf;
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{broadcast, mpsc};

use super::protocol::{self, Greeting};
use crate::logger::{Logger, RemoteLine};

/// How long a console may leave our output unread before it is dropped.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// Frames waiting for one console; log lines beyond this are dropped for it.
const OUTBOX: usize = 256;

/// Accepts consoles until the daemon stops.
pub async fn serve(listener: UnixListener, core: Arc<Core>, logger: Arc<Logger>, socket: PathBuf) {
    let greeting = Greeting {
        hostname: crate::logger::hostname(),
        pid: std::process::id(),
        version: obelus_core::VERSION.to_owned(),
    }
    .encode();
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                let core = Arc::clone(&core);
                let logger = Arc::clone(&logger);
                let greeting = greeting.clone();
                tokio::spawn(async move {
                    if let Err(e) = session(stream, core, logger, greeting).await {
                        tracing::debug!("remote console ended: {e}");
                    }
                });
            }
            Err(e) => {
                tracing::error!(
                    "control socket {} stopped accepting: {e}; remote consoles cannot attach until restart",
                    socket.display()
                );
                return;
            }
        }
    }
}

/// What one console's writer task sends.
enum Frame {
    /// Output of an interactive command (followed by NUL).
    Output(String),
    /// A log line (marker byte, text, newline).
    Log(RemoteLine),
}

async fn session(
    stream: UnixStream,
    core: Arc<Core>,
    logger: Arc<Logger>,
    greeting: String,
) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    write_all(&mut write, format!("{greeting}\n").as_bytes()).await?;
    let mut reader = BufReader::new(read);
    let mut buf = Vec::new();
    let mut interactive: Option<mpsc::Sender<Frame>> = None;
    let mut write = Some(write);
    loop {
        buf.clear();
        let n = (&mut reader)
            .take(protocol::MAX_COMMAND as u64 + 1)
            .read_until(0, &mut buf)
            .await?;
        if n == 0 {
            return Ok(());
        }
        if buf.last() != Some(&0) {
            // Either EOF in the middle of a command or an oversized one.
            return Ok(());
        }
        buf.pop();
        let command = String::from_utf8_lossy(&buf).trim().to_owned();

        if let Some(one_shot) = command.strip_prefix(protocol::QUIT_AFTER) {
            let output = run(&core, one_shot.to_owned()).await;
            if let Some(mut w) = write.take() {
                write_all(&mut w, output.as_bytes()).await?;
                let _ = w.shutdown().await;
            }
            return Ok(());
        }

        let output = if let Some(rest) = command.strip_prefix(protocol::MATCHES) {
            let line = protocol::parse_matches_request(rest).unwrap_or_default();
            let mut answer = core.cli.complete(&line).join(" ");
            if !answer.is_empty() {
                answer.push(' ');
            }
            answer.push_str(protocol::MATCHES_EOF);
            answer
        } else if command.is_empty() {
            String::new()
        } else {
            run(&core, command).await
        };

        if interactive.is_none() {
            let Some(w) = write.take() else {
                return Ok(());
            };
            interactive = Some(start_writer(
                w,
                logger.subscribe_remote(),
                Arc::clone(&core),
            ));
        }
        let Some(tx) = &interactive else {
            return Ok(());
        };
        if tx.send(Frame::Output(output)).await.is_err() {
            return Ok(());
        }
    }
}

/// Runs a command in its own task, so a console that disconnects half way
/// does not cancel it (a reload must not stop in the middle).
async fn run(core: &Arc<Core>, line: String) -> String {
    let core = Arc::clone(core);
    tokio::spawn(async move { core.cli.execute(&line).await })
        .await
        .unwrap_or_else(|e| format!("Command failed: {e}\n"))
}

/// Starts the task that owns the socket's write half for an interactive
/// console: command output in order, log lines in between.
fn start_writer(
    mut write: OwnedWriteHalf,
    mut logs: broadcast::Receiver<RemoteLine>,
    core: Arc<Core>,
) -> mpsc::Sender<Frame> {
    let (tx, mut rx) = mpsc::channel::<Frame>(OUTBOX);
    tokio::spawn(async move {
        loop {
            let frame = tokio::select! {
                frame = rx.recv() => match frame {
                    Some(frame) => frame,
                    None => return,
                },
                line = logs.recv() => match line {
                    Ok(line) => Frame::Log(line),
                    Err(broadcast::error::RecvError::Lagged(n)) => Frame::Log(RemoteLine {
                        verbosity: None,
                        text: format!("(remote console: {n} log lines dropped, console too slow)").into(),
                    }),
                    Err(broadcast::error::RecvError::Closed) => continue,
                },
            };
            let bytes = match frame {
                Frame::Output(mut text) => {
                    text.push('\0');
                    text.into_bytes()
                }
                Frame::Log(line) => {
                    if line.verbosity.is_some_and(|v| v > core.verbosity()) {
                        continue;
                    }
                    let mut bytes = Vec::with_capacity(line.text.len() + 2);
                    bytes.push(protocol::log_marker(line.verbosity));
                    bytes.extend_from_slice(line.text.as_bytes());
                    bytes.push(b'\n');
                    bytes
                }
            };
            if write_all(&mut write, &bytes).await.is_err() {
                return;
            }
        }
    });
    tx
}

async fn write_all(write: &mut OwnedWriteHalf, bytes: &[u8]) -> std::io::Result<()> {
    match tokio::time::timeout(WRITE_TIMEOUT, write.write_all(bytes)).await {
        Ok(result) => result,
        Err(_) => Err(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            "remote console stopped reading",
        )),
    }
}
