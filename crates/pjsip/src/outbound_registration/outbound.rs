//! RFC 5626 ("SIP Outbound") for `support_outbound=yes`, the part Asterisk
//! does and the keep-alive of the flow:
//!
//! - the Contact of every REGISTER carries `;ob` in its URI and the
//!   `reg-id=1` and `+sip.instance="<urn:uuid:...>"` parameters (§4.2),
//!   with `Supported: outbound`; the instance id is the same across
//!   restarts (a name-based UUID of this server's `systemname` and the
//!   registration's id), so a restart replaces the flow instead of adding
//!   a second one;
//! - over TCP or TLS, CRLF keep-alives (§4.4.1) go down the registration's
//!   connection every 80–100 % of the `Flow-Timer` the registrar grants;
//!   without one, the transport's own CRLF pings of the connections
//!   Obelus opens (every 90 s) keep it alive. A keep-alive that cannot be
//!   written means the flow failed: the registration is sent again at once
//!   (§4.4.1), over a new connection.
//!
//! Left out: STUN keep-alives over UDP (§4.4.2), and watching for the
//! server's CRLF pong (the transport reads the connection).

use std::time::Duration;

use obelus_sip::Response;
use obelus_sip::digest::Algorithm;

/// The `reg-id` of our only flow per registration.
pub(crate) const REG_ID: u32 = 1;

/// The option tag of RFC 5626.
pub(crate) const TAG: &str = "outbound";

/// The `+sip.instance` URN of registration `id` on server `systemname`:
/// an RFC 4122 version 3 (MD5, name-based) UUID, stable across restarts.
pub(crate) fn instance(systemname: &str, id: &str) -> String {
    let hex = Algorithm::Md5.hash(&[
        b"obelus/registration/".as_slice(),
        systemname.as_bytes(),
        b"/".as_slice(),
        id.as_bytes(),
    ]);
    let mut digits: Vec<u8> = hex.into_bytes();
    // Version 3 in the time_hi nibble, variant 10xx in clock_seq_hi.
    digits[12] = b'3';
    let variant = u8::from_str_radix(&String::from(char::from(digits[16])), 16).unwrap_or(0);
    digits[16] = b"89ab"[usize::from(variant & 0x3)];
    let hex = String::from_utf8(digits).unwrap_or_default();
    format!(
        "urn:uuid:{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// The Contact header parameters of an outbound flow.
pub(crate) fn contact_params(instance: &str) -> String {
    format!(";reg-id={REG_ID};+sip.instance=\"<{instance}>\"")
}

/// How often to send a CRLF keep-alive down the flow a 2xx established:
/// 80–100 % (drawn with `draw` in 0..=1) of its `Flow-Timer` (RFC 5626
/// §4.4.1); `None` when the response sets none.
pub(crate) fn keepalive_every(response: &Response, draw: f64) -> Option<Duration> {
    let secs: u64 = response
        .headers()
        .get_raw("Flow-Timer")?
        .trim()
        .parse()
        .ok()
        .filter(|s| *s > 0)?;
    let fraction = 0.8 + 0.2 * draw.clamp(0.0, 1.0);
    Some(Duration::from_secs_f64(secs as f64 * fraction).max(Duration::from_secs(1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4122 §4.3: the same name gives the same UUID, version 3,
    /// RFC 4122 variant; RFC 5626 §4.1: it is the instance URN.
    #[test]
    fn instance_ids_are_stable_name_based_uuids() {
        let a = instance("pbx1", "trunk");
        assert_eq!(a, instance("pbx1", "trunk"));
        assert_ne!(a, instance("pbx2", "trunk"));
        assert_ne!(a, instance("pbx1", "other"));
        let uuid = a.strip_prefix("urn:uuid:").unwrap();
        let groups: Vec<&str> = uuid.split('-').collect();
        assert_eq!(
            groups.iter().map(|g| g.len()).collect::<Vec<_>>(),
            vec![8, 4, 4, 4, 12]
        );
        assert!(groups[2].starts_with('3'));
        assert!("89ab".contains(&groups[3][..1]));
        assert_eq!(
            contact_params(&a),
            format!(";reg-id=1;+sip.instance=\"<{a}>\"")
        );
    }

    fn ok(extra: &str) -> Response {
        Response::parse(format!(
            "SIP/2.0 200 OK\r\nVia: SIP/2.0/TCP 192.0.2.9;branch=z9hG4bK1\r\n\
From: <sip:a@b>;tag=1\r\nTo: <sip:a@b>;tag=2\r\nCall-ID: c\r\nCSeq: 1 REGISTER\r\n\
{extra}Content-Length: 0\r\n\r\n"
        ))
        .unwrap()
    }

    /// RFC 5626 §4.4.1: between 80 % and 100 % of Flow-Timer.
    #[test]
    fn keepalives_follow_the_flow_timer() {
        let r = ok("Require: outbound\r\nFlow-Timer: 30\r\n");
        assert_eq!(keepalive_every(&r, 0.0), Some(Duration::from_secs(24)));
        assert_eq!(keepalive_every(&r, 1.0), Some(Duration::from_secs(30)));
        assert_eq!(keepalive_every(&ok(""), 0.5), None);
        assert_eq!(keepalive_every(&ok("Flow-Timer: x\r\n"), 0.5), None);
        assert_eq!(keepalive_every(&ok("Flow-Timer: 0\r\n"), 0.5), None);
    }
}
