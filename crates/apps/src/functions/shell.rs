//! `SHELL(command)`: runs a command through `/bin/sh` and returns what it
//! printed (`func_shell.c`). Refused unless `asterisk.conf` `[options]`
//! says `live_dangerously = yes`, so that a dialplan value cannot reach a
//! shell on a server that did not ask for it.

use std::process::{Command, Stdio};

use obelus_dialplan::FunctionError;

use super::{access, env};
use crate::registry::{Function, FunctionContext};

/// `SHELL`.
pub struct Shell;

impl Function for Shell {
    fn name(&self) -> &'static str {
        "SHELL"
    }

    fn synopsis(&self) -> &'static str {
        "Executes a command using the system shell and captures its output."
    }

    fn read(&self, cx: &FunctionContext<'_>, args: &str) -> Result<String, FunctionError> {
        if !cx.core.settings.options.live_dangerously {
            return Err(FunctionError::Failed(
                "SHELL() is disabled: it runs commands on the host. Set live_dangerously = yes in the [options] section of asterisk.conf to allow it.".to_owned(),
            ));
        }
        if args.is_empty() {
            return Err(FunctionError::Failed(
                "Missing Argument!  Example:  Set(foo=${SHELL(echo \"bar\")})".to_owned(),
            ));
        }
        let mut command = Command::new("/bin/sh");
        command
            .arg("-c")
            .arg(args)
            .stdin(Stdio::null())
            .stderr(Stdio::null());
        env::apply(&mut command);
        let output = access::blocking(|| command.output()).map_err(|e| {
            FunctionError::Failed(format!("Failed to execute shell command '{args}': {e}"))
        })?;
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use obelus_core::Core;

    use crate::functions::test_support::{on_channel, read};

    #[test]
    fn refused_unless_live_dangerously() {
        let (_core, executor, channel, _dir) = on_channel();
        let err = read(&executor, &channel, "SHELL", "echo hi").unwrap_err();
        assert!(err.to_string().contains("live_dangerously"), "{err}");
    }

    #[test]
    fn runs_when_allowed() {
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("asterisk.conf");
        std::fs::write(&conf, "[options]\nlive_dangerously = yes\n").unwrap();
        let (settings, problems) = obelus_core::settings::Settings::load(&conf);
        assert!(problems.is_empty(), "{problems:?}");
        let core = Arc::new(Core::new(settings, Arc::default()));
        let globals = crate::globals::Globals::default();
        let cx = crate::registry::FunctionContext {
            core: &core,
            channel: None,
            globals: &globals,
        };
        let f = super::Shell;
        use crate::registry::Function as _;
        assert_eq!(f.read(&cx, "echo hi; echo there").unwrap(), "hi\nthere\n");
        assert!(f.read(&cx, "").is_err());
    }
}
