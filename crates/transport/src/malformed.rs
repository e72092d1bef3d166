//! Answering requests the parser refused (RFC 3261 §8.2, §21.4.1;
//! RFC 4475 §3.1.2): when the mandatory headers a response copies can be
//! found, the peer gets the specific error; otherwise nothing is sent.

use bytes::Bytes;
use obelus_sip::{HeaderName, ParseError, Response, ResponseBuilder};

/// The response to send for a request that failed with `error`, or `None`
/// for responses, keep-alives, and requests too broken to answer.
pub(crate) fn error_response(buf: &[u8], error: &ParseError) -> Option<Bytes> {
    if matches!(error, ParseError::Empty) || buf.starts_with(b"SIP/") {
        return None;
    }
    // A request that parsed but failed validation: answer from its headers.
    if let Ok(obelus_sip::Message::Request(req)) =
        obelus_sip::Message::parse(Bytes::copy_from_slice(buf))
        && let Ok(resp) = Response::for_request(&req, error.status())
            .reason(error.reason_phrase())
            .build()
    {
        return Some(resp.to_bytes());
    }
    let head_end = memfind(buf, b"\r\n\r\n").unwrap_or(buf.len());
    let head = std::str::from_utf8(buf.get(..head_end)?).ok()?;
    let mut b = ResponseBuilder::new(error.status()).reason(error.reason_phrase());
    let mut seen = [false; 5];
    let wanted = [
        HeaderName::Via,
        HeaderName::From,
        HeaderName::To,
        HeaderName::CallId,
        HeaderName::CSeq,
    ];
    for line in head.split("\r\n").skip(1) {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let name = HeaderName::from_bytes(name.trim().as_bytes());
        if let Some(i) = wanted.iter().position(|w| *w == name) {
            if i > 0 && seen.get(i).copied().unwrap_or(true) {
                continue;
            }
            if let Some(s) = seen.get_mut(i) {
                *s = true;
            }
            b = b.header(name.as_str(), value.trim());
        }
    }
    if seen.iter().all(|s| *s) {
        b.build().ok().map(|r| r.to_bytes())
    } else {
        None
    }
}

fn memfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}
