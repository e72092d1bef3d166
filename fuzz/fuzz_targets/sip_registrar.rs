//! Fuzz the registrar decision and the digest check on arbitrary REGISTERs:
//! neither may panic, and an accepted REGISTER never leaves an AOR with
//! more bindings than max_contacts.
#![no_main]

use libfuzzer_sys::fuzz_target;
use obelus_pjsip::auth::{Authenticator, Credential, Secret};
use obelus_pjsip::registrar::{AorPolicy, Binding, Outcome, contact_values, register};
use obelus_sip::Request;
use obelus_sip::digest::Algorithm;

fuzz_target!(|data: &[u8]| {
    let Ok(req) = Request::parse(data.to_vec()) else {
        return;
    };
    let policy = AorPolicy {
        max_contacts: 2,
        remove_existing: data.len() % 2 == 0,
        default_expiration: 3600,
        minimum_expiration: 60,
        maximum_expiration: 7200,
    };
    let existing = [Binding {
        uri: "sip:old@192.0.2.1".into(),
        expiration_time: 5000,
        user_agent: String::new(),
        via_addr: String::new(),
        via_port: 0,
        call_id: String::new(),
    }];
    if let Outcome::Accept { bindings, .. } = register(&req, &policy, &existing, 1000) {
        assert!(bindings.len() <= 2);
        let _ = contact_values(&bindings, 1000);
    }
    let cred = Credential {
        username: "101".into(),
        realm: "asterisk".into(),
        secret: Secret::Password("101".into()),
        nonce_lifetime: 32,
        algorithms: vec![Algorithm::Sha256, Algorithm::Md5],
    };
    let _ = Authenticator::default().verify(&req, &[cred], 1000);
});
