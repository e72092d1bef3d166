//! The names of the files a MixMonitor writes, as `filename_parse` makes
//! them: relative names go under `<astspooldir>/monitor/`, and the
//! directory is created. The files themselves are [`crate::recording`]'s.

use std::path::{Path, PathBuf};

/// Where relative recording names go (`ast_config_AST_MONITOR_DIR`).
pub(super) fn monitor_dir(spool: &Path) -> PathBuf {
    spool.join("monitor")
}

/// `filename_parse`: an absolute name as is, a relative one under the
/// monitor directory; the directory it names is created (a failure shows
/// when the file cannot be opened).
pub(super) fn resolve(spool: &Path, name: &str) -> String {
    let full = if name.starts_with('/') {
        name.to_owned()
    } else {
        format!("{}/{name}", monitor_dir(spool).display())
    };
    if let Some((dir, _)) = full.rsplit_once('/')
        && !dir.is_empty()
        && let Err(e) = std::fs::create_dir_all(dir)
    {
        tracing::warn!("Unable to create directory {dir}: {e}");
    }
    full
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_resolve_like_filename_parse() {
        let dir = tempfile::tempdir().unwrap();
        let spool = dir.path();
        let relative = resolve(spool, "calls/2026/x.wav");
        assert_eq!(
            relative,
            format!("{}/monitor/calls/2026/x.wav", spool.display())
        );
        assert!(spool.join("monitor/calls/2026").is_dir());
        let absolute = format!("{}/abs/y.ulaw", spool.display());
        assert_eq!(resolve(spool, &absolute), absolute);
        assert!(spool.join("abs").is_dir());
    }
}
