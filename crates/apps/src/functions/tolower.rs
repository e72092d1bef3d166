//! `TOLOWER(string)`: the string in lower case (ASCII letters, as
//! Asterisk's C locale does) (`func_strings.c`).

use obelus_dialplan::FunctionError;

use crate::registry::{Function, FunctionContext};

/// `TOLOWER`.
pub struct ToLower;

impl Function for ToLower {
    fn name(&self) -> &'static str {
        "TOLOWER"
    }

    fn synopsis(&self) -> &'static str {
        "Convert string to all lowercase letters."
    }

    fn read(&self, _cx: &FunctionContext<'_>, args: &str) -> Result<String, FunctionError> {
        Ok(args.to_ascii_lowercase())
    }
}

#[cfg(test)]
mod tests {
    use crate::functions::test_support::on_channel;

    #[test]
    fn lower_cases() {
        let (_core, executor, channel, _dir) = on_channel();
        assert_eq!(
            executor.substitute(Some(&channel), "${TOLOWER(ABC-1É)}"),
            "abc-1É"
        );
    }
}
