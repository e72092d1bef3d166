//! `SET(varname=value)`: sets a variable (or writes a function) like the
//! `Set` application, inside an expression, and returns the value
//! (`func_logic.c`).

use obelus_dialplan::FunctionError;

use super::access;
use crate::registry::{Function, FunctionContext};

/// `SET`.
pub struct SetFn;

impl Function for SetFn {
    fn name(&self) -> &'static str {
        "SET"
    }

    fn synopsis(&self) -> &'static str {
        "SET assigns a value to a channel variable."
    }

    fn read(&self, cx: &FunctionContext<'_>, args: &str) -> Result<String, FunctionError> {
        let Some((name, value)) = args.split_once('=').filter(|(n, _)| !n.is_empty()) else {
            return Err(FunctionError::Failed(
                "Syntax SET(<varname>=[<value>])".to_owned(),
            ));
        };
        let (name, value) = (name.trim(), value.trim());
        access::executor(cx)?.set(cx.channel, name, value);
        Ok(value.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use crate::functions::test_support::{on_channel, read};

    #[test]
    fn sets_and_returns_the_value() {
        let (_core, executor, channel, _dir) = on_channel();
        let s = |t: &str| executor.substitute(Some(&channel), t);
        assert_eq!(s("got ${SET(A= 1 )}"), "got 1");
        assert_eq!(channel.var("A").as_deref(), Some("1"));
        assert_eq!(s("${SET(CALLERID(num)=42)}"), "42");
        assert_eq!(channel.caller().number, "42");
        assert!(read(&executor, &channel, "SET", "noequals").is_err());
    }
}
