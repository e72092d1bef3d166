//! `QUOTE(string)`: the string in double quotes with `"` and `\` escaped,
//! to pass it safely as one argument (`func_strings.c`).

use obelus_dialplan::FunctionError;

use crate::registry::{Function, FunctionContext};

/// `QUOTE`.
pub struct Quote;

impl Function for Quote {
    fn name(&self) -> &'static str {
        "QUOTE"
    }

    fn synopsis(&self) -> &'static str {
        "Quotes a given string, escaping embedded quotes as necessary"
    }

    fn read(&self, _cx: &FunctionContext<'_>, args: &str) -> Result<String, FunctionError> {
        let mut out = String::with_capacity(args.len() + 2);
        out.push('"');
        for c in args.chars() {
            if c == '"' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        }
        out.push('"');
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use crate::functions::test_support::on_channel;

    #[test]
    fn quotes_and_escapes() {
        let (_core, executor, channel, _dir) = on_channel();
        channel.set_var("V", "say \"hi\" \\o/");
        let s = |t: &str| executor.substitute(Some(&channel), t);
        assert_eq!(s("${QUOTE(${V})}"), "\"say \\\"hi\\\" \\\\o/\"");
        assert_eq!(s("${QUOTE()}"), "\"\"");
    }
}
