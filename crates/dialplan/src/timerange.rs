//! Time specifications of timed includes (`include => ctx,09:00-17:00,mon-fri,*,*`),
//! as Asterisk's `ast_build_timing` / `ast_check_timing` (`main/pbx_timing.c`).
//!
//! Four fields, separated by `,` (or `|`): times, days of the week, days of the month,
//! months; a fifth is a time zone. `*` or empty means "any". Each field is a list of
//! items joined by `&`, each item one value or a `start-end` range; ranges wrap
//! (`fri-mon`, `22:00-06:00`) and include both ends, to the minute. Names are
//! case-insensitive (`mon`, `jan`); days of the week and months may also be numbers
//! (1-based).

use std::fmt;

/// The local time a timed include is checked against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LocalTime {
    /// 0-23.
    pub hour: u8,
    /// 0-59.
    pub minute: u8,
    /// 0 = Sunday ... 6 = Saturday.
    pub weekday: u8,
    /// 1-31.
    pub day: u8,
    /// 1-12.
    pub month: u8,
}

/// Gives the local time in a time zone (`None`: the system's). The executor implements
/// it over the system clock and tz database; tests pass a fixed [`LocalTime`].
pub trait Clock {
    /// The current local time in `timezone`.
    fn local_time(&self, timezone: Option<&str>) -> LocalTime;
}

impl Clock for LocalTime {
    fn local_time(&self, _timezone: Option<&str>) -> LocalTime {
        *self
    }
}

/// A parsed time specification.
#[derive(Clone, PartialEq, Eq)]
pub struct TimeSpec {
    minutes: [u64; 23],
    weekdays: u8,
    days: u32,
    months: u16,
    timezone: Option<String>,
    source: String,
}

const DAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
const MINUTES_PER_DAY: usize = 24 * 60;

impl fmt::Debug for TimeSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TimeSpec({:?})", self.source)
    }
}

impl TimeSpec {
    /// Parses a specification. Invalid items are skipped (Asterisk logs and ignores
    /// them); the returned warnings say which.
    pub fn parse(spec: &str) -> (TimeSpec, Vec<String>) {
        let mut warnings = Vec::new();
        let fields = spec.split(',').count();
        let mut parts = spec.split([',', '|']);
        let timezone = if fields == 5 {
            spec.rsplit(',').next().map(str::to_owned)
        } else {
            None
        };
        let mut t = TimeSpec {
            minutes: [0; 23],
            weekdays: 0x7f,
            days: 0x7fff_ffff,
            months: 0xfff,
            timezone,
            source: spec.to_owned(),
        };
        t.time_range(parts.next().unwrap_or(""), &mut warnings);
        if let Some(p) = parts.next() {
            t.weekdays = range_mask(p, 7, Some(&DAYS), "day of week", &mut warnings) as u8;
        }
        if let Some(p) = parts.next() {
            t.days = range_mask(p, 31, None, "day", &mut warnings);
        }
        if let Some(p) = parts.next() {
            t.months = range_mask(p, 12, Some(&MONTHS), "month", &mut warnings) as u16;
        }
        (t, warnings)
    }

    /// The time zone named in the fifth field.
    pub fn timezone(&self) -> Option<&str> {
        self.timezone.as_deref()
    }

    /// The specification as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    fn set_minute(&mut self, m: usize) {
        if let Some(w) = self.minutes.get_mut(m / 64) {
            *w |= 1 << (m % 64);
        }
    }

    fn time_range(&mut self, field: &str, warnings: &mut Vec<String>) {
        if field.is_empty() || field == "*" {
            for m in 0..MINUTES_PER_DAY {
                self.set_minute(m);
            }
            return;
        }
        for part in field.split('&') {
            let (start, end) = match part.split_once('-') {
                Some((a, b)) => (a, Some(b.trim_start_matches(|c: char| !c.is_ascii_digit()))),
                None => (part, None),
            };
            let Some(s) = hh_mm(start) else {
                warnings.push(format!("'{part}' isn't a valid start time."));
                continue;
            };
            let e = match end {
                None => s,
                Some(e) => match hh_mm(e) {
                    Some(e) => e,
                    None => {
                        warnings.push(format!("'{e}' isn't a valid end time."));
                        continue;
                    }
                },
            };
            let mut m = s;
            while m != e {
                self.set_minute(m);
                m = (m + 1) % MINUTES_PER_DAY;
            }
            self.set_minute(e);
        }
    }

    /// True when `now` falls inside the specification.
    pub fn contains(&self, now: LocalTime) -> bool {
        let minute = usize::from(now.hour) * 60 + usize::from(now.minute);
        let minute_ok = now.hour < 24
            && now.minute < 60
            && self
                .minutes
                .get(minute / 64)
                .is_some_and(|w| (w >> (minute % 64)) & 1 == 1);
        let month_ok = (1..=12).contains(&now.month) && self.months & (1 << (now.month - 1)) != 0;
        let day_ok = (1..=31).contains(&now.day) && self.days & (1 << (now.day - 1)) != 0;
        let dow_ok = now.weekday < 7 && self.weekdays & (1 << now.weekday) != 0;
        minute_ok && month_ok && day_ok && dow_ok
    }
}

/// `%2d:%2d` with hour 0-23 and minute 0-59.
fn hh_mm(s: &str) -> Option<usize> {
    let (h, m) = s.trim().split_once(':')?;
    let h = two_digits(h)?;
    let m = two_digits(m)?;
    (h < 24 && m < 60).then_some(h * 60 + m)
}

fn two_digits(s: &str) -> Option<usize> {
    let d: String = s
        .trim_start()
        .chars()
        .take(2)
        .take_while(char::is_ascii_digit)
        .collect();
    d.parse().ok()
}

fn lookup(s: &str, names: Option<&[&str]>, max: u32) -> Option<u32> {
    if let Some(names) = names
        && s.as_bytes().first().is_some_and(|&c| c > b'9')
        && let Some(i) = names.iter().position(|n| n.eq_ignore_ascii_case(s))
    {
        return u32::try_from(i).ok();
    }
    let n = u32::try_from(two_digits(s)?).ok()?;
    (1..=max).contains(&n).then(|| n - 1)
}

fn range_mask(
    field: &str,
    max: u32,
    names: Option<&[&str]>,
    what: &str,
    warnings: &mut Vec<String>,
) -> u32 {
    if field.is_empty() || field == "*" {
        return (1u32 << max) - 1;
    }
    let mut mask = 0u32;
    for part in field.split('&') {
        let (a, b) = match part.split_once('-') {
            Some((a, b)) => (a, Some(b)),
            None => (part, None),
        };
        let Some(mut start) = lookup(a, names, max) else {
            warnings.push(format!("Invalid {what} '{a}', skipping element"));
            continue;
        };
        let end = match b {
            None => start,
            Some(b) => match lookup(b, names, max) {
                Some(e) => e,
                None => {
                    warnings.push(format!("Invalid end {what} '{b}', skipping element"));
                    continue;
                }
            },
        };
        mask |= 1 << end;
        while start != end {
            mask |= 1 << start;
            start = (start + 1) % max;
        }
    }
    mask
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(hour: u8, minute: u8, weekday: u8, day: u8, month: u8) -> LocalTime {
        LocalTime {
            hour,
            minute,
            weekday,
            day,
            month,
        }
    }

    #[test]
    fn office_hours() {
        // dialplan.md §1: include => daytime,09:00-17:00,mon-fri,*,*
        let (t, w) = TimeSpec::parse("09:00-17:00,mon-fri,*,*");
        assert!(w.is_empty());
        assert!(t.contains(at(9, 0, 1, 5, 3)));
        assert!(t.contains(at(17, 0, 5, 5, 3)), "the end minute is included");
        assert!(!t.contains(at(17, 1, 5, 5, 3)));
        assert!(!t.contains(at(8, 59, 1, 5, 3)));
        assert!(!t.contains(at(12, 0, 0, 5, 3)), "Sunday");
        assert!(!t.contains(at(12, 0, 6, 5, 3)), "Saturday");
    }

    #[test]
    fn wrapping_ranges_lists_and_numbers() {
        let (t, _) = TimeSpec::parse("22:00-06:00,fri-mon,1-7&15,dec-feb");
        assert!(t.contains(at(23, 30, 6, 1, 1)));
        assert!(t.contains(at(5, 59, 0, 15, 12)));
        assert!(!t.contains(at(12, 0, 0, 1, 1)));
        assert!(!t.contains(at(23, 0, 3, 1, 1)), "Wednesday");
        assert!(!t.contains(at(23, 0, 5, 10, 1)), "day 10");
        assert!(!t.contains(at(23, 0, 5, 1, 3)), "March");
        let (t, _) = TimeSpec::parse("*,2-6,*,*");
        assert!(
            t.contains(at(3, 0, 1, 1, 1)),
            "weekday numbers are 1-based: 2 = mon"
        );
        assert!(!t.contains(at(3, 0, 0, 1, 1)));
    }

    #[test]
    fn timezone_and_bad_items() {
        let (t, _) = TimeSpec::parse("09:00-17:00,mon-fri,*,*,Europe/Paris");
        assert_eq!(t.timezone(), Some("Europe/Paris"));
        let (t, w) = TimeSpec::parse("25:00-26:00,xyz,*,*");
        assert_eq!(w.len(), 2);
        assert!(!t.contains(at(12, 0, 1, 1, 1)), "no valid minute");
    }
}
