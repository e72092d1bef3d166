//! End-to-end tests: the real `obelus` binary, started on a private
//! configuration directory and driven through its real interfaces.

mod ami;
mod ami_calls;
mod ami_queue;
mod ari_conference;
mod ari_config;
mod ari_control;
mod ari_media;
mod ari_outbound;
mod ari_recording;
mod call;
mod common;
mod config_check;
mod console;
mod direct_media;
mod https;
mod mixmonitor;
mod moh;
mod parking;
mod realtime;
mod sip_dns;
mod sip_identify;
mod sip_path;
mod sip_register;
mod sip_registration_extras;
mod sip_session;
mod sip_shared_db;
mod sip_streams;
mod sip_symmetric;
mod sip_tls;
mod sip_torture;
mod sip_trunk;
mod sip_ws;
mod talk_detect;
mod transfer;
