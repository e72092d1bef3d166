//! `type=aor` (res_pjsip): where an endpoint can be reached; registration limits.

use obelus_sorcery::{ObjectType, TypeError};

/// The type name.
pub const TYPE: &str = "aor";
/// Default mapping.
pub const DEFAULT_MAPPING: &str = "config,pjsip.conf,criteria=type=aor";

/// The aor type with every `ps_aors` column as an option.
pub fn object_type() -> Result<ObjectType, TypeError> {
    ObjectType::builder(TYPE)
        .append_list("contact")
        .uint("max_contacts", 0, u64::from(u32::MAX), "0")
        .boolean("remove_existing", "no")
        .boolean("remove_unavailable", "no")
        .uint("qualify_frequency", 0, 86400, "0")
        .float("qualify_timeout", 0.0, 86400.0, "3.0")
        .boolean("qualify_2xx_only", "no")
        .boolean("authenticate_qualify", "no")
        .uint("default_expiration", 0, u64::from(u32::MAX), "3600")
        .uint("minimum_expiration", 0, u64::from(u32::MAX), "60")
        .uint("maximum_expiration", 0, u64::from(u32::MAX), "7200")
        .string("mailboxes", "")
        .string("voicemail_extension", "")
        .string("outbound_proxy", "")
        .boolean("support_path", "no")
        .build()
}
