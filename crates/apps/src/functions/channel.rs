//! `CHANNEL(item)`: the channel's own properties (`name`, `uniqueid`,
//! `linkedid`, `state`, `language`, `accountcode`, `context`, `exten`,
//! `channeltype`, `checkhangup`, `musicclass`), and technology items
//! (`rtp,dest`, `pjsip,call-id`) answered by the channel driver
//! (`func_channel.c`).

use obelus_dialplan::FunctionError;

use super::access;
use crate::moh::MusicOnHold;
use crate::registry::{Function, FunctionContext};

/// `CHANNEL`.
pub struct ChannelFn;

fn unknown(item: &str) -> FunctionError {
    FunctionError::Failed(format!("Unknown or unavailable item requested: '{item}'"))
}

impl Function for ChannelFn {
    fn name(&self) -> &'static str {
        "CHANNEL"
    }

    fn synopsis(&self) -> &'static str {
        "Gets/sets various pieces of information about the channel."
    }

    fn read(&self, cx: &FunctionContext<'_>, args: &str) -> Result<String, FunctionError> {
        let channel = access::channel(cx, "CHANNEL")?;
        let item = args.trim();
        Ok(match item.to_ascii_lowercase().as_str() {
            "name" => channel.name().to_owned(),
            "uniqueid" => channel.uniqueid().to_owned(),
            "linkedid" => channel.linkedid(),
            "state" => channel.state().name().to_owned(),
            "language" => channel.language(),
            "accountcode" => channel.accountcode(),
            "context" => channel.location().0,
            "exten" => channel.location().1,
            "channeltype" => channel.tech().to_owned(),
            "musicclass" => cx
                .core
                .service::<MusicOnHold>()
                .map(|moh| moh.musicclass(channel))
                .unwrap_or_default(),
            "checkhangup" => if channel.hangup_requested().is_some() {
                "1"
            } else {
                "0"
            }
            .to_owned(),
            _ => channel.driver().info(item).ok_or_else(|| unknown(item))?,
        })
    }

    fn write(
        &self,
        cx: &FunctionContext<'_>,
        args: &str,
        value: &str,
    ) -> Result<(), FunctionError> {
        let channel = access::channel(cx, "CHANNEL")?;
        let item = args.trim();
        match item.to_ascii_lowercase().as_str() {
            "language" => channel.set_language(value),
            "accountcode" => channel.set_accountcode(value),
            "musicclass" => match cx.core.service::<MusicOnHold>() {
                Some(moh) => moh.set_musicclass(channel, value),
                None => {
                    return Err(FunctionError::Failed(
                        "CHANNEL(musicclass) needs res_musiconhold.so".into(),
                    ));
                }
            },
            _ => return Err(unknown(item)),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::functions::test_support::{on_channel, read};

    #[test]
    fn reads_what_the_channel_knows() {
        let (_core, executor, channel, _dir) = on_channel();
        let s = |t: &str| executor.substitute(Some(&channel), t);
        assert_eq!(s("${CHANNEL(name)}"), channel.name());
        assert_eq!(s("${CHANNEL(uniqueid)}"), channel.uniqueid());
        assert_eq!(s("${CHANNEL(linkedid)}"), channel.uniqueid());
        assert_eq!(s("${CHANNEL(state)}"), "Ring");
        assert_eq!(s("${CHANNEL(language)}"), "en");
        assert_eq!(s("${CHANNEL(context)}/${CHANNEL(exten)}"), "default/1");
        assert_eq!(s("${CHANNEL(channeltype)}"), "Test");
        assert_eq!(s("${CHANNEL(checkhangup)}"), "0");
        channel.request_hangup(obelus_core::channel::Cause::NORMAL_CLEARING);
        assert_eq!(s("${CHANNEL(checkhangup)}"), "1");
    }

    #[test]
    fn writes_language_and_accountcode_only() {
        let (_core, executor, channel, _dir) = on_channel();
        executor.set(Some(&channel), "CHANNEL(language)", "fr");
        executor.set(Some(&channel), "CHANNEL(accountcode)", "acct7");
        assert_eq!(channel.language(), "fr");
        assert_eq!(channel.accountcode(), "acct7");
        let cx = crate::functions::test_support::context(&executor, &channel);
        let f = executor.registry.function("CHANNEL").unwrap();
        assert!(f.write(&cx, "name", "x").is_err());
    }

    #[test]
    fn unknown_items_ask_the_driver_then_fail() {
        let (_core, executor, channel, _dir) = on_channel();
        let err = read(&executor, &channel, "CHANNEL", "rtp,dest").unwrap_err();
        assert!(err.to_string().contains("rtp,dest"), "{err}");
    }
}
