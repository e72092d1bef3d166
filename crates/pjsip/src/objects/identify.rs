//! `type=identify` (res_pjsip_endpoint_identifier_ip): match requests to an
//! endpoint by source address, header or request URI.

use obelus_sorcery::{ObjectType, TypeError};

/// The type name.
pub const TYPE: &str = "identify";
/// The module owning the type (its `sorcery.conf` section).
pub const MODULE: &str = "res_pjsip_endpoint_identifier_ip";
/// Default mapping.
pub const DEFAULT_MAPPING: &str = "config,pjsip.conf,criteria=type=identify";

/// The identify type (`ps_endpoint_id_ips`). `match` may be repeated.
pub fn object_type() -> Result<ObjectType, TypeError> {
    ObjectType::builder(TYPE)
        .string("endpoint", "")
        .append_list("match")
        .boolean("srv_lookups", "yes")
        .string("match_header", "")
        .string("match_request_uri", "")
        .build()
}
