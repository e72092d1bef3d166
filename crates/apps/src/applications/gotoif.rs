//! `GotoIf(condition?[labeliftrue][:labeliffalse])`: jumps to one of two
//! places by a condition (`pbx_builtin_gotoif`); an empty label continues
//! at the next priority. Each label is `[[context,]exten,]priority`.

use async_trait::async_trait;

use crate::functions::scan::check_condition;
use crate::pbx::Pbx;
use crate::registry::{AppError, Application};

/// `GotoIf`.
pub struct GotoIf;

/// Splits `condition?a:b` as Asterisk's `strsep` does: the first `?`, then
/// the first `:` after it.
pub fn branches(data: &str) -> (&str, &str, &str) {
    let (condition, rest) = data.split_once('?').unwrap_or((data, ""));
    let (a, b) = rest.split_once(':').unwrap_or((rest, ""));
    (condition, a, b)
}

#[async_trait]
impl Application for GotoIf {
    fn name(&self) -> &'static str {
        "GotoIf"
    }

    fn synopsis(&self) -> &'static str {
        "Conditional goto."
    }

    async fn exec(&self, pbx: &mut Pbx, args: &str) -> Result<(), AppError> {
        if args.is_empty() {
            tracing::warn!("Ignoring, since there is no variable to check");
            return Ok(());
        }
        let (condition, if_true, if_false) = branches(args);
        let branch = if check_condition(condition) {
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
    use crate::testing::{executor, run_call};

    const DIALPLAN: &str = "\
[default]
exten => 1,1,GotoIf($[${EXTEN} = 1]?yes:no)
 same => n(no),Set(R=no)
 same => n,Hangup()
 same => n(yes),Set(R=yes)
 same => n,GotoIf(0?no)
 same => n,Set(CONTINUED=1)
 same => n,GotoIf(abc?other,s,1)

exten => 2,1,GotoIf(0?1,yes:no)
 same => n(no),Set(R=no)
 same => n,Hangup()

[other]
exten => s,1,Set(OTHER=1)
";

    #[tokio::test]
    async fn jumps_by_the_condition() {
        let (core, executor, _dir) = executor(DIALPLAN);
        let (channel, _) = run_call(&core, &executor, "default", "1").await;
        assert_eq!(channel.var("R").as_deref(), Some("yes"));
        assert_eq!(channel.var("CONTINUED").as_deref(), Some("1"));
        assert_eq!(channel.var("OTHER").as_deref(), Some("1"));

        let (channel, _) = run_call(&core, &executor, "default", "2").await;
        assert_eq!(channel.var("R").as_deref(), Some("no"));
    }

    #[test]
    fn splits_like_strsep() {
        assert_eq!(super::branches("1?a:b"), ("1", "a", "b"));
        assert_eq!(super::branches("1?c,e,1:c,e,2"), ("1", "c,e,1", "c,e,2"));
        assert_eq!(super::branches("1?:b"), ("1", "", "b"));
        assert_eq!(super::branches("1"), ("1", "", ""));
    }
}
