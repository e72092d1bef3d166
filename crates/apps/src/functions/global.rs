//! `GLOBAL(name)`: a global variable, read and written from a channel
//! whose own variables would otherwise shadow it (`func_global.c`).

use obelus_dialplan::FunctionError;

use crate::registry::{Function, FunctionContext};

/// `GLOBAL`.
pub struct Global;

impl Function for Global {
    fn name(&self) -> &'static str {
        "GLOBAL"
    }

    fn synopsis(&self) -> &'static str {
        "Gets or sets the global variable specified."
    }

    fn read(&self, cx: &FunctionContext<'_>, args: &str) -> Result<String, FunctionError> {
        Ok(cx.globals.get(args.trim()).unwrap_or_default())
    }

    fn write(
        &self,
        cx: &FunctionContext<'_>,
        args: &str,
        value: &str,
    ) -> Result<(), FunctionError> {
        cx.globals.set(args.trim(), value);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::functions::test_support::on_channel;

    #[test]
    fn reads_and_writes_globals_past_channel_variables() {
        let (_core, executor, channel, _dir) = on_channel();
        channel.set_var("G", "channel");
        executor.set(Some(&channel), "GLOBAL(G)", "global");
        let s = |t: &str| executor.substitute(Some(&channel), t);
        assert_eq!(s("${G}/${GLOBAL(G)}"), "channel/global");
        assert_eq!(executor.globals.get("G").as_deref(), Some("global"));
        executor.set(Some(&channel), "GLOBAL(G)", "");
        assert_eq!(executor.globals.get("G"), None);
    }
}
