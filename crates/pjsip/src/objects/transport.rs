//! `type=transport` (res_pjsip): a listening socket.

use obelus_sorcery::{ObjectType, TypeError};

/// The type name.
pub const TYPE: &str = "transport";
/// Default mapping.
pub const DEFAULT_MAPPING: &str = "config,pjsip.conf,criteria=type=transport";

/// The transport type with every `ps_transports` column as an option, plus
/// `ca_list_path` and `websocket_write_timeout` from pjsip.conf.
pub fn object_type() -> Result<ObjectType, TypeError> {
    ObjectType::builder(TYPE)
        .enumeration(
            "protocol",
            &["udp", "tcp", "tls", "ws", "wss", "flow"],
            "udp",
        )
        .string("bind", "")
        .uint("async_operations", 0, u64::from(u32::MAX), "1")
        .string("external_media_address", "")
        .string("external_signaling_address", "")
        .uint("external_signaling_port", 0, 65535, "0")
        .string("external_signaling_hostname", "")
        .append_list("local_net")
        .strings(&[
            "ca_list_file",
            "ca_list_path",
            "cert_file",
            "priv_key_file",
            "password",
            "cipher",
            "domain",
        ])
        .enumeration(
            "method",
            &[
                "default",
                "unspecified",
                "tlsv1",
                "tlsv1_1",
                "tlsv1_2",
                "tlsv1_3",
                "sslv2",
                "sslv3",
                "sslv23",
            ],
            "",
        )
        .booleans(
            &[
                "verify_server",
                "verify_client",
                "require_client_cert",
                "allow_wildcard_certs",
            ],
            "no",
        )
        .string("tos", "0")
        .uint("cos", 0, 7, "0")
        .boolean("allow_reload", "no")
        .boolean("symmetric_transport", "no")
        .boolean("tcp_keepalive_enable", "no")
        .uint("tcp_keepalive_idle_time", 0, u64::from(u32::MAX), "30")
        .uint("tcp_keepalive_interval_time", 0, u64::from(u32::MAX), "1")
        .uint("tcp_keepalive_probe_count", 0, u64::from(u32::MAX), "5")
        .uint("websocket_write_timeout", 0, u64::from(u32::MAX), "100")
        .build()
}
