//! Asterisk's small C string helpers (`pbx_checkcondition`, `sscanf("%d")`,
//! `ast_get_encoded_char`), shared by applications and functions so that a
//! condition, a number or a delimiter reads the same everywhere, as in
//! Asterisk.

/// `pbx_checkcondition`: an empty string is false, a string that starts
/// with a number is that number compared to 0 (`"0"`, `" 0abc"` are false,
/// `"-1"` is true), any other string is true.
pub fn check_condition(condition: &str) -> bool {
    if condition.is_empty() {
        return false;
    }
    scan_int(condition).is_none_or(|n| n != 0)
}

/// The longest prefix of `s` that C's `sscanf(s, "%30d")` reads: leading
/// whitespace, an optional sign and at least one digit (at most 30
/// characters with the sign). Values beyond `i64` saturate.
pub fn scan_int(s: &str) -> Option<i64> {
    scan_int_rest(s).map(|(n, _)| n)
}

/// [`scan_int`] and the text after the number, for formats that go on
/// (`"%d-%d"`).
pub fn scan_int_rest(s: &str) -> Option<(i64, &str)> {
    let s = s.trim_start();
    let (negative, unsigned) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let width = if unsigned.len() == s.len() { 30 } else { 29 };
    let end = unsigned
        .bytes()
        .take(width)
        .take_while(u8::is_ascii_digit)
        .count();
    if end == 0 {
        return None;
    }
    let (digits, rest) = unsigned.split_at(end);
    let magnitude = digits.bytes().fold(0i64, |acc, d| {
        acc.saturating_mul(10).saturating_add(i64::from(d - b'0'))
    });
    Some((if negative { -magnitude } else { magnitude }, rest))
}

/// `sscanf(s, "%d%c")` accepting nothing after the number: what `INC`
/// and `DEC` require of a variable before they change it.
pub fn whole_int(s: &str) -> Option<i64> {
    let t = s.trim_start();
    let unsigned = t.strip_prefix(['-', '+']).unwrap_or(t);
    (!unsigned.is_empty() && unsigned.bytes().all(|b| b.is_ascii_digit()))
        .then(|| scan_int(t))
        .flatten()
}

/// The longest prefix of `s` that C's `sscanf(s, "%30lf")` reads: leading
/// whitespace, a decimal number with optional fraction and exponent, or
/// `inf`/`infinity`/`nan`.
pub fn scan_float(s: &str) -> Option<f64> {
    let s = s.trim_start();
    let b = s.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'-' | b'+')) {
        i += 1;
    }
    let rest = &s[i..];
    for word in ["infinity", "inf", "nan"] {
        if rest
            .get(..word.len())
            .is_some_and(|w| w.eq_ignore_ascii_case(word))
        {
            return s[..i + word.len()].parse::<f64>().ok();
        }
    }
    let start_digits = i;
    while b.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    let mut mantissa_digits = i - start_digits;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let frac = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        mantissa_digits += i - frac;
    }
    if mantissa_digits == 0 {
        return None;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        let mut j = i + 1;
        if matches!(b.get(j), Some(b'-' | b'+')) {
            j += 1;
        }
        if b.get(j).is_some_and(u8::is_ascii_digit) {
            while b.get(j).is_some_and(u8::is_ascii_digit) {
                j += 1;
            }
            i = j;
        }
    }
    let end = i.min(30);
    s[..end]
        .trim_end_matches(['e', 'E', '+', '-'])
        .parse::<f64>()
        .ok()
}

/// `ast_get_encoded_char`: the first character of `s`, decoding `\n`, `\r`,
/// `\t`, `\xHH` (one or two hex digits), `\0ooo` (octal) and `\c` (any
/// other character as itself), with the number of bytes it took. `None`
/// for an empty string or `\x` without a hex digit.
pub fn encoded_char(s: &str) -> Option<(char, usize)> {
    let mut chars = s.chars();
    let first = chars.next()?;
    if first != '\\' {
        return Some((first, first.len_utf8()));
    }
    let Some(second) = chars.next() else {
        return Some(('\\', 1));
    };
    Some(match second {
        'n' => ('\n', 2),
        'r' => ('\r', 2),
        't' => ('\t', 2),
        'x' => {
            let hex: String = chars.take(2).take_while(char::is_ascii_hexdigit).collect();
            let value = u8::from_str_radix(&hex, 16).ok()?;
            (char::from(value), 2 + hex.len())
        }
        '0' => {
            let octal: String = chars.take_while(|c| ('0'..='7').contains(c)).collect();
            let value = octal
                .bytes()
                .fold(0u8, |acc, d| acc.wrapping_shl(3).wrapping_add(d - b'0'));
            (char::from(value), 2 + octal.len())
        }
        other => (other, 1 + other.len_utf8()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_read_as_pbx_checkcondition() {
        for (text, expected) in [
            ("", false),
            ("0", false),
            ("00", false),
            (" 0abc", false),
            ("0.9", false),
            ("1", true),
            ("-1", true),
            ("2abc", true),
            ("abc", true),
            (" ", true),
            ("99999999999999999999999", true),
        ] {
            assert_eq!(check_condition(text), expected, "{text:?}");
        }
    }

    #[test]
    fn integers_read_as_sscanf() {
        assert_eq!(scan_int("42"), Some(42));
        assert_eq!(scan_int("  -7x"), Some(-7));
        assert_eq!(scan_int("+3"), Some(3));
        assert_eq!(scan_int("x3"), None);
        assert_eq!(scan_int("-"), None);
        assert_eq!(scan_int(""), None);
        assert_eq!(whole_int(" 12"), Some(12));
        assert_eq!(whole_int("-12"), Some(-12));
        assert_eq!(whole_int("12a"), None);
        assert_eq!(whole_int("1.5"), None);
        assert_eq!(whole_int(""), None);
    }

    #[test]
    fn floats_read_as_sscanf() {
        assert_eq!(scan_float("1.5"), Some(1.5));
        assert_eq!(scan_float(" -2.5e2xyz"), Some(-250.0));
        assert_eq!(scan_float("3e"), Some(3.0));
        assert_eq!(scan_float(".5"), Some(0.5));
        assert_eq!(scan_float("7."), Some(7.0));
        assert_eq!(scan_float("abc"), None);
        assert_eq!(scan_float("."), None);
        assert_eq!(scan_float("inf"), Some(f64::INFINITY));
        assert_eq!(
            scan_float("éé"),
            None,
            "no panic inside a multi-byte character"
        );
    }

    #[test]
    fn encoded_characters_decode_escapes() {
        assert_eq!(encoded_char("a"), Some(('a', 1)));
        assert_eq!(encoded_char("\\n"), Some(('\n', 2)));
        assert_eq!(encoded_char("\\x41z"), Some(('A', 4)));
        assert_eq!(encoded_char("\\x4"), Some(('\u{4}', 3)));
        assert_eq!(encoded_char("\\xg"), None);
        assert_eq!(encoded_char("\\0101"), Some(('A', 5)));
        assert_eq!(encoded_char("\\-"), Some(('-', 2)));
        assert_eq!(encoded_char("\\"), Some(('\\', 1)));
        assert_eq!(encoded_char("é-"), Some(('é', 2)));
        assert_eq!(encoded_char(""), None);
    }
}
