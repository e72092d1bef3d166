//! `pjsip set logger on|off|host <ip>`: the SIP message logger of the
//! transport layer, worded as Asterisk words it.

use obelus_core::cli::{CliCommand, CliError};
use obelus_transport::logger;

/// The logger command.
pub fn commands() -> Vec<CliCommand> {
    vec![
        CliCommand::new(
            "pjsip set logger",
            "Enable/Disable PJSIP Logger Output",
            "Usage: pjsip set logger {on|off|host <ip>}\n       Enables or disabling logging of SIP packets\n       read on TCP/UDP/TLS/WS connections, for all hosts or one.",
            |args| async move {
                match args.args.as_slice() {
                    [on] if on.eq_ignore_ascii_case("on") => {
                        logger::set(true);
                        Ok("PJSIP Logging enabled\n".into())
                    }
                    [off] if off.eq_ignore_ascii_case("off") => {
                        logger::set(false);
                        Ok("PJSIP Logging disabled\n".into())
                    }
                    [host, ip] if host.eq_ignore_ascii_case("host") => {
                        let ip = ip
                            .parse()
                            .map_err(|_| CliError::Failed(format!("'{ip}' is not an IP address")))?;
                        logger::add_host(ip);
                        Ok(format!("PJSIP Logging Enabled for host: {ip}\n"))
                    }
                    _ => Err(CliError::ShowUsage),
                }
            },
        )
        .with_args(),
    ]
}
