//! Fuzz the SIP parser, the stream framer and every typed accessor: none may
//! panic, and the serialized form of anything accepted must parse again.
#![no_main]

use libfuzzer_sys::fuzz_target;
use obelus_sip::{Frame, Message, frame_stream};

fuzz_target!(|data: &[u8]| {
    if let Ok(Some(Frame::Message { len })) = frame_stream(data) {
        let _ = Message::parse_stream(data[..len].to_vec());
    }
    let Ok(m) = Message::parse(data.to_vec()) else {
        return;
    };
    let h = m.headers();
    let _ = m.validate();
    let _ = h.vias().count();
    let _ = h.from().map(|f| {
        (
            f.tag(),
            f.display_name(),
            f.uri().host(),
            f.params().iter().count(),
        )
    });
    let _ = h.to();
    let _ = h.contacts().map(|c| format!("{c:?}"));
    let _ = h.routes().count() + h.record_routes().count();
    let _ = (
        h.max_forwards(),
        h.expires(),
        h.content_type(),
        h.call_id(),
        h.cseq(),
    );
    for a in h.authorizations().chain(h.www_authenticate()).flatten() {
        let _ = (
            a.username(),
            a.realm(),
            a.nonce(),
            a.uri(),
            a.response(),
            a.params().count(),
        );
        let _ = obelus_sip::digest::verify_password(&a, "INVITE", m.body(), "secret");
    }
    let _ = h.iter().count();
    let _ = h.supported().chain(h.allow()).chain(h.require()).count();
    match &m {
        Message::Request(r) => {
            let _ = (
                r.uri().host(),
                r.uri().params().iter().count(),
                r.uri().header_iter().count(),
            );
            let _ = r.body_parts();
            let _ = obelus_sip::Response::for_request(r, obelus_sip::StatusCode::OK)
                .to_tag("t")
                .build();
        }
        Message::Response(r) => {
            let _ = r.reason();
        }
    }
    let again = Message::parse(m.to_bytes());
    assert!(again.is_ok(), "re-parse failed: {again:?}");
});
