//! MixMonitor's option letters, read as `mixmonitor_exec` reads them:
//! `a`, `b`, `v(x)`/`V(x)`/`W(x)`, `r(file)`, `t(file)`, `i(var)`. The
//! beep options (`B`, `p`, `P`), voicemail copies (`m`) and the others are
//! accepted and have no effect.

use super::recorder::volume_factor;
use crate::options::Flags;

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
            ..Options::default()
        };
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
            }
        );
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
