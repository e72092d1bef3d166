//! The logger's channels for other modules (ARI `/asterisk/logging`): list,
//! add and remove file channels at run time, rotate a channel's file.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::sync_channel;
use std::time::Duration;

use obelus_core::logging::{LogChannelError, LogChannelInfo, LogChannels};

use super::Logger;
use super::config::{Channel, Target};
use super::level::LevelSet;
use super::writer::Command;

/// How long a rotation may wait for the writer thread.
const ROTATE_WAIT: Duration = Duration::from_secs(2);

/// [`LogChannels`] over the running logger; relative channel names are
/// files in `dir` (`astlogdir`), as in `logger.conf`.
pub struct LoggerChannels {
    logger: Arc<Logger>,
    dir: PathBuf,
}

impl LoggerChannels {
    /// The channels of `logger`, with files in `dir`.
    pub fn new(logger: Arc<Logger>, dir: &Path) -> Self {
        Self {
            logger,
            dir: dir.to_path_buf(),
        }
    }

    /// Where a channel named `name` writes (Asterisk's `make_filename`).
    fn path(&self, name: &str) -> PathBuf {
        if name.starts_with('/') {
            PathBuf::from(name)
        } else {
            self.dir.join(name)
        }
    }

    fn is_file_channel(&self, path: &Path) -> bool {
        self.logger
            .status
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .any(|c| c.kind == "File" && Path::new(&c.name) == path)
    }
}

impl LogChannels for LoggerChannels {
    fn list(&self) -> Vec<LogChannelInfo> {
        self.logger
            .status
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|c| LogChannelInfo {
                channel: c.name.clone(),
                kind: c.kind,
                enabled: c.enabled,
                configuration: c.levels.describe(),
            })
            .collect()
    }

    fn add(&self, name: &str, levels: &str) -> Result<(), LogChannelError> {
        if levels.trim().is_empty() {
            return Err(LogChannelError::BadLevels(
                "Configuration levels are required".into(),
            ));
        }
        let levels = LevelSet::parse(levels).map_err(|e| {
            LogChannelError::BadLevels(format!("Invalid configuration levels: {e}"))
        })?;
        let path = self.path(name);
        let mut channels = self
            .logger
            .channels
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let taken = channels
            .0
            .channels
            .iter()
            .chain(&channels.1)
            .any(|c| c.target == Target::File(path.clone()));
        if taken {
            return Err(LogChannelError::Exists);
        }
        channels.1.insert(
            0,
            Channel {
                target: Target::File(path),
                levels,
                formatter: "default".to_owned(),
            },
        );
        self.logger.apply(&channels);
        Ok(())
    }

    fn remove(&self, name: &str) -> Result<(), LogChannelError> {
        let path = self.path(name);
        let mut channels = self
            .logger
            .channels
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let before = channels.1.len();
        channels
            .1
            .retain(|c| c.target != Target::File(path.clone()));
        if channels.1.len() == before {
            return Err(LogChannelError::NotFound);
        }
        self.logger.apply(&channels);
        Ok(())
    }

    fn rotate(&self, name: &str) -> Result<(), LogChannelError> {
        let path = self.path(name);
        if !self.is_file_channel(&path) {
            return Err(LogChannelError::NotFound);
        }
        let (tx, rx) = sync_channel(1);
        if self.logger.queue.send(Command::Rotate(path, tx)).is_err() {
            return Err(LogChannelError::NotFound);
        }
        match rx.recv_timeout(ROTATE_WAIT) {
            Ok(true) => Ok(()),
            _ => Err(LogChannelError::NotFound),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logger::{ConsoleSink, LoggerConf};
    use std::sync::atomic::AtomicU8;

    fn wait_for(mut check: impl FnMut() -> bool) {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while !check() {
            assert!(std::time::Instant::now() < deadline, "never happened");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    #[test]
    fn channels_are_added_rotated_kept_across_reload_and_removed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let logger = Logger::install(Arc::new(AtomicU8::new(0)), 0, false, ConsoleSink::Off);
        logger.configure(LoggerConf::fallback());
        let channels = LoggerChannels::new(Arc::clone(&logger), dir.path());
        assert!(matches!(
            channels.add("ari.log", ""),
            Err(LogChannelError::BadLevels(_))
        ));
        assert!(matches!(
            channels.add("ari.log", "notice,loud"),
            Err(LogChannelError::BadLevels(_))
        ));
        channels.add("ari.log", "warning,error").expect("added");
        let file = dir.path().join("ari.log");
        let name = file.display().to_string();
        wait_for(|| channels.list().iter().any(|c| c.channel == name));
        let listed = channels.list();
        assert_eq!(listed[0].channel, name, "run-time channels come first");
        assert_eq!(listed[0].kind, "File");
        assert_eq!(listed[0].configuration, "WARNING ERROR ");
        assert_eq!(
            channels.add("ari.log", "error"),
            Err(LogChannelError::Exists)
        );

        channels.rotate("ari.log").expect("rotated");
        assert!(dir.path().join("ari.log.0").exists());
        assert!(file.exists());
        assert_eq!(
            channels.rotate("nothing.log"),
            Err(LogChannelError::NotFound)
        );

        logger.configure(LoggerConf::fallback());
        logger.flush();
        assert!(channels.list().iter().any(|c| c.channel == name));
        assert_eq!(channels.remove("messages"), Err(LogChannelError::NotFound));
        channels.remove("ari.log").expect("removed");
        wait_for(|| !channels.list().iter().any(|c| c.channel == name));
        assert_eq!(channels.remove("ari.log"), Err(LogChannelError::NotFound));
    }
}
