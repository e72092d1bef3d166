//! `SPRINTF(format,arg1[,arg2...])`: C `printf` formatting of dialplan
//! values (`func_sprintf.c`): flags `-+ #0`, width, precision, and the
//! conversions `d i u o x X f F e E g G s %`.

use obelus_dialplan::FunctionError;
use obelus_dialplan::args::standard_args;

use super::scan::{scan_float, scan_int};
use crate::registry::{Function, FunctionContext};

/// `SPRINTF`.
pub struct Sprintf;

/// One conversion's flags, width and precision.
#[derive(Debug, Default, Clone, Copy)]
struct Spec {
    left: bool,
    plus: bool,
    space: bool,
    alternate: bool,
    zero: bool,
    width: usize,
    precision: Option<usize>,
}

fn failed(message: impl Into<String>) -> FunctionError {
    FunctionError::Failed(message.into())
}

impl Spec {
    /// Pads `body` (digits, after `prefix` = sign and `0x`) to the width.
    fn pad(&self, prefix: &str, body: &str, zero_allowed: bool) -> String {
        let len = prefix.chars().count() + body.chars().count();
        let fill = self.width.saturating_sub(len);
        if self.left {
            format!("{prefix}{body}{}", " ".repeat(fill))
        } else if self.zero && zero_allowed {
            format!("{prefix}{}{body}", "0".repeat(fill))
        } else {
            format!("{}{prefix}{body}", " ".repeat(fill))
        }
    }

    fn sign(&self, negative: bool) -> &'static str {
        if negative {
            "-"
        } else if self.plus {
            "+"
        } else if self.space {
            " "
        } else {
            ""
        }
    }

    fn integer(&self, value: i64) -> String {
        let mut digits = value.unsigned_abs().to_string();
        self.min_digits(&mut digits);
        self.pad(self.sign(value < 0), &digits, self.precision.is_none())
    }

    fn unsigned(&self, value: u32, conversion: char) -> String {
        let mut digits = match conversion {
            'o' => format!("{value:o}"),
            'x' => format!("{value:x}"),
            'X' => format!("{value:X}"),
            _ => value.to_string(),
        };
        self.min_digits(&mut digits);
        let prefix = match conversion {
            'o' if self.alternate && !digits.starts_with('0') => {
                digits.insert(0, '0');
                ""
            }
            'x' if self.alternate && value != 0 => "0x",
            'X' if self.alternate && value != 0 => "0X",
            _ => "",
        };
        self.pad(prefix, &digits, self.precision.is_none())
    }

    /// C's precision on integers: at least that many digits; `.0` prints
    /// nothing for zero.
    fn min_digits(&self, digits: &mut String) {
        match self.precision {
            Some(0) if digits == "0" => digits.clear(),
            Some(p) if digits.len() < p => {
                digits.insert_str(0, &"0".repeat(p - digits.len()));
            }
            _ => {}
        }
    }

    fn float(&self, value: f64, conversion: char) -> String {
        let negative = value.is_sign_negative() && !value.is_nan();
        let magnitude = value.abs();
        let upper = conversion.is_ascii_uppercase();
        if !magnitude.is_finite() {
            let text = if magnitude.is_nan() { "nan" } else { "inf" };
            let text = if upper {
                text.to_ascii_uppercase()
            } else {
                text.to_owned()
            };
            return self.pad(self.sign(negative), &text, false);
        }
        let precision = self.precision.unwrap_or(6);
        let mut body = match conversion.to_ascii_lowercase() {
            'f' => format!("{magnitude:.precision$}"),
            'e' => exponential(magnitude, precision),
            _ => general(magnitude, precision, self.alternate),
        };
        if self.alternate && !body.contains('.') && conversion.eq_ignore_ascii_case(&'f') {
            body.push('.');
        }
        if upper {
            body = body.to_ascii_uppercase();
        }
        self.pad(self.sign(negative), &body, true)
    }

    fn string(&self, value: &str) -> String {
        let value: String = match self.precision {
            Some(p) => value.chars().take(p).collect(),
            None => value.to_owned(),
        };
        self.pad("", &value, false)
    }
}

/// `%e`: `d.dddddde+XX`, at least two exponent digits.
fn exponential(magnitude: f64, precision: usize) -> String {
    let text = format!("{magnitude:.precision$e}");
    let (mantissa, exponent) = text.split_once('e').unwrap_or((text.as_str(), "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let sign = if exponent < 0 { '-' } else { '+' };
    format!("{mantissa}e{sign}{:02}", exponent.unsigned_abs())
}

/// `%g`: the shorter of `%e` and `%f` at `precision` significant digits,
/// trailing zeros removed unless `#`.
fn general(magnitude: f64, precision: usize, alternate: bool) -> String {
    let p = precision.max(1);
    let exp_form = format!("{magnitude:.prec$e}", prec = p - 1);
    let exponent: i64 = exp_form
        .split_once('e')
        .and_then(|(_, e)| e.parse().ok())
        .unwrap_or(0);
    let p_i = i64::try_from(p).unwrap_or(i64::MAX);
    let mut text = if exponent < -4 || exponent >= p_i {
        exponential(magnitude, p - 1)
    } else {
        let decimals = usize::try_from(p_i - 1 - exponent).unwrap_or(0);
        format!("{magnitude:.decimals$}")
    };
    if !alternate {
        let (number, suffix) = match text.find('e') {
            Some(i) => text.split_at(i),
            None => (text.as_str(), ""),
        };
        let number = if number.contains('.') {
            number.trim_end_matches('0').trim_end_matches('.')
        } else {
            number
        };
        text = format!("{number}{suffix}");
    }
    text
}

/// Formats `format` with `args`, in order.
pub fn sprintf(format: &str, args: &[String]) -> Result<String, FunctionError> {
    let mut out = String::with_capacity(format.len());
    let mut args = args.iter();
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut spec = Spec::default();
        while let Some(&f) = chars.peek() {
            match f {
                '-' => spec.left = true,
                '+' => spec.plus = true,
                ' ' => spec.space = true,
                '#' => spec.alternate = true,
                '0' => spec.zero = true,
                _ => break,
            }
            chars.next();
        }
        while let Some(d) = chars.peek().and_then(|c| c.to_digit(10)) {
            spec.width = spec.width.saturating_mul(10).saturating_add(d as usize);
            chars.next();
        }
        if chars.peek() == Some(&'.') {
            chars.next();
            let mut p = 0usize;
            while let Some(d) = chars.peek().and_then(|c| c.to_digit(10)) {
                p = p.saturating_mul(10).saturating_add(d as usize);
                chars.next();
            }
            spec.precision = Some(p);
        }
        // Asterisk caps what one conversion may print; so do we, so that a
        // width from the dialplan cannot allocate without bound.
        spec.width = spec.width.min(4096);
        spec.precision = spec.precision.map(|p| p.min(4096));
        while chars.peek().is_some_and(|c| "hlLqjzt".contains(*c)) {
            chars.next();
        }
        let conversion = chars.next().ok_or_else(|| {
            failed(format!(
                "SPRINTF: format ends inside a conversion: '{format}'"
            ))
        })?;
        if conversion == '%' {
            out.push('%');
            continue;
        }
        let mut next_arg = || {
            args.next()
                .ok_or_else(|| failed("SPRINTF() has more format specifiers than arguments!"))
        };
        let not_a = |arg: &str, what: &str| {
            failed(format!(
                "Argument '{arg}' is not {what} for format '{format}'"
            ))
        };
        match conversion {
            'd' | 'i' => {
                let arg = next_arg()?;
                let n = scan_int(arg).ok_or_else(|| not_a(arg, "an integer number"))?;
                let n =
                    i64::from(i32::try_from(n).unwrap_or(if n < 0 { i32::MIN } else { i32::MAX }));
                out.push_str(&spec.integer(n));
            }
            'u' | 'o' | 'x' | 'X' => {
                let arg = next_arg()?;
                let n = scan_int(arg).ok_or_else(|| not_a(arg, "an integer number"))?;
                out.push_str(&spec.unsigned(n as u32, conversion));
            }
            'f' | 'F' | 'e' | 'E' | 'g' | 'G' => {
                let arg = next_arg()?;
                let x = scan_float(arg).ok_or_else(|| not_a(arg, "a floating point number"))?;
                out.push_str(&spec.float(x, conversion));
            }
            's' => out.push_str(&spec.string(next_arg()?)),
            other => {
                return Err(failed(format!(
                    "Unrecognized character '{other}' in format string"
                )));
            }
        }
    }
    Ok(out)
}

impl Function for Sprintf {
    fn name(&self) -> &'static str {
        "SPRINTF"
    }

    fn synopsis(&self) -> &'static str {
        "Format a variable according to a format string."
    }

    fn read(&self, _cx: &FunctionContext<'_>, args: &str) -> Result<String, FunctionError> {
        let args = standard_args(args);
        let Some((format, rest)) = args.split_first() else {
            return Err(failed("SPRINTF() requires a format string"));
        };
        sprintf(format, rest)
    }
}

#[cfg(test)]
mod tests {
    use super::sprintf;
    use crate::functions::test_support::on_channel;

    fn p(format: &str, args: &[&str]) -> String {
        let args: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
        sprintf(format, &args).unwrap_or_else(|e| format!("ERR {e}"))
    }

    #[test]
    fn formats_like_printf() {
        assert_eq!(p("%d", &["42"]), "42");
        assert_eq!(
            p("%05d|%-4d|%+d|% d", &["42", "7", "3", "3"]),
            "00042|7   |+3| 3"
        );
        assert_eq!(p("%.3d", &["-7"]), "-007");
        assert_eq!(
            p("%x %X %#x %o %#o", &["255", "255", "255", "8", "8"]),
            "ff FF 0xff 10 010"
        );
        assert_eq!(p("%u", &["-1"]), "4294967295");
        assert_eq!(p("%f", &["1.5"]), "1.500000");
        assert_eq!(
            p("%.2f|%8.3f|%-8.1f|", &["3.14159", "2.5", "-2.25"]),
            "3.14|   2.500|-2.2    |"
        );
        assert_eq!(p("%e", &["12345.678"]), "1.234568e+04");
        assert_eq!(p("%.2E", &["0.000123"]), "1.23E-04");
        assert_eq!(
            p("%g|%g|%g|%G", &["100000", "1000000", "0.0001", "1e-5"]),
            "100000|1e+06|0.0001|1E-05"
        );
        assert_eq!(p("%g", &["3.14159"]), "3.14159");
        assert_eq!(
            p("%s-%5s-%-5s-%.2s", &["a", "b", "c", "hello"]),
            "a-    b-c    -he"
        );
        assert_eq!(p("100%%", &[]), "100%");
        assert_eq!(p("%03d", &["12abc"]), "012");
        assert!(p("%d", &[]).starts_with("ERR"));
        assert!(p("%d", &["x"]).starts_with("ERR"));
        assert!(p("%k", &["1"]).starts_with("ERR"));
        assert!(p("%", &[]).starts_with("ERR"));
    }

    #[test]
    fn through_the_dialplan() {
        let (_core, executor, channel, _dir) = on_channel();
        let s = |t: &str| executor.substitute(Some(&channel), t);
        assert_eq!(s("${SPRINTF(%04d-%s,${EXTEN},${CONTEXT})}"), "0001-default");
    }
}
