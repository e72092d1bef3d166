//! `${VAR}`, `${VAR:offset:length}`, `${FUNC(args)}` and `$[expr]` substitution, as
//! `pbx_substitute_variables_helper_full` in Asterisk's `main/pbx_variables.c`.
//!
//! * text is copied up to the next `${` or `$[`; a `$` followed by anything else is
//!   literal. There is **no** backslash escape at this stage: `\${X}` substitutes `X`
//!   and keeps the backslash, which argument splitting ([`crate::args`]) removes later;
//! * the name inside `${...}` (braces balanced) and the text inside `$[...]`
//!   (brackets balanced) are substituted first when they contain `${` or `$[`, so
//!   `${${X}}` and `$[ ${A} + 1 ]` work;
//! * a name containing `(` is a function call (`FUNC(args)`, arguments up to the last
//!   `)`); a failed function substitutes nothing;
//! * `:offset[:length]` after the name (outside parentheses) takes a byte substring:
//!   a negative offset counts from the end, a negative length stops that many bytes
//!   before the end;
//! * a missing `}` or `]` takes the rest of the string (with a warning); an expression
//!   that does not parse gives `0`.

use crate::expr;
use crate::scope::Scope;

/// Nesting limit of `${${...}}` / `$[$[...]]`: deeper input is left unsubstituted.
pub const MAX_SUBST_DEPTH: usize = 64;

/// Substitutes variables, functions and expressions in `template`.
pub fn substitute(template: &str, scope: &mut dyn Scope) -> String {
    let mut out = String::with_capacity(template.len());
    substitute_into(template, scope, &mut out);
    out
}

/// [`substitute`] appending to `out` (reuses its allocation).
pub fn substitute_into(template: &str, scope: &mut dyn Scope, out: &mut String) {
    run(template, scope, out, 0);
}

fn run(template: &str, scope: &mut dyn Scope, out: &mut String, depth: usize) {
    if depth >= MAX_SUBST_DEPTH {
        scope.warning("substitution nested too deeply");
        out.push_str(template);
        return;
    }
    let b = template.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let Some(off) = b.get(i..).and_then(|r| r.iter().position(|&c| c == b'$')) else {
            out.push_str(template.get(i..).unwrap_or_default());
            return;
        };
        let dollar = i + off;
        match b.get(dollar + 1) {
            Some(b'{') => {
                out.push_str(template.get(i..dollar).unwrap_or_default());
                let (inner, needsub, next) = scan(b, dollar + 2, b'{', b'}', scope);
                let inner = template.get(inner).unwrap_or_default();
                let name = if needsub {
                    let mut s = String::new();
                    run(inner, scope, &mut s, depth + 1);
                    std::borrow::Cow::Owned(s)
                } else {
                    std::borrow::Cow::Borrowed(inner)
                };
                variable(&name, scope, out);
                i = next;
            }
            Some(b'[') => {
                out.push_str(template.get(i..dollar).unwrap_or_default());
                let (inner, needsub, next) = scan(b, dollar + 2, b'[', b']', scope);
                let inner = template.get(inner).unwrap_or_default();
                let text = if needsub {
                    let mut s = String::new();
                    run(inner, scope, &mut s, depth + 1);
                    std::borrow::Cow::Owned(s)
                } else {
                    std::borrow::Cow::Borrowed(inner)
                };
                match expr::evaluate(&text, scope) {
                    Ok(v) => out.push_str(&v),
                    Err(e) => {
                        scope.warning(&e.to_string());
                        out.push('0');
                    }
                }
                i = next;
            }
            _ => {
                out.push_str(template.get(i..=dollar).unwrap_or_default());
                i = dollar + 1;
            }
        }
    }
}

/// From just after `${` / `$[`: the inner byte range, whether it needs substituting,
/// and where to continue.
fn scan(
    b: &[u8],
    start: usize,
    open: u8,
    close: u8,
    scope: &mut dyn Scope,
) -> (std::ops::Range<usize>, bool, usize) {
    let mut depth = 1usize;
    let mut needsub = false;
    let mut j = start;
    while let Some(&c) = b.get(j) {
        if c == b'$' && matches!(b.get(j + 1), Some(b'{' | b'[')) {
            needsub = true;
            if b.get(j + 1) == Some(&open) {
                depth += 1;
            }
            j += 2;
            continue;
        }
        if c == open {
            depth += 1;
        } else if c == close {
            depth -= 1;
            if depth == 0 {
                return (start..j, needsub, j + 1);
            }
        }
        j += 1;
    }
    scope.warning(&format!(
        "Error in extension logic (missing '{}')",
        char::from(close)
    ));
    (start..b.len(), needsub, b.len())
}

/// Splits `NAME:offset:length` (the colon outside parentheses); returns the name part,
/// whether it is a function call, and the substring parameters.
fn parse_variable_name(s: &str) -> (&str, bool, i64, i64) {
    let mut parens = 0i32;
    let mut is_function = false;
    for (idx, c) in s.bytes().enumerate() {
        match c {
            b'(' => {
                is_function = true;
                parens += 1;
            }
            b')' => parens -= 1,
            b':' if parens == 0 => {
                let rest = s.get(idx + 1..).unwrap_or_default();
                let (offset, length) = scan_offsets(rest);
                return (
                    s.get(..idx).unwrap_or_default(),
                    is_function,
                    offset,
                    length,
                );
            }
            _ => {}
        }
    }
    (s, is_function, 0, i64::from(i32::MAX))
}

/// `sscanf("%d:%d")`: missing numbers keep their defaults (0, everything).
fn scan_offsets(rest: &str) -> (i64, i64) {
    let all = i64::from(i32::MAX);
    let Some((offset, used)) = c_int_prefix(rest) else {
        return (0, all);
    };
    let length = match rest.get(used..).and_then(|r| r.strip_prefix(':')) {
        Some(r) => c_int_prefix(r).map_or(all, |(v, _)| v),
        None => all,
    };
    (offset, length)
}

/// `%d`: optional blanks, sign, digits (clamped to `i32`); the value and the bytes used.
fn c_int_prefix(s: &str) -> Option<(i64, usize)> {
    let blanks = s.len() - s.trim_start().len();
    let b = s.as_bytes().get(blanks..).unwrap_or_default();
    let (neg, start) = match b.first() {
        Some(b'-') => (true, 1),
        Some(b'+') => (false, 1),
        _ => (false, 0),
    };
    let digits = b
        .get(start..)
        .unwrap_or_default()
        .iter()
        .take_while(|c| c.is_ascii_digit())
        .count();
    if digits == 0 {
        return None;
    }
    let mut v: i64 = 0;
    for &c in b.get(start..start + digits).unwrap_or_default() {
        v = (v * 10 + i64::from(c - b'0')).min(i64::from(i32::MAX) + 1);
    }
    let v = if neg { -v } else { v };
    Some((
        v.clamp(i64::from(i32::MIN), i64::from(i32::MAX)),
        blanks + start + digits,
    ))
}

/// Asterisk's `substring()`: byte offsets, negative offset from the end, negative
/// length stops before the end.
pub fn substring(value: &str, offset: i64, length: i64) -> &str {
    let b = value.as_bytes();
    let lr = i64::try_from(b.len()).unwrap_or(i64::MAX);
    if offset == 0 && length >= lr {
        return value;
    }
    let mut offset = offset;
    if offset < 0 {
        offset = (lr + offset).max(0);
    }
    if offset >= lr {
        return "";
    }
    let end = if length >= 0 && length < lr - offset {
        offset + length
    } else if length < 0 {
        if lr > offset - length {
            lr + length
        } else {
            offset
        }
    } else {
        lr
    };
    let (Ok(start), Ok(end)) = (usize::try_from(offset), usize::try_from(end)) else {
        return "";
    };
    // Byte positions may split a UTF-8 sequence; widen to character boundaries.
    let start = (start..=b.len())
        .find(|&k| value.is_char_boundary(k))
        .unwrap_or(b.len());
    let end = (end..=b.len())
        .find(|&k| value.is_char_boundary(k))
        .unwrap_or(b.len());
    value.get(start..end.max(start)).unwrap_or_default()
}

fn variable(spec: &str, scope: &mut dyn Scope, out: &mut String) {
    let (name, is_function, offset, length) = parse_variable_name(spec);
    if is_function {
        let (fname, args) = match name.split_once('(') {
            Some((f, rest)) => match rest.rfind(')') {
                Some(p) => (f, rest.get(..p).unwrap_or_default()),
                None => {
                    scope.warning(&format!(
                        "Can't find trailing parenthesis for function '{name}'"
                    ));
                    (f, rest)
                }
            },
            None => (name, ""),
        };
        match scope.call_function(fname, args) {
            Ok(v) => out.push_str(substring(&v, offset, length)),
            Err(e) => scope.warning(&e.to_string()),
        }
    } else if let Some(v) = scope.var(name) {
        out.push_str(substring(&v, offset, length));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scope::MapScope;

    fn sub(t: &str) -> String {
        let mut s = MapScope::with_vars([
            ("EXTEN", "5551212"),
            ("A", "4"),
            ("X", "A"),
            ("NAME", "EXTEN"),
            ("EMPTY", ""),
            ("Y", "${A}"),
        ]);
        s.functions
            .insert("LEN".into(), |a| Ok(a.len().to_string()));
        s.functions.insert("ECHO".into(), |a| Ok(a.to_owned()));
        substitute(t, &mut s)
    }

    #[test]
    fn variables_and_substrings() {
        // dialplan.md §4: ${EXTEN:1}, ${EXTEN:-4}, ${EXTEN:0:-1}.
        assert_eq!(sub("${EXTEN}"), "5551212");
        assert_eq!(sub("${EXTEN:1}"), "551212");
        assert_eq!(sub("${EXTEN:-4}"), "1212");
        assert_eq!(sub("${EXTEN:0:-1}"), "555121");
        assert_eq!(sub("${EXTEN:1:3}"), "551");
        assert_eq!(sub("${EXTEN:-4:2}"), "12");
        assert_eq!(sub("${EXTEN:-100}"), "5551212");
        assert_eq!(sub("${EXTEN:100}"), "");
        assert_eq!(sub("${EXTEN:2:-2}"), "512");
        assert_eq!(sub("${EXTEN:5:-5}"), "");
        assert_eq!(sub("PJSIP/${EXTEN:1}@trunk"), "PJSIP/551212@trunk");
        assert_eq!(sub("[${NOPE}]"), "[]");
        assert_eq!(sub("${EMPTY}x"), "x");
    }

    #[test]
    fn nesting_functions_and_expressions() {
        assert_eq!(sub("${${X}}"), "4");
        assert_eq!(sub("${${NAME}:-2}"), "12");
        assert_eq!(sub("$[ ${A} + 1 ]"), "5");
        assert_eq!(sub("$[${A} + 1 = 5]"), "1");
        assert_eq!(sub("$[$[1+1]*3]"), "6");
        assert_eq!(sub("${LEN(${EXTEN})}"), "7");
        assert_eq!(sub("${ECHO(a(b)c)}"), "a(b)c");
        assert_eq!(sub("${ECHO(hello):1:3}"), "ell");
        assert_eq!(sub("${NOFUNC(x)}y"), "y");
        assert_eq!(sub("${Y}"), "${A}", "values are not substituted again");
    }

    #[test]
    fn dollar_without_brace_and_escapes() {
        assert_eq!(sub("cost $5"), "cost $5");
        assert_eq!(sub("$"), "$");
        // No escape at substitution time: the backslash stays for argument splitting.
        assert_eq!(sub("\\${A}"), "\\4");
    }

    #[test]
    fn unterminated_and_bad_expressions() {
        assert_eq!(
            sub("x${A"),
            "x4",
            "a missing '}}' takes the rest as the name"
        );
        assert_eq!(sub("$[1 +]"), "0");
        assert_eq!(sub("$[]"), "");
        assert_eq!(sub("$[1+1"), "2");
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        let deep = format!("{}A{}", "${".repeat(5000), "}".repeat(5000));
        let _ = sub(&deep);
        let deep = format!("{}1{}", "$[".repeat(5000), "]".repeat(5000));
        let _ = sub(&deep);
    }
}
