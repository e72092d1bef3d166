//! A SIP dialog (RFC 3261 §12): the identifiers and state that in-dialog
//! requests carry, built from the INVITE we received (UAS) or the 2xx to
//! the INVITE we sent (UAC). No I/O: it builds requests and checks
//! sequence numbers.

use obelus_sip::{HeaderName, Method, Request, RequestBuilder, Response, new_branch};

/// One dialog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dialog {
    /// `Call-ID`.
    pub call_id: String,
    /// Our tag.
    pub local_tag: String,
    /// The peer's tag (empty until known).
    pub remote_tag: String,
    /// Our URI as it appears in From (UAC) or To (UAS), without tag.
    pub local_uri: String,
    /// The peer's URI as it appears in To (UAC) or From (UAS), without tag.
    pub remote_uri: String,
    /// The peer's Contact: where in-dialog requests go (§12.1.1).
    pub remote_target: String,
    /// `Record-Route` values to send as `Route` (§12.1).
    pub route_set: Vec<String>,
    /// Our CSeq for requests we send.
    pub local_cseq: u32,
    /// The highest CSeq received from the peer (§12.2.2).
    pub remote_cseq: u32,
    /// Our Contact header value.
    pub local_contact: String,
}

/// The name-addr of a From/To value without its tag parameter.
pub(crate) fn without_tag(value: &str) -> String {
    let mut parts = Vec::new();
    let mut in_angle = false;
    let mut start = 0;
    for (i, c) in value.char_indices() {
        match c {
            '<' => in_angle = true,
            '>' => in_angle = false,
            ';' if !in_angle => {
                parts.push(&value[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&value[start..]);
    let mut out = String::new();
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            if p.trim().to_ascii_lowercase().starts_with("tag=") {
                continue;
            }
            out.push(';');
        }
        out.push_str(p);
    }
    out.trim().to_owned()
}

/// The URI inside a Contact or Route value (`<sip:a@b;lr>` gives `sip:a@b;lr`).
pub fn bare_uri(value: &str) -> String {
    match (value.find('<'), value.find('>')) {
        (Some(a), Some(b)) if a < b => value[a + 1..b].to_owned(),
        _ => value.split(';').next().unwrap_or(value).trim().to_owned(),
    }
}

impl Dialog {
    /// The dialog a received INVITE creates on our side (UAS, §12.1.1): our
    /// tag is `local_tag`, the route set is the Record-Route in order.
    pub fn for_uas(invite: &Request, local_tag: &str, local_contact: &str) -> Option<Dialog> {
        let h = invite.headers();
        let from = h.get(HeaderName::From)?;
        let to = h.get(HeaderName::To)?;
        let remote_tag = h.from_tag().ok()??.to_owned();
        let remote_target = match h.contacts().ok()? {
            obelus_sip::ContactList::Addresses(list) => list.first()?.uri().as_str().to_owned(),
            obelus_sip::ContactList::Star => return None,
        };
        let route_set = h
            .get_all(HeaderName::RecordRoute)
            .flat_map(obelus_sip::parse::split_list)
            .map(str::to_owned)
            .collect();
        Some(Dialog {
            call_id: h.call_id().to_owned(),
            local_tag: local_tag.to_owned(),
            remote_tag,
            local_uri: without_tag(to),
            remote_uri: without_tag(from),
            remote_target,
            route_set,
            local_cseq: 1,
            remote_cseq: h.cseq().seq,
            local_contact: local_contact.to_owned(),
        })
    }

    /// A dialog we are starting as UAC (the peer's tag comes with its
    /// answer: [`Dialog::confirm`]).
    pub fn for_uac(
        call_id: &str,
        local_uri: &str,
        remote_uri: &str,
        local_contact: &str,
    ) -> Dialog {
        Dialog {
            call_id: call_id.to_owned(),
            local_tag: obelus_sip::new_tag(),
            remote_tag: String::new(),
            local_uri: local_uri.to_owned(),
            remote_uri: remote_uri.to_owned(),
            remote_target: bare_uri(remote_uri),
            route_set: Vec::new(),
            local_cseq: 1,
            remote_cseq: 0,
            local_contact: local_contact.to_owned(),
        }
    }

    /// Completes a UAC dialog from a response that establishes it (a 2xx or
    /// a provisional with a To tag): the peer's tag, its Contact as remote
    /// target, the Record-Route reversed as route set (§12.1.2).
    pub fn confirm(&mut self, response: &Response) {
        let h = response.headers();
        if let Ok(Some(tag)) = h.to_tag() {
            self.remote_tag = tag.to_owned();
        }
        if let Ok(obelus_sip::ContactList::Addresses(list)) = h.contacts()
            && let Some(first) = list.first()
        {
            self.remote_target = first.uri().as_str().to_owned();
        }
        let mut routes: Vec<String> = h
            .get_all(HeaderName::RecordRoute)
            .flat_map(obelus_sip::parse::split_list)
            .map(str::to_owned)
            .collect();
        if !routes.is_empty() {
            routes.reverse();
            self.route_set = routes;
        }
    }

    /// Checks a request from the peer against the CSeq order (§12.2.2):
    /// lower than the last is out of order (500); records the new one.
    pub fn accept_remote_cseq(&mut self, seq: u32) -> bool {
        if seq < self.remote_cseq {
            return false;
        }
        self.remote_cseq = seq;
        true
    }

    /// Builds an in-dialog request (§12.2.1.1) sent from `via` (`UDP
    /// 192.0.2.1:5060`). ACK reuses the INVITE's CSeq number (`cseq`);
    /// other methods take the next local CSeq.
    pub fn request(&mut self, method: Method, via: &str, ack_cseq: Option<u32>) -> RequestBuilder {
        let seq = match ack_cseq {
            Some(n) => n,
            None => {
                self.local_cseq += 1;
                self.local_cseq
            }
        };
        // Every current proxy loose-routes (`;lr`), so the Request-URI stays
        // the peer's Contact and the route set goes in Route headers.
        let mut via_value = String::with_capacity(via.len() + 64);
        via_value.push_str("SIP/2.0/");
        via_value.push_str(via);
        via_value.push_str(";rport;branch=");
        via_value.push_str(&new_branch());
        let mut b = RequestBuilder::new(method.clone(), self.remote_target.as_str())
            .header("Via", via_value)
            .header("Max-Forwards", "70");
        for route in &self.route_set {
            b = b.header("Route", route);
        }
        let mut to = String::with_capacity(self.remote_uri.len() + self.remote_tag.len() + 5);
        to.push_str(&self.remote_uri);
        if !self.remote_tag.is_empty() {
            to.push_str(";tag=");
            to.push_str(&self.remote_tag);
        }
        let mut from = String::with_capacity(self.local_uri.len() + self.local_tag.len() + 5);
        from.push_str(&self.local_uri);
        from.push_str(";tag=");
        from.push_str(&self.local_tag);
        let mut cseq = seq.to_string();
        cseq.push(' ');
        cseq.push_str(method.as_str());
        b.header("From", from)
            .header("To", to)
            .header("Call-ID", &self.call_id)
            .header("CSeq", cseq)
            .header("Contact", &self.local_contact)
            .header("User-Agent", obelus_core::USER_AGENT)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INVITE: &[u8] = b"INVITE sip:102@192.0.2.1 SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.9:5062;branch=z9hG4bKabc\r\n\
Record-Route: <sip:p1.example;lr>, <sip:p2.example;lr>\r\n\
From: \"Alice\" <sip:101@192.0.2.1>;tag=aaa\r\n\
To: <sip:102@192.0.2.1>\r\n\
Call-ID: call-1\r\n\
CSeq: 7 INVITE\r\n\
Contact: <sip:101@192.0.2.9:5062>\r\n\
Content-Length: 0\r\n\r\n";

    /// RFC 3261 §12.1.1: the UAS takes the remote target from Contact and
    /// the route set from Record-Route in order; §12.2.1.1: requests carry
    /// both tags, the route set as Route, and a growing CSeq.
    #[test]
    fn uas_dialog_from_an_invite_builds_a_bye() {
        let invite = Request::parse(INVITE).unwrap();
        let mut d = Dialog::for_uas(&invite, "ours", "<sip:obelus@192.0.2.1:5060>").unwrap();
        assert_eq!(d.remote_target, "sip:101@192.0.2.9:5062");
        assert_eq!(d.route_set.len(), 2);
        assert_eq!(d.remote_cseq, 7);
        let bye = d
            .request(Method::Bye, "UDP 192.0.2.1:5060", None)
            .build()
            .unwrap();
        assert_eq!(bye.uri_str(), "sip:101@192.0.2.9:5062");
        let h = bye.headers();
        assert_eq!(h.from().unwrap().tag(), Some("ours"));
        assert_eq!(h.to().unwrap().tag(), Some("aaa"));
        assert_eq!(h.cseq().seq, 2);
        assert_eq!(h.call_id(), "call-1");
        assert_eq!(h.routes().count(), 2);
        assert!(d.accept_remote_cseq(8));
        assert!(!d.accept_remote_cseq(3));
    }

    #[test]
    fn tags_are_stripped_from_the_uris() {
        assert_eq!(without_tag("<sip:a@b>;tag=1;x=y"), "<sip:a@b>;x=y");
        assert_eq!(
            without_tag("\"A;B\" <sip:a@b;lr>;tag=1"),
            "\"A;B\" <sip:a@b;lr>"
        );
        assert_eq!(
            bare_uri("<sip:a@b:5060;transport=udp>"),
            "sip:a@b:5060;transport=udp"
        );
    }
}
