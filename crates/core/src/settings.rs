//! `asterisk.conf`: where everything lives and the daemon-wide options.
//!
//! Read exactly as Asterisk reads it, so an existing `/etc/asterisk` works as is:
//! `[directories]` (`astetcdir`, `astrundir`, `astlogdir`, ...), `[options]`
//! (`verbose`, `systemname`, `maxcalls`, `maxload`, `runuser`, `rungroup`, ...)
//! and `[files]` (the control socket's name, owner and mode).

use std::path::{Path, PathBuf};

use obelus_conf::{Config, Location};

use crate::diagnostic::Diagnostic;

/// The name of the master configuration file inside a configuration directory.
pub const MASTER_FILE: &str = "asterisk.conf";

/// The daemon's directories (`[directories]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directories {
    /// `astetcdir`: where the other `.conf` files are read from.
    pub etc: PathBuf,
    /// `astrundir`: the pid file and the control socket.
    pub run: PathBuf,
    /// `astlogdir`: log files named in `logger.conf`.
    pub log: PathBuf,
    /// `astvarlibdir`: persistent state.
    pub varlib: PathBuf,
    /// `astdbdir`: the astdb and the embedded SQLite database.
    pub db: PathBuf,
    /// `astspooldir`: voicemail, outgoing call files, recordings.
    pub spool: PathBuf,
    /// `astdatadir`: `sounds/`, music on hold, keys.
    pub data: PathBuf,
    /// `astcachedir`: files fetched or generated at run time.
    pub cache: PathBuf,
}

/// Daemon-wide options (`[options]`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Options {
    /// `verbose`: the console verbosity at start.
    pub verbose: u8,
    /// `debug`: the debug level at start.
    pub debug: u8,
    /// `systemname`: names this server among several sharing a database.
    pub system_name: String,
    /// `maxcalls`: refuse new calls beyond this many.
    pub max_calls: Option<u32>,
    /// `maxload`: refuse new calls above this load average.
    pub max_load: Option<f64>,
    /// `runuser`: the user to run as after start.
    pub run_user: Option<String>,
    /// `rungroup`: the group to run as after start.
    pub run_group: Option<String>,
    /// `timestamp`: prefix console verbose lines with the time.
    pub timestamp: bool,
    /// `execincludes`: allow `#exec` in configuration files.
    pub exec_includes: bool,
    /// `live_dangerously`: allow functions that run programs on the host
    /// (`SHELL()`); off by default, so a dialplan value cannot reach a shell
    /// unless the administrator says so.
    pub live_dangerously: bool,
}

/// The control socket remote consoles attach to (`[files]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlSocket {
    /// `astctl`: the socket's file name inside the run directory.
    pub name: String,
    /// `astctlpermissions`: its mode (octal in the file).
    pub permissions: Option<u32>,
    /// `astctlowner`: its owner.
    pub owner: Option<String>,
    /// `astctlgroup`: its group.
    pub group: Option<String>,
}

/// Everything `asterisk.conf` says, with defaults for what it does not.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// The master file this came from (it may not exist: then all defaults).
    pub master_file: PathBuf,
    /// Directories.
    pub dirs: Directories,
    /// Options.
    pub options: Options,
    /// Control socket.
    pub control: ControlSocket,
}

impl Settings {
    /// Reads the master file and returns the settings and any problems found.
    ///
    /// A missing master file is not an error (Asterisk starts on built-in
    /// defaults too); syntax errors are, and leave the defaults in place.
    pub fn load(master_file: &Path) -> (Self, Vec<Diagnostic>) {
        let dir = master_file.parent().unwrap_or(Path::new("."));
        let name = master_file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| MASTER_FILE.to_owned());
        match obelus_conf::load(dir, &name, &obelus_conf::LoadOptions::default()) {
            Ok(config) => Self::from_config(master_file, &config),
            Err(errors) if errors.is_not_found() => (Self::defaults(master_file), Vec::new()),
            Err(errors) => (
                Self::defaults(master_file),
                Diagnostic::from_conf_errors(&errors),
            ),
        }
    }

    /// All defaults, for a master file that does not exist.
    pub fn defaults(master_file: &Path) -> Self {
        let etc = master_file
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        let state = default_state_root();
        let dirs = Directories {
            etc,
            run: state.run,
            log: state.log,
            varlib: state.lib.clone(),
            db: state.lib.clone(),
            spool: state.spool,
            data: state.lib,
            cache: state.cache,
        };
        Self {
            master_file: master_file.to_path_buf(),
            dirs,
            options: Options::default(),
            control: ControlSocket {
                name: "obelus.ctl".to_owned(),
                permissions: None,
                owner: None,
                group: None,
            },
        }
    }

    /// Applies a parsed master file over the defaults.
    pub fn from_config(master_file: &Path, config: &Config) -> (Self, Vec<Diagnostic>) {
        let mut settings = Self::defaults(master_file);
        let mut problems = Vec::new();
        let mut db_set = false;
        let mut data_set = false;
        for category in config.categories() {
            for var in category.variables() {
                let key = var.name.to_ascii_lowercase();
                let value = var.value.trim();
                match category.name.to_ascii_lowercase().as_str() {
                    "directories" => {
                        let dirs = &mut settings.dirs;
                        let slot = match key.as_str() {
                            "astetcdir" => &mut dirs.etc,
                            "astrundir" => &mut dirs.run,
                            "astlogdir" => &mut dirs.log,
                            "astvarlibdir" => &mut dirs.varlib,
                            "astdbdir" => {
                                db_set = true;
                                &mut dirs.db
                            }
                            "astspooldir" => &mut dirs.spool,
                            "astdatadir" => {
                                data_set = true;
                                &mut dirs.data
                            }
                            "astcachedir" => &mut dirs.cache,
                            // astmoddir, astagidir, astkeydir, astsbindir: Asterisk
                            // paths with no meaning for a single binary.
                            _ => continue,
                        };
                        *slot = PathBuf::from(value);
                    }
                    "options" => {
                        apply_option(&mut settings.options, &key, value, var, &mut problems)
                    }
                    "files" => apply_file(&mut settings.control, &key, value, var, &mut problems),
                    _ => {}
                }
            }
        }
        // As in Asterisk, the database and data directories follow astvarlibdir
        // unless they are set themselves.
        if !db_set {
            settings.dirs.db = settings.dirs.varlib.clone();
        }
        if !data_set {
            settings.dirs.data = settings.dirs.varlib.clone();
        }
        (settings, problems)
    }

    /// The options every configuration file is read with (`execincludes`).
    pub fn load_options(&self) -> obelus_conf::LoadOptions {
        obelus_conf::LoadOptions {
            exec_enabled: self.options.exec_includes,
        }
    }

    /// Reads a file of the configuration directory (`astetcdir`) as every
    /// module does: with [`Settings::load_options`].
    pub fn load_conf(&self, file: &str) -> Result<Config, obelus_conf::ConfErrors> {
        obelus_conf::load(&self.dirs.etc, file, &self.load_options())
    }

    /// Where the control socket lives.
    pub fn control_socket_path(&self) -> PathBuf {
        self.dirs.run.join(&self.control.name)
    }

    /// Where the pid file lives.
    pub fn pid_file(&self) -> PathBuf {
        self.dirs.run.join("obelus.pid")
    }
}

fn apply_option(
    options: &mut Options,
    key: &str,
    value: &str,
    var: &obelus_conf::Variable,
    problems: &mut Vec<Diagnostic>,
) {
    let location = &var.location;
    match key {
        "verbose" => options.verbose = number(value, location, key, problems).unwrap_or(0),
        "debug" => options.debug = number(value, location, key, problems).unwrap_or(0),
        "systemname" => options.system_name = value.to_owned(),
        "maxcalls" => options.max_calls = number(value, location, key, problems),
        "maxload" => match value.parse::<f64>() {
            Ok(load) if load >= 0.0 => options.max_load = Some(load),
            _ => problems.push(Diagnostic::error_at(
                location,
                key,
                format!("expected a non-negative number, got '{value}'"),
            )),
        },
        "runuser" => options.run_user = (!value.is_empty()).then(|| value.to_owned()),
        "rungroup" => options.run_group = (!value.is_empty()).then(|| value.to_owned()),
        "timestamp" => options.timestamp = boolean(value, location, key, problems),
        "execincludes" => options.exec_includes = boolean(value, location, key, problems),
        "live_dangerously" => options.live_dangerously = boolean(value, location, key, problems),
        _ => {}
    }
}

fn apply_file(
    control: &mut ControlSocket,
    key: &str,
    value: &str,
    var: &obelus_conf::Variable,
    problems: &mut Vec<Diagnostic>,
) {
    match key {
        "astctl" => control.name = value.to_owned(),
        "astctlpermissions" => match u32::from_str_radix(value, 8) {
            Ok(mode) if mode <= 0o7777 => control.permissions = Some(mode),
            _ => problems.push(Diagnostic::error_at(
                &var.location,
                key,
                format!("expected an octal file mode such as 0660, got '{value}'"),
            )),
        },
        "astctlowner" => control.owner = Some(value.to_owned()),
        "astctlgroup" => control.group = Some(value.to_owned()),
        _ => {}
    }
}

fn number<T: std::str::FromStr>(
    value: &str,
    location: &Location,
    key: &str,
    problems: &mut Vec<Diagnostic>,
) -> Option<T> {
    match value.parse() {
        Ok(n) => Some(n),
        Err(_) => {
            problems.push(Diagnostic::error_at(
                location,
                key,
                format!("expected a whole number, got '{value}'"),
            ));
            None
        }
    }
}

/// Asterisk's `ast_true`/`ast_false`: yes/true/y/t/1/on and no/false/n/f/0/off.
pub fn parse_bool(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "yes" | "true" | "y" | "t" | "1" | "on" => Some(true),
        "no" | "false" | "n" | "f" | "0" | "off" => Some(false),
        _ => None,
    }
}

fn boolean(value: &str, location: &Location, key: &str, problems: &mut Vec<Diagnostic>) -> bool {
    parse_bool(value).unwrap_or_else(|| {
        problems.push(Diagnostic::error_at(
            location,
            key,
            format!("expected yes or no, got '{value}'"),
        ));
        false
    })
}

struct StateRoot {
    run: PathBuf,
    log: PathBuf,
    lib: PathBuf,
    spool: PathBuf,
    cache: PathBuf,
}

/// Where state goes when `asterisk.conf` does not say.
///
/// As root: the system places (`/var/run/obelus`, `/var/log/obelus`, ...). As
/// anyone else those are not writable, so the per-user state directory
/// (`$XDG_STATE_HOME/obelus`, else `~/.local/state/obelus`) is used instead and
/// Obelus runs out of the box for every user.
fn default_state_root() -> StateRoot {
    let is_root = std::env::var_os("USER").is_some_and(|u| u == "root")
        || std::env::var_os("HOME").is_some_and(|h| h == "/root");
    if is_root {
        return StateRoot {
            run: "/var/run/obelus".into(),
            log: "/var/log/obelus".into(),
            lib: "/var/lib/obelus".into(),
            spool: "/var/spool/obelus".into(),
            cache: "/var/cache/obelus".into(),
        };
    }
    let base = std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))
        .unwrap_or_else(std::env::temp_dir)
        .join("obelus");
    StateRoot {
        run: base.join("run"),
        log: base.join("log"),
        lib: base.join("lib"),
        spool: base.join("spool"),
        cache: base.join("cache"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(text: &str) -> (Settings, Vec<Diagnostic>) {
        let config = obelus_conf::parse_str("asterisk.conf", text).expect("parses");
        Settings::from_config(Path::new("/etc/asterisk/asterisk.conf"), &config)
    }

    #[test]
    fn reads_directories_as_asterisk_does() {
        let (s, problems) = settings(
            "[directories]\nastetcdir => /etc/asterisk\nastrundir => /run/ast\nastvarlibdir => /var/lib/ast\n",
        );
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(s.dirs.etc, PathBuf::from("/etc/asterisk"));
        assert_eq!(s.dirs.run, PathBuf::from("/run/ast"));
        // astdbdir and astdatadir follow astvarlibdir when unset.
        assert_eq!(s.dirs.db, PathBuf::from("/var/lib/ast"));
        assert_eq!(s.dirs.data, PathBuf::from("/var/lib/ast"));
        assert_eq!(
            s.control_socket_path(),
            PathBuf::from("/run/ast/obelus.ctl")
        );
    }

    #[test]
    fn reads_options_and_reports_bad_values_with_their_line() {
        let (s, problems) = settings(
            "[options]\nverbose = 3\nsystemname = pbx1\nmaxcalls = lots\nmaxload = 0.9\ntimestamp = yes\n",
        );
        assert_eq!(s.options.verbose, 3);
        assert_eq!(s.options.system_name, "pbx1");
        assert_eq!(s.options.max_calls, None);
        assert_eq!(s.options.max_load, Some(0.9));
        assert!(s.options.timestamp);
        assert_eq!(problems.len(), 1);
        assert_eq!(
            problems[0].to_string(),
            "asterisk.conf:4: option 'maxcalls': expected a whole number, got 'lots'"
        );
    }

    #[test]
    fn control_socket_files_section() {
        let (s, problems) = settings("[files]\nastctl = asterisk.ctl\nastctlpermissions = 0660\n");
        assert!(problems.is_empty());
        assert_eq!(s.control.name, "asterisk.ctl");
        assert_eq!(s.control.permissions, Some(0o660));
    }
}
