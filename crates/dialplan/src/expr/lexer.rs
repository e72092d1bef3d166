//! Tokens of `$[...]` expressions, as `main/ast_expr2.fl` cuts them.
//!
//! * operators need no surrounding spaces (`1+1`); the longest operator wins (`::`,
//!   `=~`, `~~`, `==`, `!=`, `<=`, `>=`, `||`, `&&`);
//! * `"..."` is one token, quotes kept;
//! * a run of `[0-9]+(\.[0-9]+)?` is a numeric string;
//! * a run of letters, digits, `.';\_^#@`, bytes >= 0x80 and `$` followed by anything
//!   but `{` is a string token; an unsubstituted `${...}` joins it, with what trails it;
//! * blanks separate tokens; any other character is dropped.

use super::value::Value;

/// One token.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Tok {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
    Plus,
    Minus,
    Mult,
    Div,
    Mod,
    Cond,
    ColonColon,
    Compl,
    Colon,
    EqTilde,
    TildeTilde,
    Comma,
    LParen,
    RParen,
    Token(Value),
}

fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b".';\\_^#@".contains(&c) || c >= 0x80
}

/// Characters that end the text trailing a `${...}` inside a token.
fn ends_trail(c: u8) -> bool {
    b"-\t\r \n$():?%/+=*<>!|&".contains(&c)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Cuts an expression into tokens.
pub(crate) fn lex(input: &str) -> Vec<Tok> {
    let b = input.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        let next = b.get(i + 1).copied();
        let two = |t: Tok| (t, 2);
        let op = match (c, next) {
            (b'|', Some(b'|')) => Some(two(Tok::Or)),
            (b'&', Some(b'&')) => Some(two(Tok::And)),
            (b'=', Some(b'=')) => Some(two(Tok::Eq)),
            (b'=', Some(b'~')) => Some(two(Tok::EqTilde)),
            (b'~', Some(b'~')) => Some(two(Tok::TildeTilde)),
            (b'>', Some(b'=')) => Some(two(Tok::Ge)),
            (b'<', Some(b'=')) => Some(two(Tok::Le)),
            (b'!', Some(b'=')) => Some(two(Tok::Ne)),
            (b':', Some(b':')) => Some(two(Tok::ColonColon)),
            (b'|', _) => Some((Tok::Or, 1)),
            (b'&', _) => Some((Tok::And, 1)),
            (b'=', _) => Some((Tok::Eq, 1)),
            (b'>', _) => Some((Tok::Gt, 1)),
            (b'<', _) => Some((Tok::Lt, 1)),
            (b'+', _) => Some((Tok::Plus, 1)),
            (b',', _) => Some((Tok::Comma, 1)),
            (b'-', _) => Some((Tok::Minus, 1)),
            (b'*', _) => Some((Tok::Mult, 1)),
            (b'/', _) => Some((Tok::Div, 1)),
            (b'%', _) => Some((Tok::Mod, 1)),
            (b'?', _) => Some((Tok::Cond, 1)),
            (b'!', _) => Some((Tok::Compl, 1)),
            (b':', _) => Some((Tok::Colon, 1)),
            (b'(', _) => Some((Tok::LParen, 1)),
            (b')', _) => Some((Tok::RParen, 1)),
            _ => None,
        };
        if let Some((tok, len)) = op {
            out.push(tok);
            i += len;
            continue;
        }
        match c {
            b' ' | b'\t' | b'\r' | b'\n' => i += 1,
            b'"' => match b
                .get(i + 1..)
                .and_then(|r| r.iter().position(|&x| x == b'"'))
            {
                Some(end) => {
                    let stop = i + 1 + end + 1;
                    out.push(Tok::Token(Value::Str(text(
                        b.get(i..stop).unwrap_or_default(),
                    ))));
                    i = stop;
                }
                None => i += 1,
            },
            _ => {
                // Longest run of the general token rule.
                let start = i;
                let mut j = i;
                loop {
                    match b.get(j) {
                        Some(b'$') if b.get(j + 1).is_some_and(|&n| n != b'{') => j += 2,
                        Some(&x) if x != b'$' && is_word(x) => j += 1,
                        _ => break,
                    }
                }
                if b.get(j) == Some(&b'$') && b.get(j + 1) == Some(&b'{') {
                    match scan_var(b, j) {
                        Some(end) => {
                            out.push(Tok::Token(Value::Str(text(
                                b.get(start..end).unwrap_or_default(),
                            ))));
                            i = end;
                        }
                        // An unclosed `${` swallows the rest of the input.
                        None => return out,
                    }
                    continue;
                }
                let mut k = start;
                while b.get(k).is_some_and(u8::is_ascii_digit) {
                    k += 1;
                }
                if k > start
                    && b.get(k) == Some(&b'.')
                    && b.get(k + 1).is_some_and(u8::is_ascii_digit)
                {
                    k += 1;
                    while b.get(k).is_some_and(u8::is_ascii_digit) {
                        k += 1;
                    }
                }
                if j == start {
                    // Not a token character: flex echoes and drops it.
                    i += 1;
                } else if k >= j {
                    out.push(Tok::Token(Value::NumericString(text(
                        b.get(start..k).unwrap_or_default(),
                    ))));
                    i = k;
                } else {
                    out.push(Tok::Token(Value::Str(text(
                        b.get(start..j).unwrap_or_default(),
                    ))));
                    i = j;
                }
            }
        }
    }
    out
}

/// From a `${` at `at`, the end of the token: the balanced `${...}`, then trailing
/// characters up to an operator or blank, possibly more `${...}`.
fn scan_var(b: &[u8], mut at: usize) -> Option<usize> {
    loop {
        // at points at `${`
        let mut depth = 0usize;
        let mut j = at + 2;
        loop {
            match b.get(j)? {
                b'{' => depth += 1,
                b'}' => {
                    if depth == 0 {
                        j += 1;
                        break;
                    }
                    depth -= 1;
                }
                _ => {}
            }
            j += 1;
        }
        while let Some(&c) = b.get(j) {
            if ends_trail(c) {
                break;
            }
            j += 1;
        }
        if b.get(j) == Some(&b'$') && b.get(j + 1) == Some(&b'{') {
            at = j;
            continue;
        }
        return Some(j);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operators_without_spaces() {
        assert_eq!(
            lex("1+1"),
            vec![
                Tok::Token(Value::NumericString("1".into())),
                Tok::Plus,
                Tok::Token(Value::NumericString("1".into()))
            ]
        );
        assert_eq!(lex("a::b").get(1), Some(&Tok::ColonColon));
        assert_eq!(lex("a=~b").get(1), Some(&Tok::EqTilde));
    }

    #[test]
    fn token_kinds() {
        assert_eq!(
            lex("1.5"),
            vec![Tok::Token(Value::NumericString("1.5".into()))]
        );
        assert_eq!(lex("1.2.3"), vec![Tok::Token(Value::Str("1.2.3".into()))]);
        assert_eq!(lex("12ab"), vec![Tok::Token(Value::Str("12ab".into()))]);
        assert_eq!(
            lex("\"a b\""),
            vec![Tok::Token(Value::Str("\"a b\"".into()))]
        );
        assert_eq!(
            lex("x${A}y+1").first(),
            Some(&Tok::Token(Value::Str("x${A}y".into())))
        );
        assert_eq!(lex("~ [ ]"), vec![]);
    }
}
