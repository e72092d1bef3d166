//! Durations worded as Asterisk words them: `2 hours, 3 minutes, 4 seconds`.

use std::time::Duration;

/// `1 week, 2 days, 3 hours, 1 minute, 5 seconds`; units that are zero are left out.
pub fn format_duration(d: Duration) -> String {
    const UNITS: [(u64, &str); 6] = [
        (365 * 86_400, "year"),
        (7 * 86_400, "week"),
        (86_400, "day"),
        (3_600, "hour"),
        (60, "minute"),
        (1, "second"),
    ];
    let mut rest = d.as_secs();
    let mut parts = Vec::new();
    for (size, name) in UNITS {
        let n = rest / size;
        rest %= size;
        if n > 0 {
            parts.push(format!("{n} {name}{}", if n == 1 { "" } else { "s" }));
        }
    }
    if parts.is_empty() {
        "<1 second".to_owned()
    } else {
        parts.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_like_asterisk() {
        assert_eq!(format_duration(Duration::from_secs(0)), "<1 second");
        assert_eq!(
            format_duration(Duration::from_secs(61)),
            "1 minute, 1 second"
        );
        assert_eq!(
            format_duration(Duration::from_secs(8 * 86_400 + 7_325)),
            "1 week, 1 day, 2 hours, 2 minutes, 5 seconds"
        );
    }
}
