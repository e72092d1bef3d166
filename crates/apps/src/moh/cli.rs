//! `moh show classes`, `moh show files` and `moh reload`, laid out as
//! Asterisk's `res_musiconhold` prints them.

use std::sync::{Arc, Weak};

use obelus_core::Core;
use obelus_core::cli::{CliCommand, CliError};
use obelus_core::module::ReloadOutcome;

use super::{Class, MusicOnHold};

/// `moh show classes`: each class with its mode and directory.
pub(super) fn show_classes(classes: &[Arc<Class>]) -> String {
    let mut out = String::new();
    for class in classes {
        out.push_str(&format!(
            "Class: {}\n\tMode: {}\n\tDirectory: {}\n",
            class.name,
            class.mode.name(),
            if class.directory.is_empty() {
                "<none>"
            } else {
                &class.directory
            }
        ));
    }
    out
}

/// `moh show files`: each class that has files, with its files (without
/// extension). A class playing the built-in melody has none.
pub(super) fn show_files(classes: &[Arc<Class>]) -> String {
    let mut out = String::new();
    for class in classes.iter().filter(|c| !c.is_builtin()) {
        out.push_str(&format!("Class: {}\n", class.name));
        for file in &class.files {
            out.push_str(&format!("\tFile: {}\n", file.display()));
        }
    }
    out
}

/// The three commands.
pub(super) fn commands(core: &Arc<Core>, moh: &Arc<MusicOnHold>) -> Vec<CliCommand> {
    let classes_moh = Arc::clone(moh);
    let files_moh = Arc::clone(moh);
    let reload_core: Weak<Core> = Arc::downgrade(core);
    vec![
        CliCommand::new(
            "moh show classes",
            "List MusicOnHold classes",
            "Usage: moh show classes\n       Lists all MusicOnHold classes.",
            move |_| {
                let moh = Arc::clone(&classes_moh);
                async move { Ok(show_classes(&moh.classes())) }
            },
        ),
        CliCommand::new(
            "moh show files",
            "List MusicOnHold file-based classes",
            "Usage: moh show files\n       Lists all loaded file-based MusicOnHold classes and their\n       files.",
            move |_| {
                let moh = Arc::clone(&files_moh);
                async move { Ok(show_files(&moh.classes())) }
            },
        ),
        CliCommand::new(
            "moh reload",
            "Reload MusicOnHold",
            "Usage: moh reload\n       Reloads the MusicOnHold module.\n       Alias for 'module reload res_musiconhold.so'",
            move |_| {
                let core = reload_core.upgrade();
                async move {
                    let core = core.ok_or_else(|| CliError::Failed("shutting down".into()))?;
                    match core.modules.reload(&core, super::module::NAME).await {
                        ReloadOutcome::Success => {
                            core.mark_reloaded();
                            Ok(String::new())
                        }
                        ReloadOutcome::Failed(why) => Err(CliError::Failed(format!(
                            "Music on hold was not reloaded, the previous classes stay: {why}"
                        ))),
                        ReloadOutcome::NotFound | ReloadOutcome::NotRunning => {
                            Err(CliError::Failed("res_musiconhold.so is not running".into()))
                        }
                    }
                }
            },
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::super::classes;
    use super::super::config::ClassConfig;
    use super::*;

    #[test]
    fn layouts_follow_asterisk() {
        let data = tempfile::tempdir().unwrap();
        let dir = data.path().join("moh");
        std::fs::create_dir_all(&dir).unwrap();
        obelus_media::sound::write_wav(dir.join("b.wav"), 8000, &[100; 800]).unwrap();
        std::fs::write(dir.join("a.ulaw"), [0x10u8; 800]).unwrap();
        let (files, _) = classes::load(&ClassConfig::files("default", "moh"), data.path());
        let (empty, _) = classes::load(&ClassConfig::files("quiet", "/nonexistent"), data.path());
        let all = [Arc::new(files), Arc::new(empty)];
        assert_eq!(
            show_classes(&all),
            "Class: default\n\tMode: files\n\tDirectory: moh\nClass: quiet\n\tMode: files\n\tDirectory: /nonexistent\n"
        );
        assert_eq!(
            show_files(&all),
            format!(
                "Class: default\n\tFile: {0}/a\n\tFile: {0}/b\n",
                dir.display()
            )
        );
    }
}
