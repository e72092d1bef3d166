//! Loading from an `obelus-conf` [`Config`] (the parsed `extensions.conf`).

use obelus_conf::Config;

use crate::model::Dialplan;
use crate::parse::{Builder, Entry, ParseError};

impl Dialplan {
    /// Builds the dialplan from a loaded `extensions.conf` (templates and `#include`
    /// already resolved by `obelus-conf`); every category is a context except
    /// `[general]` and `[globals]`, empty ones included.
    pub fn from_config(config: &Config) -> (Dialplan, Vec<ParseError>) {
        Self::from_config_and(Some(config), std::iter::empty())
    }

    /// [`Dialplan::from_config`] (or nothing, without a file) followed by
    /// `extra` entries: contexts a module creates (`res_parking`'s lots),
    /// merged into the file's contexts of the same name.
    pub fn from_config_and<'a>(
        config: Option<&Config>,
        extra: impl IntoIterator<Item = Entry<'a>>,
    ) -> (Dialplan, Vec<ParseError>) {
        let mut b = Builder::new();
        let Some(config) = config else {
            for e in extra {
                b.add(e);
            }
            return b.finish();
        };
        // pbx_config reads [globals] before the contexts (extension names may use them).
        let globals = config
            .categories()
            .filter(|c| c.name.eq_ignore_ascii_case("globals"));
        let others = config
            .categories()
            .filter(|c| !c.name.eq_ignore_ascii_case("globals"));
        for cat in globals.chain(others) {
            b.category(&cat.name);
            for v in cat.variables() {
                b.add(Entry {
                    category: &cat.name,
                    name: &v.name,
                    value: &v.value,
                    file: &v.location.file,
                    line: v.location.line,
                });
            }
        }
        for e in extra {
            b.add(e);
        }
        b.finish()
    }
}

#[cfg(test)]
mod tests {
    use crate::model::Dialplan;

    #[test]
    fn loads_through_obelus_conf() {
        let text = "[general]\nstatic=yes\n\n[globals]\nA=1\n\n[empty]\n\n\
                    [testing]\nexten => _1XX,1,NoOp() ; comment\n same => n,Dial(PJSIP/${EXTEN})\n";
        let config = obelus_conf::parse_str("extensions.conf", text).expect("parses");
        let (dp, errors) = Dialplan::from_config(&config);
        assert!(errors.is_empty(), "{errors:?}");
        assert!(dp.general().static_config);
        assert_eq!(dp.globals(), [("A".to_owned(), "1".to_owned())]);
        assert!(
            dp.context("empty").is_some(),
            "an empty context still exists"
        );
        let ext = &dp.context("testing").expect("testing").extensions()[0];
        let p = &ext.priorities()[1];
        assert_eq!(
            (p.app.as_str(), p.data.as_str()),
            ("Dial", "PJSIP/${EXTEN}")
        );
        assert_eq!(p.location.to_string(), "extensions.conf:11");
    }
}
