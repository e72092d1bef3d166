//! The PJSIP object types, registered with sorcery under their Asterisk
//! names, options and defaults (reference: schema.md section 5 and the
//! `ps_*` tables).

pub mod aor;
pub mod auth;
pub mod contact;
pub mod domain_alias;
pub mod endpoint;
pub mod identify;
pub mod registration;
pub mod transport;

use obelus_sorcery::{ObjectType, Registration, TypeError};

/// The module owning endpoint, aor, auth, contact, domain_alias, transport,
/// system and global (its `sorcery.conf` section).
pub const RES_PJSIP: &str = "res_pjsip";

/// `type=system` (one object, `[system]`): pjsip stack settings, read once.
/// Every `ps_systems` column is accepted as text; the SIP stack types them.
pub fn system_type() -> Result<ObjectType, TypeError> {
    ObjectType::builder("system")
        .strings(&[
            "timer_t1",
            "timer_b",
            "compact_headers",
            "threadpool_initial_size",
            "threadpool_auto_increment",
            "threadpool_idle_timeout",
            "threadpool_max_size",
            "disable_tcp_switch",
            "follow_early_media_fork",
            "accept_multiple_sdp_answers",
            "disable_rport",
            "taskpool_minimum_size",
            "taskpool_initial_size",
            "taskpool_auto_increment",
            "taskpool_idle_timeout",
            "taskpool_max_size",
        ])
        .build()
}

/// `type=global` (one object, `[global]`): every `ps_globals` column as
/// text, except the few the registrar and auth need typed now.
pub fn global_type() -> Result<ObjectType, TypeError> {
    ObjectType::builder("global")
        .uint("max_forwards", 1, 255, "70")
        .string("default_realm", "asterisk")
        .uint("keep_alive_interval", 0, u64::from(u32::MAX), "90")
        .string("endpoint_identifier_order", "ip,username,anonymous")
        .strings(&[
            "user_agent",
            "default_outbound_endpoint",
            "debug",
            "max_initial_qualify_time",
            "default_from_user",
            "regcontext",
            "contact_expiration_check_interval",
            "default_voicemail_extension",
            "disable_multi_domain",
            "unidentified_request_count",
            "unidentified_request_period",
            "unidentified_request_prune_interval",
            "mwi_tps_queue_high",
            "mwi_tps_queue_low",
            "mwi_disable_initial_unsolicited",
            "ignore_uri_user_options",
            "use_callerid_contact",
            "send_contact_status_on_update_registration",
            "taskprocessor_overload_trigger",
            "norefersub",
            "allow_sending_180_after_183",
            "all_codecs_on_empty_reinvite",
            "default_auth_algorithms_uas",
            "default_auth_algorithms_uac",
        ])
        .build()
}

/// Every PJSIP type with its owning module and Asterisk's default mapping,
/// ready for `SorceryBuilder::register_all`.
pub fn registrations() -> Result<Vec<Registration>, TypeError> {
    let reg = |module, ty, default| Registration {
        module,
        ty,
        defaults: vec![default],
    };
    Ok(vec![
        reg(
            RES_PJSIP,
            endpoint::object_type()?,
            endpoint::DEFAULT_MAPPING,
        ),
        reg(RES_PJSIP, aor::object_type()?, aor::DEFAULT_MAPPING),
        reg(RES_PJSIP, auth::object_type()?, auth::DEFAULT_MAPPING),
        reg(RES_PJSIP, contact::object_type()?, contact::DEFAULT_MAPPING),
        reg(
            RES_PJSIP,
            domain_alias::object_type()?,
            domain_alias::DEFAULT_MAPPING,
        ),
        reg(
            RES_PJSIP,
            transport::object_type()?,
            transport::DEFAULT_MAPPING,
        ),
        reg(
            RES_PJSIP,
            system_type()?,
            "config,pjsip.conf,criteria=type=system,single_object=yes,explicit_name=system",
        ),
        reg(
            RES_PJSIP,
            global_type()?,
            "config,pjsip.conf,criteria=type=global,single_object=yes,explicit_name=global",
        ),
        reg(
            identify::MODULE,
            identify::object_type()?,
            identify::DEFAULT_MAPPING,
        ),
        reg(
            registration::MODULE,
            registration::object_type()?,
            registration::DEFAULT_MAPPING,
        ),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use obelus_realtime::schema::TABLES;

    /// Every column of the Asterisk table (except `id`) is an option of the type,
    /// so no realtime row is ever half-read.
    #[test]
    fn every_ps_column_is_an_option() {
        let pairs: [(&str, ObjectType); 8] = [
            ("ps_endpoints", endpoint::object_type().unwrap()),
            ("ps_aors", aor::object_type().unwrap()),
            ("ps_auths", auth::object_type().unwrap()),
            ("ps_contacts", contact::object_type().unwrap()),
            ("ps_domain_aliases", domain_alias::object_type().unwrap()),
            ("ps_endpoint_id_ips", identify::object_type().unwrap()),
            ("ps_registrations", registration::object_type().unwrap()),
            ("ps_transports", transport::object_type().unwrap()),
        ];
        for (table, ty) in pairs {
            let t = TABLES.iter().find(|t| t.name == table).unwrap();
            for c in t.columns.iter().filter(|c| c.name != "id") {
                assert!(
                    ty.field(c.name).is_some(),
                    "{table}.{} is not an option of {}",
                    c.name,
                    ty.name()
                );
            }
        }
        for (table, ty) in [
            ("ps_systems", system_type().unwrap()),
            ("ps_globals", global_type().unwrap()),
        ] {
            let t = TABLES.iter().find(|t| t.name == table).unwrap();
            for c in t.columns.iter().filter(|c| c.name != "id") {
                assert!(ty.field(c.name).is_some(), "{table}.{} missing", c.name);
            }
        }
    }

    /// schema.md section 5: the documented defaults.
    #[test]
    fn documented_defaults() {
        let ep = std::sync::Arc::new(endpoint::object_type().unwrap()).new_object("x");
        assert_eq!(ep.str("context"), Some("default"));
        assert_eq!(ep.bool("direct_media"), Some(true));
        assert_eq!(ep.str("dtmf_mode"), Some("rfc4733"));
        assert_eq!(ep.bool("force_rport"), Some(true));
        assert_eq!(ep.bool("rtp_symmetric"), Some(false));
        assert_eq!(ep.list("identify_by"), ["username", "ip"]);
        assert_eq!(ep.str("100rel"), Some("yes"));
        assert_eq!(ep.uint("timers_min_se"), Some(90));
        assert_eq!(ep.uint("timers_sess_expires"), Some(1800));
        assert_eq!(ep.str("outgoing_call_offer_pref"), Some("remote_merge"));
        assert_eq!(ep.str("sdp_session"), Some("Asterisk"));
        assert!(ep.list("allow").is_empty(), "no codecs until allow is set");
        let aor = std::sync::Arc::new(aor::object_type().unwrap()).new_object("x");
        assert_eq!(aor.uint("max_contacts"), Some(0));
        assert_eq!(aor.float("qualify_timeout"), Some(3.0));
        assert_eq!(aor.uint("default_expiration"), Some(3600));
        assert_eq!(aor.uint("minimum_expiration"), Some(60));
        assert_eq!(aor.uint("maximum_expiration"), Some(7200));
        let auth = std::sync::Arc::new(auth::object_type().unwrap()).new_object("x");
        assert_eq!(auth.str("auth_type"), Some("userpass"));
        assert_eq!(auth.uint("nonce_lifetime"), Some(32));
        let tr = std::sync::Arc::new(transport::object_type().unwrap()).new_object("x");
        assert_eq!(tr.str("protocol"), Some("udp"));
        assert_eq!(tr.uint("async_operations"), Some(1));
        assert_eq!(tr.uint("tcp_keepalive_idle_time"), Some(30));
        assert_eq!(registrations().unwrap().len(), 10);
    }
}
