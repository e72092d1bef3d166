//! `ExecIf(expression?appiftrue(args)[:appiffalse(args)])`: runs one of two
//! applications by a condition (`app_exec.c`); the older
//! `ExecIf(expression,app,args)` form still works, with a warning.

use async_trait::async_trait;
use obelus_core::channel::Cause;
use obelus_dialplan::args::separate_args;

use crate::functions::scan::check_condition;
use crate::pbx::Pbx;
use crate::registry::{AppError, Application};

/// `ExecIf`.
pub struct ExecIf;

/// `App(args)` split into the name and what is between the first `(` and
/// the last `)`.
fn app_and_data(text: &str) -> (String, String) {
    match text.split_once('(') {
        Some((app, rest)) => {
            let data = rest.rfind(')').map_or(rest, |end| &rest[..end]);
            (app.to_owned(), data.to_owned())
        }
        None => (text.to_owned(), String::new()),
    }
}

/// The condition and the applications to run if true and if false.
type Parsed = (String, (String, String), Option<(String, String)>);

fn parse(args: &str) -> Option<Parsed> {
    let comma = args.find(',');
    let question = args.find('?');
    let deprecated = match (comma, question) {
        (_, None) => true,
        (Some(c), Some(q)) => c < q,
        (None, Some(_)) => false,
    };
    if deprecated {
        let parts = separate_args(args, ',', true, Some(3));
        let get = |i: usize| parts.get(i).cloned().unwrap_or_default();
        tracing::warn!(
            "Deprecated syntax found.  Please upgrade to using ExecIf(<expr>?{}({}))",
            get(1),
            get(2)
        );
        return Some((get(0), (get(1), get(2)), None));
    }
    let parts = separate_args(args, '?', false, Some(2));
    let (condition, apps) = match parts.as_slice() {
        [condition, apps] if !apps.is_empty() => (condition.clone(), apps),
        _ => return None,
    };
    let mut apps = separate_args(apps, ':', false, Some(2)).into_iter();
    let if_true = app_and_data(&apps.next().unwrap_or_default());
    let if_false = apps.next().map(|a| app_and_data(&a));
    Some((condition, if_true, if_false))
}

#[async_trait]
impl Application for ExecIf {
    fn name(&self) -> &'static str {
        "ExecIf"
    }

    fn synopsis(&self) -> &'static str {
        "Executes dialplan application, conditionally."
    }

    async fn exec(&self, pbx: &mut Pbx, args: &str) -> Result<(), AppError> {
        let Some((condition, if_true, if_false)) = parse(args) else {
            tracing::error!("Usage: ExecIf(<expr>?<appiftrue>(<args>)[:<appiffalse>(<args)])");
            return Err(AppError::Hangup(Cause::NORMAL_CLEARING));
        };
        let (app, data) = if check_condition(&condition) {
            if_true
        } else {
            match if_false {
                Some(f) if !f.0.is_empty() => f,
                _ => return Ok(()),
            }
        };
        let Some(application) = pbx.executor.registry.application(app.trim()) else {
            tracing::warn!("Could not find application! ({app})");
            return Err(AppError::Hangup(Cause::NORMAL_CLEARING));
        };
        application.exec(pbx, &data).await
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{executor, run_call};

    #[tokio::test]
    async fn runs_the_chosen_application() {
        let (core, executor, _dir) = executor(
            "[default]
exten => 1,1,ExecIf($[1 = 1]?Set(A=yes):Set(A=no))
 same => n,ExecIf(0?Set(B=yes):Set(B=no))
 same => n,ExecIf(0?Set(C=yes))
 same => n,ExecIf(1?MSet(D=1,E=2))
 same => n,ExecIf(1,Set,F=old)
 same => n,ExecIf(1?Goto(jumped))
 same => n,Set(SKIPPED=1)
 same => n(jumped),ExecIf(1?NoSuchApp(x))
 same => n,Set(NOTREACHED=1)
",
        );
        let (channel, driver) = run_call(&core, &executor, "default", "1").await;
        assert_eq!(channel.var("A").as_deref(), Some("yes"));
        assert_eq!(channel.var("B").as_deref(), Some("no"));
        assert_eq!(channel.var("C"), None);
        assert_eq!(channel.var("D").as_deref(), Some("1"));
        assert_eq!(channel.var("E").as_deref(), Some("2"));
        assert_eq!(channel.var("F").as_deref(), Some("old"));
        assert_eq!(channel.var("SKIPPED"), None);
        assert_eq!(channel.var("NOTREACHED"), None);
        assert_eq!(driver.log(), vec!["hangup 16"]);
    }

    #[tokio::test]
    async fn without_applications_hangs_up() {
        let (core, executor, _dir) =
            executor("[default]\nexten => 1,1,ExecIf(1?)\n same => n,Set(AFTER=1)\n");
        let (channel, _) = run_call(&core, &executor, "default", "1").await;
        assert_eq!(channel.var("AFTER"), None);
    }
}
