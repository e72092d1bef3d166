//! Application argument splitting, as Asterisk's `ast_app_separate_args`
//! (`AST_STANDARD_APP_ARGS`) in `main/app.c`.
//!
//! The argument string (after substitution) is split on `,` except inside `(...)`,
//! `[...]` or double quotes. In the standard form double quotes are removed and a
//! backslash makes the next character literal (`\,` is a comma inside an argument,
//! `\\` a backslash). `|` is not a separator (the pre-1.6 form is gone). A trailing
//! separator yields one more, empty, argument; an empty string has no arguments.

/// Splits `data` on `delim` with quote/paren/bracket grouping.
///
/// * `remove_chars`: remove quotes and escaping backslashes (`AST_STANDARD_APP_ARGS`);
///   `false` keeps them (`AST_NONSTANDARD_RAW_ARGS`).
/// * `max`: at most this many arguments; the last one then receives the raw rest of
///   the string, as Asterisk does when the argument array is full.
pub fn separate_args(
    data: &str,
    delim: char,
    remove_chars: bool,
    max: Option<usize>,
) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    if data.is_empty() || max == Some(0) {
        return out;
    }
    let chars: Vec<char> = data.chars().collect();
    let (mut paren, mut bracket) = (0u32, 0u32);
    let mut quote = false;
    let mut i = 0;
    let mut ended_on_delim = false;
    while i < chars.len() {
        if max.is_some_and(|m| out.len() + 1 >= m) {
            out.push(chars.get(i..).unwrap_or_default().iter().collect());
            return out;
        }
        let mut arg = String::new();
        ended_on_delim = false;
        while let Some(&c) = chars.get(i) {
            i += 1;
            match c {
                '(' => paren += 1,
                ')' => paren = paren.saturating_sub(1),
                '[' => bracket += 1,
                ']' => bracket = bracket.saturating_sub(1),
                '"' if delim != '"' => {
                    quote = !quote;
                    if remove_chars {
                        continue;
                    }
                }
                '\\' => {
                    if remove_chars {
                        if let Some(&next) = chars.get(i) {
                            arg.push(next);
                            i += 1;
                        }
                    } else {
                        arg.push(c);
                        if let Some(&next) = chars.get(i) {
                            arg.push(next);
                            i += 1;
                        }
                    }
                    continue;
                }
                _ if c == delim && paren == 0 && bracket == 0 && !quote => {
                    ended_on_delim = true;
                    break;
                }
                _ => {}
            }
            arg.push(c);
        }
        out.push(arg);
    }
    if ended_on_delim {
        out.push(String::new());
    }
    out
}

/// `AST_STANDARD_APP_ARGS`: split on `,`, removing quotes and escapes.
pub fn standard_args(data: &str) -> Vec<String> {
    separate_args(data, ',', true, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commas_quotes_parens_brackets_escapes() {
        assert_eq!(standard_args("a,b,c"), ["a", "b", "c"]);
        assert_eq!(standard_args(""), Vec::<String>::new());
        assert_eq!(standard_args("a,"), ["a", ""]);
        assert_eq!(standard_args(",a"), ["", "a"]);
        assert_eq!(standard_args("a,,b"), ["a", "", "b"]);
        assert_eq!(standard_args("\"a,b\",c"), ["a,b", "c"]);
        assert_eq!(standard_args("f(a,b),c"), ["f(a,b)", "c"]);
        assert_eq!(standard_args("x[1,2],c"), ["x[1,2]", "c"]);
        assert_eq!(standard_args("a\\,b,c"), ["a,b", "c"]);
        assert_eq!(standard_args("a\\\\,b"), ["a\\", "b"]);
        assert_eq!(
            standard_args("a|b"),
            ["a|b"],
            "legacy '|' is not a separator"
        );
        assert_eq!(
            standard_args("PJSIP/alice&PJSIP/bob,30,tT"),
            ["PJSIP/alice&PJSIP/bob", "30", "tT"]
        );
    }

    #[test]
    fn raw_form_and_limits() {
        assert_eq!(
            separate_args("\"a,b\",c\\,d", ',', false, None),
            ["\"a,b\"", "c\\,d"]
        );
        assert_eq!(separate_args("a,b,c,d", ',', true, Some(2)), ["a", "b,c,d"]);
        assert_eq!(separate_args("a^b^c", '^', true, None), ["a", "b", "c"]);
    }

    #[test]
    fn unbalanced_closers_do_not_underflow() {
        assert_eq!(standard_args("a),b"), ["a)", "b"]);
    }
}
