//! Finding the configuration: `-C`, then `/etc/obelus`, then the bundled samples.

use std::path::{Path, PathBuf};

use obelus_core::settings::MASTER_FILE;

/// The system configuration directory of an installed Obelus.
const SYSTEM_DIR: &str = "/etc/obelus";

/// The sample configuration shipped in the source tree, so that a fresh
/// checkout runs with `cargo run` and nothing else.
const BUNDLED_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../configs");

/// The master file (`asterisk.conf`) to read.
///
/// `-C` may name a directory (its `asterisk.conf` is used) or the master file
/// itself, as with Asterisk's `-C /etc/asterisk/asterisk.conf`.
pub fn master_file(explicit: Option<&Path>) -> Result<PathBuf, String> {
    if let Some(path) = explicit {
        if path.is_dir() {
            return Ok(path.join(MASTER_FILE));
        }
        if path.exists() || path.extension().is_some_and(|e| e == "conf") {
            return Ok(path.to_path_buf());
        }
        return Err(format!(
            "-C {}: no such configuration directory or file",
            path.display()
        ));
    }
    if Path::new(SYSTEM_DIR).is_dir() {
        return Ok(Path::new(SYSTEM_DIR).join(MASTER_FILE));
    }
    let bundled = Path::new(BUNDLED_DIR);
    if bundled.is_dir() {
        let dir = bundled
            .canonicalize()
            .unwrap_or_else(|_| bundled.to_path_buf());
        return Ok(dir.join(MASTER_FILE));
    }
    Err(format!(
        "no configuration found: neither {SYSTEM_DIR} nor the bundled samples exist; pass -C <config dir>"
    ))
}
