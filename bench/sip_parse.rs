//! SIP parser benchmark: obelus-sip against rsip on the same messages in the
//! same run.
//!
//! Run: `cargo bench -p obelus-sip --bench sip_parse`
//!
//! For instruction counts (callgrind) and CPU time (`perf stat`), which are
//! steadier than wall time on a shared machine, the same binary runs a plain
//! loop of the obelus side instead of criterion when `SIP_PARSE_LOOP` is set:
//! `SIP_PARSE_LOOP=100000 SIP_PARSE_MSG=invite_sdp target/release/deps/sip_parse-*`
//! (messages: `invite_sdp`, `register_auth`, `ok_200`).
//!
//! rsip splits every header eagerly into owned strings but parses header
//! values only on `.typed()`; obelus-sip indexes headers and parses values
//! lazily. For a like-for-like figure both sides here read the typed Via,
//! From, To, CSeq and Call-ID (and Authorization for the REGISTER); the
//! `rsip parse only` line shows rsip without any typed access.

use std::hint::black_box;

use bytes::Bytes;
use criterion::{Criterion, criterion_group};
use rsip::headers::{ToTypedHeader, UntypedHeader};
use rsip::message::HasHeaders;
use rsip::prelude::HeadersExt;

const INVITE: &[u8] = b"INVITE sip:bob@biloxi.example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP client.atlanta.example.com:5060;branch=z9hG4bK74bf9;rport\r\n\
Max-Forwards: 70\r\n\
From: \"Alice\" <sip:alice@atlanta.example.com>;tag=9fxced76sl\r\n\
To: Bob <sip:bob@biloxi.example.com>\r\n\
Call-ID: 3848276298220188511@atlanta.example.com\r\n\
CSeq: 1 INVITE\r\n\
Contact: <sip:alice@client.atlanta.example.com;transport=udp>\r\n\
Allow: INVITE, ACK, CANCEL, OPTIONS, BYE, REFER, NOTIFY, MESSAGE, SUBSCRIBE, INFO, UPDATE\r\n\
Supported: replaces, timer\r\n\
User-Agent: Obelus-bench/1.0\r\n\
Content-Type: application/sdp\r\n\
Content-Length: 239\r\n\
\r\n\
v=0\r\n\
o=alice 2890844526 2890844526 IN IP4 client.atlanta.example.com\r\n\
s=-\r\n\
c=IN IP4 192.0.2.101\r\n\
t=0 0\r\n\
m=audio 49172 RTP/AVP 0 8 101\r\n\
a=rtpmap:0 PCMU/8000\r\n\
a=rtpmap:8 PCMA/8000\r\n\
a=rtpmap:101 telephone-event/8000\r\n\
a=fmtp:101 0-16\r\n\
a=sendrecv\r\n";

const REGISTER: &[u8] = b"REGISTER sip:registrar.biloxi.example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP bobspc.biloxi.example.com:5060;branch=z9hG4bKnashds7;rport\r\n\
Max-Forwards: 70\r\n\
From: Bob <sip:bob@biloxi.example.com>;tag=456248\r\n\
To: Bob <sip:bob@biloxi.example.com>\r\n\
Call-ID: 843817637684230@998sdasdh09\r\n\
CSeq: 1826 REGISTER\r\n\
Contact: <sip:bob@192.0.2.4>;expires=7200\r\n\
Authorization: Digest username=\"bob\", realm=\"biloxi.example.com\", nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", uri=\"sip:registrar.biloxi.example.com\", response=\"245f23415f11432b3434341c022\", algorithm=MD5, qop=auth, nc=00000001, cnonce=\"0a4f113b\"\r\n\
User-Agent: Obelus-bench/1.0\r\n\
Expires: 7200\r\n\
Content-Length: 0\r\n\
\r\n";

const OK: &[u8] = b"SIP/2.0 200 OK\r\n\
Via: SIP/2.0/UDP server10.biloxi.example.com;branch=z9hG4bK4b43c2ff8.1;received=192.0.2.3\r\n\
Via: SIP/2.0/UDP client.atlanta.example.com:5060;branch=z9hG4bK74bf9;received=192.0.2.101\r\n\
From: \"Alice\" <sip:alice@atlanta.example.com>;tag=9fxced76sl\r\n\
To: Bob <sip:bob@biloxi.example.com>;tag=8321234356\r\n\
Call-ID: 3848276298220188511@atlanta.example.com\r\n\
CSeq: 1 INVITE\r\n\
Contact: <sip:bob@client.biloxi.example.com>\r\n\
Content-Length: 0\r\n\
\r\n";

fn obelus(buf: &'static [u8], auth: bool) -> usize {
    let msg = obelus_sip::Message::parse(Bytes::from_static(buf)).expect("valid");
    let h = msg.headers();
    let via = h.via().expect("via");
    let from = h.from().expect("from");
    let to = h.to().expect("to");
    let mut n = via.branch().map_or(0, str::len)
        + from.tag().map_or(0, str::len)
        + to.uri().as_str().len()
        + h.cseq().seq as usize
        + h.call_id().len();
    if auth {
        let a = h.authorization().expect("auth").expect("present");
        n += a.response().map_or(0, |r| r.len());
    }
    n
}

fn rsip_typed(buf: &'static [u8], auth: bool) -> usize {
    let msg = rsip::SipMessage::try_from(buf).expect("valid");
    let via = msg.via_header().expect("via").typed().expect("via");
    let from = msg.from_header().expect("from").typed().expect("from");
    let to = msg.to_header().expect("to").typed().expect("to");
    let cseq = msg.cseq_header().expect("cseq").typed().expect("cseq");
    let call_id = msg.call_id_header().expect("call-id");
    let mut n = via.branch().map_or(0, |b| b.to_string().len())
        + from.tag().map_or(0, |t| t.to_string().len())
        + to.uri.to_string().len()
        + cseq.seq as usize
        + call_id.value().len();
    if auth {
        let a = msg
            .headers()
            .iter()
            .find_map(|h| match h {
                rsip::Header::Authorization(a) => Some(a.typed().expect("auth")),
                _ => None,
            })
            .expect("present");
        n += a.response.len();
    }
    n
}

fn rsip_parse_only(buf: &'static [u8]) -> usize {
    rsip::SipMessage::try_from(buf)
        .expect("valid")
        .headers()
        .iter()
        .count()
}

fn bench(c: &mut Criterion) {
    for (name, buf, auth) in MESSAGES {
        assert!(obelus(buf, auth) > 0 && rsip_typed(buf, auth) > 0);
        let mut g = c.benchmark_group(name);
        g.bench_function("obelus parse+typed", |b| {
            b.iter(|| obelus(black_box(buf), auth))
        });
        g.bench_function("rsip parse+typed", |b| {
            b.iter(|| rsip_typed(black_box(buf), auth))
        });
        g.bench_function("rsip parse only", |b| {
            b.iter(|| rsip_parse_only(black_box(buf)))
        });
        g.finish();
    }
}

const MESSAGES: [(&str, &[u8], bool); 3] = [
    ("invite_sdp", INVITE, false),
    ("register_auth", REGISTER, true),
    ("ok_200", OK, false),
];

/// `SIP_PARSE_LOOP=n`: parse+typed `n` times, no criterion (see the module doc).
fn plain_loop(n: &str) {
    let n: u64 = n.parse().expect("SIP_PARSE_LOOP is a count");
    let name = std::env::var("SIP_PARSE_MSG").unwrap_or_else(|_| "invite_sdp".into());
    let &(_, buf, auth) = MESSAGES
        .iter()
        .find(|(m, _, _)| *m == name)
        .expect("SIP_PARSE_MSG is invite_sdp, register_auth or ok_200");
    let mut total = 0;
    for _ in 0..n {
        total += obelus(black_box(buf), auth);
    }
    black_box(total);
}

criterion_group!(benches, bench);

fn main() {
    if let Ok(n) = std::env::var("SIP_PARSE_LOOP") {
        plain_loop(&n);
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
