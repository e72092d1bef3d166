//! `logger.conf`: which channels (console, files) receive which levels.

use std::path::{Path, PathBuf};

use obelus_conf::Config;
use obelus_core::diagnostic::Diagnostic;

use super::level::LevelSet;

/// Where a channel writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The foreground console and every attached remote console.
    Console,
    /// A file; relative names are inside `astlogdir`.
    File(PathBuf),
}

/// One line of `[logfiles]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Channel {
    /// Where it writes.
    pub target: Target,
    /// What it takes.
    pub levels: LevelSet,
    /// `plain` or `default`: the `[formatter]` prefix of the level list.
    pub formatter: String,
}

/// Everything `logger.conf` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggerConf {
    /// `dateformat`: strftime format of the timestamp in log lines.
    pub date_format: String,
    /// `appendhostname`: add `@hostname` to file names.
    pub append_hostname: bool,
    /// The channels.
    pub channels: Vec<Channel>,
}

/// Asterisk's default timestamp format.
pub const DEFAULT_DATE_FORMAT: &str = "%b %e %T";

impl LoggerConf {
    /// What applies without a `logger.conf`: errors, warnings, notices and
    /// verbose messages on the console (as Asterisk does).
    pub fn fallback() -> Self {
        Self {
            date_format: DEFAULT_DATE_FORMAT.to_owned(),
            append_hostname: false,
            channels: vec![Channel {
                target: Target::Console,
                levels: LevelSet::parse("error,warning,notice,verbose").unwrap_or_default(),
                formatter: "default".to_owned(),
            }],
        }
    }

    /// Reads the configuration; problems come back with file and line, and the
    /// lines with problems are left out.
    pub fn from_config(config: &Config, log_dir: &Path) -> (Self, Vec<Diagnostic>) {
        let mut conf = Self {
            channels: Vec::new(),
            ..Self::fallback()
        };
        let mut problems = Vec::new();
        for category in config.categories() {
            match category.name.to_ascii_lowercase().as_str() {
                "general" => {
                    for var in category.variables() {
                        let value = var.value.trim();
                        match var.name.to_ascii_lowercase().as_str() {
                            "dateformat" => conf.date_format = value.to_owned(),
                            "appendhostname" => {
                                conf.append_hostname =
                                    obelus_core::settings::parse_bool(value).unwrap_or(false)
                            }
                            "use_callids"
                            | "queue_log"
                            | "queue_log_to_file"
                            | "queue_log_name"
                            | "queue_adaptive_realtime"
                            | "queue_log_realtime_use_gmt"
                            | "rotatestrategy"
                            | "exec_after_rotate"
                            | "logger_queue_limit" => {}
                            other => problems.push(Diagnostic::warning_at(
                                &var.location,
                                other,
                                "unknown [general] option, ignored",
                            )),
                        }
                    }
                }
                "logfiles" => {
                    for var in category.variables() {
                        let (formatter, list) = split_formatter(var.value.trim());
                        let levels = match LevelSet::parse(list) {
                            Ok(levels) => levels,
                            Err(e) => {
                                problems.push(Diagnostic::error_at(
                                    &var.location,
                                    &var.name,
                                    e.to_string(),
                                ));
                                continue;
                            }
                        };
                        let name = var.name.trim();
                        let target = if name.eq_ignore_ascii_case("console") {
                            Target::Console
                        } else if name.starts_with("syslog") {
                            problems.push(Diagnostic::warning_at(
                                &var.location,
                                name,
                                "syslog channels are not supported; use a file channel",
                            ));
                            continue;
                        } else {
                            Target::File(log_dir.join(name))
                        };
                        conf.channels.push(Channel {
                            target,
                            levels,
                            formatter: formatter.to_owned(),
                        });
                    }
                }
                _ => {}
            }
        }
        (conf, problems)
    }
}

/// `[plain]notice,warning` -> (`plain`, `notice,warning`).
fn split_formatter(value: &str) -> (&str, &str) {
    if let Some(rest) = value.strip_prefix('[')
        && let Some((formatter, list)) = rest.split_once(']')
    {
        return (formatter.trim(), list);
    }
    ("default", value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_channels_and_reports_bad_levels_with_location() {
        let config = obelus_conf::parse_str(
            "logger.conf",
            "[general]\ndateformat=%F %T\n[logfiles]\nconsole => notice,warning,error\nmessages => [plain]notice,bogus\nfull => *\n",
        )
        .unwrap();
        let (conf, problems) = LoggerConf::from_config(&config, Path::new("/var/log/obelus"));
        assert_eq!(conf.date_format, "%F %T");
        assert_eq!(conf.channels.len(), 2);
        assert_eq!(
            conf.channels[1].target,
            Target::File("/var/log/obelus/full".into())
        );
        assert_eq!(problems.len(), 1);
        assert_eq!(
            problems[0].to_string(),
            "logger.conf:5: option 'messages': unknown log level 'bogus' (expected debug, notice, warning, error, verbose, verbose(N), dtmf, security or *)"
        );
    }
}
