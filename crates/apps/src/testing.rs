//! Test support: a channel driver that records what it is asked to do, and
//! an executor over a dialplan given as text; [`media`] adds channels with
//! real RTP.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use obelus_core::Core;
use obelus_core::channel::{Cause, Channel, ChannelInit, ChannelState, Driver, Indication, Party};
use obelus_dialplan::module::DialplanService;

use crate::globals::Globals;
use crate::pbx::{Executor, Pbx};
use crate::registry::Registry;
use crate::switch::Switches;

pub mod media;

/// Records every driver call as a line (`answer`, `hangup 16`).
#[derive(Default)]
pub struct TestDriver {
    /// What was asked, in order.
    pub log: Mutex<Vec<String>>,
}

impl TestDriver {
    /// The log so far.
    pub fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    fn push(&self, line: String) {
        self.log.lock().unwrap().push(line);
    }
}

#[async_trait]
impl Driver for TestDriver {
    async fn call(&self, _channel: &Arc<Channel>) -> Result<(), Cause> {
        self.push("call".into());
        Ok(())
    }

    async fn answer(&self, _channel: &Arc<Channel>) -> Result<(), Cause> {
        self.push("answer".into());
        Ok(())
    }

    async fn indicate(&self, _channel: &Arc<Channel>, indication: Indication) {
        self.push(format!("indicate {indication:?}"));
    }

    async fn hangup(&self, _channel: &Arc<Channel>, cause: Cause) {
        self.push(format!("hangup {}", cause.code()));
    }

    async fn send_digit(&self, _channel: &Arc<Channel>, digit: char, _duration_ms: u32) {
        self.push(format!("digit {digit}"));
    }
}

/// A core in a scratch directory and an executor over `extensions` (the
/// text of an `extensions.conf`), with every application and function.
pub fn executor(extensions: &str) -> (Arc<Core>, Arc<Executor>, tempfile::TempDir) {
    executor_with(extensions, |_| {})
}

/// [`executor`] with `asterisk.conf` settings changed by `tweak` first.
pub fn executor_with(
    extensions: &str,
    tweak: impl FnOnce(&mut obelus_core::settings::Settings),
) -> (Arc<Core>, Arc<Executor>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let (mut settings, _) =
        obelus_core::settings::Settings::load(&dir.path().join("asterisk.conf"));
    // Sounds and recordings (`<astdatadir>/sounds`, `<astspooldir>`) stay
    // in the scratch directory.
    settings.dirs.data = dir.path().to_path_buf();
    settings.dirs.spool = dir.path().join("spool");
    tweak(&mut settings);
    let core = Arc::new(Core::new(settings, Arc::default()));
    let (dialplan, errors) = obelus_dialplan::from_text(extensions, "extensions.conf");
    assert!(errors.is_empty(), "{errors:?}");
    let registry = Arc::new(Registry::default());
    crate::applications::register_all(&registry);
    crate::functions::register_all(&registry);
    let globals = Arc::new(Globals::default());
    globals.replace(dialplan.globals().iter().cloned());
    let executor = Executor::new(
        Arc::clone(&core),
        registry,
        globals,
        Arc::new(Switches::default()),
        Arc::new(DialplanService::new(dialplan)),
    );
    core.provide(Arc::clone(&executor));
    core.channels
        .set_pbx(Arc::clone(&executor) as Arc<dyn obelus_core::channel::Pbx>);
    (core, executor, dir)
}

/// A new inbound test channel at `exten@context`, caller 101.
pub fn channel(core: &Arc<Core>, context: &str, exten: &str) -> (Arc<Channel>, Arc<TestDriver>) {
    let driver = Arc::new(TestDriver::default());
    let channel = Channel::create(
        &core.channels,
        ChannelInit {
            tech: "Test",
            resource: "101".into(),
            state: ChannelState::Ring,
            caller: Party {
                number: "101".into(),
                name: "Alice".into(),
            },
            context: context.into(),
            exten: exten.into(),
            language: String::new(),
            accountcode: String::new(),
        },
        Arc::clone(&driver) as Arc<dyn Driver>,
        None,
    );
    (channel, driver)
}

/// Runs the dialplan on a new channel at `exten@context` to the end.
pub async fn run_call(
    core: &Arc<Core>,
    executor: &Arc<Executor>,
    context: &str,
    exten: &str,
) -> (Arc<Channel>, Arc<TestDriver>) {
    let (channel, driver) = channel(core, context, exten);
    let pbx = Pbx::new(Arc::clone(executor), Arc::clone(&channel)).unwrap();
    crate::pbx::run(pbx).await;
    (channel, driver)
}
