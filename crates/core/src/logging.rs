//! Log channels as other modules see them (ARI's `/asterisk/logging`): the
//! logger lives in the daemon binary, above every module, so it offers its
//! channels through [`LogService`], provided as a core service.

use std::sync::Arc;

/// One log channel, as `logger show channels` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogChannelInfo {
    /// The file path, or empty for the console.
    pub channel: String,
    /// `File` or `Console`.
    pub kind: &'static str,
    /// False when its file could not be opened.
    pub enabled: bool,
    /// Its levels, space-separated (`NOTICE WARNING ERROR `).
    pub configuration: String,
}

/// Why a change to the log channels was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LogChannelError {
    /// The level list is empty or names an unknown level.
    #[error("{0}")]
    BadLevels(String),
    /// A channel of that name exists already.
    #[error("Log channel already exists")]
    Exists,
    /// No such channel (or, for removal, not one added at run time).
    #[error("Log channel does not exist")]
    NotFound,
}

/// What the logger lets other modules do with its channels.
pub trait LogChannels: Send + Sync {
    /// Every channel, the ones added at run time first.
    fn list(&self) -> Vec<LogChannelInfo>;
    /// Adds a file channel `name` (relative to the log directory) taking
    /// `levels` (`notice,warning`); it stays across `logger reload`.
    fn add(&self, name: &str, levels: &str) -> Result<(), LogChannelError>;
    /// Removes a channel added at run time.
    fn remove(&self, name: &str) -> Result<(), LogChannelError>;
    /// Moves the channel's file aside (`name.0`, `name.1`, ...) and starts
    /// a new one.
    fn rotate(&self, name: &str) -> Result<(), LogChannelError>;
}

/// The logger's channels, as a core service.
#[derive(Clone)]
pub struct LogService(Arc<dyn LogChannels>);

impl LogService {
    /// Wraps the logger's implementation.
    pub fn new(channels: Arc<dyn LogChannels>) -> Self {
        Self(channels)
    }

    /// The channels.
    pub fn channels(&self) -> &dyn LogChannels {
        self.0.as_ref()
    }
}
