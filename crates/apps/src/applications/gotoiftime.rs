//! `GotoIfTime(times,weekdays,mdays,months[,timezone]?[labeliftrue][:labeliffalse])`:
//! jumps by whether now falls in a time specification, the same one timed
//! includes use (`pbx_builtin_gotoiftime`).

use async_trait::async_trait;
use obelus_core::channel::Cause;
use obelus_dialplan::{Clock, TimeSpec};

use super::gotoif::branches;
use crate::pbx::{Pbx, SystemClock};
use crate::registry::{AppError, Application};

/// `GotoIfTime`.
pub struct GotoIfTime;

/// Whether `spec` holds at `clock`'s time now.
pub fn holds(spec: &str, clock: &dyn Clock) -> bool {
    let (spec, warnings) = TimeSpec::parse(spec);
    for w in warnings {
        tracing::warn!("{w}");
    }
    spec.contains(clock.local_time(spec.timezone()))
}

#[async_trait]
impl Application for GotoIfTime {
    fn name(&self) -> &'static str {
        "GotoIfTime"
    }

    fn synopsis(&self) -> &'static str {
        "Conditional Goto based on the current time."
    }

    async fn exec(&self, pbx: &mut Pbx, args: &str) -> Result<(), AppError> {
        if args.is_empty() {
            tracing::warn!(
                "GotoIfTime requires an argument:\n  <time range>,<days of week>,<days of month>,<months>[,<timezone>]?'labeliftrue':'labeliffalse'"
            );
            return Err(AppError::Hangup(Cause::NORMAL_CLEARING));
        }
        let (spec, if_true, if_false) = branches(args);
        let branch = if holds(spec, &SystemClock) {
            if_true
        } else {
            if_false
        };
        if branch.trim().is_empty() {
            tracing::debug!("Not taking any branch");
            return Ok(());
        }
        pbx.goto(branch).await
    }
}

#[cfg(test)]
mod tests {
    use obelus_dialplan::LocalTime;

    use super::holds;
    use crate::testing::{executor, run_call};

    #[test]
    fn checks_the_clock() {
        let monday_9am = LocalTime {
            hour: 9,
            minute: 0,
            weekday: 1,
            day: 15,
            month: 1,
        };
        assert!(holds("09:00-17:00,mon-fri,*,*", &monday_9am));
        assert!(!holds("10:00-17:00,mon-fri,*,*", &monday_9am));
        assert!(!holds("*,sat-sun,*,*", &monday_9am));
        assert!(holds("*,*,15,jan", &monday_9am));
    }

    #[tokio::test]
    async fn jumps_by_the_time_now() {
        // 31 February never comes; every time matches `*,*,*,*`.
        let (core, executor, _dir) = executor(
            "[default]\nexten => 1,1,GotoIfTime(*,*,31,feb?never:n1)\n same => n(n1),GotoIfTime(*,*,*,*?always)\n same => n(never),Set(R=never)\n same => n,Hangup()\n same => n(always),Set(R=always)\n",
        );
        let (channel, _) = run_call(&core, &executor, "default", "1").await;
        assert_eq!(channel.var("R").as_deref(), Some("always"));
    }

    #[tokio::test]
    async fn without_arguments_hangs_up() {
        let (core, executor, _dir) =
            executor("[default]\nexten => 1,1,GotoIfTime()\n same => n,Set(AFTER=1)\n");
        let (channel, driver) = run_call(&core, &executor, "default", "1").await;
        assert_eq!(channel.var("AFTER"), None);
        assert_eq!(driver.log(), vec!["hangup 16"]);
    }
}
