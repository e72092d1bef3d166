//! Fuzz `$[...]` evaluation, `${}` substitution and argument splitting: no panic, no
//! stack overflow, on any input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use obelus_dialplan::args::standard_args;
use obelus_dialplan::{FunctionError, MapScope, expr, substitute};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut scope = MapScope::with_vars([("A", "4"), ("B", "A"), ("EXTEN", "5551212")]);
    scope
        .functions
        .insert("LEN".into(), |a| Ok(a.len().to_string()));
    scope.functions.insert("ECHO".into(), |a| Ok(a.to_owned()));
    scope
        .functions
        .insert("FAIL".into(), |_| Err(FunctionError::Failed("no".into())));
    let _ = expr::evaluate(&text, &mut scope);
    let out = substitute(&text, &mut scope);
    let _ = standard_args(&out);
});
