//! Native RTP bridging, as Asterisk's `bridge_native_rtp` does it with
//! direct media: when both parties of a two-party bridge allow it
//! ([`Driver::native_rtp`](crate::channel::Driver::native_rtp)), are
//! answered, agree on one format and packetisation, carry DTMF the same
//! way, and nothing here needs their audio (no feature codes armed, no
//! recording or snoop, nobody on hold), each party's driver is told to
//! point its far end at the other's ([`Driver::direct_media`]), and RTP
//! flows phone to phone. When that stops being true the bridge brings both
//! back; when it ends, the parties that go on are brought back.
//!
//! The media engine's link stays in place throughout: a party whose
//! driver could not redirect it (a refused re-INVITE) still reaches the
//! other through this server.
//!
//! [`Driver::direct_media`]: crate::channel::Driver::direct_media

use std::sync::Arc;

use crate::channel::{Channel, ChannelState, DtmfTransport, NativeRtp};

/// What the bridge knows about one party when it decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Leg {
    /// Where the party's far end takes RTP, if the channel allows direct
    /// media at all.
    pub native: Option<NativeRtp>,
    /// The channel is answered.
    pub up: bool,
    /// A recording, monitor or whisper uses its audio here.
    pub tapped: bool,
    /// How it carries DTMF.
    pub dtmf: DtmfTransport,
    /// The bridge watches its keys for feature codes.
    pub features: bool,
}

impl Leg {
    /// The party `channel` as it is now; `features` says whether the
    /// bridge watches its keys.
    pub(crate) fn of(channel: &Channel, features: bool) -> Leg {
        let driver = channel.driver();
        Leg {
            native: driver.native_rtp(),
            up: channel.state() == ChannelState::Up,
            tapped: driver.media().is_some_and(|m| m.is_tapped()),
            dtmf: driver.dtmf_transport(),
            features,
        }
    }
}

/// Why media stays on this server; index 0 is the first party, 1 the second.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Anchor {
    /// The party does not allow direct media (`direct_media=no`, NAT with
    /// `disable_direct_media_on_nat`, or no media agreed yet).
    NotAllowed(usize),
    /// The party is not answered.
    NotUp(usize),
    /// Its audio is recorded, monitored or whispered into here.
    Tapped(usize),
    /// The bridge watches its keys for feature codes.
    Features(usize),
    /// A party holds the other (music on hold plays from here).
    Hold,
    /// The formats or packetisation differ: this server transcodes or
    /// reframes.
    Formats,
    /// The parties carry DTMF differently: this server interworks.
    Dtmf,
}

impl std::fmt::Display for Anchor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Anchor::NotAllowed(i) => write!(f, "party {} does not allow direct media", i + 1),
            Anchor::NotUp(i) => write!(f, "party {} is not answered", i + 1),
            Anchor::Tapped(i) => write!(f, "party {}'s audio is recorded or snooped", i + 1),
            Anchor::Features(i) => write!(f, "party {} may key feature codes", i + 1),
            Anchor::Hold => f.write_str("a party is on hold"),
            Anchor::Formats => f.write_str("the formats differ"),
            Anchor::Dtmf => f.write_str("the parties carry DTMF differently"),
        }
    }
}

/// Where each party's far end is to send RTP: `[0]` is what the first
/// party is pointed at (the second's far end), `[1]` the reverse.
pub(crate) type Targets = [NativeRtp; 2];

/// Whether the parties can send media to each other directly, and where;
/// `held` says that one holds the other.
pub(crate) fn plan(legs: [&Leg; 2], held: bool) -> Result<Targets, Anchor> {
    let a = ready(0, legs[0])?;
    let b = ready(1, legs[1])?;
    if held {
        return Err(Anchor::Hold);
    }
    if a.codec != b.codec || a.ptime_ms != b.ptime_ms {
        return Err(Anchor::Formats);
    }
    if legs[0].dtmf != legs[1].dtmf {
        return Err(Anchor::Dtmf);
    }
    Ok([b, a])
}

/// Party `i`'s far end, if nothing about the party alone keeps its media
/// here.
fn ready(i: usize, leg: &Leg) -> Result<NativeRtp, Anchor> {
    let native = leg.native.ok_or(Anchor::NotAllowed(i))?;
    if !leg.up {
        Err(Anchor::NotUp(i))
    } else if leg.tapped {
        Err(Anchor::Tapped(i))
    } else if leg.features {
        Err(Anchor::Features(i))
    } else {
        Ok(native)
    }
}

/// A bridge's native RTP state: where it has pointed the parties.
#[derive(Debug, Default)]
pub(crate) struct Native {
    pointed: Option<Targets>,
}

impl Native {
    /// Decides again from the parties as they are now and tells their
    /// drivers when the answer changed.
    pub(crate) async fn update(
        &mut self,
        bridge: &str,
        parties: [&Arc<Channel>; 2],
        features: [bool; 2],
        held: bool,
    ) {
        let legs = [
            Leg::of(parties[0], features[0]),
            Leg::of(parties[1], features[1]),
        ];
        match plan([&legs[0], &legs[1]], held) {
            Ok(targets) if self.pointed != Some(targets) => {
                for (i, party) in parties.iter().enumerate() {
                    if self.pointed.map(|p| p[i]) != Some(targets[i]) {
                        party.driver().direct_media(party, Some(targets[i])).await;
                    }
                }
                if self.pointed.is_none() {
                    tracing::info!(
                        verbose = 4,
                        "Remotely bridged '{}' and '{}' - media will flow directly between them",
                        parties[0].name(),
                        parties[1].name()
                    );
                }
                self.pointed = Some(targets);
            }
            Ok(_) => {}
            Err(why) => {
                if self.pointed.take().is_some() {
                    tracing::info!(
                        verbose = 4,
                        "Bridge {bridge}: media of '{}' and '{}' back through Obelus: {why}",
                        parties[0].name(),
                        parties[1].name()
                    );
                    for party in parties {
                        party.driver().direct_media(party, None).await;
                    }
                } else {
                    tracing::trace!("Bridge {bridge}: no native RTP bridge: {why}");
                }
            }
        }
    }

    /// The bridge ends: the parties in `going_on` (those that live on
    /// after it) are brought back to this server. A party that is being
    /// hung up is left alone (no re-INVITE before its BYE); an owner that
    /// keeps one the bridge did not bring back calls
    /// [`super::reclaim_media`].
    pub(crate) async fn release(&mut self, going_on: &[&Arc<Channel>]) {
        if self.pointed.take().is_none() {
            return;
        }
        for party in going_on {
            party.driver().direct_media(party, None).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use obelus_media::Codec;

    fn native(port: u16) -> NativeRtp {
        NativeRtp {
            addr: std::net::SocketAddr::from(([192, 0, 2, 1], port)),
            codec: Codec::Ulaw,
            payload_type: 0,
            dtmf_payload_type: Some(101),
            ptime_ms: 20,
        }
    }

    fn leg(port: u16) -> Leg {
        Leg {
            native: Some(native(port)),
            up: true,
            tapped: false,
            dtmf: DtmfTransport::Rfc4733,
            features: false,
        }
    }

    #[test]
    fn two_willing_answered_parties_send_to_each_other() {
        let (a, b) = (leg(4000), leg(5000));
        assert_eq!(plan([&a, &b], false), Ok([native(5000), native(4000)]));
    }

    /// A change to one party, and the reason it then gives for a party
    /// index.
    type Case = (fn(&mut Leg), fn(usize) -> Anchor);

    #[test]
    fn either_party_can_keep_media_here() {
        let b = leg(5000);
        let cases: [Case; 4] = [
            (|l| l.native = None, Anchor::NotAllowed),
            (|l| l.up = false, Anchor::NotUp),
            (|l| l.tapped = true, Anchor::Tapped),
            (|l| l.features = true, Anchor::Features),
        ];
        for (change, why) in cases {
            let mut a = leg(4000);
            change(&mut a);
            assert_eq!(plan([&a, &b], false), Err(why(0)));
            assert_eq!(plan([&b, &a], false), Err(why(1)));
        }
    }

    #[test]
    fn hold_keeps_media_here_for_the_music() {
        assert_eq!(plan([&leg(4000), &leg(5000)], true), Err(Anchor::Hold));
    }

    #[test]
    fn transcoding_reframing_and_dtmf_interworking_keep_media_here() {
        let a = leg(4000);
        let mut b = leg(5000);
        b.native = Some(NativeRtp {
            codec: Codec::G722,
            payload_type: 9,
            ..native(5000)
        });
        assert_eq!(plan([&a, &b], false), Err(Anchor::Formats));
        b.native = Some(NativeRtp {
            ptime_ms: 30,
            ..native(5000)
        });
        assert_eq!(plan([&a, &b], false), Err(Anchor::Formats));
        let mut b = leg(5000);
        b.dtmf = DtmfTransport::Info;
        assert_eq!(plan([&a, &b], false), Err(Anchor::Dtmf));
        // Keys in SIP INFO on both sides still cross through signalling.
        let mut a = leg(4000);
        a.dtmf = DtmfTransport::Info;
        assert!(plan([&a, &b], false).is_ok());
    }

    #[test]
    fn each_party_gets_the_payload_types_its_peer_expects() {
        let a = leg(4000);
        let mut b = leg(5000);
        b.native = Some(NativeRtp {
            dtmf_payload_type: Some(96),
            ..native(5000)
        });
        let [to_a, to_b] = plan([&a, &b], false).unwrap();
        assert_eq!(to_a.dtmf_payload_type, Some(96));
        assert_eq!(to_b.dtmf_payload_type, Some(101));
    }
}
