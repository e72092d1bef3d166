use super::*;

/// RFC 4566 §5 example, extended with RFC 3264 style audio attributes.
const OFFER: &str = "v=0\r\n\
o=jdoe 2890844526 2890842807 IN IP4 10.47.16.5\r\n\
s=SDP Seminar\r\n\
i=A Seminar on the session description protocol\r\n\
u=http://www.example.com/seminars/sdp.pdf\r\n\
e=j.doe@example.com (Jane Doe)\r\n\
c=IN IP4 224.2.17.12/127\r\n\
t=2873397496 2873404696\r\n\
a=recvonly\r\n\
m=audio 49170 RTP/AVP 0 8 9 101\r\n\
c=IN IP4 192.0.2.10\r\n\
a=rtpmap:101 telephone-event/8000\r\n\
a=fmtp:101 0-16\r\n\
a=ptime:20\r\n\
a=rtcp:53020 IN IP4 192.0.2.10\r\n\
a=sendrecv\r\n\
m=video 51372 RTP/AVP 99\r\n\
a=rtpmap:99 h263-1998/90000\r\n\
a=x-custom:some value\r\n";

#[test]
fn parses_rfc4566_5_example() {
    let sd = SessionDescription::parse(OFFER.as_bytes()).unwrap();
    assert_eq!(sd.origin.username, "jdoe");
    assert_eq!(sd.origin.session_version, 2890842807);
    assert_eq!(sd.session_name, "SDP Seminar");
    assert_eq!(sd.emails.len(), 1);
    assert_eq!(sd.timings[0].start, 2873397496);
    assert_eq!(sd.media.len(), 2);
    let audio = &sd.media[0];
    assert_eq!(
        (audio.kind.as_str(), audio.port, audio.proto.as_str()),
        ("audio", 49170, "RTP/AVP")
    );
    assert_eq!(audio.ptime(), Some(20));
    assert_eq!(audio.rtcp_port(), Some(53020));
    assert_eq!(
        sd.media[1].attributes[1],
        Attribute::Other {
            name: "x-custom".into(),
            value: Some("some value".into())
        }
    );
}

#[test]
fn payload_types_with_static_defaults_rfc3551_6() {
    let sd = SessionDescription::parse(OFFER.as_bytes()).unwrap();
    let pts = sd.media[0].payload_types();
    let names: Vec<_> = pts
        .iter()
        .map(|p| {
            (
                p.pt,
                p.rtpmap
                    .as_ref()
                    .map(|r| (r.encoding.as_str(), r.clock_rate)),
            )
        })
        .collect();
    assert_eq!(
        names,
        [
            (0, Some(("PCMU", 8000))),
            (8, Some(("PCMA", 8000))),
            (9, Some(("G722", 8000))),
            (101, Some(("telephone-event", 8000)))
        ]
    );
    assert_eq!(pts[3].fmtp.as_deref(), Some("0-16"));
}

#[test]
fn connection_and_direction_fall_back_to_session_level_rfc4566_5_7() {
    let sd = SessionDescription::parse(OFFER.as_bytes()).unwrap();
    assert_eq!(sd.connection_for(0).unwrap().address, "192.0.2.10");
    assert_eq!(sd.connection_for(1).unwrap().address, "224.2.17.12/127");
    assert_eq!(sd.direction(0), Direction::SendRecv);
    assert_eq!(sd.direction(1), Direction::RecvOnly);
    assert_eq!(sd.direction(1).reversed(), Direction::SendOnly);
}

#[test]
fn round_trips() {
    let sd = SessionDescription::parse(OFFER.as_bytes()).unwrap();
    assert_eq!(String::from_utf8(sd.to_bytes()).unwrap(), OFFER);
    let again = SessionDescription::parse(&sd.to_bytes()).unwrap();
    assert_eq!(again, sd);
}

#[test]
fn accepts_lf_only_and_rejects_bad_input() {
    let lf = OFFER.replace("\r\n", "\n");
    assert!(SessionDescription::parse(lf.as_bytes()).is_ok());
    assert_eq!(
        SessionDescription::parse(b"o=x 1 1 IN IP4 h\r\n"),
        Err(SdpError::Missing('v'))
    );
    assert_eq!(
        SessionDescription::parse(b"v=0\r\no=x 1 1 IN IP4 h\r\ns=-\r\n"),
        Err(SdpError::Missing('t'))
    );
    assert!(matches!(
        SessionDescription::parse(
            b"v=0\r\no=x 1 1 IN IP4 h\r\ns=-\r\nt=0 0\r\nm=audio x RTP/AVP 0\r\n"
        ),
        Err(SdpError::BadValue { line: 5, kind: 'm' })
    ));
    assert!(matches!(
        SessionDescription::parse(b"v=0\r\no=x 1 1 IN IP4 h\r\ns=-\r\nt=0 0\r\na=rtpmap:0\r\n"),
        Err(SdpError::BadValue { .. })
    ));
    assert!(matches!(
        SessionDescription::parse(b"v=0\r\no=x 1 1 IN IP4 h\r\ns=-\r\nt=0 0\r\nbad\r\n"),
        Err(SdpError::BadLine { line: 5 })
    ));
    assert_eq!(SessionDescription::parse(b"\xff"), Err(SdpError::NotUtf8));
}

#[test]
fn rejected_stream_has_port_zero_rfc3264_6() {
    let sd = SessionDescription::parse(b"v=0\r\no=- 1 1 IN IP6 ::1\r\ns= \r\nc=IN IP6 2001:db8::1\r\nt=0 0\r\nm=audio 0 RTP/AVP 0\r\nm=audio 5004/2 RTP/AVP 96\r\na=rtpmap:96 opus/48000/2\r\n").unwrap();
    assert_eq!(sd.media[0].port, 0);
    assert_eq!(sd.media[1].port_count, Some(2));
    let opus = sd.media[1].payload_types();
    assert_eq!(opus[0].rtpmap.as_ref().map(|r| r.channels), Some(Some(2)));
    assert_eq!(
        sd.connection.as_ref().map(|c| c.addr_type.as_str()),
        Some("IP6")
    );
}
