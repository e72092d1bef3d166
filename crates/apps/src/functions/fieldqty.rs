//! `FIELDQTY(varname,delim)`: how many fields a variable's value has
//! (`func_strings.c`). The first argument names a variable.

use obelus_dialplan::FunctionError;
use obelus_dialplan::args::standard_args;

use super::access;
use super::scan::encoded_char;
use crate::registry::{Function, FunctionContext};

/// `FIELDQTY`.
pub struct FieldQty;

impl Function for FieldQty {
    fn name(&self) -> &'static str {
        "FIELDQTY"
    }

    fn synopsis(&self) -> &'static str {
        "Count the fields with an arbitrary delimiter"
    }

    fn read(&self, cx: &FunctionContext<'_>, args: &str) -> Result<String, FunctionError> {
        let args = standard_args(args);
        let (Some(varname), Some(delim)) = (args.first(), args.get(1)) else {
            return Ok("1".to_owned());
        };
        let value = access::variable(cx, varname)?;
        let count = if value.is_empty() {
            0
        } else {
            match encoded_char(delim) {
                Some((d, _)) => value.split(d).count(),
                None => 1,
            }
        };
        Ok(count.to_string())
    }
}

#[cfg(test)]
mod tests {
    use crate::functions::test_support::on_channel;

    #[test]
    fn counts_fields() {
        let (_core, executor, channel, _dir) = on_channel();
        channel.set_var("L", "a-b-c");
        channel.set_var("C", "a,b");
        let s = |t: &str| executor.substitute(Some(&channel), t);
        assert_eq!(s("${FIELDQTY(L,-)}"), "3");
        assert_eq!(s("${FIELDQTY(L,x)}"), "1");
        assert_eq!(s("${FIELDQTY(C,\\,)}"), "2");
        assert_eq!(s("${FIELDQTY(UNSET,-)}"), "0");
        assert_eq!(s("${FIELDQTY(L)}"), "1");
    }
}
