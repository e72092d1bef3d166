//! The two-party bridge as a native RTP bridge, with drivers that offer
//! their far end's media and record where the bridge points them.

use std::path::Path;
use std::sync::atomic::AtomicU8;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use obelus_media::Codec;

use super::*;
use crate::channel::{
    ChannelInit, ChannelState, Driver, Indication, NativeRtp, Party, TransferRequest,
};
use crate::features::Permissions;
use crate::settings::Settings;

/// A channel whose far end takes RTP at `native`, recording every
/// [`Driver::direct_media`] the bridge asks for.
struct Glue {
    native: NativeRtp,
    pointed: Mutex<Vec<Option<NativeRtp>>>,
}

impl Glue {
    fn at(port: u16) -> Arc<Glue> {
        Arc::new(Glue {
            native: NativeRtp {
                addr: std::net::SocketAddr::from(([192, 0, 2, 1], port)),
                codec: Codec::Ulaw,
                payload_type: 0,
                dtmf_payload_type: Some(101),
                ptime_ms: 20,
            },
            pointed: Mutex::new(Vec::new()),
        })
    }

    fn pointed(&self) -> Vec<Option<NativeRtp>> {
        self.pointed.lock().unwrap().clone()
    }
}

#[async_trait]
impl Driver for Glue {
    async fn call(&self, _: &Arc<Channel>) -> Result<(), Cause> {
        Ok(())
    }
    async fn answer(&self, _: &Arc<Channel>) -> Result<(), Cause> {
        Ok(())
    }
    async fn indicate(&self, _: &Arc<Channel>, _: Indication) {}
    async fn hangup(&self, _: &Arc<Channel>, _: Cause) {}
    async fn send_digit(&self, _: &Arc<Channel>, _: char, _: u32) {}
    fn native_rtp(&self) -> Option<NativeRtp> {
        Some(self.native)
    }
    async fn direct_media(&self, _: &Arc<Channel>, peer: Option<NativeRtp>) {
        self.pointed.lock().unwrap().push(peer);
    }
}

struct Call {
    core: Arc<Core>,
    a: ControlReceiver,
    b: ControlReceiver,
    a_wire: Arc<Glue>,
    b_wire: Arc<Glue>,
}

fn call() -> Call {
    let settings = Settings::defaults(Path::new("/nonexistent/asterisk.conf"));
    let core = Arc::new(Core::new(settings, Arc::new(AtomicU8::new(0))));
    let leg = |name: &str, wire: &Arc<Glue>| {
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
        Channel::create(&core.channels, init, driver, None)
            .take_control()
            .unwrap()
    };
    let (a_wire, b_wire) = (Glue::at(4000), Glue::at(5000));
    Call {
        a: leg("a", &a_wire),
        b: leg("b", &b_wire),
        core,
        a_wire,
        b_wire,
    }
}

/// Waits (a bounded number of turns) until `done` holds.
async fn until(done: impl Fn() -> bool) {
    for _ in 0..100_000 {
        if done() {
            return;
        }
        tokio::task::yield_now().await;
    }
}

/// Direct at once; a hold brings both parties back for the music, the
/// unhold sends them direct again; the hangup of one leaves the other
/// alone (its owner hangs it up, or reclaims it).
#[tokio::test]
async fn parties_go_direct_come_back_for_a_hold_and_are_left_at_a_hangup() {
    let mut c = call();
    let (a, b) = (Arc::clone(c.a.channel()), Arc::clone(c.b.channel()));
    let (a_wire, b_wire) = (Arc::clone(&c.a_wire), Arc::clone(&c.b_wire));
    let script = async {
        until(|| b_wire.pointed().len() == 1).await;
        a.queue(Control::Hold);
        until(|| b_wire.pointed().len() == 2).await;
        a.queue(Control::Unhold);
        until(|| b_wire.pointed().len() == 3).await;
        b.request_hangup(Cause::NORMAL_CLEARING);
    };
    let (end, ()) = tokio::join!(two_party(&c.core, "Dial", &mut c.a, &mut c.b), script);
    assert!(matches!(end, BridgeEnd::Second(_)), "{end:?}");
    let (to_a, to_b) = (Some(c.b_wire.native), Some(c.a_wire.native));
    assert_eq!(a_wire.pointed(), [to_a, None, to_a]);
    assert_eq!(b_wire.pointed(), [to_b, None, to_b]);
}

/// A side whose keys the bridge watches for feature codes keeps both
/// parties' media here.
#[tokio::test]
async fn feature_codes_keep_media_here() {
    let mut c = call();
    let b = Arc::clone(c.b.channel());
    b.request_hangup(Cause::NORMAL_CLEARING);
    let features = BridgeFeatures {
        first: Permissions::default(),
        second: Permissions {
            transfer: true,
            disconnect: false,
            park: false,
        },
    };
    two_party_with(&c.core, "Dial", &mut c.a, &mut c.b, features).await;
    assert!(c.a_wire.pointed().is_empty());
    assert!(c.b_wire.pointed().is_empty());
}

/// A blind transfer by REFER: the transferee goes on (into the dialplan)
/// and is brought back; the transferer, whose call is over, is not.
#[tokio::test]
async fn the_transferee_is_brought_back_when_the_bridge_ends() {
    let mut c = call();
    let a = Arc::clone(c.a.channel());
    let b_wire = Arc::clone(&c.b_wire);
    let script = async {
        until(|| b_wire.pointed().len() == 1).await;
        a.queue(Control::Transfer(TransferRequest {
            destination: Some("103".into()),
            replaces: None,
            params: Vec::new(),
            context: Some("test".into()),
            replaced_channel: None,
        }));
    };
    let (end, ()) = tokio::join!(two_party(&c.core, "Dial", &mut c.a, &mut c.b), script);
    assert!(
        matches!(
            end,
            BridgeEnd::BlindTransfer {
                transferer: Side::First,
                ..
            }
        ),
        "{end:?}"
    );
    assert_eq!(c.a_wire.pointed(), [Some(c.b_wire.native)]);
    assert_eq!(c.b_wire.pointed(), [Some(c.a_wire.native), None]);
}
