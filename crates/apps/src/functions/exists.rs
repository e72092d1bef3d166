//! `EXISTS(data)`: `1` if the argument is not empty, else `0`
//! (`func_logic.c`).

use obelus_dialplan::FunctionError;

use crate::registry::{Function, FunctionContext};

/// `EXISTS`.
pub struct Exists;

impl Function for Exists {
    fn name(&self) -> &'static str {
        "EXISTS"
    }

    fn synopsis(&self) -> &'static str {
        "Test the existence of a value."
    }

    fn read(&self, _cx: &FunctionContext<'_>, args: &str) -> Result<String, FunctionError> {
        Ok(if args.is_empty() { "0" } else { "1" }.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use crate::functions::test_support::on_channel;

    #[test]
    fn non_empty_exists() {
        let (_core, executor, channel, _dir) = on_channel();
        channel.set_var("V", "0");
        let s = |t: &str| executor.substitute(Some(&channel), t);
        assert_eq!(s("${EXISTS(${V})}"), "1");
        assert_eq!(s("${EXISTS(${UNSET})}"), "0");
    }
}
