//! What functions reach beyond their arguments: the channel they run on,
//! `${}` substitution (for functions that name a variable, such as `CUT`,
//! or substitute again, such as `EVAL`), `Set` semantics (`SET`), and the
//! async services (the astdb) from their synchronous `read`/`write`.

use std::cell::Cell;
use std::future::Future;
use std::sync::Arc;

use obelus_core::channel::Channel;
use obelus_dialplan::FunctionError;

use crate::pbx::Executor;
use crate::registry::FunctionContext;
use crate::scope::ChannelScope;

/// Nested substitutions a function may start (`EVAL` of a value that
/// calls `EVAL` again...) before it refuses: each level is a native stack
/// frame, and a self-referencing variable must not overflow the stack.
const MAX_NESTING: usize = 32;

thread_local! {
    static NESTING: Cell<usize> = const { Cell::new(0) };
}

/// The channel, or the error Asterisk gives when a function that needs one
/// is evaluated without (`[globals]`, AMI without a channel).
pub fn channel<'a>(
    cx: &FunctionContext<'a>,
    function: &str,
) -> Result<&'a Arc<Channel>, FunctionError> {
    cx.channel.ok_or_else(|| {
        FunctionError::Failed(format!("No channel was provided to {function} function."))
    })
}

/// The dialplan executor, which the `pbx_builtins` module provides as a
/// service: functions need its registry to substitute.
pub fn executor(cx: &FunctionContext<'_>) -> Result<Arc<Executor>, FunctionError> {
    cx.core
        .service::<Executor>()
        .ok_or_else(|| FunctionError::Failed("the dialplan executor is not running".to_owned()))
}

/// `${}` substitution of `text` on the function's channel, as Asterisk's
/// `pbx_substitute_variables_helper` from inside a function.
pub fn substitute(cx: &FunctionContext<'_>, text: &str) -> Result<String, FunctionError> {
    if !text.contains('$') {
        return Ok(text.to_owned());
    }
    let executor = executor(cx)?;
    let depth = NESTING.with(Cell::get);
    if depth >= MAX_NESTING {
        return Err(FunctionError::Failed(format!(
            "substitution nested more than {MAX_NESTING} levels deep"
        )));
    }
    NESTING.with(|n| n.set(depth + 1));
    let mut scope = ChannelScope {
        core: cx.core,
        channel: cx.channel,
        registry: &executor.registry,
        globals: cx.globals,
    };
    let out = obelus_dialplan::substitute(text, &mut scope);
    NESTING.with(|n| n.set(depth));
    Ok(out)
}

/// The value of `${name}`: what functions that take a variable *name*
/// (`CUT`, `FIELDQTY`) read, built-ins, substrings and all.
pub fn variable(cx: &FunctionContext<'_>, name: &str) -> Result<String, FunctionError> {
    substitute(cx, &format!("${{{name}}}"))
}

/// Runs blocking work (a shell command, an astdb query) from a function:
/// on a multi-threaded runtime the worker hands its other tasks over first,
/// so the runtime keeps going.
pub fn blocking<T>(work: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(work)
        }
        _ => work(),
    }
}

/// Waits for an async service call (the astdb) from a synchronous function.
/// Only possible on the daemon's multi-threaded runtime; elsewhere the
/// function fails rather than blocking the only thread it would need.
pub fn wait_for<F: Future>(future: F) -> Result<F::Output, FunctionError> {
    let handle = tokio::runtime::Handle::try_current()
        .ok()
        .filter(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread)
        .ok_or_else(|| {
            FunctionError::Failed("needs the daemon's multi-threaded runtime".to_owned())
        })?;
    Ok(tokio::task::block_in_place(|| handle.block_on(future)))
}
