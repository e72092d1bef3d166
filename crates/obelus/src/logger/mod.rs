//! Logging: `tracing` events routed to Asterisk-style channels (console,
//! files, remote consoles) as `logger.conf` says.
//!
//! Code anywhere in Obelus logs with `tracing`: `error!` is ERROR, `warn!` is
//! WARNING, `info!` is NOTICE, and `info!(verbose = 3, ...)` is a VERBOSE
//! message of verbosity 3 (shown on consoles set to `core set verbose 3` or
//! more, with Asterisk's `    -- ` prefix). `debug!` appears only while the
//! debug level is above 0.

mod channels;
mod config;
mod layer;
mod level;
mod module;
mod record;
mod writer;

use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::mpsc::sync_channel;
use std::sync::{Arc, Mutex, RwLock};

use tokio::sync::broadcast;
use tracing_subscriber::layer::SubscriberExt;

pub use channels::LoggerChannels;
pub use config::LoggerConf;
pub use module::LoggerModule;
pub use writer::{ConsoleSink, RemoteLine, hostname};

use layer::RouterLayer;
use writer::{ChannelStatus, Command, Writer};

/// How many records may wait for the writer thread before new ones are dropped.
const QUEUE_LIMIT: usize = 8192;

/// The running logger: a bounded queue to its writer thread.
pub struct Logger {
    queue: std::sync::mpsc::SyncSender<Command>,
    dropped: Arc<AtomicU64>,
    status: Arc<RwLock<Vec<ChannelStatus>>>,
    remote: broadcast::Sender<RemoteLine>,
    /// `logger.conf` as last applied, and the channels added at run time
    /// (ARI `addLog`), which stay across reloads and come first.
    channels: Mutex<(LoggerConf, Vec<config::Channel>)>,
}

impl Logger {
    /// Starts the writer thread and makes this logger the process-wide
    /// `tracing` subscriber. `verbosity` is shared with the core so that
    /// `core set verbose` takes effect at once.
    pub fn install(
        verbosity: Arc<AtomicU8>,
        debug: u8,
        timestamp: bool,
        console: ConsoleSink,
    ) -> Arc<Self> {
        let (queue, rx) = sync_channel(QUEUE_LIMIT);
        let (remote, _) = broadcast::channel(1024);
        let status = Arc::new(RwLock::new(Vec::new()));
        let dropped = Arc::new(AtomicU64::new(0));
        let file_verbosity = Arc::new(AtomicU8::new(0));
        let writer = Writer::new(
            remote.clone(),
            Arc::clone(&verbosity),
            Arc::clone(&file_verbosity),
            Arc::clone(&status),
            console,
            timestamp,
        );
        let spawned = std::thread::Builder::new()
            .name("logger".into())
            .spawn(move || writer.run(rx));
        if let Err(e) = spawned {
            eprintln!("Obelus: cannot start the logger thread: {e}");
        }
        let layer = RouterLayer {
            queue: queue.clone(),
            dropped: Arc::clone(&dropped),
            debug: Arc::new(AtomicU8::new(debug)),
            verbosity,
            file_verbosity,
            remote: remote.clone(),
        };
        let subscriber = tracing_subscriber::registry().with(layer);
        // Only fails if a subscriber is already set (a second install in one
        // process, as in tests): the first one keeps working.
        let _ = tracing::subscriber::set_global_default(subscriber);
        Arc::new(Self {
            queue,
            dropped,
            status,
            remote,
            channels: Mutex::new((LoggerConf::fallback(), Vec::new())),
        })
    }

    /// Applies a configuration (start and reload); channels added at run
    /// time stay.
    pub fn configure(&self, conf: LoggerConf) {
        let mut channels = self.channels.lock().unwrap_or_else(|e| e.into_inner());
        channels.0 = conf;
        self.apply(&channels);
    }

    /// Sends `logger.conf` plus the run-time channels to the writer.
    fn apply(&self, (conf, added): &(LoggerConf, Vec<config::Channel>)) {
        let mut merged = conf.clone();
        merged.channels = added.iter().chain(&conf.channels).cloned().collect();
        let _ = self.queue.send(Command::Configure(merged));
    }

    /// Changes where console lines go.
    pub fn set_console(&self, sink: ConsoleSink) {
        let _ = self.queue.send(Command::Console(sink));
    }

    /// A feed of console lines for one attached remote console.
    pub fn subscribe_remote(&self) -> broadcast::Receiver<RemoteLine> {
        self.remote.subscribe()
    }

    /// Waits until everything logged so far is written (before exit).
    pub fn flush(&self) {
        let (tx, rx) = sync_channel(1);
        if self.queue.send(Command::Flush(tx)).is_ok() {
            let _ = rx.recv_timeout(std::time::Duration::from_secs(2));
        }
    }

    /// `logger show channels`, laid out as Asterisk lays it out.
    pub fn show_channels(&self) -> String {
        let mut out = format!(
            "Logger queue limits:\n Maximum queue size: {QUEUE_LIMIT}\n Dropped messages: {}\n\n",
            self.dropped.load(Ordering::Relaxed)
        );
        let row = |a: &str, b: &str, c: &str, d: &str| {
            format!("{a:<35.35} {b:<8.8} {c:<10.10} {d:<9.9} ")
        };
        out.push_str(&row("Channel", "Type", "Formatter", "Status"));
        out.push_str("Configuration\n");
        out.push_str(&row("-------", "----", "---------", "------"));
        out.push_str("-------------\n");
        for channel in self.status.read().unwrap_or_else(|e| e.into_inner()).iter() {
            out.push_str(&row(
                &channel.name,
                channel.kind,
                &channel.formatter,
                if channel.enabled {
                    "Enabled"
                } else {
                    "Disabled"
                },
            ));
            out.push_str(&format!("   - {}\n", channel.levels.describe()));
        }
        out
    }
}
