//! `MATH(number1 op number2[,type])`: one arithmetic, bitwise or comparison
//! operation, as `func_math.c` reads it: operators `* / % ^ AND XOR OR >>
//! << >= <= > < == + -`; result type `f`/`float` (default, six decimals),
//! `i`/`int`, `h`/`hex` or `c`/`char`; comparisons give `TRUE`/`FALSE`.

use obelus_dialplan::FunctionError;
use obelus_dialplan::args::standard_args;

use super::scan::scan_float;
use crate::registry::{Function, FunctionContext};

/// `MATH`.
pub struct Math;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
    Shl,
    Shr,
    And,
    Xor,
    Or,
    Gt,
    Lt,
    Ge,
    Le,
    Eq,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Float,
    Int,
    Hex,
    Char,
}

fn failed(message: impl Into<String>) -> FunctionError {
    FunctionError::Failed(message.into())
}

/// Finds the operator the way Asterisk does: the first operator kind (in a
/// fixed order) present anywhere, so that `-` is tried last and a negative
/// second operand still works.
fn split(expr: &str) -> Option<(&str, Op, &str)> {
    let find = |pat: &str| expr.find(pat).map(|i| (i, pat.len()));
    let at = |i: usize, len: usize, op| Some((&expr[..i], op, &expr[i + len..]));
    for (pat, op) in [
        ("*", Op::Mul),
        ("/", Op::Div),
        ("%", Op::Mod),
        ("^", Op::Pow),
    ] {
        if let Some((i, len)) = find(pat) {
            return at(i, len, op);
        }
    }
    for (pat, op) in [("AND", Op::And), ("XOR", Op::Xor), ("OR", Op::Or)] {
        if let Some((i, len)) = find(pat) {
            return at(i, len, op);
        }
    }
    if let Some(i) = expr.find('>') {
        return match expr.as_bytes().get(i + 1) {
            Some(b'=') => at(i, 2, Op::Ge),
            Some(b'>') => at(i, 2, Op::Shr),
            _ => at(i, 1, Op::Gt),
        };
    }
    if let Some(i) = expr.find('<') {
        return match expr.as_bytes().get(i + 1) {
            Some(b'=') => at(i, 2, Op::Le),
            Some(b'<') => at(i, 2, Op::Shl),
            _ => at(i, 1, Op::Lt),
        };
    }
    if let Some(i) = expr.find('=') {
        return if expr.as_bytes().get(i + 1) == Some(&b'=') {
            at(i, 2, Op::Eq)
        } else {
            None
        };
    }
    if let Some(i) = expr.find('+') {
        return at(i, 1, Op::Add);
    }
    expr.find('-').and_then(|i| at(i, 1, Op::Sub))
}

/// C's `(int)` conversion of a double, saturating instead of undefined.
fn int(x: f64) -> i32 {
    x as i32
}

/// Evaluates `expr` (`3*4`, `-7/2`, `6AND3`) to Asterisk's text.
pub fn math(expr: &str, kind: Option<&str>) -> Result<String, FunctionError> {
    let (negative, body) = match expr.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, expr),
    };
    let kind = match kind.map(str::to_ascii_lowercase).as_deref() {
        None | Some("f" | "float") => Kind::Float,
        Some("i" | "int") => Kind::Int,
        Some("h" | "hex") => Kind::Hex,
        Some("c" | "char") => Kind::Char,
        Some(other) => {
            return Err(failed(format!(
                "Unknown type of result requested '{other}'."
            )));
        }
    };
    let (left, op, right) =
        split(body).ok_or_else(|| failed("Supply all the parameters - just this once, please"))?;
    let a = scan_float(left).ok_or_else(|| failed(format!("'{left}' is not a valid number")))?;
    let b = scan_float(right).ok_or_else(|| failed(format!("'{right}' is not a valid number")))?;
    let a = if negative { -a } else { a };
    let compare = |t: bool| Ok(if t { "TRUE" } else { "FALSE" }.to_owned());
    let value = match op {
        Op::Add => a + b,
        Op::Sub => a - b,
        Op::Mul => a * b,
        Op::Div => {
            if b <= 0.0 {
                0.0
            } else {
                a / b
            }
        }
        Op::Mod => {
            let d = int(b);
            if d == 0 {
                0.0
            } else {
                f64::from(int(a).wrapping_rem(d))
            }
        }
        Op::Pow => a.powf(b),
        Op::Shl => f64::from(int(a).wrapping_shl(int(b).cast_unsigned())),
        Op::Shr => f64::from(int(a).wrapping_shr(int(b).cast_unsigned())),
        Op::And => f64::from(int(a) & int(b)),
        Op::Xor => f64::from(int(a) ^ int(b)),
        Op::Or => f64::from(int(a) | int(b)),
        Op::Gt => return compare(a > b),
        Op::Lt => return compare(a < b),
        Op::Ge => return compare(a >= b),
        Op::Le => return compare(a <= b),
        Op::Eq => return compare(a == b),
    };
    Ok(match kind {
        Kind::Float => format!("{value:.6}"),
        Kind::Int => int(value).to_string(),
        Kind::Hex => format!("{:x}", int(value).cast_unsigned()),
        Kind::Char => char::from(int(value).to_le_bytes()[0]).to_string(),
    })
}

impl Function for Math {
    fn name(&self) -> &'static str {
        "MATH"
    }

    fn synopsis(&self) -> &'static str {
        "Performs Mathematical Functions."
    }

    fn read(&self, _cx: &FunctionContext<'_>, args: &str) -> Result<String, FunctionError> {
        let args = standard_args(args);
        let Some(expr) = args.first().filter(|e| !e.is_empty()) else {
            return Err(failed(
                "Syntax: MATH(<number1><op><number 2>[,<type_of_result>]) - missing argument!",
            ));
        };
        math(expr, args.get(1).map(String::as_str))
    }
}

#[cfg(test)]
mod tests {
    use super::math;
    use crate::functions::test_support::on_channel;

    #[test]
    fn operations_as_func_math() {
        let m = |e: &str, k: Option<&str>| math(e, k).unwrap_or_else(|e| format!("ERR {e}"));
        assert_eq!(m("3*4", None), "12.000000");
        assert_eq!(m("7/2", None), "3.500000");
        assert_eq!(m("7/0", None), "0.000000");
        assert_eq!(m("7%3", Some("i")), "1");
        assert_eq!(m("2^10", Some("int")), "1024");
        assert_eq!(m("10-3", Some("i")), "7");
        assert_eq!(m("-10-3", Some("i")), "-13");
        assert_eq!(m("10*-3", Some("i")), "-30");
        assert_eq!(m("1+1", Some("i")), "2");
        assert_eq!(m("255+0", Some("h")), "ff");
        assert_eq!(m("65+0", Some("c")), "A");
        assert_eq!(m("6AND3", Some("i")), "2");
        assert_eq!(m("6XOR3", Some("i")), "5");
        assert_eq!(m("6OR3", Some("i")), "7");
        assert_eq!(m("1<<4", Some("i")), "16");
        assert_eq!(m("16>>2", Some("i")), "4");
        assert_eq!(m("3>2", None), "TRUE");
        assert_eq!(m("3<2", None), "FALSE");
        assert_eq!(m("2>=2", None), "TRUE");
        assert_eq!(m("3<=2", None), "FALSE");
        assert_eq!(m("2==2", None), "TRUE");
        assert!(m("2=2", None).starts_with("ERR"));
        assert!(m("abc+1", None).starts_with("ERR"));
        assert!(m("5", None).starts_with("ERR"));
        assert!(m("1+1", Some("q")).starts_with("ERR"));
    }

    #[test]
    fn through_the_dialplan() {
        let (_core, executor, channel, _dir) = on_channel();
        let s = |t: &str| executor.substitute(Some(&channel), t);
        assert_eq!(s("${MATH(1.5*2,int)}"), "3");
        assert_eq!(s("${MATH()}"), "");
    }
}
