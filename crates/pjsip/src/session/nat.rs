//! What we advertise to a peer outside our network (a transport's
//! `external_signaling_address`/`_port`, `external_media_address` and
//! `local_net`, as res_pjsip_nat does): the public addresses in Contact,
//! Via and SDP instead of the private ones we are bound to.

use std::net::{IpAddr, SocketAddr};

use obelus_sorcery::Sorcery;

/// Public addresses to use toward one peer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Advertised {
    /// Host and port for Contact and Via.
    pub signaling: Option<(String, u16)>,
    /// Address for SDP `c=`/`o=`.
    pub media: Option<IpAddr>,
}

/// The public addresses of `transport` toward `peer`: none when the peer
/// is in one of the transport's `local_net` networks or none are set.
pub(crate) async fn advertised(
    sorcery: &Sorcery,
    transport: &str,
    peer: IpAddr,
    local_port: u16,
) -> Advertised {
    let Ok(Some(t)) = sorcery.retrieve_by_id("transport", transport).await else {
        return Advertised::default();
    };
    let mut local = obelus_core::acl::Acl::default();
    let _ = local.add(false, "0.0.0.0/0");
    let _ = local.add(false, "::/0");
    for net in t.list("local_net") {
        if let Err(e) = local.add(true, net) {
            tracing::warn!("PJSIP transport '{transport}': local_net: {e}");
        }
    }
    if local.allows(peer) {
        return Advertised::default();
    }
    let port = match t.uint("external_signaling_port").unwrap_or(0) {
        0 => local_port,
        p => u16::try_from(p).unwrap_or(local_port),
    };
    Advertised {
        signaling: t
            .str("external_signaling_address")
            .filter(|a| !a.trim().is_empty())
            .map(|a| (a.trim().to_owned(), port)),
        media: t
            .str("external_media_address")
            .and_then(|a| a.trim().parse().ok()),
    }
}

/// `host:port` for a Contact or Via: the public one if any, else `local`.
pub(crate) fn sip_address(advertised: &Advertised, local: SocketAddr) -> String {
    match &advertised.signaling {
        Some((host, port)) => format!("{host}:{port}"),
        None => local.to_string(),
    }
}
