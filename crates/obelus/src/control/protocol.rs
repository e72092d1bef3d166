//! The remote console protocol on the control socket, after Asterisk's
//! `asterisk.ctl`:
//!
//! - on connect the daemon sends one line `hostname/pid/version\n`;
//! - the client sends commands as NUL-terminated strings;
//! - `cli quit after <command>`: run it, send its output, close (`-rx`);
//! - `_COMMAND MATCHESARRAY "<line>" "<word>"`: tab completion, answered with
//!   the candidates separated by spaces and `_EOF_`;
//! - any other command: its output, then a NUL marking its end (Obelus's
//!   addition, so the interactive client knows when to prompt again);
//! - log lines for interactive consoles: one marker byte (0xFF minus the
//!   verbosity, never a valid UTF-8 byte), the line, `\n`.

/// Prefix of one-shot commands: run, answer, close.
pub const QUIT_AFTER: &str = "cli quit after ";

/// Prefix of completion requests.
pub const MATCHES: &str = "_COMMAND MATCHESARRAY ";

/// Ends the candidate list of a completion answer.
pub const MATCHES_EOF: &str = "_EOF_";

/// Longest command accepted; a longer one closes the connection.
pub const MAX_COMMAND: usize = 64 * 1024;

/// The first byte of a log line: 0xFF for verbosity 0 down to 0xF6 for 9
/// and above. Bytes 0xF5-0xFF never occur in UTF-8 text, so a reader can
/// always tell a log line from command output.
pub fn log_marker(verbosity: Option<u8>) -> u8 {
    0xFF - verbosity.unwrap_or(0).min(9)
}

/// Whether a byte starts a log line.
pub fn is_log_marker(byte: u8) -> bool {
    byte >= 0xF6
}

/// The greeting line's parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Greeting {
    /// The daemon's host name.
    pub hostname: String,
    /// The daemon's process id.
    pub pid: u32,
    /// The daemon's version.
    pub version: String,
}

impl Greeting {
    /// `hostname/pid/version` (no newline).
    pub fn encode(&self) -> String {
        format!("{}/{}/{}", self.hostname, self.pid, self.version)
    }

    /// Parses a greeting line; `None` if it is not one.
    pub fn parse(line: &str) -> Option<Self> {
        let mut parts = line.trim_end().splitn(3, '/');
        let hostname = parts.next()?.to_owned();
        let pid = parts.next()?.parse().ok()?;
        let version = parts.next()?.to_owned();
        Some(Self {
            hostname,
            pid,
            version,
        })
    }
}

/// Parses `"<line>" "<word>"` of a completion request into the line to
/// complete (the typed line, of which `word` is the unfinished last word).
pub fn parse_matches_request(rest: &str) -> Option<String> {
    let rest = rest.trim();
    let rest = rest.strip_prefix('"')?;
    let end = rest.find("\" \"")?;
    Some(rest[..end].to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greeting_round_trips() {
        let g = Greeting {
            hostname: "pbx".into(),
            pid: 42,
            version: "0.1.0".into(),
        };
        assert_eq!(Greeting::parse(&(g.encode() + "\n")), Some(g));
        assert_eq!(Greeting::parse("garbage"), None);
    }

    #[test]
    fn markers_never_collide_with_utf8() {
        for v in 0..=20 {
            let marker = log_marker(Some(v));
            assert!(is_log_marker(marker));
            assert!(std::str::from_utf8(&[marker]).is_err());
        }
        assert!(!is_log_marker("é".as_bytes()[0]));
    }

    #[test]
    fn completion_request() {
        assert_eq!(
            parse_matches_request(r#""core sh" "sh""#),
            Some("core sh".to_owned())
        );
        assert_eq!(parse_matches_request("junk"), None);
    }
}
