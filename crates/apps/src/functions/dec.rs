//! `DEC(varname)`: decrements an integer variable in place and returns the
//! new value (`func_math.c`).

use obelus_dialplan::FunctionError;

use super::inc::crement;
use crate::registry::{Function, FunctionContext};

/// `DEC`.
pub struct Dec;

impl Function for Dec {
    fn name(&self) -> &'static str {
        "DEC"
    }

    fn synopsis(&self) -> &'static str {
        "Decrements the value of a variable, while returning the updated value to the dialplan"
    }

    fn read(&self, cx: &FunctionContext<'_>, args: &str) -> Result<String, FunctionError> {
        crement(cx, "DEC", args, -1)
    }
}

#[cfg(test)]
mod tests {
    use crate::functions::test_support::on_channel;

    #[test]
    fn decrements_in_place() {
        let (_core, executor, channel, _dir) = on_channel();
        channel.set_var("N", "0");
        let s = |t: &str| executor.substitute(Some(&channel), t);
        assert_eq!(s("${DEC(N)},${DEC(N)}"), "-1,-2");
        assert_eq!(channel.var("N").as_deref(), Some("-2"));
    }
}
