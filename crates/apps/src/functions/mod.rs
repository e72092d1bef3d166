//! The dialplan functions, one file each (named as the function; the
//! comment at the top of each names Asterisk's `func_*.c` it follows).
//! [`scan`], [`access`] and [`zone`] hold what several of them share.

pub mod access;
mod callerid;
mod channel;
mod cut;
mod db;
mod db_delete;
mod db_exists;
mod dec;
pub(crate) mod env;
mod eval;
mod exists;
mod fieldnum;
mod fieldqty;
mod filter;
mod global;
mod r#if;
mod inc;
mod isnull;
mod len;
mod local;
mod math;
mod quote;
mod rand;
mod regex;
pub(crate) mod scan;
mod set;
mod shell;
mod sprintf;
mod strftime;
mod talk_detect;
mod tolower;
mod tone_detect;
mod toupper;
pub(crate) mod zone;

use std::sync::Arc;

use crate::registry::Registry;

/// Registers every function.
pub fn register_all(registry: &Registry) {
    registry.add_function(Arc::new(callerid::CallerId));
    registry.add_function(Arc::new(channel::ChannelFn));
    registry.add_function(Arc::new(cut::Cut));
    registry.add_function(Arc::new(db::Db));
    registry.add_function(Arc::new(db_delete::DbDelete));
    registry.add_function(Arc::new(db_exists::DbExists));
    registry.add_function(Arc::new(dec::Dec));
    registry.add_function(Arc::new(env::Env));
    registry.add_function(Arc::new(eval::Eval));
    registry.add_function(Arc::new(exists::Exists));
    registry.add_function(Arc::new(fieldnum::FieldNum));
    registry.add_function(Arc::new(fieldqty::FieldQty));
    registry.add_function(Arc::new(filter::Filter));
    registry.add_function(Arc::new(global::Global));
    registry.add_function(Arc::new(r#if::If));
    registry.add_function(Arc::new(inc::Inc));
    registry.add_function(Arc::new(isnull::IsNull));
    registry.add_function(Arc::new(len::Len));
    registry.add_function(Arc::new(local::Local));
    registry.add_function(Arc::new(math::Math));
    registry.add_function(Arc::new(quote::Quote));
    registry.add_function(Arc::new(rand::Rand));
    registry.add_function(Arc::new(regex::Regex));
    registry.add_function(Arc::new(set::SetFn));
    registry.add_function(Arc::new(shell::Shell));
    registry.add_function(Arc::new(sprintf::Sprintf));
    registry.add_function(Arc::new(strftime::Strftime));
    registry.add_function(Arc::new(talk_detect::TalkDetect));
    registry.add_function(Arc::new(tone_detect::ToneDetect));
    registry.add_function(Arc::new(tolower::ToLower));
    registry.add_function(Arc::new(toupper::ToUpper));
}

/// Test support for functions: an executor provided as a service (as the
/// `pbx_builtins` module does), a channel on it, and direct reads that
/// show the error.
#[cfg(test)]
pub(crate) mod test_support {
    use std::sync::Arc;

    use obelus_core::Core;
    use obelus_core::channel::Channel;
    use obelus_dialplan::FunctionError;

    use crate::pbx::Executor;
    use crate::registry::FunctionContext;

    /// A core with an executor service over an empty dialplan, and a
    /// channel at `1@default` (caller `"Alice" <101>`).
    pub fn on_channel() -> (Arc<Core>, Arc<Executor>, Arc<Channel>, tempfile::TempDir) {
        let (core, executor, dir) = crate::testing::executor("[default]\nexten => 1,1,NoOp()\n");
        core.provide(Arc::clone(&executor));
        let (channel, _) = crate::testing::channel(&core, "default", "1");
        (core, executor, channel, dir)
    }

    /// [`on_channel`] with an astdb in the scratch directory.
    pub fn on_channel_with_astdb() -> (Arc<Core>, Arc<Executor>, Arc<Channel>, tempfile::TempDir) {
        let (core, executor, channel, dir) = on_channel();
        let astdb = obelus_sorcery::astdb::Astdb::open(dir.path()).unwrap();
        core.provide(Arc::new(astdb));
        (core, executor, channel, dir)
    }

    /// What a function sees on `channel`.
    pub fn context<'a>(
        executor: &'a Arc<Executor>,
        channel: &'a Arc<Channel>,
    ) -> FunctionContext<'a> {
        FunctionContext {
            core: &executor.core,
            channel: Some(channel),
            globals: &executor.globals,
        }
    }

    /// Reads function `name` with `args`, keeping the error.
    pub fn read(
        executor: &Arc<Executor>,
        channel: &Arc<Channel>,
        name: &str,
        args: &str,
    ) -> Result<String, FunctionError> {
        let f = executor.registry.function(name).expect("registered");
        f.read(&context(executor, channel), args)
    }
}
