//! `type=auth` (res_pjsip): credentials for challenging and being challenged.

use obelus_sorcery::{ObjectType, TypeError};

/// The type name.
pub const TYPE: &str = "auth";
/// Default mapping.
pub const DEFAULT_MAPPING: &str = "config,pjsip.conf,criteria=type=auth";

/// The auth type with every `ps_auths` column as an option. `auth_type`
/// accepts `digest` (the code does, the schema enum lags) and defaults to
/// `userpass` as the C code registers it.
pub fn object_type() -> Result<ObjectType, TypeError> {
    ObjectType::builder(TYPE)
        .enumeration(
            "auth_type",
            &["userpass", "md5", "digest", "google_oauth"],
            "userpass",
        )
        .string("username", "")
        .string("password", "")
        .string("md5_cred", "")
        .string("realm", "")
        .uint("nonce_lifetime", 0, u64::from(u32::MAX), "32")
        .strings(&[
            "refresh_token",
            "oauth_clientid",
            "oauth_secret",
            "password_digest",
            "supported_algorithms_uas",
            "supported_algorithms_uac",
        ])
        .build()
}
