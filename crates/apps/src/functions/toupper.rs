//! `TOUPPER(string)`: the string in upper case (ASCII letters, as
//! Asterisk's C locale does) (`func_strings.c`).

use obelus_dialplan::FunctionError;

use crate::registry::{Function, FunctionContext};

/// `TOUPPER`.
pub struct ToUpper;

impl Function for ToUpper {
    fn name(&self) -> &'static str {
        "TOUPPER"
    }

    fn synopsis(&self) -> &'static str {
        "Convert string to all uppercase letters."
    }

    fn read(&self, _cx: &FunctionContext<'_>, args: &str) -> Result<String, FunctionError> {
        Ok(args.to_ascii_uppercase())
    }
}

#[cfg(test)]
mod tests {
    use crate::functions::test_support::on_channel;

    #[test]
    fn upper_cases() {
        let (_core, executor, channel, _dir) = on_channel();
        assert_eq!(
            executor.substitute(Some(&channel), "${TOUPPER(abc-1é)}"),
            "ABC-1é"
        );
    }
}
