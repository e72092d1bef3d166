//! Who uses a stream's audio on this server besides a link: call
//! recording ([`Stream::monitor`]), a snoop's whisper ([`Stream::whisper`])
//! or a [`Stream::record`] sink. A native RTP bridge (direct media) sends
//! the phones' RTP past this server, so it asks [`Stream::is_tapped`]
//! before going direct and watches [`Stream::watch_taps`] to come back
//! when a tap starts mid-call (Asterisk's audiohooks forbidding a native
//! bridge).
//!
//! [`Stream::monitor`]: super::Stream::monitor
//! [`Stream::whisper`]: super::Stream::whisper
//! [`Stream::record`]: super::Stream::record
//! [`Stream::is_tapped`]: super::Stream::is_tapped
//! [`Stream::watch_taps`]: super::Stream::watch_taps

use std::collections::HashSet;
use std::sync::Mutex;

use tokio::sync::watch;

/// The taps of one stream, kept by its handle: a sink that ends on its own
/// (the stream closed) is only forgotten with the stream, which errs on
/// the side of keeping media here.
pub(crate) struct Taps {
    set: Mutex<Set>,
    tx: watch::Sender<bool>,
}

#[derive(Default)]
struct Set {
    monitors: HashSet<u64>,
    whispers: HashSet<u64>,
    record: bool,
}

impl Set {
    fn any(&self) -> bool {
        self.record || !self.monitors.is_empty() || !self.whispers.is_empty()
    }
}

/// Which kind of tap changed.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Tap {
    Monitor(u64),
    Whisper(u64),
    Record,
}

impl Taps {
    pub(crate) fn new() -> Taps {
        Taps {
            set: Mutex::new(Set::default()),
            tx: watch::channel(false).0,
        }
    }

    /// Notes that `tap` started (`on`) or stopped; watchers hear of it
    /// when the stream goes from untapped to tapped or back.
    pub(crate) fn set(&self, tap: Tap, on: bool) {
        let any = {
            let mut set = self.set.lock().unwrap_or_else(|e| e.into_inner());
            match tap {
                Tap::Monitor(id) if on => {
                    set.monitors.insert(id);
                }
                Tap::Monitor(id) => {
                    set.monitors.remove(&id);
                }
                Tap::Whisper(id) if on => {
                    set.whispers.insert(id);
                }
                Tap::Whisper(id) => {
                    set.whispers.remove(&id);
                }
                Tap::Record => set.record = on,
            }
            set.any()
        };
        self.tx
            .send_if_modified(|was| std::mem::replace(was, any) != any);
    }

    /// Whether anything taps the stream now.
    pub(crate) fn any(&self) -> bool {
        *self.tx.borrow()
    }

    /// A receiver that changes whenever [`Taps::any`] does.
    pub(crate) fn watch(&self) -> watch::Receiver<bool> {
        self.tx.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stream_is_tapped_while_any_tap_runs() {
        let taps = Taps::new();
        let mut rx = taps.watch();
        assert!(!taps.any());
        taps.set(Tap::Monitor(1), true);
        taps.set(Tap::Whisper(1), true);
        assert!(taps.any());
        assert!(rx.has_changed().unwrap());
        rx.borrow_and_update();
        taps.set(Tap::Monitor(1), false);
        assert!(taps.any(), "the whisper still runs");
        assert!(!rx.has_changed().unwrap(), "no change to report");
        taps.set(Tap::Whisper(1), false);
        assert!(!taps.any());
        assert!(rx.has_changed().unwrap());
        taps.set(Tap::Record, true);
        assert!(taps.any());
        taps.set(Tap::Record, false);
        assert!(!taps.any());
    }
}
