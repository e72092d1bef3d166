//! `type=endpoint` (res_pjsip): who may call, how media flows.
//!
//! Every column of `ps_endpoints` is an option; the ones documented in the
//! reference (schema.md section 5) are typed with Asterisk's defaults, the
//! rest of the boolean columns are booleans, the integer columns integers,
//! and the remaining text columns plain strings.

use obelus_sorcery::{FieldKind, ObjectType, TypeError};

/// The type name.
pub const TYPE: &str = "endpoint";
/// Default mapping when `sorcery.conf` has no `[res_pjsip] endpoint=` line.
pub const DEFAULT_MAPPING: &str = "config,pjsip.conf,criteria=type=endpoint";

const LINE_METHODS: &[&str] = &["invite", "reinvite", "update"];
const DTMF_MODES: &[&str] = &["rfc4733", "inband", "info", "auto", "auto_info", "none"];
const CID_PRIVACY: &[&str] = &[
    "allowed_not_screened",
    "allowed_passed_screened",
    "allowed_failed_screened",
    "allowed",
    "prohib_not_screened",
    "prohib_passed_screened",
    "prohib_failed_screened",
    "prohib",
    "unavailable",
];

/// The endpoint type with every `ps_endpoints` column as an option.
pub fn object_type() -> Result<ObjectType, TypeError> {
    ObjectType::builder(TYPE)
        // Identity, dialplan, codecs.
        .string("transport", "")
        .list("aors", "")
        .list("auth", "")
        .list("outbound_auth", "")
        .string("context", "default")
        .codecs("allow", "disallow")
        .list("identify_by", "username,ip")
        .string("mailboxes", "")
        .string("moh_suggest", "default")
        .string("outbound_proxy", "")
        .string("callerid", "")
        .enumeration("callerid_privacy", CID_PRIVACY, "allowed_not_screened")
        .string("callerid_tag", "")
        .string("language", "")
        .string("accountcode", "")
        .string("from_user", "")
        .string("from_domain", "")
        .append_list("set_var")
        // Media.
        .boolean("direct_media", "yes")
        .enumeration("direct_media_method", LINE_METHODS, "invite")
        .enumeration("connected_line_method", LINE_METHODS, "invite")
        .enumeration(
            "direct_media_glare_mitigation",
            &["none", "outgoing", "incoming"],
            "none",
        )
        .enumeration("dtmf_mode", DTMF_MODES, "rfc4733")
        .boolean("rtp_symmetric", "no")
        .boolean("force_rport", "yes")
        .boolean("rewrite_contact", "no")
        .boolean("ice_support", "no")
        .enumeration("media_encryption", &["no", "sdes", "dtls"], "no")
        .uint("max_audio_streams", 0, u64::from(u32::MAX), "1")
        .uint("max_video_streams", 0, u64::from(u32::MAX), "1")
        .boolean("webrtc", "no")
        .field(
            "100rel",
            FieldKind::Enum(&["no", "required", "peer_supported", "yes"]),
            "yes",
        )
        .enumeration(
            "timers",
            &["forced", "no", "required", "yes", "always"],
            "yes",
        )
        .uint("timers_min_se", 90, u64::from(u32::MAX), "90")
        .uint("timers_sess_expires", 90, u64::from(u32::MAX), "1800")
        .booleans(
            &[
                "send_pai",
                "send_rpid",
                "trust_id_inbound",
                "trust_id_outbound",
            ],
            "no",
        )
        .boolean("send_diversion", "yes")
        .uint("device_state_busy_at", 0, u64::from(u32::MAX), "0")
        .boolean("allow_subscribe", "yes")
        .string("rtp_engine", "asterisk")
        .uint("rtp_timeout", 0, u64::from(u32::MAX), "0")
        .uint("rtp_timeout_hold", 0, u64::from(u32::MAX), "0")
        .uint("rtp_keepalive", 0, u64::from(u32::MAX), "0")
        .enumeration(
            "incoming_call_offer_pref",
            &["local", "local_first", "remote", "remote_first"],
            "local",
        )
        .enumeration(
            "outgoing_call_offer_pref",
            &[
                "local",
                "local_merge",
                "local_first",
                "remote",
                "remote_merge",
                "remote_first",
            ],
            "remote_merge",
        )
        .string("sdp_owner", "-")
        .string("sdp_session", "Asterisk")
        // The other boolean columns (`ast_bool_values`): off unless set.
        .booleans(
            &[
                "disable_direct_media_on_nat",
                "rtp_ipv6",
                "use_ptime",
                "use_avpf",
                "inband_progress",
                "fax_detect",
                "t38_udptl",
                "t38_udptl_nat",
                "t38_udptl_ipv6",
                "one_touch_recording",
                "srtp_tag_32",
                "force_avp",
                "media_use_received_transport",
                "user_eq_phone",
                "moh_passthrough",
                "media_encryption_optimistic",
                "rpid_immediate",
                "g726_non_standard",
                "bind_rtp_to_media_address",
                "mwi_subscribe_replaces_unsolicited",
                "preferred_codec_only",
                "asymmetric_rtp_codec",
                "rtcp_mux",
                "notify_early_inuse_ringing",
                "bundle",
                "dtls_auto_generate_cert",
                "accept_multiple_sdp_answers",
                "suppress_q850_reason_headers",
                "ignore_183_without_sdp",
                "send_history_info",
                "allow_unauthenticated_options",
                "t38_bind_udptl_to_media_address",
                "send_aoc",
                "suppress_moh_on_sendonly",
            ],
            "no",
        )
        .booleans(
            &[
                "aggregate_mwi",
                "allow_transfer",
                "allow_overlap",
                "refer_blind_progress",
                "follow_early_media_fork",
                "trust_connected_line",
                "send_connected_line",
            ],
            "yes",
        )
        .enumeration("t38_udptl_ec", &["none", "fec", "redundancy"], "none")
        .uint("t38_udptl_maxdatagram", 0, u64::from(u32::MAX), "0")
        .uint("sub_min_expiry", 0, u64::from(u32::MAX), "0")
        .uint("cos_audio", 0, 7, "0")
        .uint("cos_video", 0, 7, "0")
        .uint("fax_detect_timeout", 0, u64::from(u32::MAX), "0")
        .uint("rtp_port_start", 0, 65535, "")
        .uint("rtp_port_end", 0, 65535, "")
        .enumeration("dtls_setup", &["active", "passive", "actpass"], "")
        .enumeration("dtls_fingerprint", &["SHA-1", "SHA-256"], "SHA-256")
        .enumeration(
            "redirect_method",
            &["user", "uri_core", "uri_pjsip"],
            "user",
        )
        .enumeration("security_negotiation", &["no", "mediasec"], "no")
        // Repeatable ACL lines.
        .append_list("deny")
        .append_list("permit")
        .append_list("contact_deny")
        .append_list("contact_permit")
        // Everything else: text as written (stir_shaken takes words beyond yes/no since Asterisk 20).
        .strings(&[
            "external_media_address",
            "call_group",
            "pickup_group",
            "named_call_group",
            "named_pickup_group",
            "tone_zone",
            "record_on_feature",
            "record_off_feature",
            "tos_audio",
            "tos_video",
            "mwi_from_user",
            "dtls_verify",
            "dtls_rekey",
            "dtls_cert_file",
            "dtls_private_key",
            "dtls_cipher",
            "dtls_ca_file",
            "dtls_ca_path",
            "media_address",
            "message_context",
            "voicemail_extension",
            "acl",
            "contact_acl",
            "subscribe_context",
            "contact_user",
            "incoming_mwi_mailbox",
            "codec_prefs_incoming_offer",
            "codec_prefs_outgoing_offer",
            "codec_prefs_incoming_answer",
            "codec_prefs_outgoing_answer",
            "stir_shaken",
            "geoloc_incoming_call_profile",
            "geoloc_outgoing_call_profile",
            "stir_shaken_profile",
            "security_mechanisms",
            "overlap_context",
            "tenantid",
            "follow_redirect_methods",
        ])
        .build()
}
