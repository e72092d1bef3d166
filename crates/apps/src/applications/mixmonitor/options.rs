//! MixMonitor's option letters, read as `mixmonitor_exec` reads them:
//! `a`, `b`, `B(interval)`, `c`, `d`, `D`, `p`, `P`, `v(x)`/`V(x)`/`W(x)`,
//! `r(file)`, `t(file)`, `i(var)`, `m(mailbox...)`, `n` (the receive and
//! transmit files get no silence put in to keep them in step), and `S`,
//! which Asterisk keeps only to say that what it asked for (the files kept
//! in step with silence) is the default.

use super::recorder::volume_factor;
use super::voicemail::{Recipient, parse_recipients};
use crate::options::Flags;

/// The periodic beep's interval when `B` gives none (seconds).
const DEFAULT_BEEP_INTERVAL: u32 = 15;

/// The options of one MixMonitor.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Options {
    /// `a`: add to the files instead of replacing them.
    pub(super) append: bool,
    /// `b`: write only while the channel is bridged.
    pub(super) bridged: bool,
    /// `v(x)` (or `W(x)`): volume factor of the audio read from the channel.
    pub(super) read_volume: i32,
    /// `V(x)` (or `W(x)`): volume factor of the audio written to it.
    pub(super) write_volume: i32,
    /// `r(file)`: the receive-only file, as given (may be empty).
    pub(super) read_file: Option<String>,
    /// `t(file)`: the transmit-only file, as given (may be empty).
    pub(super) write_file: Option<String>,
    /// `i(var)`: the channel variable that gets the MixMonitorID.
    pub(super) id_variable: Option<String>,
    /// `B(interval)`: beep into the call every this many seconds.
    pub(super) beep_interval: Option<u32>,
    /// `p`: beep when the recording starts.
    pub(super) beep_start: bool,
    /// `P`: beep when the recording stops.
    pub(super) beep_stop: bool,
    /// `D`: the main file holds the two directions side by side (left what
    /// the channel receives, right what it transmits) instead of mixed.
    pub(super) interleaved: bool,
    /// `m(...)`: voicemail boxes that get a copy of the recording.
    pub(super) recipients: Vec<Recipient>,
    /// `c`: the copies name the channel's caller, not its connected line.
    pub(super) real_callerid: bool,
    /// `d`: delete the files once the recording and its copies are done.
    pub(super) delete: bool,
    /// `n`: the `r`/`t` files get no silence put in to keep them in step
    /// with each other.
    pub(super) no_sync: bool,
}

/// `B`'s argument as `sscanf("%30u")` reads it: leading digits, 15 when
/// absent; a bad or zero interval is the default, with a warning.
fn beep_interval(arg: Option<&str>) -> u32 {
    let text = arg.map(str::trim).filter(|a| !a.is_empty());
    let Some(text) = text else {
        return DEFAULT_BEEP_INTERVAL;
    };
    let digits: String = text
        .trim_start_matches('+')
        .chars()
        .take_while(char::is_ascii_digit)
        .take(30)
        .collect();
    match digits.parse::<u32>() {
        Ok(n) if n > 0 => n,
        _ => {
            tracing::warn!(
                "Invalid interval '{text}' for periodic beep. Using default of {DEFAULT_BEEP_INTERVAL}"
            );
            DEFAULT_BEEP_INTERVAL
        }
    }
}

/// `sscanf(arg, "%2d")` within -4..=4, as a volume factor; `None` (with
/// Asterisk's message) when absent or out of range.
fn volume(flags: &Flags, letter: char, what: &str, label: &str) -> Option<i32> {
    let arg = flags.arg(letter).map(str::trim_start).unwrap_or_default();
    if arg.is_empty() {
        tracing::warn!("No volume level was provided for the {what} volume ('{letter}') option.");
        return None;
    }
    let head: String = arg.chars().take(2).collect();
    let digits = head.trim_end_matches(|c: char| !c.is_ascii_digit());
    match digits.parse::<i32>() {
        Ok(x) if (-4..=4).contains(&x) => Some(volume_factor(x)),
        _ => {
            tracing::info!("{label} volume must be a number between -4 and 4, not '{arg}'");
            None
        }
    }
}

impl Options {
    /// Parses the options argument; bad values are logged and ignored.
    pub(super) fn parse(text: &str) -> Options {
        let flags = Flags::parse(text);
        let mut options = Options {
            append: flags.has('a'),
            bridged: flags.has('b'),
            beep_start: flags.has('p'),
            beep_stop: flags.has('P'),
            interleaved: flags.has('D'),
            real_callerid: flags.has('c'),
            delete: flags.has('d'),
            no_sync: flags.has('n'),
            ..Options::default()
        };
        if flags.has('S') {
            tracing::info!(
                "The synchronization behavior enabled by the 'S' option is now the default and does not need to be specified."
            );
        }
        if flags.has('B') {
            options.beep_interval = Some(beep_interval(flags.arg('B')));
        }
        if flags.has('m') {
            match flags.arg('m').map(str::trim).filter(|m| !m.is_empty()) {
                Some(text) => options.recipients = parse_recipients(text),
                None => tracing::warn!(
                    "No voicemail recipients were specified for the vm copy ('m') option."
                ),
            }
        }
        if flags.has('v')
            && let Some(f) = volume(&flags, 'v', "heard", "Heard")
        {
            options.read_volume = f;
        }
        if flags.has('V')
            && let Some(f) = volume(&flags, 'V', "spoken", "Spoken")
        {
            options.write_volume = f;
        }
        if flags.has('W')
            && let Some(f) = volume(&flags, 'W', "combined", "Combined")
        {
            options.read_volume = f;
            options.write_volume = f;
        }
        if flags.has('r') {
            options.read_file = Some(flags.arg('r').unwrap_or_default().trim().to_owned());
        }
        if flags.has('t') {
            options.write_file = Some(flags.arg('t').unwrap_or_default().trim().to_owned());
        }
        options.id_variable = flags
            .arg('i')
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned);
        options
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_and_arguments() {
        let o = Options::parse("abv(2)V(-1)r(in.wav)t(/tmp/out.sln)i(MID)");
        assert_eq!(
            o,
            Options {
                append: true,
                bridged: true,
                read_volume: 4,
                write_volume: -2,
                read_file: Some("in.wav".into()),
                write_file: Some("/tmp/out.sln".into()),
                id_variable: Some("MID".into()),
                ..Options::default()
            }
        );
    }

    #[test]
    fn beeps_stereo_copies_and_sync() {
        let o = Options::parse("B(5)pPDcdm(100@sales/Work,200&300)");
        assert_eq!(o.beep_interval, Some(5));
        assert!(o.beep_start && o.beep_stop && o.interleaved);
        assert!(o.real_callerid && o.delete && !o.no_sync);
        let boxes: Vec<String> = o.recipients.iter().map(ToString::to_string).collect();
        assert_eq!(
            boxes,
            ["100@sales/Work", "200@default/INBOX", "300@default/INBOX"]
        );
        // The default interval, and what sscanf makes of odd ones.
        for (text, interval) in [
            ("B", 15),
            ("B()", 15),
            ("B(7s)", 7),
            ("B( 30)", 30),
            ("B(x)", 15),
            ("B(0)", 15),
            ("B(-3)", 15),
        ] {
            assert_eq!(Options::parse(text).beep_interval, Some(interval), "{text}");
        }
        let plain = Options::parse("ab");
        assert_eq!(plain.beep_interval, None);
        assert!(!plain.beep_start && !plain.beep_stop && !plain.interleaved);
        assert!(plain.recipients.is_empty());
        assert!(Options::parse("m()").recipients.is_empty());
        // S is the default already; n is parsed.
        assert_eq!(Options::parse("S"), Options::default());
        assert!(Options::parse("n").no_sync);
    }

    #[test]
    fn w_sets_both_and_bad_volumes_are_ignored() {
        let o = Options::parse("W(3)");
        assert_eq!((o.read_volume, o.write_volume), (8, 8));
        for bad in ["v(5)", "v(x)", "v()", "v", "v(-9)"] {
            assert_eq!(Options::parse(bad).read_volume, 0, "{bad}");
        }
        // Two characters are read, as %2d does.
        assert_eq!(Options::parse("v(4x)").read_volume, 16);
        assert_eq!(Options::parse("v(40)").read_volume, 0);
        assert_eq!(Options::parse("").read_file, None);
        assert_eq!(Options::parse("r()").read_file, Some(String::new()));
        assert_eq!(Options::parse("i()").id_variable, None);
    }
}
