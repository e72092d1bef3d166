//! `FIELDNUM(varname,delim,value)`: the 1-based position of `value` among
//! the fields of a variable (case-insensitive), 0 if absent
//! (`func_strings.c`). The first argument names a variable.

use obelus_dialplan::FunctionError;
use obelus_dialplan::args::standard_args;

use super::access;
use super::scan::encoded_char;
use crate::registry::{Function, FunctionContext};

/// `FIELDNUM`.
pub struct FieldNum;

impl Function for FieldNum {
    fn name(&self) -> &'static str {
        "FIELDNUM"
    }

    fn synopsis(&self) -> &'static str {
        "Return the 1-based offset of a field in a list"
    }

    fn read(&self, cx: &FunctionContext<'_>, args: &str) -> Result<String, FunctionError> {
        let args = standard_args(args);
        let [varname, delim, wanted, ..] = args.as_slice() else {
            return Err(FunctionError::Failed(
                "Usage: FIELDNUM(<listname>,<delimiter>,<fieldvalue>)".to_owned(),
            ));
        };
        let value = access::variable(cx, varname)?;
        if value.is_empty() || delim.is_empty() {
            return Ok("0".to_owned());
        }
        let (d, _) = encoded_char(delim)
            .ok_or_else(|| FunctionError::Failed(format!("Invalid delimiter '{delim}'")))?;
        let index = value
            .split(d)
            .position(|f| f.eq_ignore_ascii_case(wanted))
            .map_or(0, |i| i + 1);
        Ok(index.to_string())
    }
}

#[cfg(test)]
mod tests {
    use crate::functions::test_support::{on_channel, read};

    #[test]
    fn finds_the_field() {
        let (_core, executor, channel, _dir) = on_channel();
        channel.set_var("L", "a-B-c");
        let s = |t: &str| executor.substitute(Some(&channel), t);
        assert_eq!(s("${FIELDNUM(L,-,b)}"), "2");
        assert_eq!(s("${FIELDNUM(L,-,c)}"), "3");
        assert_eq!(s("${FIELDNUM(L,-,z)}"), "0");
        assert_eq!(s("${FIELDNUM(UNSET,-,a)}"), "0");
        assert!(read(&executor, &channel, "FIELDNUM", "L,-").is_err());
    }
}
