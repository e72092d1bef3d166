//! `Verbose([level,]message)`: writes a verbose message (level 0-4) to the
//! log (`app_verbose.c`).

use async_trait::async_trait;
use obelus_dialplan::args::separate_args;

use crate::functions::scan::scan_int;
use crate::pbx::Pbx;
use crate::registry::{AppError, Application};

/// `Verbose`.
pub struct Verbose;

/// The verbosity and the message of `Verbose`'s arguments.
fn parse(args: &str) -> (u64, String) {
    let parts = separate_args(args, ',', true, Some(2));
    let (level, message) = match parts.as_slice() {
        [message] => ("0", message.clone()),
        [level, message] => (level.as_str(), message.clone()),
        _ => ("0", String::new()),
    };
    let level = match scan_int(level) {
        Some(n) if n >= 0 => u64::try_from(n).unwrap_or(4).min(4),
        _ => {
            tracing::warn!("'{level}' is not a verboser number");
            0
        }
    };
    (level, message)
}

#[async_trait]
impl Application for Verbose {
    fn name(&self) -> &'static str {
        "Verbose"
    }

    fn synopsis(&self) -> &'static str {
        "Send arbitrary text to verbose output."
    }

    async fn exec(&self, _pbx: &mut Pbx, args: &str) -> Result<(), AppError> {
        if args.is_empty() {
            return Ok(());
        }
        let (level, message) = parse(args);
        tracing::info!(verbose = level, "{message}");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::applications::capture::Capture;
    use crate::testing::{executor, run_call};

    #[tokio::test]
    async fn logs_at_the_given_level() {
        let (capture, _guard) = Capture::install();
        let (core, executor, _dir) = executor(
            "[default]\nexten => 1,1,Verbose(2,hello, world)\n same => n,Verbose(just text)\n same => n,Verbose(9,capped)\n same => n,Verbose(x,bad level)\n same => n,Set(DONE=1)\n",
        );
        let (channel, _) = run_call(&core, &executor, "default", "1").await;
        assert_eq!(channel.var("DONE").as_deref(), Some("1"));
        let lines = capture.lines();
        assert!(
            lines.contains(&("INFO".into(), Some(2), "hello, world".into())),
            "{lines:?}"
        );
        assert!(
            lines.contains(&("INFO".into(), Some(0), "just text".into())),
            "{lines:?}"
        );
        assert!(
            lines.contains(&("INFO".into(), Some(4), "capped".into())),
            "{lines:?}"
        );
        assert!(
            lines.contains(&("INFO".into(), Some(0), "bad level".into())),
            "{lines:?}"
        );
        assert!(
            lines
                .iter()
                .any(|(l, _, m)| l == "WARN" && m.contains("'x' is not a verboser number")),
            "{lines:?}"
        );
    }
}
