//! `DB_EXISTS(family/key)`: `1` if the astdb holds the key (and its value
//! goes to `DB_RESULT`), else `0` (`func_db.c`).

use obelus_dialplan::FunctionError;

use super::db;
use crate::registry::{Function, FunctionContext};

/// `DB_EXISTS`.
pub struct DbExists;

impl Function for DbExists {
    fn name(&self) -> &'static str {
        "DB_EXISTS"
    }

    fn synopsis(&self) -> &'static str {
        "Check to see if a key exists in the Asterisk database."
    }

    fn read(&self, cx: &FunctionContext<'_>, args: &str) -> Result<String, FunctionError> {
        let (family, key) = db::family_key("DB_EXISTS", args)?;
        Ok(match db::get(cx, &family, &key)? {
            Some(value) => {
                if let Some(channel) = cx.channel {
                    channel.set_var("DB_RESULT", &value);
                }
                "1"
            }
            None => "0",
        }
        .to_owned())
    }
}

#[cfg(test)]
mod tests {
    use crate::functions::test_support::on_channel_with_astdb;

    #[tokio::test(flavor = "multi_thread")]
    async fn tells_and_sets_db_result() {
        let (_core, executor, channel, _dir) = on_channel_with_astdb();
        let s = |t: &str| executor.substitute(Some(&channel), t);
        assert_eq!(s("${DB_EXISTS(fam/k)}"), "0");
        assert_eq!(channel.var("DB_RESULT"), None);
        executor.set(Some(&channel), "DB(fam/k)", "val");
        assert_eq!(s("${DB_EXISTS(fam/k)}"), "1");
        assert_eq!(channel.var("DB_RESULT").as_deref(), Some("val"));
    }
}
