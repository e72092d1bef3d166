//! `DB_DELETE(family/key)`: removes a key from the astdb and returns the
//! value it had (also in `DB_RESULT`) (`func_db.c`).

use obelus_dialplan::FunctionError;

use super::{access, db};
use crate::registry::{Function, FunctionContext};

/// `DB_DELETE`.
pub struct DbDelete;

impl Function for DbDelete {
    fn name(&self) -> &'static str {
        "DB_DELETE"
    }

    fn synopsis(&self) -> &'static str {
        "Return a value from the database and delete it."
    }

    fn read(&self, cx: &FunctionContext<'_>, args: &str) -> Result<String, FunctionError> {
        let (family, key) = db::family_key("DB_DELETE", args)?;
        let Some(value) = db::get(cx, &family, &key)? else {
            tracing::debug!("DB_DELETE: {family}/{key} not found in database.");
            return Ok(String::new());
        };
        let astdb = db::astdb(cx)?;
        if let Err(e) = access::wait_for(astdb.del(&family, &key))? {
            tracing::debug!(
                "DB_DELETE: {family}/{key} could not be deleted from the database: {e}"
            );
        }
        if let Some(channel) = cx.channel {
            channel.set_var("DB_RESULT", &value);
        }
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use crate::functions::test_support::on_channel_with_astdb;

    #[tokio::test(flavor = "multi_thread")]
    async fn returns_the_value_and_removes_it() {
        let (_core, executor, channel, _dir) = on_channel_with_astdb();
        let s = |t: &str| executor.substitute(Some(&channel), t);
        executor.set(Some(&channel), "DB(fam/gone)", "bye");
        assert_eq!(s("${DB_DELETE(fam/gone)}"), "bye");
        assert_eq!(channel.var("DB_RESULT").as_deref(), Some("bye"));
        assert_eq!(s("${DB_EXISTS(fam/gone)}"), "0");
        assert_eq!(s("${DB_DELETE(fam/gone)}"), "");
    }
}
