//! `type=registration` (res_pjsip_outbound_registration): registering to a
//! remote registrar (a trunk).

use obelus_sorcery::{ObjectType, TypeError};

/// The type name.
pub const TYPE: &str = "registration";
/// The module owning the type.
pub const MODULE: &str = "res_pjsip_outbound_registration";
/// Default mapping.
pub const DEFAULT_MAPPING: &str = "config,pjsip.conf,criteria=type=registration";

/// The registration type with every `ps_registrations` column as an option.
/// Defaults are those Asterisk registers in `res_pjsip_outbound_registration.c`.
pub fn object_type() -> Result<ObjectType, TypeError> {
    ObjectType::builder(TYPE)
        .string("server_uri", "")
        .string("client_uri", "")
        .string("contact_user", "")
        .string("contact_header_params", "")
        .string("transport", "")
        .string("outbound_proxy", "")
        .list("outbound_auth", "")
        .uint("expiration", 0, u64::from(u32::MAX), "3600")
        .uint("max_retries", 0, u64::from(u32::MAX), "10")
        .uint("retry_interval", 0, u64::from(u32::MAX), "60")
        .uint("forbidden_retry_interval", 0, u64::from(u32::MAX), "0")
        .uint("fatal_retry_interval", 0, u64::from(u32::MAX), "0")
        .uint("max_random_initial_delay", 0, u64::from(u32::MAX), "10")
        .boolean("auth_rejection_permanent", "yes")
        .boolean("support_path", "no")
        .boolean("support_outbound", "no")
        .boolean("line", "no")
        .string("endpoint", "")
        .enumeration("security_negotiation", &["no", "mediasec"], "no")
        .string("security_mechanisms", "")
        .string("user_agent", "")
        .build()
}
