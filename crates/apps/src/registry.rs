//! The application and function registries: each dialplan application
//! (`Dial`, `Playback`) and function (`CALLERID`, `CUT`) registers itself
//! with its name and help, so adding one touches one file.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use obelus_core::Core;
use obelus_core::channel::{Cause, Channel, HungUp};
use obelus_dialplan::FunctionError;

use crate::globals::Globals;
use crate::pbx::Pbx;

/// Why an application stopped the dialplan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AppError {
    /// The application ends the call (`Hangup()`, a failed `Answer`); the
    /// value is the cause to hang up with.
    #[error("hangup ({0})")]
    Hangup(Cause),
    /// The channel hung up while the application ran.
    #[error("channel hung up ({0})")]
    HungUp(Cause),
    /// The channel now belongs to another task (it was parked): the run
    /// ends without hanging it up or running `h`, and hands the mailbox
    /// to what [`crate::pbx::Pbx::detach`] was given.
    #[error("channel handed to another owner")]
    Detached,
}

impl From<HungUp> for AppError {
    fn from(h: HungUp) -> Self {
        AppError::HungUp(h.0)
    }
}

/// A dialplan application.
#[async_trait]
pub trait Application: Send + Sync {
    /// Its name as written in the dialplan (`Dial`); matched
    /// case-insensitively.
    fn name(&self) -> &'static str;
    /// One line for `core show applications`.
    fn synopsis(&self) -> &'static str;
    /// Runs on the channel with its arguments already substituted. `Ok`
    /// continues at the next priority (or where the application jumped).
    async fn exec(&self, pbx: &mut Pbx, args: &str) -> Result<(), AppError>;
}

/// What a function may reach while it runs.
pub struct FunctionContext<'a> {
    /// The daemon.
    pub core: &'a Arc<Core>,
    /// The channel, when evaluated on one (not for `[globals]`).
    pub channel: Option<&'a Arc<Channel>>,
    /// Global variables.
    pub globals: &'a Globals,
}

/// A dialplan function (`${NAME(args)}` and `Set(NAME(args)=value)`).
pub trait Function: Send + Sync {
    /// Its name (`CALLERID`), upper case.
    fn name(&self) -> &'static str;
    /// One line for `core show functions`.
    fn synopsis(&self) -> &'static str;
    /// Reads it; `args` is the raw text between the parentheses, already
    /// substituted.
    fn read(&self, cx: &FunctionContext<'_>, args: &str) -> Result<String, FunctionError>;
    /// Writes it; functions that cannot be written refuse.
    fn write(
        &self,
        cx: &FunctionContext<'_>,
        args: &str,
        value: &str,
    ) -> Result<(), FunctionError> {
        let _ = (cx, args, value);
        Err(FunctionError::Failed(format!(
            "Function '{}' cannot be written to",
            self.name()
        )))
    }
}

/// Every registered application and function.
#[derive(Default)]
pub struct Registry {
    applications: RwLock<BTreeMap<String, Arc<dyn Application>>>,
    functions: RwLock<BTreeMap<String, Arc<dyn Function>>>,
}

impl Registry {
    /// Registers an application (replacing one of the same name).
    pub fn add_application(&self, app: Arc<dyn Application>) {
        self.applications
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(app.name().to_ascii_lowercase(), app);
    }

    /// Registers a function (replacing one of the same name).
    pub fn add_function(&self, f: Arc<dyn Function>) {
        self.functions
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(f.name().to_ascii_uppercase(), f);
    }

    /// The application called `name`, any case.
    pub fn application(&self, name: &str) -> Option<Arc<dyn Application>> {
        self.applications
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&name.to_ascii_lowercase())
            .cloned()
    }

    /// The function called `name` (function names are case-insensitive in
    /// Asterisk's lookup).
    pub fn function(&self, name: &str) -> Option<Arc<dyn Function>> {
        self.functions
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&name.to_ascii_uppercase())
            .cloned()
    }

    /// Every application, by name.
    pub fn applications(&self) -> Vec<Arc<dyn Application>> {
        self.applications
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .cloned()
            .collect()
    }

    /// Every function, by name.
    pub fn functions(&self) -> Vec<Arc<dyn Function>> {
        self.functions
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .cloned()
            .collect()
    }
}
