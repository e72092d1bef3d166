//! How the daemon stops: `core stop now`, `gracefully`, `when convenient`.

use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::{Notify, watch};

/// The ways Asterisk's console can ask the daemon to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShutdownMode {
    /// Hang up everything and stop at once.
    Now,
    /// Refuse new calls; stop when the last active call has ended.
    Gracefully,
    /// Keep accepting calls; stop the first moment none is active.
    WhenConvenient,
}

/// Shared between whoever asks for a stop (console, signals) and the daemon's
/// main task, which waits on [`Shutdown::wait`].
pub struct Shutdown {
    requested: watch::Sender<Option<ShutdownMode>>,
    active_calls: AtomicUsize,
    idle: Notify,
}

impl Default for Shutdown {
    fn default() -> Self {
        Self {
            requested: watch::Sender::new(None),
            active_calls: AtomicUsize::new(0),
            idle: Notify::new(),
        }
    }
}

impl Shutdown {
    /// Asks the daemon to stop. A later `Now` overrides a pending graceful stop.
    pub fn request(&self, mode: ShutdownMode) {
        self.requested.send_replace(Some(mode));
    }

    /// The stop asked for, if any.
    pub fn pending(&self) -> Option<ShutdownMode> {
        *self.requested.borrow()
    }

    /// Whether new calls must be refused (a graceful stop is under way).
    pub fn refusing_calls(&self) -> bool {
        matches!(
            self.pending(),
            Some(ShutdownMode::Now | ShutdownMode::Gracefully)
        )
    }

    /// Counts a call in; the channel core calls this when a call starts.
    pub fn call_started(&self) {
        self.active_calls.fetch_add(1, Ordering::SeqCst);
    }

    /// Counts a call out; wakes a graceful stop waiting for the last one.
    pub fn call_ended(&self) {
        if self.active_calls.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.idle.notify_waiters();
        }
    }

    /// Calls in progress.
    pub fn active_calls(&self) -> usize {
        self.active_calls.load(Ordering::SeqCst)
    }

    /// Resolves when the daemon should stop now: at once for `Now`, when no
    /// call is left for the other modes.
    pub async fn wait(&self) -> ShutdownMode {
        let mut rx = self.requested.subscribe();
        loop {
            let mode = *rx.borrow_and_update();
            match mode {
                Some(ShutdownMode::Now) => return ShutdownMode::Now,
                Some(mode) => {
                    let idle = self.idle.notified();
                    if self.active_calls() == 0 {
                        return mode;
                    }
                    tokio::select! {
                        _ = idle => {}
                        _ = rx.changed() => {}
                    }
                }
                None => {
                    if rx.changed().await.is_err() {
                        return ShutdownMode::Now;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    #[tokio::test]
    async fn graceful_waits_for_the_last_call() {
        let s = Arc::new(Shutdown::default());
        s.call_started();
        s.request(ShutdownMode::Gracefully);
        assert!(s.refusing_calls());
        let waiter = tokio::spawn({
            let s = Arc::clone(&s);
            async move { s.wait().await }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiter.is_finished());
        s.call_ended();
        assert_eq!(waiter.await.unwrap(), ShutdownMode::Gracefully);
    }

    #[tokio::test]
    async fn now_overrides_graceful() {
        let s = Arc::new(Shutdown::default());
        s.call_started();
        s.request(ShutdownMode::WhenConvenient);
        assert!(!s.refusing_calls());
        s.request(ShutdownMode::Now);
        assert_eq!(s.wait().await, ShutdownMode::Now);
    }
}
