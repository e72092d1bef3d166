//! `EVAL(text)`: substitutes its argument once more, for values that hold
//! `${...}` themselves (a variable read from the astdb) (`func_strings.c`).

use obelus_dialplan::FunctionError;

use super::access;
use crate::registry::{Function, FunctionContext};

/// `EVAL`.
pub struct Eval;

impl Function for Eval {
    fn name(&self) -> &'static str {
        "EVAL"
    }

    fn synopsis(&self) -> &'static str {
        "Evaluate stored variables"
    }

    fn read(&self, cx: &FunctionContext<'_>, args: &str) -> Result<String, FunctionError> {
        access::substitute(cx, args)
    }
}

#[cfg(test)]
mod tests {
    use crate::functions::test_support::on_channel;

    #[test]
    fn substitutes_again() {
        let (_core, executor, channel, _dir) = on_channel();
        channel.set_var("TEMPLATE", "${EXTEN}@${CONTEXT}");
        let s = |t: &str| executor.substitute(Some(&channel), t);
        assert_eq!(s("${TEMPLATE}"), "${EXTEN}@${CONTEXT}");
        assert_eq!(s("${EVAL(${TEMPLATE})}"), "1@default");
    }

    #[test]
    fn a_self_referencing_value_stops() {
        let (_core, executor, channel, _dir) = on_channel();
        channel.set_var("LOOP", "${EVAL(${LOOP})}");
        assert_eq!(
            executor.substitute(Some(&channel), "[${EVAL(${LOOP})}]"),
            "[]"
        );
    }
}
