//! The `tracing` layer: turns events into [`Record`]s and hands them to the
//! writer thread without ever blocking the code that logs.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::mpsc::{SyncSender, TrySendError};

use tracing::{Event, Metadata, Subscriber, subscriber::Interest};
use tracing_subscriber::layer::{Context, Layer};

use super::level::Level;
use super::record::{FieldCollector, Record, VerboseOnly};
use super::writer::Command;

/// Routes events to the writer thread through a bounded queue; when the queue
/// is full the event is dropped and counted (a stuck disk must not stall calls).
pub struct RouterLayer {
    pub(super) queue: SyncSender<Command>,
    pub(super) dropped: Arc<AtomicU64>,
    pub(super) debug: Arc<AtomicU8>,
    /// The console's verbosity (`core set verbose`).
    pub(super) verbosity: Arc<AtomicU8>,
    /// The highest verbosity a log file takes (0: none), kept by the writer.
    pub(super) file_verbosity: Arc<AtomicU8>,
    /// Attached remote consoles, which filter verbose lines themselves.
    pub(super) remote: tokio::sync::broadcast::Sender<super::writer::RemoteLine>,
}

impl RouterLayer {
    fn debug_enabled(&self) -> bool {
        self.debug.load(Ordering::Relaxed) > 0
    }
}

impl<S: Subscriber> Layer<S> for RouterLayer {
    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        if *metadata.level() <= tracing::Level::INFO {
            Interest::always()
        } else {
            // Debug interest changes with `debug=` at run time: ask each time.
            Interest::sometimes()
        }
    }

    fn enabled(&self, metadata: &Metadata<'_>, _ctx: Context<'_, S>) -> bool {
        *metadata.level() <= tracing::Level::INFO || self.debug_enabled()
    }

    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let meta = event.metadata();
        if *meta.level() == tracing::Level::INFO {
            // A verbose message nobody shows or files is dropped here, before
            // its text is built and queued (the dialplan logs every step).
            let mut verbose = VerboseOnly::default();
            event.record(&mut verbose);
            if let Some(v) = verbose.0
                && v > self.verbosity.load(Ordering::Relaxed)
                && v > self.file_verbosity.load(Ordering::Relaxed)
                && self.remote.receiver_count() == 0
            {
                return;
            }
        }
        let mut fields = FieldCollector::default();
        event.record(&mut fields);
        let (level, verbosity) = match (*meta.level(), fields.verbose) {
            (tracing::Level::ERROR, _) => (Level::Error, 0),
            (tracing::Level::WARN, _) => (Level::Warning, 0),
            (tracing::Level::INFO, Some(v)) => (Level::Verbose, v),
            (tracing::Level::INFO, None) => (Level::Notice, 0),
            _ => (Level::Debug, 0),
        };
        let record = Record {
            level,
            verbosity,
            target: meta.target().to_owned(),
            message: fields.finish(),
            time: chrono::Local::now(),
        };
        match self.queue.try_send(Command::Record(record)) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}
