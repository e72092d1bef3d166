//! `FILTER(allowed-chars,string)`: keeps only the allowed characters of a
//! string; the allowed list takes ranges (`0-9`, `a-z`) and escapes
//! (`\x20`, `\n`) (`func_strings.c`).

use obelus_dialplan::FunctionError;
use obelus_dialplan::args::separate_args;

use super::scan::encoded_char;
use crate::registry::{Function, FunctionContext};

/// `FILTER`.
pub struct Filter;

/// The allowed characters as inclusive ranges.
fn allowed(spec: &str) -> Result<Vec<(char, char)>, FunctionError> {
    let bad = || FunctionError::Failed(format!("Invalid character list '{spec}' in FILTER"));
    let mut ranges = Vec::new();
    let mut rest = spec;
    while !rest.is_empty() {
        let (c1, used) = encoded_char(rest).ok_or_else(bad)?;
        rest = &rest[used..];
        if let Some(after) = rest.strip_prefix('-') {
            let (c2, used) = encoded_char(after).unwrap_or((c1, 0));
            rest = &after[used..];
            if c2 < c1 {
                // Asterisk counts an unsigned char up from c1 until it
                // reaches c2, wrapping past 255.
                tracing::warn!("Range wrapping in FILTER({spec}).  This may not be what you want.");
                ranges.push((c1, c1.max('\u{ff}')));
                ranges.push(('\u{1}', c2));
            } else {
                ranges.push((c1, c2));
            }
        } else {
            ranges.push((c1, c1));
        }
    }
    Ok(ranges)
}

impl Function for Filter {
    fn name(&self) -> &'static str {
        "FILTER"
    }

    fn synopsis(&self) -> &'static str {
        "Filter the string to include only the allowed characters"
    }

    fn read(&self, _cx: &FunctionContext<'_>, args: &str) -> Result<String, FunctionError> {
        let parts = separate_args(args, ',', false, Some(2));
        let [spec, string] = parts.as_slice() else {
            return Err(FunctionError::Failed(
                "Usage: FILTER(<allowed-chars>,<string>)".to_owned(),
            ));
        };
        if spec.starts_with('"') {
            tracing::warn!(
                "FILTER allowed characters includes the quote (\") character.  This may not be what you want."
            );
        }
        let ranges = allowed(spec)?;
        Ok(string
            .chars()
            .filter(|c| ranges.iter().any(|(a, b)| (a..=b).contains(&c)))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use crate::functions::test_support::{on_channel, read};

    #[test]
    fn keeps_allowed_characters() {
        let (_core, executor, channel, _dir) = on_channel();
        let s = |t: &str| executor.substitute(Some(&channel), t);
        assert_eq!(s("${FILTER(0-9,+1 (555) 010-2000)}"), "15550102000");
        assert_eq!(s("${FILTER(a-z0-9,Hello World 42)}"), "elloorld42");
        assert_eq!(s("${FILTER(\\x41-C,ABCDE)}"), "ABC");
        assert_eq!(s("${FILTER(+0-9,+1-2)}"), "+12");
        assert_eq!(
            s("${FILTER(a-,a-b)}"),
            "a",
            "a range without an end is its start"
        );
        assert!(read(&executor, &channel, "FILTER", "0-9").is_err());
    }
}
