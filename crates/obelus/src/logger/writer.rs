//! The writer thread: owns the open log files and the console sink, formats
//! each record once per channel kind.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::mpsc::Receiver;
use std::sync::{Arc, RwLock};

use tokio::sync::broadcast;

use super::config::{LoggerConf, Target};
use super::level::{Level, LevelSet};
use super::record::Record;

/// A line for attached remote consoles.
#[derive(Debug, Clone)]
pub struct RemoteLine {
    /// `Some(n)` for a verbose message of verbosity n (shown if the console's
    /// verbosity is at least n); `None` for other levels (always shown).
    pub verbosity: Option<u8>,
    /// The formatted line, without newline.
    pub text: Arc<str>,
}

/// Where console lines go.
pub enum ConsoleSink {
    /// Nowhere (background daemon).
    Off,
    /// Standard error (`obelus -f`).
    Stderr,
    /// A function printing above an interactive prompt (`obelus -c`).
    Printer(Box<dyn FnMut(String) + Send>),
}

/// What the writer thread is asked to do.
pub enum Command {
    /// Write a record.
    Record(Record),
    /// Apply a new configuration (reload).
    Configure(LoggerConf),
    /// Change where console lines go.
    Console(ConsoleSink),
    /// Reply when everything queued before has been written.
    Flush(std::sync::mpsc::SyncSender<()>),
    /// Move a file channel's file aside and open a new one; replies whether
    /// the file was rotated.
    Rotate(std::path::PathBuf, std::sync::mpsc::SyncSender<bool>),
}

/// How a channel is doing, for `logger show channels`.
#[derive(Debug, Clone)]
pub struct ChannelStatus {
    /// File path, or empty for the console.
    pub name: String,
    /// `File` or `Console`.
    pub kind: &'static str,
    /// `default` or `plain`.
    pub formatter: String,
    /// False when the file could not be opened.
    pub enabled: bool,
    /// What it takes.
    pub levels: LevelSet,
}

struct OpenChannel {
    levels: LevelSet,
    out: Out,
}

enum Out {
    Console,
    File(File),
    Failed,
}

pub(super) struct Writer {
    conf: LoggerConf,
    channels: Vec<OpenChannel>,
    console: ConsoleSink,
    remote: broadcast::Sender<RemoteLine>,
    verbosity: Arc<AtomicU8>,
    file_verbosity: Arc<AtomicU8>,
    timestamp: bool,
    status: Arc<RwLock<Vec<ChannelStatus>>>,
}

impl Writer {
    pub(super) fn new(
        remote: broadcast::Sender<RemoteLine>,
        verbosity: Arc<AtomicU8>,
        file_verbosity: Arc<AtomicU8>,
        status: Arc<RwLock<Vec<ChannelStatus>>>,
        console: ConsoleSink,
        timestamp: bool,
    ) -> Self {
        let mut writer = Self {
            conf: LoggerConf::fallback(),
            channels: Vec::new(),
            console,
            remote,
            verbosity,
            file_verbosity,
            timestamp,
            status,
        };
        writer.configure(LoggerConf::fallback());
        writer
    }

    pub(super) fn run(mut self, queue: Receiver<Command>) {
        while let Ok(command) = queue.recv() {
            match command {
                Command::Record(record) => self.write(&record),
                Command::Configure(conf) => self.configure(conf),
                Command::Console(sink) => self.console = sink,
                Command::Rotate(path, reply) => {
                    let _ = reply.send(self.rotate(&path));
                }
                Command::Flush(reply) => {
                    for channel in &mut self.channels {
                        if let Out::File(file) = &mut channel.out {
                            let _ = file.flush();
                        }
                    }
                    let _ = reply.send(());
                }
            }
        }
    }

    fn configure(&mut self, conf: LoggerConf) {
        let hostname = conf.append_hostname.then(hostname);
        let mut status = Vec::new();
        self.channels = conf
            .channels
            .iter()
            .map(|channel| {
                let (out, name, kind) = match &channel.target {
                    Target::Console => (Out::Console, String::new(), "Console"),
                    Target::File(path) => {
                        let path = match &hostname {
                            Some(host) => path.with_file_name(format!(
                                "{}@{host}",
                                path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default()
                            )),
                            None => path.clone(),
                        };
                        let out = match open_log(&path) {
                            Ok(file) => Out::File(file),
                            Err(e) => {
                                // Not eprintln!: a detached daemon's stderr may be gone.
                                let _ = writeln!(
                                    std::io::stderr(),
                                    "Obelus logger: cannot open log file {}: {e}; check astlogdir in asterisk.conf and its permissions",
                                    path.display()
                                );
                                Out::Failed
                            }
                        };
                        (out, path.display().to_string(), "File")
                    }
                };
                status.push(ChannelStatus {
                    name,
                    kind,
                    formatter: channel.formatter.clone(),
                    enabled: !matches!(out, Out::Failed),
                    levels: channel.levels,
                });
                OpenChannel {
                    levels: channel.levels,
                    out,
                }
            })
            .collect();
        *self.status.write().unwrap_or_else(|e| e.into_inner()) = status;
        let files_take = self
            .channels
            .iter()
            .filter(|c| matches!(c.out, Out::File(_)) && c.levels.contains(Level::Verbose))
            .map(|c| c.levels.verbose_cap.unwrap_or(u8::MAX))
            .max()
            .unwrap_or(0);
        self.file_verbosity.store(files_take, Ordering::Relaxed);
        self.conf = conf;
    }

    /// Renames the channel's file to the first free `path.N` (Asterisk's
    /// default `sequential` strategy) and reopens `path`.
    fn rotate(&mut self, path: &std::path::Path) -> bool {
        let status = self
            .status
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let mut rotated = false;
        for (channel, shown) in self.channels.iter_mut().zip(&status) {
            if shown.kind != "File" || std::path::Path::new(&shown.name) != path {
                continue;
            }
            if let Out::File(file) = &mut channel.out {
                let _ = file.flush();
            }
            let aside = (0u32..)
                .map(|n| std::path::PathBuf::from(format!("{}.{n}", path.display())))
                .find(|p| !p.exists());
            if let Some(aside) = aside
                && let Err(e) = std::fs::rename(path, &aside)
            {
                let _ = writeln!(
                    std::io::stderr(),
                    "Obelus logger: cannot rotate {}: {e}",
                    path.display()
                );
            }
            channel.out = match open_log(path) {
                Ok(file) => Out::File(file),
                Err(_) => Out::Failed,
            };
            rotated = true;
        }
        rotated
    }

    fn write(&mut self, record: &Record) {
        let mut full: Option<String> = None;
        // Verbose messages reach the console by verbosity alone, as in
        // Asterisk; other levels by the console channel's list.
        let mut to_console = record.level == Level::Verbose;
        for channel in &mut self.channels {
            let takes = if record.level == Level::Verbose {
                channel.levels.takes_verbose(record.verbosity)
            } else {
                channel.levels.contains(record.level)
            };
            match &mut channel.out {
                Out::File(file) if takes => {
                    let line = full.get_or_insert_with(|| record.full_line(&self.conf.date_format));
                    let _ = writeln!(file, "{line}");
                }
                Out::Console if takes => to_console = true,
                _ => {}
            }
        }
        if to_console {
            self.write_console(record);
        }
    }

    fn write_console(&mut self, record: &Record) {
        let line = record.console_line(&self.conf.date_format, self.timestamp);
        let shown = record.level != Level::Verbose
            || record.verbosity <= self.verbosity.load(Ordering::Relaxed);
        if shown {
            match &mut self.console {
                ConsoleSink::Off => {}
                ConsoleSink::Stderr => {
                    let _ = writeln!(std::io::stderr(), "{line}");
                }
                ConsoleSink::Printer(print) => print(line.clone()),
            }
        }
        // Remote consoles filter verbose lines by verbosity themselves; with
        // none attached this send is a no-op.
        if self.remote.receiver_count() > 0 {
            let _ = self.remote.send(RemoteLine {
                verbosity: (record.level == Level::Verbose).then_some(record.verbosity),
                text: line.into(),
            });
        }
    }
}

fn open_log(path: &std::path::Path) -> std::io::Result<File> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    OpenOptions::new().create(true).append(true).open(path)
}

/// This machine's name, for `appendhostname` and the console greeting.
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}
