//! `INC(varname)`: increments an integer variable in place and returns the
//! new value (`func_math.c`). `DEC` shares [`crement`].

use obelus_dialplan::FunctionError;

use super::access;
use super::scan::whole_int;
use crate::registry::{Function, FunctionContext};

/// `INC`.
pub struct Inc;

/// Adds `step` to the integer in variable `name` (channel, then global),
/// stores it on the channel and returns it.
pub fn crement(
    cx: &FunctionContext<'_>,
    function: &str,
    name: &str,
    step: i32,
) -> Result<String, FunctionError> {
    if name.is_empty() {
        return Err(FunctionError::Failed(format!(
            "Syntax: {function}(<data>) - missing argument!"
        )));
    }
    let channel = access::channel(cx, function)?;
    let value = channel
        .var(name)
        .or_else(|| cx.globals.get(name))
        .ok_or_else(|| {
            FunctionError::Failed(format!("Failed to obtain variable {name}, bailing out"))
        })?;
    if value.is_empty() {
        return Err(FunctionError::Failed(format!(
            "Variable {name} doesn't have a value - can't increment or decrement"
        )));
    }
    let n = whole_int(&value)
        .and_then(|n| i32::try_from(n).ok())
        .ok_or_else(|| {
            FunctionError::Failed(format!(
                "The content of ${{{name}}} is not a numeric value - bailing out!"
            ))
        })?;
    let n = n.wrapping_add(step).to_string();
    channel.set_var(name, &n);
    Ok(n)
}

impl Function for Inc {
    fn name(&self) -> &'static str {
        "INC"
    }

    fn synopsis(&self) -> &'static str {
        "Increments the value of a variable, while returning the updated value to the dialplan"
    }

    fn read(&self, cx: &FunctionContext<'_>, args: &str) -> Result<String, FunctionError> {
        crement(cx, "INC", args, 1)
    }
}

#[cfg(test)]
mod tests {
    use crate::functions::test_support::{on_channel, read};

    #[test]
    fn increments_in_place() {
        let (_core, executor, channel, _dir) = on_channel();
        channel.set_var("N", "41");
        let s = |t: &str| executor.substitute(Some(&channel), t);
        assert_eq!(s("${INC(N)}"), "42");
        assert_eq!(channel.var("N").as_deref(), Some("42"));
        executor.globals.set("G", "9");
        assert_eq!(s("${INC(G)}"), "10");
        assert_eq!(channel.var("G").as_deref(), Some("10"));
        assert_eq!(executor.globals.get("G").as_deref(), Some("9"));
        channel.set_var("W", "4x");
        assert!(read(&executor, &channel, "INC", "W").is_err());
        assert!(read(&executor, &channel, "INC", "UNSET").is_err());
        assert!(read(&executor, &channel, "INC", "").is_err());
    }
}
