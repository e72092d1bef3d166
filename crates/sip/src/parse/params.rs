//! `;name=value` parameter lists of header fields (RFC 3261 §7.3.1, §25.1
//! `generic-param`).

use std::fmt;

use super::{Cursor, is_token, trim};

/// A validated list of `;name[=value]` parameters, borrowed from the message.
///
/// The list is checked once when the header is parsed; lookups then walk the
/// raw text (lists are short, and walking beats allocating a map).
/// Names compare case-insensitively; quoted values are returned without their
/// quotes (escapes left in place, see [`crate::parse::unescape`]).
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub struct Params<'a> {
    raw: &'a str,
}

impl<'a> Params<'a> {
    /// The parameters as written, starting with the first `;` (empty if none).
    pub fn as_str(&self) -> &'a str {
        self.raw
    }

    /// True when there are no parameters.
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// Iterates `(name, value)` pairs; `value` is `None` for a flag such as `lr`.
    pub fn iter(&self) -> ParamIter<'a> {
        ParamIter { rest: self.raw }
    }

    /// Looks a parameter up: `None` if absent, `Some(None)` for a flag,
    /// `Some(Some(v))` for `name=v`.
    pub fn get(&self, name: &str) -> Option<Option<&'a str>> {
        self.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// The value of `name=value`, or `None` when absent or a flag.
    pub fn value(&self, name: &str) -> Option<&'a str> {
        self.get(name).flatten()
    }

    /// True when the parameter is present, with or without a value.
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    pub(crate) const fn from_validated(raw: &'a str) -> Self {
        Params { raw }
    }
}

impl fmt::Debug for Params<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

/// Iterator over [`Params`].
#[derive(Debug, Clone)]
pub struct ParamIter<'a> {
    rest: &'a str,
}

/// Bytes that end a run of ordinary parameter text: `;` (next parameter),
/// `=` (value follows), `"` (quoted string) and `\\` (quoted-pair).
static STOP: [bool; 256] = {
    let mut t = [false; 256];
    t[b';' as usize] = true;
    t[b'=' as usize] = true;
    t[b'"' as usize] = true;
    t[b'\\' as usize] = true;
    t
};

impl<'a> Iterator for ParamIter<'a> {
    type Item = (&'a str, Option<&'a str>);

    fn next(&mut self) -> Option<Self::Item> {
        let b = self.rest.as_bytes();
        let mut i = 0;
        loop {
            while matches!(b.get(i), Some(b';' | b' ' | b'\t')) {
                i += 1;
            }
            if i >= b.len() {
                self.rest = "";
                return None;
            }
            // The parameter runs to the next ';' outside quotes. Ordinary
            // bytes are skipped in a tight loop; only the four that matter
            // are looked at.
            let start = i;
            let mut eq = None;
            let mut quoted = false;
            loop {
                while b.get(i).is_some_and(|&c| !STOP[usize::from(c)]) {
                    i += 1;
                }
                match b.get(i) {
                    None => break,
                    Some(b'\\') if quoted => i += 1,
                    Some(b'"') => quoted = !quoted,
                    Some(b';') if !quoted => break,
                    Some(b'=') if !quoted && eq.is_none() => eq = Some(i),
                    Some(_) => {}
                }
                i += 1;
            }
            let end = i.min(b.len());
            let (name, value) = match eq {
                Some(e) => {
                    let v = trim(self.rest.get(e + 1..end).unwrap_or(""));
                    let v = v
                        .strip_prefix('"')
                        .and_then(|v| v.strip_suffix('"'))
                        .unwrap_or(v);
                    (trim(self.rest.get(start..e).unwrap_or("")), Some(v))
                }
                None => (trim(self.rest.get(start..end).unwrap_or("")), None),
            };
            if !name.is_empty() {
                self.rest = self.rest.get(end..).unwrap_or("");
                return Some((name, value));
            }
        }
    }
}

/// Characters allowed in an unquoted `gen-value`: token, host and IPv6 forms.
static VALUE: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        let c = i as u8;
        t[i] = c.is_ascii_alphanumeric()
            || matches!(
                c,
                b'-' | b'.'
                    | b'!'
                    | b'%'
                    | b'*'
                    | b'_'
                    | b'+'
                    | b'`'
                    | b'\''
                    | b'~'
                    | b':'
                    | b'['
                    | b']'
            );
        i += 1;
    }
    t
};

/// Parses `*( SEMI generic-param )` at the cursor, white space allowed around
/// `;` and `=` (RFC 3261 §25.1 `SEMI`, `EQUAL`). Stops before the first byte
/// that cannot continue the list; `None` on a malformed parameter.
pub(crate) fn parse_params<'a>(c: &mut Cursor<'a>) -> Option<Params<'a>> {
    parse_params_finding(c, "").map(|(p, _)| p)
}

/// [`parse_params`], also returning what [`Params::get`] would give for
/// `want` (the first parameter of that name, case-insensitively), found in
/// the same pass so a typed header can keep its most used parameter
/// (`branch`, `tag`) instead of walking the list again for it.
pub(crate) fn parse_params_finding<'a>(
    c: &mut Cursor<'a>,
    want: &str,
) -> Option<(Params<'a>, Option<Option<&'a str>>)> {
    let s = c.s;
    let b = s.as_bytes();
    let ws = |mut i: usize| {
        while b.get(i).is_some_and(|&c| c == b' ' || c == b'\t') {
            i += 1;
        }
        i
    };
    let mut found = None;
    let mut start = None;
    // `end` is where the list (as accepted so far) ends.
    let mut end = c.pos;
    loop {
        let mut i = ws(end);
        if b.get(i) != Some(&b';') {
            break;
        }
        start.get_or_insert(i);
        i = ws(i + 1);
        let name_start = i;
        while b.get(i).copied().is_some_and(is_token) {
            i += 1;
        }
        if i == name_start {
            return None;
        }
        let name = s.get(name_start..i).unwrap_or("");
        let after_name = i;
        i = ws(i);
        let value = if b.get(i) == Some(&b'=') {
            i = ws(i + 1);
            if b.get(i) == Some(&b'"') {
                let mut q = Cursor { s, pos: i };
                let v = q.quoted()?;
                i = q.pos;
                Some(v)
            } else {
                let value_start = i;
                while b.get(i).is_some_and(|&c| VALUE[usize::from(c)]) {
                    i += 1;
                }
                if i == value_start {
                    return None;
                }
                Some(s.get(value_start..i).unwrap_or(""))
            }
        } else {
            i = after_name;
            None
        };
        if found.is_none() && name.len() == want.len() && name.eq_ignore_ascii_case(want) {
            found = Some(value);
        }
        end = i;
    }
    c.set_pos(end);
    let raw = match start {
        Some(st) => s.get(st..end).unwrap_or(""),
        None => "",
    };
    Some((Params::from_validated(raw), found))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(s: &str) -> Option<(Params<'_>, &str)> {
        let mut c = Cursor::new(s);
        let p = parse_params(&mut c)?;
        Some((p, c.rest()))
    }

    #[test]
    fn lws_around_semi_and_equal_rfc3261_25_1() {
        let (p, rest) = params(" ;   tag    = 1918181833n ;lr ;x=\"a;b\"").unwrap();
        assert_eq!(rest, "");
        assert_eq!(p.value("TAG"), Some("1918181833n"));
        assert_eq!(p.get("lr"), Some(None));
        assert_eq!(p.value("x"), Some("a;b"));
        assert!(!p.contains("y"));
    }

    #[test]
    fn finding_agrees_with_get() {
        for (list, want) in [
            (" ;   tag    = 1918181833n ;lr", "tag"),
            (";TAG=a;tag=b", "tag"),
            (";lr;branch=z9hG4bK1", "Branch"),
            (";branch;branch=x", "branch"),
            (";x=\"a;b\\\"\";branch=\"q\"", "branch"),
            (";x=\"a;b\\\"\";branch=\"q\"", "x"),
            (";received=[2001:db8::1];rport", "received"),
            (";a=1", "b"),
            ("", "tag"),
        ] {
            let mut c = Cursor::new(list);
            let (p, found) = parse_params_finding(&mut c, want).unwrap();
            assert_eq!(c.rest(), "", "{list}");
            assert_eq!(found, p.get(want), "{list} {want}");
        }
    }

    #[test]
    fn stops_at_list_end() {
        let (p, rest) = params(";a=1;b , next").unwrap();
        assert_eq!(p.as_str(), ";a=1;b");
        assert_eq!(rest, " , next");
        assert!(params(";=1").is_none());
        assert!(params(";a=").is_none());
        assert!(params(";a=\"open").is_none());
    }
}
