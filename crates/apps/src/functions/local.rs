//! `LOCAL(name)`: a variable local to the current `Gosub` (`app_stack.c`).
//! Reading gives the channel variable; setting it goes through
//! `Pbx::set`, which knows the Gosub stack, so a write that arrives here
//! (no dialplan run to restore it) is refused.

use obelus_dialplan::FunctionError;

use super::access;
use crate::registry::{Function, FunctionContext};

/// `LOCAL`.
pub struct Local;

impl Function for Local {
    fn name(&self) -> &'static str {
        "LOCAL"
    }

    fn synopsis(&self) -> &'static str {
        "Manage variables local to the gosub stack frame."
    }

    fn read(&self, cx: &FunctionContext<'_>, args: &str) -> Result<String, FunctionError> {
        let channel = access::channel(cx, "LOCAL")?;
        Ok(channel.var(args.trim()).unwrap_or_default())
    }

    fn write(
        &self,
        _cx: &FunctionContext<'_>,
        args: &str,
        _value: &str,
    ) -> Result<(), FunctionError> {
        Err(FunctionError::Failed(format!(
            "Tried to set LOCAL({args}), but we aren't within a Gosub routine"
        )))
    }
}

#[cfg(test)]
mod tests {
    use crate::functions::test_support::{on_channel, read};

    #[test]
    fn reads_the_channel_variable_and_refuses_writes_outside_the_dialplan() {
        let (_core, executor, channel, _dir) = on_channel();
        channel.set_var("X", "1");
        assert_eq!(executor.substitute(Some(&channel), "${LOCAL(X)}"), "1");
        executor.set(Some(&channel), "LOCAL(Y)", "2");
        assert_eq!(channel.var("Y"), None);
        assert_eq!(read(&executor, &channel, "LOCAL", "UNSET").unwrap(), "");
    }
}
