//! `ISNULL(data)`: `1` if the argument is empty, else `0`
//! (`func_logic.c`).

use obelus_dialplan::FunctionError;

use crate::registry::{Function, FunctionContext};

/// `ISNULL`.
pub struct IsNull;

impl Function for IsNull {
    fn name(&self) -> &'static str {
        "ISNULL"
    }

    fn synopsis(&self) -> &'static str {
        "Check if a value is NULL."
    }

    fn read(&self, _cx: &FunctionContext<'_>, args: &str) -> Result<String, FunctionError> {
        Ok(if args.is_empty() { "1" } else { "0" }.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use crate::functions::test_support::on_channel;

    #[test]
    fn empty_is_null() {
        let (_core, executor, channel, _dir) = on_channel();
        let s = |t: &str| executor.substitute(Some(&channel), t);
        assert_eq!(s("${ISNULL()}"), "1");
        assert_eq!(s("${ISNULL(${UNSET})}"), "1");
        assert_eq!(s("${ISNULL(x)}"), "0");
    }
}
