//! `Local/exten@context`: a channel that calls into the dialplan itself.
//!
//! A request creates two channels sharing one name, `;1` (handed to the
//! requester, e.g. Dial's outbound leg) and `;2` (which runs the dialplan
//! at `exten@context` once `;1` is called). What one half signals the other
//! receives as control frames: `;2` answering answers `;1`, ringing rings,
//! a hangup on either side hangs up the other. Audio crosses between the
//! halves as RTP between two media-engine streams on the loopback address,
//! so everything that works on a SIP channel (bridging, playback,
//! recording) works on either half.

use std::sync::{Arc, OnceLock, Weak};

use async_trait::async_trait;
use obelus_core::Core;
use obelus_core::channel::{
    Cause, Channel, ChannelInit, ChannelState, Channels, Control, Driver, Indication, Technology,
    next_sequence,
};
use obelus_media::{Codec, MediaEngine, Stream, StreamParams};

/// The `Local` channel technology.
pub struct LocalTechnology {
    core: Weak<Core>,
}

impl LocalTechnology {
    /// The technology, creating channels on `core`.
    pub fn new(core: &Arc<Core>) -> Self {
        Self {
            core: Arc::downgrade(core),
        }
    }
}

/// One half of a Local channel pair.
struct Half {
    peer: OnceLock<Weak<Channel>>,
    media: Arc<Stream>,
    first: bool,
}

impl Half {
    fn peer(&self) -> Option<Arc<Channel>> {
        self.peer.get().and_then(Weak::upgrade)
    }
}

#[async_trait]
impl Driver for Half {
    async fn call(&self, _channel: &Arc<Channel>) -> Result<(), Cause> {
        if !self.first {
            return Err(Cause::FAILURE);
        }
        let peer = self.peer().ok_or(Cause::FAILURE)?;
        let pbx = peer
            .channels()
            .and_then(|c| c.pbx())
            .ok_or(Cause::CHAN_NOT_IMPLEMENTED)?;
        pbx.start(peer);
        Ok(())
    }

    async fn answer(&self, _channel: &Arc<Channel>) -> Result<(), Cause> {
        if !self.first
            && let Some(peer) = self.peer()
        {
            peer.set_state(ChannelState::Up);
            peer.queue(Control::Answer);
        }
        Ok(())
    }

    async fn indicate(&self, _channel: &Arc<Channel>, indication: Indication) {
        let Some(peer) = self.peer() else { return };
        let control = match indication {
            Indication::Ringing => {
                peer.set_state(ChannelState::Ringing);
                Control::Ringing
            }
            Indication::Progress => Control::Progress,
            Indication::Busy => Control::Busy,
            Indication::Congestion => Control::Congestion,
            Indication::Hold => Control::Hold,
            Indication::Unhold => Control::Unhold,
        };
        peer.queue(control);
    }

    async fn hangup(&self, _channel: &Arc<Channel>, cause: Cause) {
        if let Some(peer) = self.peer() {
            peer.request_hangup(cause);
        }
    }

    async fn send_digit(&self, _channel: &Arc<Channel>, digit: char, duration_ms: u32) {
        self.media.send_dtmf(digit, duration_ms);
    }

    fn media(&self) -> Option<Arc<Stream>> {
        Some(Arc::clone(&self.media))
    }
}

/// `exten@context[/options]`, context `default` when omitted.
fn parse(resource: &str) -> Option<(String, String)> {
    let target = resource.split('/').next().unwrap_or_default();
    let (exten, context) = target.split_once('@').unwrap_or((target, "default"));
    if exten.is_empty() || context.is_empty() {
        return None;
    }
    Some((exten.to_owned(), context.to_owned()))
}

/// Two loopback streams sending to each other.
fn stream_pair(engine: &MediaEngine) -> Result<(Arc<Stream>, Arc<Stream>), Cause> {
    let ip = std::net::IpAddr::from([127, 0, 0, 1]);
    let open = || engine.open(ip).map(Arc::new).map_err(|_| Cause::CONGESTION);
    let (a, b) = (open()?, open()?);
    for (s, to) in [(&a, &b), (&b, &a)] {
        let mut params = StreamParams::new(Codec::Ulaw);
        params.remote = Some(to.local_addr());
        s.configure(params);
    }
    Ok((a, b))
}

#[async_trait]
impl Technology for LocalTechnology {
    fn name(&self) -> &'static str {
        "Local"
    }

    fn description(&self) -> &'static str {
        "Local Proxy Channel Driver"
    }

    async fn request(
        &self,
        channels: &Arc<Channels>,
        resource: &str,
        requestor: Option<&Arc<Channel>>,
    ) -> Result<Arc<Channel>, Cause> {
        let core = self.core.upgrade().ok_or(Cause::CHAN_NOT_IMPLEMENTED)?;
        let (exten, context) = parse(resource).ok_or_else(|| {
            tracing::warn!("Local: bad dial string '{resource}' (want exten@context)");
            Cause::CHAN_NOT_IMPLEMENTED
        })?;
        let engine = core
            .service::<MediaEngine>()
            .ok_or(Cause::CHAN_NOT_IMPLEMENTED)?;
        let (m1, m2) = stream_pair(&engine)?;
        let base = format!("Local/{exten}@{context}-{:08x}", next_sequence());
        let caller = requestor.map(|r| r.caller()).unwrap_or_default();
        let init = |state| ChannelInit {
            tech: "Local",
            resource: format!("{exten}@{context}"),
            state,
            caller: caller.clone(),
            context: context.clone(),
            exten: exten.clone(),
            language: requestor.map(|r| r.language()).unwrap_or_default(),
            accountcode: requestor.map(|r| r.accountcode()).unwrap_or_default(),
        };
        let h1 = Arc::new(Half {
            peer: OnceLock::new(),
            media: m1,
            first: true,
        });
        let h2 = Arc::new(Half {
            peer: OnceLock::new(),
            media: m2,
            first: false,
        });
        let one = Channel::create_named(
            channels,
            format!("{base};1"),
            init(ChannelState::Down),
            Arc::clone(&h1) as Arc<dyn Driver>,
            requestor,
        );
        let two = Channel::create_named(
            channels,
            format!("{base};2"),
            init(ChannelState::Ring),
            Arc::clone(&h2) as Arc<dyn Driver>,
            Some(&one),
        );
        let _ = h1.peer.set(Arc::downgrade(&two));
        let _ = h2.peer.set(Arc::downgrade(&one));
        Ok(one)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dial_strings() {
        assert_eq!(parse("600@testing"), Some(("600".into(), "testing".into())));
        assert_eq!(
            parse("600@testing/n"),
            Some(("600".into(), "testing".into()))
        );
        assert_eq!(parse("600"), Some(("600".into(), "default".into())));
        assert_eq!(parse("@x"), None);
    }
}
