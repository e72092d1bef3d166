//! `LEN(string)`: the length of its argument in characters.

use obelus_dialplan::FunctionError;

use crate::registry::{Function, FunctionContext};

/// `LEN`.
pub struct Len;

impl Function for Len {
    fn name(&self) -> &'static str {
        "LEN"
    }

    fn synopsis(&self) -> &'static str {
        "Return the length of the string given."
    }

    fn read(&self, _cx: &FunctionContext<'_>, args: &str) -> Result<String, FunctionError> {
        Ok(args.chars().count().to_string())
    }
}
