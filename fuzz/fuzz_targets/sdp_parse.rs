//! Fuzz the SDP parser: no panics, and serialize(parse(x)) parses to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use obelus_sip::sdp::SessionDescription;

fuzz_target!(|data: &[u8]| {
    let Ok(sd) = SessionDescription::parse(data) else {
        return;
    };
    for (i, m) in sd.media.iter().enumerate() {
        let _ = (
            m.payload_types(),
            m.ptime(),
            m.rtcp_port(),
            sd.direction(i),
            sd.connection_for(i),
        );
    }
    let again = SessionDescription::parse(&sd.to_bytes()).expect("serialized SDP parses");
    assert_eq!(again, sd);
});
