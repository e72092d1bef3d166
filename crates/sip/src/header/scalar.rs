//! Small single-value headers: Call-ID, Max-Forwards, Expires-style
//! delta-seconds, Date and Warning (RFC 3261 §20.8, §20.17, §20.19, §20.22,
//! §20.43).

use crate::parse::{is_word, parse_u32, trim};

/// `Call-ID: word ["@" word]` (RFC 3261 §25.1).
///
/// One pass: every byte is a `word` character except at most one `@`
/// (not itself a `word` character), which may be neither first nor last.
pub(crate) fn parse_call_id(s: &str) -> Option<&str> {
    let s = trim(s);
    let b = s.as_bytes();
    let mut at = None;
    for (i, &c) in b.iter().enumerate() {
        if !is_word(c) {
            if c != b'@' || at.is_some() {
                return None;
            }
            at = Some(i);
        }
    }
    let ok = match at {
        Some(at) => at > 0 && at + 1 < b.len(),
        None => !b.is_empty(),
    };
    ok.then_some(s)
}

/// `delta-seconds = 1*DIGIT`, refused above 2**32-1 (RFC 4475 §3.1.2.4 sends
/// an Expires of 10000000000000 that must be rejected).
pub(crate) fn parse_delta_seconds(s: &str) -> Option<u32> {
    parse_u32(trim(s))
}

/// `Max-Forwards: 1*DIGIT` in 0..=255 (RFC 3261 §20.22; RFC 4475 §3.1.2.4).
pub(crate) fn parse_max_forwards(s: &str) -> Option<u8> {
    parse_u32(trim(s)).and_then(|n| u8::try_from(n).ok())
}

/// RFC 1123 date as SIP restricts it: `Sat, 13 Nov 2010 23:29:00 GMT`
/// (RFC 3261 §25.1 `SIP-date`; only GMT, RFC 4475 §3.1.2.12).
pub(crate) fn is_http_date(s: &str) -> bool {
    let s = trim(s);
    let parts: Vec<&str> = s.split(' ').collect();
    let [wkday, day, month, year, time, zone] = parts.as_slice() else {
        return false;
    };
    let wk_ok = matches!(
        *wkday,
        "Mon," | "Tue," | "Wed," | "Thu," | "Fri," | "Sat," | "Sun,"
    );
    let month_ok = matches!(
        *month,
        "Jan"
            | "Feb"
            | "Mar"
            | "Apr"
            | "May"
            | "Jun"
            | "Jul"
            | "Aug"
            | "Sep"
            | "Oct"
            | "Nov"
            | "Dec"
    );
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    let t: Vec<&str> = time.split(':').collect();
    let time_ok = t.len() == 3 && t.iter().all(|p| digits(p, 2));
    wk_ok && digits(day, 2) && month_ok && digits(year, 4) && time_ok && *zone == "GMT"
}

/// `Warning: 3DIGIT SP agent SP "text"` (RFC 3261 §20.43); checks one value.
pub(crate) fn parse_warning(s: &str) -> Option<u16> {
    let s = trim(s);
    let (code, rest) = s.split_once(' ')?;
    if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (agent, text) = rest.split_once(' ')?;
    if agent.is_empty() || !text.starts_with('"') || !text.ends_with('"') || text.len() < 2 {
        return None;
    }
    code.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars() {
        assert_eq!(
            parse_call_id("a84b4c76e66710@pc33.atlanta.com"),
            Some("a84b4c76e66710@pc33.atlanta.com")
        );
        assert_eq!(parse_call_id("a b"), None);
        assert_eq!(parse_call_id("a@"), None);
        assert_eq!(parse_call_id("@a"), None);
        assert_eq!(parse_call_id("a@b@c"), None);
        assert_eq!(parse_call_id("@"), None);
        assert_eq!(parse_call_id(""), None);
        assert_eq!(parse_call_id("  x  "), Some("x"));
        assert_eq!(
            parse_call_id("a<b>:c\\\"/[]?{}@h"),
            Some("a<b>:c\\\"/[]?{}@h")
        );
        assert_eq!(parse_max_forwards("0068"), Some(68));
        assert_eq!(parse_max_forwards("300"), None);
        assert_eq!(parse_delta_seconds("10000000000000"), None);
        assert!(is_http_date("Sat, 13 Nov 2010 23:29:00 GMT"));
        assert!(!is_http_date("Fri, 01 Jan 2010 16:00:00 EST"));
        assert_eq!(
            parse_warning(r#"370 devnull "Choose a bigger pipe""#),
            Some(370)
        );
        assert_eq!(parse_warning(r#"1812 overture "In Progress""#), None);
    }
}
