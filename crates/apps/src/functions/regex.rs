//! `REGEX("regular expression" string)`: `1` if the extended regular
//! expression matches anywhere in the string, else `0` (`func_strings.c`).

use obelus_dialplan::FunctionError;
use obelus_dialplan::args::separate_args;

use crate::registry::{Function, FunctionContext};

/// `REGEX`.
pub struct Regex;

/// Compiled expressions larger than this are refused: the pattern comes
/// from the dialplan but may carry caller-supplied text.
const SIZE_LIMIT: usize = 1 << 20;

impl Function for Regex {
    fn name(&self) -> &'static str {
        "REGEX"
    }

    fn synopsis(&self) -> &'static str {
        "Check string against a regular expression."
    }

    fn read(&self, _cx: &FunctionContext<'_>, args: &str) -> Result<String, FunctionError> {
        let parts = separate_args(args, '"', true, Some(3));
        let [_, pattern, text] = parts.as_slice() else {
            return Err(FunctionError::Failed(
                "Unexpected arguments: should have been in the form '\"<regex>\" <string>'"
                    .to_owned(),
            ));
        };
        let text = text.strip_prefix([' ', '\t']).unwrap_or(text.as_str());
        let re = ::regex::RegexBuilder::new(pattern)
            .size_limit(SIZE_LIMIT)
            .build()
            .map_err(|e| FunctionError::Failed(format!("Malformed input REGEX({args}): {e}")))?;
        Ok(if re.is_match(text) { "1" } else { "0" }.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use crate::functions::test_support::{on_channel, read};

    #[test]
    fn matches_anywhere() {
        let (_core, executor, channel, _dir) = on_channel();
        let s = |t: &str| executor.substitute(Some(&channel), t);
        assert_eq!(s("${REGEX(\"^1[0-9]+$\" 1234)}"), "1");
        assert_eq!(s("${REGEX(\"^1[0-9]+$\" 2234)}"), "0");
        assert_eq!(s("${REGEX(\"b+\" aabbc)}"), "1");
        assert_eq!(
            s("${REGEX(\"^$\" )}"),
            "1",
            "one space after the quote is dropped"
        );
        assert!(read(&executor, &channel, "REGEX", "no quotes").is_err());
        assert!(read(&executor, &channel, "REGEX", "\"(\" x").is_err());
    }
}
