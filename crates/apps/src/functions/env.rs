//! `ENV(name)`: the daemon's environment variables (`func_env.c`).
//!
//! Writing the real process environment is unsound while other threads
//! run, so writes go to an overlay kept here: `ENV()` reads it first, and
//! commands the daemon starts (`SHELL()`) get it applied, which is what a
//! dialplan sets environment variables for. Names starting `AST_` are not
//! written, as in Asterisk.

use std::collections::HashMap;
use std::process::Command;
use std::sync::{LazyLock, RwLock};

use obelus_dialplan::FunctionError;

use crate::registry::{Function, FunctionContext};

/// `ENV`.
pub struct Env;

/// Variables set (`Some`) or removed (`None`) from the dialplan.
static OVERLAY: LazyLock<RwLock<HashMap<String, Option<String>>>> =
    LazyLock::new(|| RwLock::new(HashMap::new()));

/// The value of `name` as the dialplan sees it.
pub fn get(name: &str) -> Option<String> {
    let overlay = OVERLAY.read().unwrap_or_else(|e| e.into_inner());
    match overlay.get(name) {
        Some(value) => value.clone(),
        None => std::env::var(name).ok(),
    }
}

/// Gives a command the environment the dialplan set.
pub fn apply(command: &mut Command) {
    let overlay = OVERLAY.read().unwrap_or_else(|e| e.into_inner());
    for (name, value) in overlay.iter() {
        match value {
            Some(v) => command.env(name, v),
            None => command.env_remove(name),
        };
    }
}

impl Function for Env {
    fn name(&self) -> &'static str {
        "ENV"
    }

    fn synopsis(&self) -> &'static str {
        "Gets or sets the environment variable specified."
    }

    fn read(&self, _cx: &FunctionContext<'_>, args: &str) -> Result<String, FunctionError> {
        Ok(get(args).unwrap_or_default())
    }

    fn write(
        &self,
        _cx: &FunctionContext<'_>,
        args: &str,
        value: &str,
    ) -> Result<(), FunctionError> {
        if args.is_empty() || args.starts_with("AST_") || args.contains(['=', '\0']) {
            return Ok(());
        }
        let value = (!value.is_empty()).then(|| value.to_owned());
        OVERLAY
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(args.to_owned(), value);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::functions::test_support::on_channel;

    #[test]
    fn reads_the_process_environment_and_the_overlay() {
        let (_core, executor, channel, _dir) = on_channel();
        let s = |t: &str| executor.substitute(Some(&channel), t);
        let path = std::env::var("PATH").unwrap_or_default();
        assert_eq!(s("${ENV(PATH)}"), path);
        assert_eq!(s("${ENV(OBELUS_TEST_ENV_FN)}"), "");
        executor.set(Some(&channel), "ENV(OBELUS_TEST_ENV_FN)", "v1");
        assert_eq!(s("${ENV(OBELUS_TEST_ENV_FN)}"), "v1");
        executor.set(Some(&channel), "ENV(OBELUS_TEST_ENV_FN)", "");
        assert_eq!(s("${ENV(OBELUS_TEST_ENV_FN)}"), "");
        executor.set(Some(&channel), "ENV(AST_OBELUS_TEST)", "x");
        assert_eq!(s("${ENV(AST_OBELUS_TEST)}"), "");
    }

    #[test]
    fn commands_see_the_overlay() {
        let (_core, executor, channel, _dir) = on_channel();
        executor.set(Some(&channel), "ENV(OBELUS_TEST_ENV_CMD)", "seen");
        let mut command = std::process::Command::new("/bin/sh");
        command.arg("-c").arg("printf %s \"$OBELUS_TEST_ENV_CMD\"");
        super::apply(&mut command);
        let out = command.output().unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), "seen");
    }
}
