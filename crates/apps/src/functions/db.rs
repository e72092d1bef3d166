//! `DB(family/key)`: reads and writes Asterisk's astdb (`func_db.c`).
//! `DB_EXISTS` and `DB_DELETE` live beside it and share [`family_key`] and
//! [`astdb`].

use std::sync::Arc;

use obelus_dialplan::FunctionError;
use obelus_dialplan::args::separate_args;
use obelus_sorcery::astdb::Astdb;

use super::access;
use crate::registry::{Function, FunctionContext};

/// `DB`.
pub struct Db;

/// Splits `family/key` (the key keeps any further `/`), or gives the usage
/// error of `function`.
pub fn family_key(function: &str, args: &str) -> Result<(String, String), FunctionError> {
    let usage = || {
        FunctionError::Failed(format!(
            "{function} requires an argument, {function}(<family>/<key>)"
        ))
    };
    let mut parts = separate_args(args, '/', true, Some(2)).into_iter();
    match (parts.next(), parts.next()) {
        (Some(family), Some(key)) => Ok((family, key)),
        _ => Err(usage()),
    }
}

/// The astdb the `astdb` module opened.
pub fn astdb(cx: &FunctionContext<'_>) -> Result<Arc<Astdb>, FunctionError> {
    cx.core
        .service::<Astdb>()
        .ok_or_else(|| FunctionError::Failed("the astdb is not open".to_owned()))
}

/// The value of `family/key`, if set.
pub fn get(
    cx: &FunctionContext<'_>,
    family: &str,
    key: &str,
) -> Result<Option<String>, FunctionError> {
    let db = astdb(cx)?;
    access::wait_for(db.get(family, key))?.map_err(|e| FunctionError::Failed(e.to_string()))
}

impl Function for Db {
    fn name(&self) -> &'static str {
        "DB"
    }

    fn synopsis(&self) -> &'static str {
        "Read from or write to the Asterisk database."
    }

    fn read(&self, cx: &FunctionContext<'_>, args: &str) -> Result<String, FunctionError> {
        let (family, key) = family_key("DB", args)?;
        match get(cx, &family, &key)? {
            Some(value) => Ok(value),
            None => {
                tracing::debug!("DB: {family}/{key} not found in database.");
                Ok(String::new())
            }
        }
    }

    fn write(
        &self,
        cx: &FunctionContext<'_>,
        args: &str,
        value: &str,
    ) -> Result<(), FunctionError> {
        let (family, key) = family_key("DB", args)?;
        let db = astdb(cx)?;
        access::wait_for(db.put(&family, &key, value))?
            .map_err(|e| FunctionError::Failed(format!("DB: Error writing value to database: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use crate::functions::test_support::{on_channel_with_astdb, read};

    #[tokio::test(flavor = "multi_thread")]
    async fn writes_then_reads() {
        let (_core, executor, channel, _dir) = on_channel_with_astdb();
        let s = |t: &str| executor.substitute(Some(&channel), t);
        assert_eq!(s("${DB(cf/101)}"), "");
        executor.set(Some(&channel), "DB(cf/101)", "5551234");
        assert_eq!(s("${DB(cf/101)}"), "5551234");
        executor.set(Some(&channel), "DB(a/b/c)", "deep");
        assert_eq!(s("${DB(a/b/c)}"), "deep");
        assert!(read(&executor, &channel, "DB", "nokey").is_err());
    }

    #[tokio::test(flavor = "current_thread")]
    async fn refuses_outside_a_multi_threaded_runtime() {
        let (_core, executor, channel, _dir) = on_channel_with_astdb();
        let err = read(&executor, &channel, "DB", "cf/101").unwrap_err();
        assert!(err.to_string().contains("runtime"), "{err}");
    }
}
