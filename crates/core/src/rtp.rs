//! The `res_rtp_asterisk.so` module: reads `rtp.conf` and runs the media
//! engine (`obelus_media::MediaEngine`) that every channel driver, bridge
//! and playback uses; `rtp show settings`.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use obelus_media::{MediaEngine, RtpConfig};

use crate::Core;
use crate::cli::CliCommand;
use crate::diagnostic::Diagnostic;
use crate::module::{Module, ModuleError};
use crate::settings::{Settings, parse_bool};

const FILE: &str = "rtp.conf";

/// Asterisk's built-in port range when `rtp.conf` does not say.
const DEFAULT_START: u16 = 5000;
const DEFAULT_END: u16 = 31000;

/// `rtp.conf` as Obelus reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtpSettings {
    /// `rtpstart`.
    pub start: u16,
    /// `rtpend`.
    pub end: u16,
    /// `strictrtp` (`yes`, `seqno` count as on).
    pub strict: bool,
    /// `dtmftimeout` in ms, as `rtp show settings` shows it (the engine
    /// ends a digit whose end packets were lost after its own second).
    pub dtmf_timeout: u32,
    /// `rtpchecksums`.
    pub checksums: bool,
    /// `workers` (Obelus): media threads; 0 means one per core.
    pub workers: usize,
}

impl Default for RtpSettings {
    fn default() -> Self {
        Self {
            start: DEFAULT_START,
            end: DEFAULT_END,
            strict: true,
            dtmf_timeout: 3000,
            checksums: true,
            workers: 0,
        }
    }
}

impl RtpSettings {
    /// Reads `rtp.conf` `[general]`; a missing file gives the defaults.
    pub fn load(settings: &Settings) -> (RtpSettings, Vec<Diagnostic>) {
        let mut out = RtpSettings::default();
        let mut problems = Vec::new();
        let config = match settings.load_conf(FILE) {
            Ok(c) => c,
            Err(e) if e.is_not_found() => return (out, problems),
            Err(e) => return (out, Diagnostic::from_conf_errors(&e)),
        };
        let Some(general) = config.category("general") else {
            return (out, problems);
        };
        for var in general.variables() {
            let v = var.value.trim();
            let key = var.name.to_ascii_lowercase();
            let port = |problems: &mut Vec<Diagnostic>| match v.parse::<u16>() {
                Ok(p) if p > 0 => Some(p),
                _ => {
                    problems.push(Diagnostic::error_at(
                        &var.location,
                        &key,
                        format!("expected a port number (1-65535), got '{v}'"),
                    ));
                    None
                }
            };
            match key.as_str() {
                "rtpstart" => out.start = port(&mut problems).unwrap_or(out.start),
                "rtpend" => out.end = port(&mut problems).unwrap_or(out.end),
                "strictrtp" => {
                    out.strict = v.eq_ignore_ascii_case("seqno") || parse_bool(v).unwrap_or(true);
                }
                "rtpchecksums" => out.checksums = parse_bool(v).unwrap_or(true),
                "dtmftimeout" => out.dtmf_timeout = v.parse().unwrap_or(out.dtmf_timeout),
                "workers" => out.workers = v.parse().unwrap_or(0),
                _ => {}
            }
        }
        if out.start > out.end {
            problems.push(Diagnostic::file(
                crate::diagnostic::Severity::Error,
                FILE,
                format!(
                    "rtpstart ({}) is above rtpend ({}): no RTP port can be used",
                    out.start, out.end
                ),
            ));
        }
        if out.start % 2 == 1 {
            out.start += 1;
        }
        (out, problems)
    }

    fn engine_config(&self) -> RtpConfig {
        let workers = if self.workers == 0 {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        } else {
            self.workers
        };
        RtpConfig {
            port_start: self.start,
            port_end: self.end,
            strict_rtp: self.strict,
            workers,
        }
    }

    fn show(&self) -> String {
        let yes = |b: bool| if b { "Yes" } else { "No" };
        format!(
            "\n\nGeneral Settings:\n----------------\n  Port start:      {}\n  Port end:        {}\n  Checksums:       {}\n  DTMF Timeout:    {}\n  Strict RTP:      {}\n  ICE support:     No\n  STUN:            disabled\n",
            self.start,
            self.end,
            yes(self.checksums),
            self.dtmf_timeout,
            yes(self.strict)
        )
    }
}

/// `res_rtp_asterisk.so`.
#[derive(Default)]
pub struct RtpModule {
    settings: Arc<Mutex<RtpSettings>>,
}

#[async_trait]
impl Module for RtpModule {
    fn name(&self) -> &'static str {
        "res_rtp_asterisk.so"
    }

    fn description(&self) -> &'static str {
        "Asterisk RTP Stack"
    }

    fn check(&self, settings: &Settings) -> Vec<Diagnostic> {
        RtpSettings::load(settings).1
    }

    async fn load(&self, core: &Arc<Core>) -> Result<(), ModuleError> {
        let (rtp, problems) = RtpSettings::load(&core.settings);
        ModuleError::check(problems)?;
        let engine = MediaEngine::start(rtp.engine_config())
            .map_err(|e| ModuleError::Failed(format!("the media engine could not start: {e}")))?;
        tracing::info!(
            verbose = 2,
            "RTP: ports {}-{}, {} media thread(s)",
            rtp.start,
            rtp.end,
            rtp.engine_config().workers
        );
        core.provide(engine);
        *self.settings.lock().unwrap_or_else(|e| e.into_inner()) = rtp;
        let settings = Arc::clone(&self.settings);
        let show = CliCommand::new(
            "rtp show settings",
            "Display RTP settings",
            "Usage: rtp show settings\n       Display RTP configuration settings",
            move |_| {
                let settings = Arc::clone(&settings);
                async move { Ok(settings.lock().unwrap_or_else(|e| e.into_inner()).show()) }
            },
        );
        core.cli
            .register(show)
            .map_err(|e| ModuleError::Failed(e.to_string()))?;
        Ok(())
    }

    async fn reload(&self, core: &Arc<Core>) -> Result<(), ModuleError> {
        let (rtp, problems) = RtpSettings::load(&core.settings);
        ModuleError::check(problems)?;
        let mut current = self.settings.lock().unwrap_or_else(|e| e.into_inner());
        if rtp.start != current.start || rtp.end != current.end || rtp.strict != current.strict {
            tracing::warn!(
                "rtp.conf: port range and strictrtp changes take effect at the next start"
            );
        }
        current.dtmf_timeout = rtp.dtmf_timeout;
        current.checksums = rtp.checksums;
        Ok(())
    }
}
