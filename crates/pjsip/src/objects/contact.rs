//! `type=contact` (res_pjsip): a registered (or permanent) binding of an aor.
//!
//! Ids are `<aor>;@<md5 of uri>` for registered contacts; stored by default
//! in astdb under `/registrar/contact`.

use obelus_sorcery::{ObjectType, TypeError};

/// The type name.
pub const TYPE: &str = "contact";
/// Default mapping (Asterisk's: contacts survive restarts in astdb).
pub const DEFAULT_MAPPING: &str = "astdb,registrar";

/// The contact type with every `ps_contacts` column as an option.
pub fn object_type() -> Result<ObjectType, TypeError> {
    ObjectType::builder(TYPE)
        .string("uri", "")
        .uint("expiration_time", 0, u64::MAX, "")
        .uint("qualify_frequency", 0, 86400, "0")
        .float("qualify_timeout", 0.0, 86400.0, "3.0")
        .boolean("qualify_2xx_only", "no")
        .boolean("authenticate_qualify", "no")
        .string("outbound_proxy", "")
        .string("path", "")
        .string("user_agent", "")
        .string("endpoint", "")
        .string("reg_server", "")
        .string("via_addr", "")
        .uint("via_port", 0, 65535, "0")
        .string("call_id", "")
        .boolean("prune_on_boot", "no")
        .build()
}
