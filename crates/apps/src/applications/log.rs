//! `Log(level,message)`: writes a message to the log at `ERROR`,
//! `WARNING`, `NOTICE`, `DEBUG`, `VERBOSE` or `DTMF` (`app_verbose.c`),
//! naming the dialplan location as Asterisk does.

use async_trait::async_trait;
use obelus_dialplan::args::separate_args;

use crate::pbx::Pbx;
use crate::registry::{AppError, Application};

/// `Log`.
pub struct Log;

#[async_trait]
impl Application for Log {
    fn name(&self) -> &'static str {
        "Log"
    }

    fn synopsis(&self) -> &'static str {
        "Send arbitrary text to a selected log level."
    }

    async fn exec(&self, pbx: &mut Pbx, args: &str) -> Result<(), AppError> {
        if args.is_empty() {
            return Ok(());
        }
        let parts = separate_args(args, ',', true, Some(2));
        let level = parts.first().map_or("", String::as_str);
        let message = parts.get(1).map_or("", String::as_str);
        let (context, exten, priority) = pbx.channel.location();
        let at = format!("Ext. {exten}:{priority} @ {context}");
        let upper = level.to_ascii_uppercase();
        if !LEVELS.contains(&upper.as_str()) {
            tracing::error!("Unknown log level: '{level}'");
            return Ok(());
        }
        if message.is_empty() {
            return Ok(());
        }
        match upper.as_str() {
            "ERROR" => tracing::error!("{at}: {message}"),
            "WARNING" => tracing::warn!("{at}: {message}"),
            "NOTICE" => tracing::info!("{at}: {message}"),
            "VERBOSE" => tracing::info!(verbose = 0u64, "{message}"),
            _ => tracing::debug!("{at}: {message}"),
        }
        Ok(())
    }
}

/// The levels `Log` takes (`DTMF` goes to debug: the log has no DTMF level
/// of its own here).
const LEVELS: [&str; 6] = ["ERROR", "WARNING", "NOTICE", "DEBUG", "VERBOSE", "DTMF"];

#[cfg(test)]
mod tests {
    use crate::applications::capture::Capture;
    use crate::testing::{executor, run_call};

    #[tokio::test]
    async fn maps_asterisk_levels_to_tracing() {
        let (capture, _guard) = Capture::install();
        let (core, executor, _dir) = executor(
            "[default]\nexten => 1,1,Log(ERROR,e1)\n same => n,Log(warning,w1)\n same => n,Log(NOTICE,n1)\n same => n,Log(DEBUG,d1)\n same => n,Log(VERBOSE,v1)\n same => n,Log(LOUD,x)\n same => n,Set(DONE=1)\n",
        );
        let (channel, _) = run_call(&core, &executor, "default", "1").await;
        assert_eq!(channel.var("DONE").as_deref(), Some("1"));
        let lines = capture.lines();
        let has = |level: &str, verbose: Option<u64>, message: &str| {
            lines.contains(&(level.into(), verbose, message.into()))
        };
        assert!(has("ERROR", None, "Ext. 1:1 @ default: e1"), "{lines:?}");
        assert!(has("WARN", None, "Ext. 1:2 @ default: w1"), "{lines:?}");
        assert!(has("INFO", None, "Ext. 1:3 @ default: n1"), "{lines:?}");
        assert!(has("DEBUG", None, "Ext. 1:4 @ default: d1"), "{lines:?}");
        assert!(has("INFO", Some(0), "v1"), "{lines:?}");
        assert!(has("ERROR", None, "Unknown log level: 'LOUD'"), "{lines:?}");
    }
}
