//! Values of `$[...]` expressions and their operators, with `ast_expr2` semantics.
//!
//! A value is a number, a "numeric string" (digits and dots as lexed, converted to a
//! number when an operator needs one) or a string. Numbers are floating point and print
//! like C's `%.18Lg` (integers without a decimal point).

use regex::Regex;

use super::ld::Ld;
use crate::scope::Scope;

/// Maximum compiled size of a `:` / `=~` regular expression (bytes of the automaton).
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// One expression value.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Value {
    Number(Ld),
    NumericString(String),
    Str(String),
}

impl Value {
    /// `make_str`: a string that is all digits and dots (first char a digit or dot)
    /// becomes a numeric string.
    pub(crate) fn from_text(s: String) -> Value {
        let numeric = s
            .as_bytes()
            .first()
            .is_some_and(|&c| c.is_ascii_digit() || c == b'.')
            && s.bytes().all(|c| c.is_ascii_digit() || c == b'.');
        if numeric {
            Value::NumericString(s)
        } else {
            Value::Str(s)
        }
    }

    /// `to_number`: converts a numeric string in place; false for strings.
    pub(crate) fn make_numeric(&mut self) -> bool {
        match self {
            Value::Number(_) => true,
            Value::Str(_) => false,
            Value::NumericString(s) => {
                let n = Ld::parse_prefix(s);
                *self = Value::Number(n);
                true
            }
        }
    }

    fn num(&self) -> Ld {
        match self {
            Value::Number(n) => *n,
            _ => Ld::ZERO,
        }
    }

    fn is_string(&self) -> bool {
        matches!(self, Value::Str(_))
    }

    /// `to_string`: the text of the value (numbers printed `%.18Lg`).
    pub(crate) fn into_text(self) -> String {
        match self {
            Value::Number(n) => n.format_g18(),
            Value::NumericString(s) | Value::Str(s) => s,
        }
    }

    fn text(&self) -> std::borrow::Cow<'_, str> {
        match self {
            Value::Number(n) => n.format_g18().into(),
            Value::NumericString(s) | Value::Str(s) => s.as_str().into(),
        }
    }

    /// `is_zero_or_null` (converts numeric strings, as Asterisk does).
    pub(crate) fn is_zero_or_null(&mut self) -> bool {
        match self {
            Value::Number(n) => n.is_zero(),
            Value::NumericString(s) | Value::Str(s) if s.is_empty() => true,
            _ => self.make_numeric() && self.num().is_zero(),
        }
    }
}

fn boolean(b: bool) -> Value {
    Value::Number(if b { Ld::from_u64(1) } else { Ld::ZERO })
}

/// The comparison operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Cmp {
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
}

/// `op_eq` & co: string comparison if either side is a string, else numeric.
pub(crate) fn compare(mut a: Value, mut b: Value, op: Cmp) -> Value {
    let ord = if a.is_string() || b.is_string() {
        a.text().as_bytes().partial_cmp(b.text().as_bytes())
    } else {
        a.make_numeric();
        b.make_numeric();
        a.num().partial_cmp(b.num())
    };
    use std::cmp::Ordering::*;
    let r = match (op, ord) {
        (_, None) => op == Cmp::Ne,
        (Cmp::Eq, Some(o)) => o == Equal,
        (Cmp::Ne, Some(o)) => o != Equal,
        (Cmp::Lt, Some(o)) => o == Less,
        (Cmp::Gt, Some(o)) => o == Greater,
        (Cmp::Le, Some(o)) => o != Greater,
        (Cmp::Ge, Some(o)) => o != Less,
    };
    boolean(r)
}

/// `op_or`: the left value unless it is zero or empty, else the right one.
pub(crate) fn or(mut a: Value, b: Value) -> Value {
    if a.is_zero_or_null() { b } else { a }
}

/// `op_and`: the left value if both are non-zero, else 0.
pub(crate) fn and(mut a: Value, mut b: Value) -> Value {
    if a.is_zero_or_null() || b.is_zero_or_null() {
        Value::Number(Ld::ZERO)
    } else {
        a
    }
}

/// `op_plus`: a non-numeric operand is skipped (with a warning).
pub(crate) fn plus(mut a: Value, mut b: Value, scope: &mut dyn Scope) -> Value {
    if !a.make_numeric() {
        scope.warning("non-numeric argument");
        return if b.make_numeric() {
            b
        } else {
            Value::Number(Ld::ZERO)
        };
    }
    if !b.make_numeric() {
        return a;
    }
    Value::Number(a.num().add(b.num()))
}

/// `op_minus`.
pub(crate) fn minus(mut a: Value, mut b: Value, scope: &mut dyn Scope) -> Value {
    if !a.make_numeric() {
        scope.warning("non-numeric argument");
        return if b.make_numeric() {
            Value::Number(Ld::ZERO.sub(b.num()))
        } else {
            Value::Number(Ld::ZERO)
        };
    }
    if !b.make_numeric() {
        scope.warning("non-numeric argument");
        return a;
    }
    Value::Number(a.num().sub(b.num()))
}

/// `op_negate`.
pub(crate) fn negate(mut a: Value, scope: &mut dyn Scope) -> Value {
    if !a.make_numeric() {
        scope.warning("non-numeric argument");
        return Value::Number(Ld::ZERO);
    }
    Value::Number(a.num().neg())
}

/// C `atoi`.
fn atoi(s: &str) -> i64 {
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let b = t.as_bytes();
    let (neg, start) = match b.first() {
        Some(b'-') => (true, 1),
        Some(b'+') => (false, 1),
        _ => (false, 0),
    };
    let mut v: i64 = 0;
    for &c in b.get(start..).unwrap_or_default() {
        if !c.is_ascii_digit() {
            break;
        }
        v = v.saturating_mul(10).saturating_add(i64::from(c - b'0'));
    }
    if neg { -v } else { v }
}

/// `op_compl` (`!`): strings are true when `atoi` of them is non-zero.
pub(crate) fn complement(a: Value) -> Value {
    let truthy = match &a {
        Value::Number(n) => !n.is_zero(),
        Value::Str(s) | Value::NumericString(s) => !(s.is_empty() || s == "0") && atoi(s) != 0,
    };
    boolean(!truthy)
}

/// `op_times`.
pub(crate) fn times(mut a: Value, mut b: Value, scope: &mut dyn Scope) -> Value {
    if !a.make_numeric() || !b.make_numeric() {
        scope.warning("non-numeric argument");
        return Value::Number(Ld::ZERO);
    }
    Value::Number(a.num().mul(b.num()))
}

/// Asterisk's answer to a division by zero (`INT_MAX`).
const DIV_BY_ZERO: u64 = 2_147_483_647;

/// `op_div`: floating point division; division by zero gives `INT_MAX` and a warning.
pub(crate) fn div(mut a: Value, mut b: Value, scope: &mut dyn Scope) -> Value {
    if !a.make_numeric() {
        scope.warning("non-numeric argument");
        return Value::Number(Ld::ZERO);
    }
    if !b.make_numeric() {
        scope.warning("non-numeric argument");
        return Value::Number(Ld::from_u64(DIV_BY_ZERO));
    }
    if b.num().is_zero() {
        scope.warning("division by zero");
        return Value::Number(Ld::from_u64(DIV_BY_ZERO));
    }
    Value::Number(a.num().div(b.num()))
}

/// `op_rem`: `fmod`; by zero returns the zero divisor.
pub(crate) fn rem(mut a: Value, mut b: Value, scope: &mut dyn Scope) -> Value {
    if !a.make_numeric() || !b.make_numeric() {
        scope.warning("non-numeric argument");
        return Value::Number(Ld::ZERO);
    }
    if b.num().is_zero() {
        scope.warning("div by zero");
        return b;
    }
    Value::Number(a.num().fmod(b.num()))
}

/// `op_cond` (`a ? b :: c`).
pub(crate) fn cond(mut a: Value, b: Value, c: Value) -> Value {
    let truthy = match &a {
        Value::Str(s) => !s.is_empty() && s != "\"\"" && s != "0",
        _ => a.make_numeric() && !a.num().is_zero(),
    };
    if truthy { b } else { c }
}

/// `strip_quotes`: when a string starts and ends with `"`, every `"` is removed.
fn strip_quotes(s: String) -> String {
    if s.starts_with('"') && s.ends_with('"') {
        s.chars().filter(|&c| c != '"').collect()
    } else {
        s
    }
}

/// `:` (`anchored`) and `=~`: POSIX-style extended regular expression match. The first
/// capture group's text when the pattern has one, else the match length; no match
/// gives 0 (or "" when the pattern has a group). A bad pattern gives "".
pub(crate) fn regex_match(a: Value, b: Value, anchored: bool, scope: &mut dyn Scope) -> Value {
    let subject = strip_quotes(a.into_text());
    let pattern = strip_quotes(b.into_text());
    let re = match regex::RegexBuilder::new(&pattern)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_SIZE_LIMIT)
        .build()
    {
        Ok(re) => re,
        Err(e) => {
            scope.warning(&format!("regcomp() error : {e}"));
            return Value::Str(String::new());
        }
    };
    run_regex(&re, &subject, anchored)
}

fn run_regex(re: &Regex, subject: &str, anchored: bool) -> Value {
    let groups = re.captures_len() > 1;
    match re.captures(subject) {
        Some(caps) if !anchored || caps.get(0).is_some_and(|m| m.start() == 0) => {
            match caps.get(1) {
                Some(g) => Value::from_text(g.as_str().to_owned()),
                None if groups => Value::Str(String::new()),
                None => {
                    let len = caps.get(0).map_or(0, |m| m.len());
                    Value::Number(Ld::from_u64(u64::try_from(len).unwrap_or(u64::MAX)))
                }
            }
        }
        _ => {
            if groups {
                Value::Str(String::new())
            } else {
                Value::Number(Ld::ZERO)
            }
        }
    }
}

/// `~~`: string concatenation.
pub(crate) fn concat(a: Value, b: Value) -> Value {
    let mut s = strip_quotes(a.into_text());
    s.push_str(&strip_quotes(b.into_text()));
    Value::from_text(s)
}

/// The math functions `ast_expr2` evaluates itself, by name and arity.
pub(crate) fn math_function(name: &str, args: &mut [Value]) -> Option<Result<Value, ()>> {
    let one = |f: fn(f64) -> f64, args: &mut [Value]| -> Result<Value, ()> {
        match args {
            [a] => {
                a.make_numeric();
                Ok(Value::Number(Ld::from_f64(f(a.num().to_f64()))))
            }
            _ => Err(()),
        }
    };
    let two = |f: fn(f64, f64) -> f64, args: &mut [Value]| -> Result<Value, ()> {
        match args {
            [a, b] => {
                a.make_numeric();
                b.make_numeric();
                Ok(Value::Number(Ld::from_f64(f(
                    a.num().to_f64(),
                    b.num().to_f64(),
                ))))
            }
            _ => Err(()),
        }
    };
    let r = match name {
        "COS" => one(f64::cos, args),
        "SIN" => one(f64::sin, args),
        "TAN" => one(f64::tan, args),
        "ACOS" => one(f64::acos, args),
        "ASIN" => one(f64::asin, args),
        "ATAN" => one(f64::atan, args),
        "ATAN2" => two(f64::atan2, args),
        "POW" => two(f64::powf, args),
        "SQRT" => one(f64::sqrt, args),
        "FLOOR" => one(f64::floor, args),
        "CEIL" => one(f64::ceil, args),
        "ROUND" => one(f64::round, args),
        "RINT" => one(f64::round_ties_even, args),
        "TRUNC" => one(f64::trunc, args),
        "EXP" => one(f64::exp, args),
        "EXP2" => one(f64::exp2, args),
        "EXP10" => one(|x| 10f64.powf(x), args),
        "LOG" => one(f64::ln, args),
        "LOG2" => one(f64::log2, args),
        "LOG10" => one(f64::log10, args),
        "REMAINDER" => two(c_remainder, args),
        "ABS" => match args {
            [a] => {
                a.make_numeric();
                let n = a.num();
                let negative = n.partial_cmp(Ld::ZERO) == Some(std::cmp::Ordering::Less);
                Ok(Value::Number(if negative { n.neg() } else { n }))
            }
            _ => Err(()),
        },
        _ => return None,
    };
    Some(r)
}

/// C `remainder`: `x - n*y` with `n` the integer nearest `x/y` (ties to even).
fn c_remainder(x: f64, y: f64) -> f64 {
    if y == 0.0 || x.is_infinite() || x.is_nan() || y.is_nan() {
        return f64::NAN;
    }
    x - (x / y).round_ties_even() * y
}

/// `is_really_num` of a function result: only `-0123456789. \t` characters (the
/// empty string included) reads as a number.
pub(crate) fn function_result(s: String) -> Value {
    if s.bytes().all(|c| b"-0123456789. \t".contains(&c)) {
        Value::Number(Ld::parse_prefix(&s))
    } else {
        Value::from_text(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_strings_convert_like_strtold() {
        let mut v = Value::NumericString("1.2.3".into());
        assert!(v.make_numeric());
        assert_eq!(v.into_text(), "1.2");
        let mut v = Value::NumericString(".".into());
        assert!(v.make_numeric());
        assert_eq!(v.into_text(), "0");
        assert_eq!(function_result("  -5".into()).into_text(), "-5");
        assert_eq!(function_result(String::new()).into_text(), "0");
        assert_eq!(function_result("12ab".into()), Value::Str("12ab".into()));
    }
}
