//! `UnicastRTP/<host:port>[/c(<format>)]`: a channel whose audio is plain
//! RTP to and from an external host (Asterisk's `chan_rtp`), which ARI's
//! `externalMedia` creates so that a program outside (speech recognition,
//! a media server) can take part in a call with nothing but a UDP socket.
//!
//! The channel's media stream sends what it is given (by a bridge, a
//! playback) to the host and takes what the host sends back from that
//! address. Calling it answers at once: there is no signalling. The local
//! end is reported in `UNICASTRTP_LOCAL_ADDRESS` and
//! `UNICASTRTP_LOCAL_PORT`, where the host must send.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::sync::{Arc, Weak};

use async_trait::async_trait;
use obelus_core::Core;
use obelus_core::channel::{
    Cause, Channel, ChannelInit, ChannelState, Channels, Control, Driver, Indication, Technology,
};
use obelus_media::{Codec, MediaEngine, Stream, StreamParams};

/// The `UnicastRTP` channel technology.
pub struct UnicastRtpTechnology {
    core: Weak<Core>,
}

impl UnicastRtpTechnology {
    /// The technology, creating channels on `core`.
    pub fn new(core: &Arc<Core>) -> Self {
        Self {
            core: Arc::downgrade(core),
        }
    }
}

/// The driver of one UnicastRTP channel: its stream and nothing else.
struct Unicast {
    media: Arc<Stream>,
}

#[async_trait]
impl Driver for Unicast {
    async fn call(&self, channel: &Arc<Channel>) -> Result<(), Cause> {
        channel.queue(Control::Answer);
        Ok(())
    }

    async fn answer(&self, _channel: &Arc<Channel>) -> Result<(), Cause> {
        Ok(())
    }

    async fn indicate(&self, _channel: &Arc<Channel>, _indication: Indication) {}

    async fn hangup(&self, _channel: &Arc<Channel>, _cause: Cause) {}

    async fn send_digit(&self, _channel: &Arc<Channel>, digit: char, duration_ms: u32) {
        self.media.send_dtmf(digit, duration_ms);
    }

    fn media(&self) -> Option<Arc<Stream>> {
        Some(Arc::clone(&self.media))
    }
}

/// `host:port[/c(format)]`: the destination as written and the codec
/// (µ-law unless `c()` names another).
fn parse(resource: &str) -> Option<(&str, Codec)> {
    let (destination, options) = match resource.split_once('/') {
        Some((d, o)) => (d, o),
        None => (resource, ""),
    };
    if destination.is_empty() {
        return None;
    }
    let mut codec = Codec::Ulaw;
    let mut rest = options;
    while !rest.is_empty() {
        let (option, after) = match rest.find(')') {
            Some(close) => (&rest[..=close], &rest[close + 1..]),
            None => (rest, ""),
        };
        if let Some(name) = option.strip_prefix("c(").and_then(|o| o.strip_suffix(')')) {
            codec = Codec::from_name(name)?;
        }
        rest = after.trim_start_matches(',');
    }
    Some((destination, codec))
}

/// The local address the system would send to `remote` from (Asterisk's
/// `ast_ouraddrfor`): a connected UDP socket tells without sending.
fn local_ip_for(remote: SocketAddr) -> IpAddr {
    let any: IpAddr = match remote {
        SocketAddr::V4(_) => Ipv4Addr::UNSPECIFIED.into(),
        SocketAddr::V6(_) => Ipv6Addr::UNSPECIFIED.into(),
    };
    UdpSocket::bind((any, 0))
        .and_then(|s| {
            s.connect(remote)?;
            s.local_addr()
        })
        .map(|a| a.ip())
        .unwrap_or(any)
}

#[async_trait]
impl Technology for UnicastRtpTechnology {
    fn name(&self) -> &'static str {
        "UnicastRTP"
    }

    fn description(&self) -> &'static str {
        "Unicast RTP Media Channel Driver"
    }

    async fn request(
        &self,
        channels: &Arc<Channels>,
        resource: &str,
        requestor: Option<&Arc<Channel>>,
    ) -> Result<Arc<Channel>, Cause> {
        let core = self.core.upgrade().ok_or(Cause::CHAN_NOT_IMPLEMENTED)?;
        let Some((destination, codec)) = parse(resource) else {
            tracing::warn!("UnicastRTP: bad dial string '{resource}' (want host:port[/c(format)])");
            return Err(Cause::CHAN_NOT_IMPLEMENTED);
        };
        let remote = tokio::net::lookup_host(destination)
            .await
            .ok()
            .and_then(|mut addrs| addrs.next())
            .ok_or_else(|| {
                tracing::warn!("UnicastRTP: destination '{destination}' is not host:port");
                Cause::CHAN_NOT_IMPLEMENTED
            })?;
        let engine = core
            .service::<MediaEngine>()
            .ok_or(Cause::CHAN_NOT_IMPLEMENTED)?;
        let local_ip = local_ip_for(remote);
        let media = Arc::new(engine.open(local_ip).map_err(|e| {
            tracing::warn!("UnicastRTP: no RTP port for {destination}: {e}");
            Cause::CONGESTION
        })?);
        media.configure(StreamParams {
            remote: Some(remote),
            ..StreamParams::new(codec)
        });
        let local = media.local_addr();
        let init = ChannelInit {
            tech: "UnicastRTP",
            resource: destination.to_owned(),
            state: ChannelState::Down,
            caller: requestor.map(|r| r.caller()).unwrap_or_default(),
            context: "default".to_owned(),
            exten: "s".to_owned(),
            language: requestor.map(|r| r.language()).unwrap_or_default(),
            accountcode: requestor.map(|r| r.accountcode()).unwrap_or_default(),
        };
        let channel = Channel::create(channels, init, Arc::new(Unicast { media }), requestor);
        channel.set_var("UNICASTRTP_LOCAL_ADDRESS", &local.ip().to_string());
        channel.set_var("UNICASTRTP_LOCAL_PORT", &local.port().to_string());
        Ok(channel)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dial_strings() {
        assert_eq!(
            parse("127.0.0.1:5000"),
            Some(("127.0.0.1:5000", Codec::Ulaw))
        );
        assert_eq!(
            parse("127.0.0.1:5000/c(slin16)"),
            Some(("127.0.0.1:5000", Codec::Slin16))
        );
        assert_eq!(
            parse("media.example:4000/e(asterisk),c(alaw)"),
            Some(("media.example:4000", Codec::Alaw))
        );
        assert_eq!(parse("127.0.0.1:5000/c(opus9)"), None);
        assert_eq!(parse("/c(ulaw)"), None);
    }

    #[test]
    fn the_local_address_is_the_route_to_the_host() {
        let local = local_ip_for("127.0.0.1:9".parse().expect("addr"));
        assert_eq!(local, IpAddr::from([127, 0, 0, 1]));
    }
}
