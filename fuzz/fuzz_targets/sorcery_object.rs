//! Sorcery on arbitrary text: the text read as a pjsip.conf (every category
//! applied to an endpoint, aor, auth and transport), as a sorcery.conf, and
//! every value as wizard data. Nothing may panic; an object that builds must
//! survive an object-set round trip unchanged.

#![no_main]

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use obelus_pjsip::objects::{aor, auth, endpoint, transport};
use obelus_sorcery::conf::SorceryConf;
use obelus_sorcery::wizard::config::ConfigData;
use obelus_sorcery::wizard::memory_cache::CacheOptions;
use obelus_sorcery::wizard::realtime::RealtimeData;
use obelus_sorcery::{ObjectType, Unknown};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(config) = obelus_conf::parse_str("pjsip.conf", text) else {
        return;
    };
    let types: Vec<Arc<ObjectType>> = [
        endpoint::object_type(),
        aor::object_type(),
        auth::object_type(),
        transport::object_type(),
    ]
    .into_iter()
    .filter_map(Result::ok)
    .map(Arc::new)
    .collect();
    for cat in config.categories() {
        for ty in &types {
            let mut object = ty.new_object(&cat.name);
            let ok = cat
                .variables()
                .iter()
                .all(|v| object.apply(&v.name, &v.value, Unknown::Ignore).is_ok());
            if ok {
                let mut back = ty.new_object(&cat.name);
                for (k, v) in object.to_fields() {
                    assert!(
                        back.apply(&k, &v, Unknown::Reject).is_ok(),
                        "{k}={v} does not read back"
                    );
                }
                assert_eq!(object, back);
            }
        }
        for v in cat.variables() {
            let _ = ConfigData::parse(&v.value);
            let _ = CacheOptions::parse(&v.value);
            let _ = RealtimeData::parse(&v.value);
            let _ = obelus_sorcery::wizard::like(&v.name, &v.value);
        }
    }
    let _ = SorceryConf::from_config(&config);
});
