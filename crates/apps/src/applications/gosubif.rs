//! `GosubIf(condition?[labeliftrue[(args)]][:labeliffalse[(args)]])`: a
//! `Gosub` to one of two places by a condition (`app_stack.c`).

use async_trait::async_trait;
use obelus_dialplan::args::separate_args;

use super::gosub::gosub;
use crate::functions::scan::check_condition;
use crate::pbx::Pbx;
use crate::registry::{AppError, Application};

/// `GosubIf`.
pub struct GosubIf;

const USAGE: &str = "GosubIf requires an argument: GosubIf(cond?label1(args):label2(args)";

#[async_trait]
impl Application for GosubIf {
    fn name(&self) -> &'static str {
        "GosubIf"
    }

    fn synopsis(&self) -> &'static str {
        "Conditionally jump to label, saving return address."
    }

    async fn exec(&self, pbx: &mut Pbx, args: &str) -> Result<(), AppError> {
        let parts = separate_args(args, '?', false, Some(2));
        let [condition, labels] = parts.as_slice() else {
            tracing::warn!("{USAGE}");
            return Ok(());
        };
        let labels = separate_args(labels, ':', false, Some(2));
        let index = if check_condition(condition) { 0 } else { 1 };
        match labels.get(index).filter(|l| !l.is_empty()) {
            Some(label) => gosub(pbx, label).await,
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{executor, run_call};

    #[tokio::test]
    async fn calls_the_chosen_subroutine() {
        let (core, executor, _dir) = executor(
            "[default]
exten => 1,1,GosubIf($[1 = 1]?sub,s,1(yes:x):sub,s,1(no))
 same => n,Set(R1=${GOSUB_RETVAL})
 same => n,GosubIf(0?sub,s,1(yes):sub,s,1(no))
 same => n,Set(R2=${GOSUB_RETVAL})
 same => n,GosubIf(0?sub,s,1(skipped))
 same => n,Set(R3=${GOSUB_RETVAL})
 same => n,GosubIf(nothing)
 same => n,Set(DONE=1)

[sub]
exten => s,1,Return(${ARG1})
",
        );
        let (channel, _) = run_call(&core, &executor, "default", "1").await;
        assert_eq!(channel.var("R1").as_deref(), Some("yes:x"));
        assert_eq!(channel.var("R2").as_deref(), Some("no"));
        assert_eq!(channel.var("R3").as_deref(), Some("no"));
        assert_eq!(channel.var("DONE").as_deref(), Some("1"));
    }
}
