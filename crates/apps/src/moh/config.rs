//! `musiconhold.conf` as Obelus reads it: `[general]` and one section per
//! class.
//!
//! ```text
//! [general]
//! preferchannelclass = yes
//!
//! [default]
//! mode = files
//! directory = moh          ; relative to astdatadir, as Asterisk resolves it
//! sort = random            ; random | alpha | randstart
//!
//! [queue]
//! mode = playlist
//! entry = /var/lib/obelus/moh/intro
//! entry = /var/lib/obelus/moh/loop
//! ```
//!
//! Classes are played from files (`mode=files`, `mode=playlist`); the
//! modes that run an external program or stream (`custom`, `mp3`,
//! `quietmp3`, `mp3nb`, `quietmp3nb`) are reported and the class skipped.
//! Every problem names its file and line.

use obelus_conf::Config;
use obelus_core::diagnostic::Diagnostic;
use obelus_core::settings::{Settings, parse_bool};
use obelus_media::moh::Order;

/// The configuration file.
pub const FILE: &str = "musiconhold.conf";

/// How a class finds its songs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// Every sound file of `directory`.
    Files,
    /// The `entry =` files, in the order written.
    Playlist,
}

impl Mode {
    /// The name `moh show classes` prints.
    pub fn name(&self) -> &'static str {
        match self {
            Mode::Files => "files",
            Mode::Playlist => "playlist",
        }
    }
}

/// One class as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassConfig {
    /// The section name (`default`).
    pub name: String,
    /// `mode`.
    pub mode: Mode,
    /// `directory` as written (`moh`); a relative one is under astdatadir.
    pub directory: String,
    /// `sort`.
    pub order: Order,
    /// `entry` lines of a playlist: file names without extension.
    pub entries: Vec<String>,
}

impl ClassConfig {
    /// A `mode=files` class on `directory`, in alphabetical order.
    pub fn files(name: &str, directory: &str) -> ClassConfig {
        ClassConfig {
            name: name.to_owned(),
            mode: Mode::Files,
            directory: directory.to_owned(),
            order: Order::Listed,
            entries: Vec::new(),
        }
    }
}

/// The whole file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MohConfig {
    /// `preferchannelclass` (default yes): `CHANNEL(musicclass)` wins over
    /// the class an application or a hold asks for.
    pub prefer_channel_class: bool,
    /// The classes, in file order.
    pub classes: Vec<ClassConfig>,
}

impl Default for MohConfig {
    /// Without `musiconhold.conf`: the `default` class on `<astdatadir>/moh`,
    /// so that a fresh installation has music on hold.
    fn default() -> Self {
        MohConfig {
            prefer_channel_class: true,
            classes: vec![ClassConfig::files("default", "moh")],
        }
    }
}

/// Modes Asterisk has that play through an external program.
const EXTERNAL_MODES: &[&str] = &["custom", "mp3", "quietmp3", "mp3nb", "quietmp3nb"];

/// Options Asterisk knows that Obelus accepts and has no use for (they
/// belong to the external modes, or to features not built).
const IGNORED: &[&str] = &[
    "application",
    "format",
    "digit",
    "announcement",
    "kill_escalation_delay",
    "kill_method",
    "answeredonly",
    "loop_last",
];

impl MohConfig {
    /// Reads `musiconhold.conf`; a missing file gives [`MohConfig::default`].
    pub fn load(settings: &Settings) -> (MohConfig, Vec<Diagnostic>) {
        match settings.load_conf(FILE) {
            Ok(config) => MohConfig::from_config(&config),
            Err(e) if e.is_not_found() => (MohConfig::default(), Vec::new()),
            Err(e) => (MohConfig::default(), Diagnostic::from_conf_errors(&e)),
        }
    }

    /// Reads an already parsed file.
    pub fn from_config(config: &Config) -> (MohConfig, Vec<Diagnostic>) {
        let mut out = MohConfig {
            prefer_channel_class: true,
            classes: Vec::new(),
        };
        let mut problems = Vec::new();
        for category in config.categories() {
            if category.name.eq_ignore_ascii_case("general") {
                for var in category.variables() {
                    match var.name.to_ascii_lowercase().as_str() {
                        "preferchannelclass" => match parse_bool(&var.value) {
                            Some(b) => out.prefer_channel_class = b,
                            None => problems.push(Diagnostic::error_at(
                                &var.location,
                                &var.name,
                                format!("expected yes or no, got '{}'", var.value),
                            )),
                        },
                        "cachertclasses" => {}
                        _ => problems.push(Diagnostic::warning_at(
                            &var.location,
                            &var.name,
                            "unknown option in [general], ignored",
                        )),
                    }
                }
                continue;
            }
            if out
                .classes
                .iter()
                .any(|c| c.name.eq_ignore_ascii_case(&category.name))
            {
                problems.push(Diagnostic::warning_at(
                    &category.location,
                    "",
                    format!(
                        "music on hold class '{}' is defined twice; this section is ignored",
                        category.name
                    ),
                ));
                continue;
            }
            if let Some(class) = read_class(category, &mut problems) {
                out.classes.push(class);
            }
        }
        (out, problems)
    }
}

/// One class section; `None` when it cannot be played (the problem is
/// recorded).
fn read_class(
    category: &obelus_conf::Category,
    problems: &mut Vec<Diagnostic>,
) -> Option<ClassConfig> {
    let mut class = ClassConfig::files(&category.name, "");
    let mut playable = true;
    let mut mode_at = None;
    for var in category.variables() {
        let value = var.value.trim();
        match var.name.to_ascii_lowercase().as_str() {
            "mode" => {
                mode_at = Some(var.location.clone());
                match value.to_ascii_lowercase().as_str() {
                    "files" => class.mode = Mode::Files,
                    "playlist" => class.mode = Mode::Playlist,
                    m if EXTERNAL_MODES.contains(&m) => {
                        problems.push(Diagnostic::warning_at(
                            &var.location,
                            &var.name,
                            format!(
                                "mode={m} runs an external player, which Obelus does not; class '{}' is skipped (use mode=files)",
                                category.name
                            ),
                        ));
                        playable = false;
                    }
                    other => {
                        problems.push(Diagnostic::error_at(
                            &var.location,
                            &var.name,
                            format!("unknown mode '{other}' (files, playlist, custom, mp3, quietmp3, mp3nb, quietmp3nb)"),
                        ));
                        playable = false;
                    }
                }
            }
            "directory" => class.directory = value.to_owned(),
            "entry" => class.entries.push(value.to_owned()),
            "sort" => match value.to_ascii_lowercase().as_str() {
                "random" => class.order = Order::Random,
                "alpha" => class.order = Order::Listed,
                "randstart" => class.order = Order::RandStart,
                other => problems.push(Diagnostic::warning_at(
                    &var.location,
                    &var.name,
                    format!("unknown sort '{other}' (random, alpha, randstart); alphabetical order is used"),
                )),
            },
            "random" => {
                // The old spelling of sort=random.
                if parse_bool(value) == Some(true) {
                    class.order = Order::Random;
                }
            }
            name if IGNORED.contains(&name) => {}
            _ => problems.push(Diagnostic::warning_at(
                &var.location,
                &var.name,
                format!("unknown option in class '{}', ignored", category.name),
            )),
        }
    }
    if !playable {
        return None;
    }
    let at = mode_at.unwrap_or_else(|| category.location.clone());
    match class.mode {
        Mode::Files if class.directory.is_empty() => {
            problems.push(Diagnostic::error_at(
                &at,
                "",
                format!("class '{}' has mode=files but no directory", category.name),
            ));
            None
        }
        Mode::Playlist if class.entries.is_empty() => {
            problems.push(Diagnostic::error_at(
                &at,
                "",
                format!("class '{}' has mode=playlist but no entry", category.name),
            ));
            None
        }
        _ => Some(class),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> (MohConfig, Vec<String>) {
        let config = obelus_conf::parse_str(FILE, text).expect("parses");
        let (moh, problems) = MohConfig::from_config(&config);
        (moh, problems.iter().map(ToString::to_string).collect())
    }

    #[test]
    fn classes_with_their_modes_and_orders() {
        let (moh, problems) = read(
            "[general]\npreferchannelclass=no\n\n[default]\nmode=files\ndirectory=moh\n\n[jazz]\nmode=files\ndirectory=/srv/jazz\nsort=random\nformat=ulaw\n\n[intro](!)\nmode=files\nsort=randstart\n[late](intro)\ndirectory=late\n\n[queue]\nmode=playlist\nentry=/srv/a\nentry=/srv/b\n",
        );
        assert!(problems.is_empty(), "{problems:?}");
        assert!(!moh.prefer_channel_class);
        let names: Vec<&str> = moh.classes.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["default", "jazz", "late", "queue"]);
        assert_eq!(moh.classes[0].directory, "moh");
        assert_eq!(moh.classes[0].order, Order::Listed);
        assert_eq!(moh.classes[1].order, Order::Random);
        assert_eq!(moh.classes[2].order, Order::RandStart);
        assert_eq!(moh.classes[3].mode, Mode::Playlist);
        assert_eq!(moh.classes[3].entries, ["/srv/a", "/srv/b"]);
    }

    #[test]
    fn problems_name_the_file_and_line() {
        let (moh, problems) = read(
            "[a]\nmode=custom\napplication=/usr/bin/mpg123\n[b]\nmode=bogus\n[c]\nmode=files\n[d]\ndirectory=moh\nsort=shuffle\ncolour=blue\n[d]\ndirectory=x\n",
        );
        assert_eq!(moh.classes.len(), 1, "only d can play");
        assert_eq!(moh.classes[0].name, "d");
        assert_eq!(problems.len(), 6, "{problems:#?}");
        assert!(
            problems[0].starts_with("musiconhold.conf:2: warning: option 'mode': mode=custom"),
            "{}",
            problems[0]
        );
        assert!(
            problems[1].starts_with("musiconhold.conf:5: option 'mode': unknown mode 'bogus'"),
            "{}",
            problems[1]
        );
        assert!(
            problems[2]
                .starts_with("musiconhold.conf:7: class 'c' has mode=files but no directory"),
            "{}",
            problems[2]
        );
        assert!(
            problems[3].contains(":10: warning: option 'sort'"),
            "{}",
            problems[3]
        );
        assert!(
            problems[4].contains(":11: warning: option 'colour'"),
            "{}",
            problems[4]
        );
        assert!(
            problems[5].contains(":12: warning: ") && problems[5].contains("defined twice"),
            "{}",
            problems[5]
        );
    }

    #[test]
    fn without_a_file_there_is_a_default_class() {
        let moh = MohConfig::default();
        assert_eq!(moh.classes, vec![ClassConfig::files("default", "moh")]);
        assert!(moh.prefer_channel_class);
    }
}
