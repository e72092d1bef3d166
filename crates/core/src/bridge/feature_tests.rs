//! The two-party bridge's feature codes and transfers, with channels whose
//! drivers record what the bridge makes them do and a dialplan stand-in.

use std::path::Path;
use std::sync::atomic::AtomicU8;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use super::*;
use crate::channel::{
    ChannelInit, ChannelState, Driver, Indication, Party, Pbx, TransferRequest, TransferState,
};
use crate::settings::Settings;

/// What the bridge asked a channel's driver to do.
#[derive(Default)]
struct Recorder {
    digits: Mutex<String>,
    progress: Mutex<Vec<TransferState>>,
}

#[async_trait]
impl Driver for Recorder {
    async fn call(&self, _: &Arc<Channel>) -> Result<(), Cause> {
        Ok(())
    }
    async fn answer(&self, _: &Arc<Channel>) -> Result<(), Cause> {
        Ok(())
    }
    async fn indicate(&self, _: &Arc<Channel>, _: Indication) {}
    async fn hangup(&self, _: &Arc<Channel>, _: Cause) {}
    async fn send_digit(&self, _: &Arc<Channel>, digit: char, _: u32) {
        self.digits.lock().unwrap().push(digit);
    }
    async fn transfer_progress(&self, _: &Arc<Channel>, state: TransferState) -> Result<(), Cause> {
        self.progress.lock().unwrap().push(state);
        Ok(())
    }
}

/// A dialplan where `test` has extensions 103 and 1030.
struct Dialplan;

#[async_trait]
impl Pbx for Dialplan {
    fn start(&self, _: Arc<Channel>) {}
    async fn exists(&self, context: &str, exten: &str, _: Option<&str>) -> bool {
        context == "test" && (exten == "103" || exten == "1030")
    }
    async fn match_more(&self, context: &str, exten: &str, _: Option<&str>) -> bool {
        context == "test" && "1030".starts_with(exten) && exten != "1030"
    }
}

struct Call {
    core: Arc<Core>,
    a: ControlReceiver,
    b: ControlReceiver,
    a_wire: Arc<Recorder>,
    b_wire: Arc<Recorder>,
}

fn call() -> Call {
    let settings = Settings::defaults(Path::new("/nonexistent/asterisk.conf"));
    let core = Arc::new(Core::new(settings, Arc::new(AtomicU8::new(0))));
    core.channels.set_pbx(Arc::new(Dialplan));
    let leg = |name: &str, wire: &Arc<Recorder>| {
        let init = ChannelInit {
            tech: "Test",
            resource: name.into(),
            state: ChannelState::Up,
            caller: Party::default(),
            context: "test".into(),
            exten: "s".into(),
            language: String::new(),
            accountcode: String::new(),
        };
        let driver: Arc<dyn Driver> = Arc::clone(wire) as Arc<dyn Driver>;
        let channel = Channel::create(&core.channels, init, driver, None);
        channel.take_control().unwrap()
    };
    let (a_wire, b_wire) = (Arc::new(Recorder::default()), Arc::new(Recorder::default()));
    Call {
        a: leg("a", &a_wire),
        b: leg("b", &b_wire),
        core: Arc::clone(&core),
        a_wire,
        b_wire,
    }
}

fn keys(channel: &Channel, digits: &str) {
    for digit in digits.chars() {
        channel.queue(Control::Dtmf {
            digit,
            duration_ms: 120,
        });
    }
}

fn callee_may(transfer: bool, disconnect: bool) -> BridgeFeatures {
    BridgeFeatures {
        first: Permissions::default(),
        second: Permissions {
            transfer,
            disconnect,
            park: false,
        },
    }
}

#[tokio::test]
async fn the_disconnect_code_ends_the_bridge_as_the_presser_and_is_never_heard() {
    let mut c = call();
    keys(c.b.channel(), "5*");
    let end = two_party_with(&c.core, "Dial", &mut c.a, &mut c.b, callee_may(false, true)).await;
    assert!(
        matches!(end, BridgeEnd::Second(Cause::NORMAL_CLEARING)),
        "{end:?}"
    );
    assert_eq!(*c.a_wire.digits.lock().unwrap(), "5");
}

/// Hangs `channel` up once `done` holds (what the bridge did is seen on
/// the drivers), so that the request does not overtake queued frames; a
/// bridge that never gets there is hung up anyway after a bounded number
/// of turns, and the test's assertions say what was missing.
async fn hang_up_when(channel: Arc<Channel>, done: impl Fn() -> bool) {
    for _ in 0..100_000 {
        if done() {
            break;
        }
        tokio::task::yield_now().await;
    }
    channel.request_hangup(Cause::NORMAL_CLEARING);
}

#[tokio::test]
async fn a_side_without_codes_passes_every_key() {
    let mut c = call();
    keys(c.a.channel(), "#*1");
    let a = Arc::clone(c.a.channel());
    let b_wire = Arc::clone(&c.b_wire);
    let (end, ()) = tokio::join!(
        two_party_with(&c.core, "Dial", &mut c.a, &mut c.b, callee_may(true, true)),
        hang_up_when(a, || b_wire.digits.lock().unwrap().len() == 3)
    );
    assert!(matches!(end, BridgeEnd::First(_)), "{end:?}");
    assert_eq!(*c.b_wire.digits.lock().unwrap(), "#*1");
}

#[tokio::test]
async fn the_blind_transfer_code_collects_an_extension_until_no_longer_one_can_match() {
    let mut c = call();
    let mut events = c.core.events.subscribe();
    keys(c.b.channel(), "#1030");
    let end = two_party_with(&c.core, "Dial", &mut c.a, &mut c.b, callee_may(true, false)).await;
    match end {
        BridgeEnd::BlindTransfer {
            transferer,
            context,
            exten,
        } => {
            assert_eq!(transferer, Side::Second);
            assert_eq!((context.as_str(), exten.as_str()), ("test", "1030"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        *c.a_wire.digits.lock().unwrap(),
        "",
        "the transferee heard no key"
    );
    assert_eq!(
        c.a.channel().var("BLINDTRANSFER").as_deref(),
        Some(c.b.channel().name())
    );
    let mut published = None;
    while let Ok(event) = events.try_recv() {
        if let Event::BlindTransfer(e) = event.as_ref() {
            published = Some(e.clone());
        }
    }
    let e = published.expect("BlindTransfer published");
    assert!(!e.is_external);
    assert_eq!(e.result, TransferResult::Success);
    assert_eq!(e.transferer.name, c.b.channel().name());
}

#[tokio::test]
async fn a_pound_ends_the_number_and_an_unknown_one_keeps_the_bridge() {
    let mut c = call();
    // "10#" is no extension: the bridge goes on, and the next code works.
    keys(c.b.channel(), "#10#");
    keys(c.b.channel(), "#103#");
    let end = two_party_with(&c.core, "Dial", &mut c.a, &mut c.b, callee_may(true, false)).await;
    assert!(
        matches!(&end, BridgeEnd::BlindTransfer { exten, .. } if exten == "103"),
        "{end:?}"
    );
}

#[tokio::test]
async fn a_refer_the_driver_checked_transfers_and_is_reported_done() {
    let mut c = call();
    c.a.channel().queue(Control::Transfer(TransferRequest {
        destination: Some("103".into()),
        replaces: None,
        params: Vec::new(),
        context: Some("test".into()),
        replaced_channel: None,
    }));
    let end = two_party(&c.core, "Dial", &mut c.a, &mut c.b).await;
    assert!(
        matches!(&end, BridgeEnd::BlindTransfer { transferer: Side::First, exten, .. } if exten == "103"),
        "{end:?}"
    );
    assert_eq!(
        *c.a_wire.progress.lock().unwrap(),
        [TransferState::Answered]
    );
    assert!(c.b_wire.progress.lock().unwrap().is_empty());
}

#[tokio::test]
async fn an_attended_refer_whose_replaced_call_is_gone_is_refused() {
    let mut c = call();
    c.a.channel().queue(Control::Transfer(TransferRequest {
        destination: None,
        replaces: Some("gone@host".into()),
        params: Vec::new(),
        context: Some("test".into()),
        replaced_channel: Some("no-such-channel".into()),
    }));
    keys(c.b.channel(), "7");
    let b = Arc::clone(c.b.channel());
    let a_wire = Arc::clone(&c.a_wire);
    let (end, ()) = tokio::join!(
        two_party(&c.core, "Dial", &mut c.a, &mut c.b),
        hang_up_when(b, || a_wire.digits.lock().unwrap().len() == 1)
    );
    assert!(matches!(end, BridgeEnd::Second(_)), "{end:?}");
    assert_eq!(
        *c.a_wire.progress.lock().unwrap(),
        [TransferState::Unavailable]
    );
    assert_eq!(*c.a_wire.digits.lock().unwrap(), "7", "the bridge went on");
}

/// A `Local` stand-in: the requested channel's driver records like the
/// others, and the test drives its answer through its mailbox.
struct Targets {
    made: Mutex<Vec<Arc<Channel>>>,
}

#[async_trait]
impl crate::channel::Technology for Targets {
    fn name(&self) -> &'static str {
        "Local"
    }
    fn description(&self) -> &'static str {
        "test targets"
    }
    async fn request(
        &self,
        channels: &Arc<crate::channel::Channels>,
        resource: &str,
        _: Option<&Arc<Channel>>,
    ) -> Result<Arc<Channel>, Cause> {
        let init = ChannelInit {
            tech: "Local",
            resource: resource.into(),
            state: ChannelState::Down,
            caller: Party::default(),
            context: "test".into(),
            exten: "s".into(),
            language: String::new(),
            accountcode: String::new(),
        };
        let driver: Arc<dyn Driver> = Arc::new(Recorder::default());
        let channel = Channel::create(channels, init, driver, None);
        self.made.lock().unwrap().push(Arc::clone(&channel));
        Ok(channel)
    }
}

fn with_targets(c: &Call) -> Arc<Targets> {
    let targets = Arc::new(Targets {
        made: Mutex::new(Vec::new()),
    });
    c.core
        .channels
        .register_technology(Arc::clone(&targets) as Arc<dyn crate::channel::Technology>);
    targets
}

/// Waits (bounded) until the stand-in made a target, then runs `then` on it.
async fn when_called(targets: Arc<Targets>, then: impl FnOnce(&Arc<Channel>)) {
    for _ in 0..100_000 {
        if let Some(target) = targets.made.lock().unwrap().first() {
            then(target);
            return;
        }
        tokio::task::yield_now().await;
    }
}

#[tokio::test]
async fn an_attended_transfer_joins_the_transferee_and_the_target_when_the_transferer_leaves() {
    let mut c = call();
    let (config, _) = crate::features::FeaturesConfig::from_config(
        &obelus_conf::parse_str("features.conf", "[featuremap]\natxfer => *2\n").unwrap(),
    );
    let features = Arc::new(crate::features::Features::default());
    features.set(config);
    c.core.provide(features);
    let targets = with_targets(&c);
    let mut events = c.core.events.subscribe();
    keys(c.b.channel(), "*2103#");
    let b = Arc::clone(c.b.channel());
    let (end, ()) = tokio::join!(
        two_party_with(&c.core, "Dial", &mut c.a, &mut c.b, callee_may(true, false)),
        when_called(Arc::clone(&targets), move |target| {
            target.queue(Control::Answer);
            b.request_hangup(Cause::NORMAL_CLEARING);
        })
    );
    let target = targets.made.lock().unwrap()[0].clone();
    assert_eq!(target.name().split('-').next(), Some("Local/103@test"));
    match end {
        BridgeEnd::AttendedTransfer {
            transferer,
            target: joined,
            ..
        } => {
            assert_eq!(transferer, Side::Second);
            assert_eq!(joined.channel().uniqueid(), target.uniqueid());
        }
        other => panic!("{other:?}"),
    }
    let mut published = None;
    while let Ok(event) = events.try_recv() {
        if let Event::AttendedTransfer(e) = event.as_ref() {
            published = Some(e.clone());
        }
    }
    let e = published.expect("AttendedTransfer published");
    assert!(!e.is_external);
    assert_eq!(e.first_leg.name, c.b.channel().name());
    assert_eq!(e.transferee.as_ref().unwrap().name, c.a.channel().name());
    assert_eq!(e.target.as_ref().unwrap().name, target.name());
}

#[tokio::test]
async fn an_aborted_attended_transfer_hangs_the_target_up_and_resumes_the_bridge() {
    let mut c = call();
    let (config, _) = crate::features::FeaturesConfig::from_config(
        &obelus_conf::parse_str("features.conf", "[featuremap]\natxfer => *2\n").unwrap(),
    );
    let features = Arc::new(crate::features::Features::default());
    features.set(config);
    c.core.provide(features);
    let targets = with_targets(&c);
    keys(c.b.channel(), "*2103#");
    let (b, a) = (Arc::clone(c.b.channel()), Arc::clone(c.a.channel()));
    let a_wire = Arc::clone(&c.a_wire);
    let (end, ()) = tokio::join!(
        two_party_with(&c.core, "Dial", &mut c.a, &mut c.b, callee_may(true, false)),
        async move {
            when_called(Arc::clone(&targets), |target| target.queue(Control::Answer)).await;
            // The abort code, then a key the transferee hears again.
            keys(&b, "*18");
            hang_up_when(a, || a_wire.digits.lock().unwrap().len() == 1).await;
            assert!(targets.made.lock().unwrap()[0].is_hung_up());
        }
    );
    assert!(matches!(end, BridgeEnd::First(_)), "{end:?}");
    assert_eq!(*c.a_wire.digits.lock().unwrap(), "8");
}
