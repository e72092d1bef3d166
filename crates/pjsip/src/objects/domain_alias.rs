//! `type=domain_alias` (res_pjsip): the section name is an alias of `domain`.

use obelus_sorcery::{ObjectType, TypeError};

/// The type name.
pub const TYPE: &str = "domain_alias";
/// Default mapping.
pub const DEFAULT_MAPPING: &str = "config,pjsip.conf,criteria=type=domain_alias";

/// The domain_alias type (`ps_domain_aliases`).
pub fn object_type() -> Result<ObjectType, TypeError> {
    ObjectType::builder(TYPE).string("domain", "").build()
}
