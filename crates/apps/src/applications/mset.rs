//! `MSet(name1=value1[,name2=value2...])`: sets several variables at once,
//! with `Set`'s meaning of each (`pbx_builtin_setvar_multiple`).

use async_trait::async_trait;
use obelus_dialplan::args::{separate_args, standard_args};

use crate::pbx::Pbx;
use crate::registry::{AppError, Application};

/// `MSet`.
pub struct MSet;

#[async_trait]
impl Application for MSet {
    fn name(&self) -> &'static str {
        "MSet"
    }

    fn synopsis(&self) -> &'static str {
        "Set channel variable(s) or function value(s)."
    }

    async fn exec(&self, pbx: &mut Pbx, args: &str) -> Result<(), AppError> {
        for entry in standard_args(args) {
            let pair = separate_args(&entry, '=', true, Some(2));
            match pair.as_slice() {
                [name, value] => {
                    if name.contains(' ') {
                        tracing::warn!(
                            "Please avoid unnecessary spaces on variables as it may lead to unexpected results ('{name}' set to '{value}')."
                        );
                    }
                    pbx.set(name, value);
                }
                _ => {
                    let (context, exten, priority) = pbx.channel.location();
                    tracing::warn!(
                        "MSet: ignoring entry '{entry}' with no '=' (in {exten}@{context}:{priority}"
                    );
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{executor, run_call};

    #[tokio::test]
    async fn sets_each_pair() {
        let (core, executor, _dir) = executor(
            "[default]\nexten => 1,1,MSet(A=1,B=\"two, quoted\",CALLERID(name)=Zed,junk,C=x=y)\n",
        );
        let (channel, _) = run_call(&core, &executor, "default", "1").await;
        assert_eq!(channel.var("A").as_deref(), Some("1"));
        assert_eq!(channel.var("B").as_deref(), Some("two, quoted"));
        assert_eq!(channel.var("C").as_deref(), Some("x=y"));
        assert_eq!(channel.caller().name, "Zed");
        assert_eq!(channel.var("junk"), None);
    }
}
