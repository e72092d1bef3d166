//! `CUT(varname,delimiter,fields)`: fields of a variable's value, by number
//! (`2`), range (`2-3`, `2-`, `-2`) or list (`1&3`) (`func_cut.c`). The
//! first argument names a variable; it is read as `${varname}`.

use obelus_dialplan::FunctionError;
use obelus_dialplan::args::standard_args;

use super::access;
use super::scan::{encoded_char, scan_int_rest};
use crate::registry::{Function, FunctionContext};

/// `CUT`.
pub struct Cut;

/// One `&`-separated item of the field specification: first and last field
/// (1-based, inclusive), tried in Asterisk's order: `%d-%d`, `-%d`, `%d-`,
/// `%d`.
fn range(item: &str) -> Option<(i64, i64)> {
    let first = scan_int_rest(item);
    if let Some((start, rest)) = first
        && let Some((stop, _)) = rest.strip_prefix('-').and_then(scan_int_rest)
    {
        return Some((start, stop));
    }
    if let Some((stop, _)) = item.strip_prefix('-').and_then(scan_int_rest) {
        return Some((1, stop));
    }
    let (start, rest) = first?;
    Some((
        start,
        if rest.starts_with('-') {
            i64::MAX
        } else {
            start
        },
    ))
}

/// Cuts `value` on `delim` and keeps the fields `spec` names, in Asterisk's
/// one pass: fields are never reordered or repeated.
pub fn cut(value: &str, delim: char, spec: &str) -> Result<String, FunctionError> {
    let mut out = String::new();
    if value.is_empty() {
        return Ok(out);
    }
    let mut fields = value.split(delim);
    let mut current = 1i64;
    let mut taken = 0usize;
    let mut exhausted = false;
    for item in spec.split('&') {
        if exhausted {
            break;
        }
        let (start, stop) = range(item).ok_or_else(|| {
            FunctionError::Failed("Usage: CUT(<varname>,<char-delim>,<range-spec>)".to_owned())
        })?;
        while current < start {
            if fields.next().is_none() {
                exhausted = true;
                break;
            }
            current += 1;
        }
        if current > start {
            tracing::warn!("We're already past the field you wanted?");
        }
        while !exhausted && current <= stop {
            match fields.next() {
                Some(field) => {
                    if taken > 0 {
                        out.push(delim);
                    }
                    out.push_str(field);
                    taken += 1;
                    current += 1;
                }
                None => exhausted = true,
            }
        }
    }
    Ok(out)
}

impl Function for Cut {
    fn name(&self) -> &'static str {
        "CUT"
    }

    fn synopsis(&self) -> &'static str {
        "Slices and dices strings, based upon a named delimiter."
    }

    fn read(&self, cx: &FunctionContext<'_>, args: &str) -> Result<String, FunctionError> {
        let args = standard_args(args);
        let [varname, delimiter, fields] = args.as_slice() else {
            return Err(FunctionError::Failed(
                "Syntax: CUT(<varname>,<char-delim>,<range-spec>) - missing argument!".to_owned(),
            ));
        };
        let value = access::variable(cx, varname)?;
        let delim = encoded_char(delimiter).map_or('-', |(c, _)| c);
        cut(&value, delim, fields)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::functions::test_support::{on_channel, read};

    #[test]
    fn fields_ranges_and_lists() {
        assert_eq!(cut("a-b-c-d", '-', "2").unwrap(), "b");
        assert_eq!(cut("a-b-c-d", '-', "2-3").unwrap(), "b-c");
        assert_eq!(cut("a-b-c-d", '-', "3-").unwrap(), "c-d");
        assert_eq!(cut("a-b-c-d", '-', "-2").unwrap(), "a-b");
        assert_eq!(cut("a-b-c-d", '-', "1&3").unwrap(), "a-c");
        assert_eq!(cut("a-b-c-d", '-', "9").unwrap(), "");
        assert_eq!(cut("a-b-c-d", '-', "3&1").unwrap(), "c");
        assert_eq!(cut("", '-', "1").unwrap(), "");
        assert!(cut("a-b", '-', "x").is_err());
    }

    #[test]
    fn reads_the_named_variable() {
        let (_core, executor, channel, _dir) = on_channel();
        channel.set_var("LIST", "one,two,three");
        let s = |t: &str| executor.substitute(Some(&channel), t);
        assert_eq!(s("${CUT(LIST,\\,,2)}"), "two");
        assert_eq!(s("${CUT(LIST,\",\",2-)}"), "two,three");
        channel.set_var("DASHED", "x-y");
        assert_eq!(s("${CUT(DASHED,,2)}"), "y", "no delimiter means '-'");
        assert_eq!(
            s("${CUT(CONTEXT,f,1)}"),
            "de",
            "built-ins are variables too"
        );
        assert!(read(&executor, &channel, "CUT", "LIST,-").is_err());
    }
}
