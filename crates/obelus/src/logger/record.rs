//! One log event, captured from `tracing` and formatted for each channel.

use std::fmt::{self, Write as _};

use chrono::{DateTime, Local};
use tracing::field::{Field, Visit};

use super::level::Level;

/// A log event in Asterisk's terms.
#[derive(Debug, Clone)]
pub struct Record {
    /// Its level.
    pub level: Level,
    /// For [`Level::Verbose`]: its verbosity (1 = most important).
    pub verbosity: u8,
    /// The module path that logged it.
    pub target: String,
    /// The message and any structured fields as `key=value`.
    pub message: String,
    /// When it happened.
    pub time: DateTime<Local>,
}

impl Record {
    /// The line for files and for the console's non-verbose levels:
    /// `[Nov 23 16:30:00] WARNING[1234] obelus::control: message`.
    pub fn full_line(&self, date_format: &str) -> String {
        let mut line = String::with_capacity(self.message.len() + 64);
        let _ = write!(
            line,
            "[{}] {}[{}] {}: ",
            self.time.format(date_format),
            self.level,
            std::process::id(),
            self.target
        );
        if self.level == Level::Verbose {
            line.push_str(verbose_prefix(self.verbosity));
        }
        line.push_str(&self.message);
        line
    }

    /// The line the console shows: verbose messages with their Asterisk
    /// prefix (`    -- `), others as [`Record::full_line`].
    pub fn console_line(&self, date_format: &str, timestamp: bool) -> String {
        if self.level != Level::Verbose {
            return self.full_line(date_format);
        }
        let mut line = String::with_capacity(self.message.len() + 32);
        if timestamp {
            let _ = write!(line, "[{}] ", self.time.format(date_format));
        }
        line.push_str(verbose_prefix(self.verbosity));
        line.push_str(&self.message);
        line
    }
}

/// Asterisk's verbose prefixes: level 2 `  == `, 3 `    -- `, 4 and up `       > `.
pub fn verbose_prefix(verbosity: u8) -> &'static str {
    match verbosity {
        0 | 1 => "",
        2 => "  == ",
        3 => "    -- ",
        _ => "       > ",
    }
}

/// Collects an event's fields: `message`, `verbose = N`, and the rest.
#[derive(Default)]
pub struct FieldCollector {
    /// The formatted message plus ` key=value` for other fields.
    pub message: String,
    /// The `verbose` field, if present.
    pub verbose: Option<u8>,
    extra: String,
}

impl FieldCollector {
    /// The message with the other fields appended.
    pub fn finish(mut self) -> String {
        self.message.push_str(&self.extra);
        self.message
    }
}

impl Visit for FieldCollector {
    fn record_u64(&mut self, field: &Field, value: u64) {
        if field.name() == "verbose" {
            self.verbose = Some(u8::try_from(value).unwrap_or(u8::MAX));
        } else {
            let _ = write!(self.extra, " {}={value}", field.name());
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        if field.name() == "verbose" {
            self.verbose = Some(u8::try_from(value.max(0)).unwrap_or(u8::MAX));
        } else {
            let _ = write!(self.extra, " {}={value}", field.name());
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            let _ = write!(self.extra, " {}={value}", field.name());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            let _ = write!(self.extra, " {}={value:?}", field.name());
        }
    }
}

/// Reads only the `verbose` field of an event: enough to tell whether
/// anyone wants the event before paying for its message.
#[derive(Default)]
pub struct VerboseOnly(pub Option<u8>);

impl Visit for VerboseOnly {
    fn record_u64(&mut self, field: &Field, value: u64) {
        if field.name() == "verbose" {
            self.0 = Some(u8::try_from(value).unwrap_or(u8::MAX));
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        if field.name() == "verbose" {
            self.0 = Some(u8::try_from(value.max(0)).unwrap_or(u8::MAX));
        }
    }

    fn record_debug(&mut self, _field: &Field, _value: &dyn fmt::Debug) {}
}
