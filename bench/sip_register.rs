//! Registrar benchmark: the sans-IO REGISTER decision and the digest check,
//! the CPU work of one authenticated registration without storage or
//! sockets.
//!
//! Run: `cargo bench -p obelus-pjsip --bench sip_register`

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use obelus_pjsip::auth::{Authenticator, Credential, Secret, Verdict};
use obelus_pjsip::registrar::{AorPolicy, Binding, Outcome, register};
use obelus_sip::Request;
use obelus_sip::digest::{self, Algorithm, DigestInput, Qop};

const NOW: u64 = 1_800_000_000;

fn request(authorization: &str) -> Request {
    Request::parse(
        format!(
            "REGISTER sip:192.0.2.10 SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.20:5060;branch=z9hG4bK-bench;rport\r\n\
From: <sip:101@192.0.2.10>;tag=abc\r\nTo: <sip:101@192.0.2.10>\r\n\
Call-ID: bench-1\r\nCSeq: 2 REGISTER\r\n\
Contact: <sip:101@192.0.2.20:5060;transport=udp>;expires=3600\r\n\
User-Agent: bench\r\nMax-Forwards: 70\r\nAuthorization: {authorization}\r\nContent-Length: 0\r\n\r\n"
        )
        .into_bytes(),
    )
    .expect("REGISTER parses")
}

fn credentials(auth: &Authenticator, algorithm: Algorithm) -> (Request, Credential) {
    let challenge = auth
        .challenges("asterisk", &[algorithm], NOW, false)
        .remove(0);
    let start = challenge.find("nonce=\"").expect("nonce") + 7;
    let end = challenge[start..].find('"').expect("end") + start;
    let nonce = &challenge[start..end];
    let input = DigestInput {
        algorithm,
        username: "101",
        realm: "asterisk",
        method: "REGISTER",
        uri: "sip:192.0.2.10",
        nonce,
        qop: Some((Qop::Auth, "00000001", "0a4f113b")),
        body: b"",
    };
    let response = digest::response(&input, "secret");
    let header = format!(
        "Digest username=\"101\", realm=\"asterisk\", nonce=\"{nonce}\", uri=\"sip:192.0.2.10\", response=\"{response}\", algorithm={}, qop=auth, nc=00000001, cnonce=\"0a4f113b\"",
        algorithm.as_str()
    );
    let cred = Credential {
        username: "101".into(),
        realm: "asterisk".into(),
        secret: Secret::Password("secret".into()),
        nonce_lifetime: 32,
        algorithms: vec![algorithm],
    };
    (request(&header), cred)
}

fn bench(c: &mut Criterion) {
    let auth = Authenticator::default();
    for algorithm in [Algorithm::Md5, Algorithm::Sha256] {
        let (req, cred) = credentials(&auth, algorithm);
        let creds = [cred];
        assert_eq!(
            auth.verify(&req, &creds, NOW),
            Verdict::Accepted("101".into())
        );
        c.bench_function(&format!("digest verify {}", algorithm.as_str()), |b| {
            b.iter(|| black_box(auth.verify(black_box(&req), &creds, NOW)))
        });
    }
    let (req, _) = credentials(&auth, Algorithm::Md5);
    let policy = AorPolicy {
        max_contacts: 1,
        remove_existing: true,
        default_expiration: 3600,
        minimum_expiration: 60,
        maximum_expiration: 7200,
        support_path: false,
    };
    let existing = [Binding {
        uri: "sip:101@192.0.2.99:5060".into(),
        expiration_time: NOW + 100,
        user_agent: String::new(),
        via_addr: String::new(),
        via_port: 0,
        call_id: String::new(),
        path: String::new(),
    }];
    assert!(matches!(
        register(&req, &policy, &existing, NOW),
        Outcome::Accept { .. }
    ));
    c.bench_function("registrar decision (replace 1 binding)", |b| {
        b.iter(|| black_box(register(black_box(&req), &policy, &existing, NOW)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
