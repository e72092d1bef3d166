//! Asterisk's log levels and the level lists of `logger.conf`.

use std::fmt;

/// A log level as Asterisk names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Level {
    /// Developer detail, shown only when `core set debug` is above 0.
    Debug,
    /// Normal but significant events.
    Notice,
    /// Something is wrong but service goes on.
    Warning,
    /// Something failed.
    Error,
    /// Progress messages with a verbosity (`    -- Executing ...`).
    Verbose,
    /// DTMF digits seen on channels.
    Dtmf,
    /// Failed authentication, unknown accounts, bad requests.
    Security,
}

impl Level {
    /// Every level, in the order `logger show channels` lists them.
    pub const ALL: [Level; 7] = [
        Level::Debug,
        Level::Notice,
        Level::Warning,
        Level::Error,
        Level::Verbose,
        Level::Dtmf,
        Level::Security,
    ];

    /// The upper-case name used in log lines.
    pub fn name(self) -> &'static str {
        match self {
            Level::Debug => "DEBUG",
            Level::Notice => "NOTICE",
            Level::Warning => "WARNING",
            Level::Error => "ERROR",
            Level::Verbose => "VERBOSE",
            Level::Dtmf => "DTMF",
            Level::Security => "SECURITY",
        }
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The set of levels one channel takes, plus its verbose cap (`verbose(3)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LevelSet {
    bits: u16,
    /// Highest verbose level written by this channel; `None` = no cap.
    pub verbose_cap: Option<u8>,
}

/// A word in a level list that is not a level.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown log level '{0}' (expected debug, notice, warning, error, verbose, verbose(N), dtmf, security or *)"
)]
pub struct UnknownLevel(pub String);

impl LevelSet {
    /// Parses `notice,warning,error,verbose(3)`; `*` means every level.
    /// `fax` is accepted and ignored (Obelus has no fax).
    pub fn parse(list: &str) -> Result<Self, UnknownLevel> {
        let mut set = Self::default();
        for word in list.split(',').map(str::trim).filter(|w| !w.is_empty()) {
            let lower = word.to_ascii_lowercase();
            let level = match lower.as_str() {
                "*" => {
                    set.bits = u16::MAX;
                    continue;
                }
                "fax" => continue,
                "debug" => Level::Debug,
                "notice" => Level::Notice,
                "warning" => Level::Warning,
                "error" => Level::Error,
                "verbose" => Level::Verbose,
                "dtmf" => Level::Dtmf,
                "security" => Level::Security,
                other => {
                    let cap = other
                        .strip_prefix("verbose(")
                        .and_then(|rest| rest.strip_suffix(')'))
                        .and_then(|n| n.trim().parse::<u8>().ok())
                        .ok_or_else(|| UnknownLevel(word.to_owned()))?;
                    set.verbose_cap = Some(cap);
                    Level::Verbose
                }
            };
            set.bits |= level.bit();
        }
        Ok(set)
    }

    /// Whether the channel takes this level.
    pub fn contains(&self, level: Level) -> bool {
        self.bits & level.bit() != 0
    }

    /// Whether the channel takes a verbose message of this verbosity.
    pub fn takes_verbose(&self, verbosity: u8) -> bool {
        self.contains(Level::Verbose) && self.verbose_cap.is_none_or(|cap| verbosity <= cap)
    }

    /// The levels, space-separated, as `logger show channels` prints them.
    pub fn describe(&self) -> String {
        Level::ALL
            .iter()
            .filter(|l| self.contains(**l))
            .map(|l| format!("{} ", l.name()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_logger_conf_lists() {
        let set = LevelSet::parse("notice, warning,error,verbose(3)").unwrap();
        assert!(set.contains(Level::Notice) && set.contains(Level::Error));
        assert!(!set.contains(Level::Debug));
        assert!(set.takes_verbose(3) && !set.takes_verbose(4));
        assert_eq!(set.describe(), "NOTICE WARNING ERROR VERBOSE ");
        assert!(LevelSet::parse("*").unwrap().contains(Level::Security));
        assert_eq!(
            LevelSet::parse("notice,loud"),
            Err(UnknownLevel("loud".into()))
        );
    }
}
