//! `Gosub([[context,]exten,]priority[(arg1[,...][,argN])])`: calls a
//! dialplan subroutine; `Return` comes back to the next priority
//! (`app_stack.c`). Inside, `${ARG1}`.. and `${ARGC}` hold the arguments
//! and `LOCAL(name)` variables are restored on return.

use async_trait::async_trait;
use obelus_core::channel::Cause;
use obelus_dialplan::Target;
use obelus_dialplan::args::separate_args;

use crate::pbx::Pbx;
use crate::registry::{AppError, Application};

/// `Gosub`.
pub struct Gosub;

/// Where `label` (`[[context,]exten,]priority`) leads, if its priority is a
/// number or relative (`+1`); `None` for a label, which the jump itself
/// checks.
fn numeric_target(pbx: &Pbx, label: &str) -> Option<(String, String, i32)> {
    let parts: Vec<&str> = label.split(',').map(str::trim).collect();
    let (context, exten, current) = pbx.channel.location();
    let (context, exten, priority) = match parts.as_slice() {
        [p] => (context, exten, *p),
        [e, p] => (context, (*e).to_owned(), *p),
        [c, e, p] => ((*c).to_owned(), (*e).to_owned(), *p),
        _ => return None,
    };
    let number = if let Some(n) = priority.strip_prefix('+') {
        current.saturating_add(n.parse().ok()?)
    } else if let Some(n) = priority.strip_prefix('-') {
        current.saturating_sub(n.parse().ok()?)
    } else {
        priority.parse().ok()?
    };
    Some((context, exten, number))
}

/// Runs a `Gosub` to `data` (shared with `GosubIf`).
pub async fn gosub(pbx: &mut Pbx, data: &str) -> Result<(), AppError> {
    let (label, arguments) = match data.split_once('(') {
        Some((label, rest)) => {
            let inner = match rest.rfind(')') {
                Some(end) => &rest[..end],
                None => {
                    tracing::warn!("Ouch.  No closing paren: '{data}'?");
                    rest
                }
            };
            (label, separate_args(inner, ',', false, None))
        }
        None => (data, Vec::new()),
    };
    if let Some((context, exten, priority)) = numeric_target(pbx, label) {
        let caller = pbx.channel.caller().number;
        let caller = (!caller.is_empty()).then_some(caller.as_str());
        if pbx
            .executor
            .step(&context, &exten, Target::Priority(priority), caller)
            .await
            .is_err()
        {
            tracing::error!(
                "Attempt to reach a non-existent destination for Gosub: (Context:{context}, Extension:{exten}, Priority:{priority})"
            );
            return Err(AppError::Hangup(Cause::NORMAL_CLEARING));
        }
    }
    pbx.gosub(label, &arguments).await?;
    pbx.set_local("ARGC", &arguments.len().to_string());
    Ok(())
}

#[async_trait]
impl Application for Gosub {
    fn name(&self) -> &'static str {
        "Gosub"
    }

    fn synopsis(&self) -> &'static str {
        "Jump to label, saving return address."
    }

    async fn exec(&self, pbx: &mut Pbx, args: &str) -> Result<(), AppError> {
        if args.trim().is_empty() {
            tracing::error!(
                "Gosub requires an argument: Gosub([[context,]exten,]priority[(arg1[,...][,argN])])"
            );
            return Err(AppError::Hangup(Cause::NORMAL_CLEARING));
        }
        gosub(pbx, args).await
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{executor, run_call};

    const DIALPLAN: &str = "\
[default]
exten => 1,1,Set(X=outer)
 same => n,Gosub(sub,s,1(hello,\"a,b\"))
 same => n,Set(R1=${GOSUB_RETVAL})
 same => n,Set(XAFTER=${X}|${ARG1}|${ARGC})
 same => n,Gosub(sub2,s,1)
 same => n,Set(R2=${GOSUB_RETVAL})
 same => n,Gosub(nested,1)
 same => n,Set(R3=${GOSUB_RETVAL})

exten => 2,1,Gosub(sub,s,9)
 same => n,Set(NOTREACHED=1)

exten => 3,1,Gosub()
 same => n,Set(NOTREACHED=1)

exten => 4,1,Gosub(nolabel)
 same => n,Set(NOTREACHED=1)

exten => 5,1,Set(LOCAL(Y)=plain)

exten => nested,1,Gosub(sub2,s,1(deep))
 same => n,Return(${GOSUB_RETVAL}!)

[sub]
exten => s,1,Set(LOCAL(X)=inner)
 same => n,Set(SEEN=${ARG1}|${ARG2}|${ARGC}|${X}|${LOCAL(X)})
 same => n,Return(ret1)

[sub2]
exten => s,1,Return(${ARG1}two)
";

    #[tokio::test]
    async fn calls_and_returns_with_arguments_and_locals() {
        let (core, executor, _dir) = executor(DIALPLAN);
        let (channel, driver) = run_call(&core, &executor, "default", "1").await;
        assert_eq!(
            channel.var("SEEN").as_deref(),
            Some("hello|\"a,b\"|2|inner|inner")
        );
        assert_eq!(channel.var("R1").as_deref(), Some("ret1"));
        assert_eq!(channel.var("XAFTER").as_deref(), Some("outer||"));
        assert_eq!(channel.var("R2").as_deref(), Some("two"));
        assert_eq!(channel.var("R3").as_deref(), Some("deeptwo!"));
        assert_eq!(driver.log(), vec!["hangup 16"]);
    }

    #[tokio::test]
    async fn local_outside_a_gosub_is_a_plain_variable() {
        let (core, executor, _dir) = executor(DIALPLAN);
        let (channel, _) = run_call(&core, &executor, "default", "5").await;
        assert_eq!(channel.var("Y").as_deref(), Some("plain"));
    }

    #[tokio::test]
    async fn a_missing_destination_hangs_up() {
        let (core, executor, _dir) = executor(DIALPLAN);
        for exten in ["2", "3", "4"] {
            let (channel, driver) = run_call(&core, &executor, "default", exten).await;
            assert_eq!(channel.var("NOTREACHED"), None, "{exten}");
            assert_eq!(channel.location().0, "default", "{exten}");
            assert_eq!(driver.log(), vec!["hangup 16"], "{exten}");
        }
    }
}
