//! Direct media (chan_pjsip's RTP glue): an endpoint's `direct_media`
//! options, whether a peer sits behind NAT, and the state of the offers
//! that point a peer's RTP at another phone or back at us.
//!
//! Pure logic; the session task ([`super::actor`]) sends the offers.

use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use obelus_core::channel::NativeRtp;
use obelus_sip::Method;

/// An endpoint's direct media options.
///
/// `direct_media_glare_mitigation` is accepted (sorcery checks its value)
/// and ignored: a re-INVITE of ours that crosses one of the peer's gets
/// 491 like any other, and the media stays on this server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DirectSettings {
    /// `direct_media` (default yes, as in Asterisk).
    pub enabled: bool,
    /// `direct_media_method`: `invite` and `reinvite` send a re-INVITE,
    /// `update` an UPDATE.
    pub method: Method,
    /// `disable_direct_media_on_nat`: no direct media for a peer whose
    /// SIP comes from another address than its Contact names.
    pub disable_on_nat: bool,
}

impl DirectSettings {
    /// The endpoint's options.
    pub(crate) fn of(endpoint: &obelus_sorcery::Object) -> DirectSettings {
        DirectSettings {
            enabled: endpoint.bool("direct_media").unwrap_or(true),
            method: match endpoint.str("direct_media_method") {
                Some(m) if m.eq_ignore_ascii_case("update") => Method::Update,
                _ => Method::Invite,
            },
            disable_on_nat: endpoint
                .bool("disable_direct_media_on_nat")
                .unwrap_or(false),
        }
    }

    /// Whether a peer reached at `contact` whose SIP comes from `source`
    /// may have its media sent straight to another phone.
    pub(crate) fn allows(&self, contact: &str, source: Option<IpAddr>) -> bool {
        self.enabled && !(self.disable_on_nat && behind_nat(contact, source))
    }
}

/// Whether a peer is behind NAT: its Contact (the address it believes it
/// has) names an IP other than the one its SIP comes from, or a
/// WebSocket client's made-up `.invalid` host.
pub(crate) fn behind_nat(contact: &str, source: Option<IpAddr>) -> bool {
    let rest = contact.split_once(':').map_or(contact, |(_, r)| r);
    let hostport = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
    let hostport = hostport.split([';', '?', '>']).next().unwrap_or(hostport);
    let host = match hostport.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(v6),
        None => hostport.split(':').next().unwrap_or(hostport),
    };
    if host.to_ascii_lowercase().ends_with(".invalid") {
        return true;
    }
    match (host.parse::<IpAddr>(), source) {
        (Ok(ip), Some(source)) => ip != source,
        _ => false,
    }
}

/// Where the peer's media goes, as our offers to it say: `None` is our
/// own RTP address, `Some` another phone's (a native RTP bridge).
///
/// The bridge says what it wants ([`Redirect::want`]); the session sends
/// one offer at a time ([`Redirect::next_offer`], RFC 3261 §14.1) and
/// reports its answer ([`Redirect::answered`]). A refused offer leaves
/// the peer where it was, and the wish is dropped rather than retried.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Redirect {
    /// What the peer accepted last.
    confirmed: Option<NativeRtp>,
    /// What the bridge asks for.
    wanted: Option<NativeRtp>,
    /// The target of our offer waiting for its answer, if one is.
    in_flight: Option<Option<NativeRtp>>,
}

impl Redirect {
    /// The bridge asks for the peer's media to go to `target`.
    pub(crate) fn want(&mut self, target: Option<NativeRtp>) {
        self.wanted = target;
    }

    /// The target to offer now, if the peer is not where the bridge wants
    /// it and no offer is waiting for its answer; marks it in flight.
    pub(crate) fn next_offer(&mut self) -> Option<Option<NativeRtp>> {
        if self.in_flight.is_some() || self.wanted == self.confirmed {
            return None;
        }
        self.in_flight = Some(self.wanted);
        self.in_flight
    }

    /// Our offer was answered: `accepted` (2xx) moves the peer there;
    /// otherwise it stays where it was, and so does the wish.
    pub(crate) fn answered(&mut self, accepted: bool) {
        let Some(target) = self.in_flight.take() else {
            return;
        };
        if accepted {
            self.confirmed = target;
        } else {
            self.wanted = self.confirmed;
        }
    }

    /// The media target our descriptions carry now: the offer in flight,
    /// else what the peer accepted.
    pub(crate) fn advertised(&self) -> Option<NativeRtp> {
        self.in_flight.unwrap_or(self.confirmed)
    }
}

/// The peer's [`NativeRtp`] as the session last agreed it (`None` when
/// direct media is not allowed), shared with the channel driver.
#[derive(Clone, Default)]
pub(crate) struct SharedNative(Arc<Mutex<Option<NativeRtp>>>);

impl SharedNative {
    /// Publishes the peer's media; returns the previous value.
    pub(crate) fn set(&self, native: Option<NativeRtp>) -> Option<NativeRtp> {
        let mut slot = self.0.lock().unwrap_or_else(|e| e.into_inner());
        std::mem::replace(&mut *slot, native)
    }

    /// The peer's media now.
    pub(crate) fn get(&self) -> Option<NativeRtp> {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use obelus_media::Codec;

    fn target(port: u16) -> NativeRtp {
        NativeRtp {
            addr: std::net::SocketAddr::from(([192, 0, 2, 7], port)),
            codec: Codec::Ulaw,
            payload_type: 0,
            dtmf_payload_type: Some(101),
            ptime_ms: 20,
        }
    }

    #[test]
    fn one_offer_at_a_time_and_only_for_a_change() {
        let mut r = Redirect::default();
        assert_eq!(r.next_offer(), None, "already at home");
        r.want(Some(target(4000)));
        assert_eq!(r.next_offer(), Some(Some(target(4000))));
        assert_eq!(r.advertised(), Some(target(4000)));
        // The bridge changes its mind while the offer is out: wait.
        r.want(None);
        assert_eq!(r.next_offer(), None);
        r.answered(true);
        assert_eq!(r.advertised(), Some(target(4000)));
        assert_eq!(r.next_offer(), Some(None), "now back home");
        r.answered(true);
        assert_eq!(r.advertised(), None);
        assert_eq!(r.next_offer(), None);
    }

    /// A refused offer (491, 488, ...) leaves media where it was and is
    /// not sent again by itself.
    #[test]
    fn a_refused_offer_leaves_media_where_it_was() {
        let mut r = Redirect::default();
        r.want(Some(target(4000)));
        assert!(r.next_offer().is_some());
        assert_eq!(r.advertised(), Some(target(4000)), "offered");
        r.answered(false);
        assert_eq!(r.advertised(), None);
        assert_eq!(r.next_offer(), None);
        // A later wish is offered.
        r.want(Some(target(5000)));
        assert_eq!(r.next_offer(), Some(Some(target(5000))));
    }

    #[test]
    fn nat_is_a_contact_that_is_not_where_sip_comes_from() {
        let source = Some("203.0.113.5".parse().unwrap());
        assert!(behind_nat("sip:101@192.168.1.20:5060", source));
        assert!(!behind_nat(
            "sip:101@203.0.113.5:5062;transport=udp",
            source
        ));
        assert!(behind_nat("sip:x@df7jal23ls0d.invalid;transport=ws", None));
        assert!(!behind_nat("sip:trunk.example.com", source));
        assert!(!behind_nat("sip:101@192.168.1.20", None));
        let v6 = Some("2001:db8::1".parse().unwrap());
        assert!(!behind_nat("sip:101@[2001:db8::1]:5060", v6));
        assert!(behind_nat("<sip:101@[2001:db8::2]:5060>", v6));
    }

    /// `direct_media` defaults to yes as in Asterisk; `reinvite` is
    /// `invite`; glare mitigation parses and changes nothing.
    #[test]
    fn settings_read_from_an_endpoint() {
        let ty = std::sync::Arc::new(crate::objects::endpoint::object_type().unwrap());
        let ep = ty.new_object("101");
        assert_eq!(
            DirectSettings::of(&ep),
            DirectSettings {
                enabled: true,
                method: Method::Invite,
                disable_on_nat: false,
            }
        );
        let mut ep = ty.new_object("102");
        for (name, value) in [
            ("direct_media", "no"),
            ("direct_media_method", "update"),
            ("disable_direct_media_on_nat", "yes"),
            ("direct_media_glare_mitigation", "outgoing"),
        ] {
            ep.set(name, value).unwrap();
        }
        let settings = DirectSettings::of(&ep);
        assert!(!settings.enabled && settings.disable_on_nat);
        assert_eq!(settings.method, Method::Update);
        ep.set("direct_media_method", "reinvite").unwrap();
        assert_eq!(DirectSettings::of(&ep).method, Method::Invite);
    }

    #[test]
    fn settings_follow_the_endpoint() {
        let off = DirectSettings {
            enabled: false,
            method: Method::Invite,
            disable_on_nat: false,
        };
        assert!(!off.allows("sip:a@192.0.2.1", None));
        let nat = DirectSettings {
            enabled: true,
            disable_on_nat: true,
            ..off
        };
        let source = Some("203.0.113.5".parse().unwrap());
        assert!(!nat.allows("sip:a@192.168.1.2", source));
        assert!(nat.allows("sip:a@203.0.113.5", source));
        let on = DirectSettings {
            disable_on_nat: false,
            ..nat
        };
        assert!(on.allows("sip:a@192.168.1.2", source));
    }
}
