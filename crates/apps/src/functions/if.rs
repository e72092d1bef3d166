//! `IF(expression?[true][:false])`: one of two values by a condition
//! (`func_logic.c`); the condition reads as `GotoIf`'s.

use obelus_dialplan::FunctionError;
use obelus_dialplan::args::separate_args;

use super::scan::check_condition;
use crate::registry::{Function, FunctionContext};

/// `IF`.
pub struct If;

impl Function for If {
    fn name(&self) -> &'static str {
        "IF"
    }

    fn synopsis(&self) -> &'static str {
        "Check for an expression."
    }

    fn read(&self, _cx: &FunctionContext<'_>, args: &str) -> Result<String, FunctionError> {
        let outer = separate_args(args, '?', true, Some(2));
        let expr = outer.first().map(|s| s.trim()).unwrap_or_default();
        let branches = outer
            .get(1)
            .map(|rest| separate_args(rest, ':', true, Some(2)))
            .unwrap_or_default();
        if expr.is_empty() || branches.is_empty() {
            return Err(FunctionError::Failed(
                "Syntax IF(<expr>?[<true>][:<false>])  (expr must be non-null, and either <true> or <false> must be non-null)".to_owned(),
            ));
        }
        let pick = if check_condition(expr) { 0 } else { 1 };
        Ok(branches
            .get(pick)
            .map(|s| s.trim().to_owned())
            .unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use crate::functions::test_support::{on_channel, read};

    #[test]
    fn picks_a_branch_by_the_condition() {
        let (_core, executor, channel, _dir) = on_channel();
        let s = |t: &str| executor.substitute(Some(&channel), t);
        assert_eq!(s("${IF(1?yes:no)}"), "yes");
        assert_eq!(s("${IF(0?yes:no)}"), "no");
        assert_eq!(s("${IF(abc?yes:no)}"), "yes");
        assert_eq!(s("${IF($[2>3]?yes:no)}"), "no");
        assert_eq!(s("${IF(0?yes)}"), "");
        assert_eq!(s("${IF(1?:no)}"), "");
        assert_eq!(s("${IF(1? a b : c)}"), "a b");
        assert!(read(&executor, &channel, "IF", "1").is_err());
        assert!(read(&executor, &channel, "IF", "?a:b").is_err());
    }
}
