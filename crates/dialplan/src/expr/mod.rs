//! `$[...]` expressions with the semantics of Asterisk's `ast_expr2`.
//!
//! The text handed to [`evaluate`] is what sits between `$[` and `]` *after* `${}`
//! substitution, exactly as Asterisk does it. Highlights of the semantics:
//!
//! * numbers are floating point: `$[7/2]` is `3.5`; a division by zero gives
//!   `2147483647` (Asterisk's `INT_MAX`) and a warning;
//! * comparisons are numeric when both sides are numbers, else byte-wise string
//!   comparisons, and give `1` or `0`;
//! * `|` returns its left operand unless it is zero or empty, `&` its left operand
//!   when both are non-zero;
//! * `a : re` matches `re` (extended regex) at the start of `a` and gives the first
//!   group or the match length; `a =~ re` matches anywhere; `~~` concatenates;
//! * `COS`, `SQRT`, `POW`, ... are built in; other `NAME(args)` call a dialplan
//!   function through [`Scope::call_function`](crate::Scope::call_function);
//! * a syntax error makes the whole expression `0` in substitution (see
//!   [`crate::substitute`]); here it is an [`ExprError`].
//!
//! Numbers are computed like Asterisk's `long double` (a software 80-bit extended
//! type, so `$[1/3]` prints `0.333333333333333333` as Asterisk does); only the math
//! functions go through `f64` and may differ in the last printed digits.
//! Regular expressions use the `regex` crate (leftmost-first, not POSIX
//! leftmost-longest; no back-references).

mod ld;
mod lexer;
mod parser;
mod value;

use thiserror::Error;

use crate::scope::Scope;

/// Nesting limit of an expression (parentheses, unary operators, operands).
pub const MAX_EXPR_DEPTH: usize = parser::MAX_DEPTH;

/// Why an expression could not be evaluated.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ExprError {
    /// Asterisk's `ast_yyerror`: the text is not an expression.
    #[error("syntax error: {0}")]
    Syntax(String),
    /// Nested deeper than [`MAX_EXPR_DEPTH`].
    #[error("expression nested deeper than {MAX_EXPR_DEPTH} levels")]
    TooDeep,
}

/// Evaluates an expression (the inside of `$[...]`, already substituted) to its text.
pub fn evaluate(expr: &str, scope: &mut dyn Scope) -> Result<String, ExprError> {
    let toks = lexer::lex(expr);
    let mut p = parser::Parser::new(toks, scope);
    p.parse_all().map(value::Value::into_text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scope::{FunctionError, MapScope};

    fn ev(e: &str) -> String {
        let mut s = MapScope::default();
        evaluate(e, &mut s).unwrap_or_else(|err| format!("ERR {err}"))
    }

    #[test]
    fn asterisk_table() {
        // (input, what Asterisk's ast_expr2 gives) — values from ast_expr2.y semantics.
        let table: &[(&str, &str)] = &[
            ("1 + 1", "2"),
            ("1+1", "2"),
            ("2 * 3 + 4", "10"),
            ("2 + 3 * 4", "14"),
            ("(2 + 3) * 4", "20"),
            ("7 / 2", "3.5"),
            ("10 / 5", "2"),
            ("7 % 3", "1"),
            ("-7 % 3", "-1"),
            ("5.5 % 2", "1.5"),
            ("1 / 0", "2147483647"),
            ("5 % 0", "0"),
            ("- 5", "-5"),
            ("-5 + 1", "-4"),
            ("3 - -2", "5"),
            ("! 0", "1"),
            ("! 5", "0"),
            ("!abc", "1"),
            ("!\"\"", "1"),
            ("1 = 1", "1"),
            ("1 == 1.0", "1"),
            ("01 = 1", "1"),
            ("abc = abc", "1"),
            ("abc = ABC", "0"),
            ("abc != def", "1"),
            ("10 < 9", "0"),
            ("abc < abd", "1"),
            ("10 < 9a", "1"),
            ("2 <= 2", "1"),
            ("3 >= 4", "0"),
            ("1 < 2 < 3", "1"),
            ("0 | 5", "5"),
            ("3 | 5", "3"),
            ("\"\" | x", "\"\""),
            ("abc | x", "abc"),
            ("007 | 5", "7"),
            ("3 & 5", "3"),
            ("0 & 5", "0"),
            ("3 & 0", "0"),
            ("1 ? yes :: no", "yes"),
            ("0 ? yes :: no", "no"),
            ("abc ? yes :: no", "yes"),
            ("\"\" ? yes :: no", "no"),
            ("1 = 2 ? a :: b", "b"),
            ("1 ? 0 ? x :: y :: z", "y"),
            ("abc : ab", "2"),
            ("abc : b", "0"),
            ("abc =~ b", "1"),
            // Unquoted parentheses group the expression, not the regex.
            ("abcdef : (bcd)", "0"),
            ("abcdef : \"(bcd)\"", ""),
            ("abcdef : \"a(bcd)\"", "bcd"),
            ("abcdef =~ \"(c.)\"", "cd"),
            ("5551212 : \"555(.*)\"", "1212"),
            ("\"a b c\" : \"a (.)\"", "b"),
            ("foo ~~ bar", "foobar"),
            ("1 ~~ 2", "12"),
            ("\"hello world\"", "\"hello world\""),
            ("\"a\" = \"a\"", "1"),
            ("", ""),
            ("   ", ""),
            ("abc + 1", "1"),
            ("1 + abc", "1"),
            ("abc * 2", "0"),
            ("abc - 2", "-2"),
            ("1.5 + 1.5", "3"),
            ("0.1 + 0.2", "0.3"),
            ("1 / 3", "0.333333333333333333"),
            ("2 / 3", "0.666666666666666667"),
            ("100 / 7", "14.2857142857142857"),
            ("1.1 * 1.1", "1.21"),
            ("-4 % 2", "-0"),
            ("99999999999 * 99999999999", "9.9999999998e+21"),
            ("123456789012345678 + 1", "123456789012345679"),
            ("COS(0)", "1"),
            ("SQRT(16)", "4"),
            ("POW(2,10)", "1024"),
            ("FLOOR(2.7)", "2"),
            ("CEIL(2.1)", "3"),
            ("ROUND(2.5)", "3"),
            ("RINT(2.5)", "2"),
            ("TRUNC(-2.7)", "-2"),
            ("ABS(-3)", "3"),
            ("REMAINDER(10,3)", "1"),
            ("POW(2)", "0"),
            ("lower(1)", "0"),
            ("1 + 1 = 2", "1"),
            ("3 * -1", "-3"),
            ("- 2 : 2", "-1"),
            ("- 2 : 1", "-0"),
            ("2 = 2 | 0", "1"),
            ("0 = 1 & 1", "0"),
        ];
        for (input, want) in table {
            assert_eq!(ev(input), *want, "$[{input}]");
        }
    }

    #[test]
    fn syntax_errors() {
        for e in ["1 +", "(1", "1)", "* 2", "1 ? 2", "F()", "1 , 2", "F(,1)"] {
            assert!(
                matches!(
                    evaluate(e, &mut MapScope::default()),
                    Err(ExprError::Syntax(_))
                ),
                "{e}"
            );
        }
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = format!("{}1{}", "(".repeat(10_000), ")".repeat(10_000));
        assert_eq!(
            evaluate(&deep, &mut MapScope::default()),
            Err(ExprError::TooDeep)
        );
        let bangs = format!("{}1", "!".repeat(10_000));
        assert_eq!(
            evaluate(&bangs, &mut MapScope::default()),
            Err(ExprError::TooDeep)
        );
        let long = vec!["1"; 50_000].join("+");
        assert_eq!(ev(&long), "50000");
    }

    #[test]
    fn dialplan_functions_are_called_with_joined_arguments() {
        let mut s = MapScope::default();
        s.functions
            .insert("LEN".into(), |args| Ok(args.len().to_string()));
        s.functions
            .insert("FAIL".into(), |_| Err(FunctionError::Failed("nope".into())));
        s.functions.insert("EMPTY".into(), |_| Ok(String::new()));
        assert_eq!(evaluate("LEN(abc) + 1", &mut s).as_deref(), Ok("4"));
        assert_eq!(evaluate("LEN(a,b)", &mut s).as_deref(), Ok("3"));
        assert_eq!(evaluate("LEN(1+1)", &mut s).as_deref(), Ok("1"));
        assert_eq!(evaluate("FAIL(x)", &mut s).as_deref(), Ok("0"));
        assert_eq!(evaluate("EMPTY(x) = 0", &mut s).as_deref(), Ok("1"));
        assert_eq!(evaluate("NOSUCH(x)", &mut s).as_deref(), Ok("0"));
        assert!(s.warnings.iter().any(|w| w.contains("nope")));
    }

    #[test]
    fn warnings_are_reported() {
        let mut s = MapScope::default();
        assert_eq!(evaluate("1/0", &mut s).as_deref(), Ok("2147483647"));
        assert_eq!(s.warnings, vec!["division by zero".to_owned()]);
    }

    #[test]
    fn bad_regex_gives_empty() {
        assert_eq!(ev("abc : \"(\""), "");
    }
}
