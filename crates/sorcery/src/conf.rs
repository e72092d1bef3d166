//! `sorcery.conf`: which wizards serve which object types.
//!
//! ```text
//! [general]
//! update_or_create_on_update_miss = no
//!
//! [res_pjsip]                        ; section = the module owning the types
//! endpoint/cache = memory_cache,object_lifetime_stale=600
//! endpoint = realtime,ps_endpoints   ; <type>[/options] = <wizard>[,<data>]
//! ```
//!
//! Mappings keep file order. A module's section replaces the built-in
//! defaults only for the types it names.

use std::collections::HashMap;

use obelus_conf::{Config, Location};
use obelus_core::diagnostic::Diagnostic;

/// One `type[/options] = wizard[,data]` line (or a built-in default).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappingSpec {
    /// The object type.
    pub type_name: String,
    /// Mapped with `/cache` (any options text containing `cache`).
    pub cache: bool,
    /// The wizard's name.
    pub wizard: String,
    /// Everything after the first comma.
    pub data: String,
    /// The line in `sorcery.conf` (`None` for built-in defaults).
    pub location: Option<Location>,
}

impl MappingSpec {
    /// A built-in default mapping from `wizard[,data]` text.
    pub fn default_for(type_name: &str, text: &str) -> Self {
        let (wizard, data) = text.split_once(',').unwrap_or((text, ""));
        Self {
            type_name: type_name.to_owned(),
            cache: false,
            wizard: wizard.trim().to_owned(),
            data: data.trim().to_owned(),
            location: None,
        }
    }
}

/// What `sorcery.conf` says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SorceryConf {
    /// `[general] update_or_create_on_update_miss`.
    pub update_or_create_on_update_miss: bool,
    /// Mappings per module section (lower-cased name), in file order.
    pub modules: HashMap<String, Vec<MappingSpec>>,
}

impl SorceryConf {
    /// Reads a parsed `sorcery.conf`.
    pub fn from_config(config: &Config) -> (Self, Vec<Diagnostic>) {
        let mut out = Self::default();
        let mut problems = Vec::new();
        for cat in config.categories() {
            if cat.name.eq_ignore_ascii_case("general") {
                for var in cat.variables() {
                    if var
                        .name
                        .eq_ignore_ascii_case("update_or_create_on_update_miss")
                    {
                        match crate::field::parse_bool(&var.value) {
                            Some(b) => out.update_or_create_on_update_miss = b,
                            None => problems.push(Diagnostic::error_at(
                                &var.location,
                                &var.name,
                                "expected yes or no",
                            )),
                        }
                    } else {
                        problems.push(Diagnostic::warning_at(
                            &var.location,
                            &var.name,
                            "unknown [general] option, ignored",
                        ));
                    }
                }
                continue;
            }
            let mappings = out
                .modules
                .entry(cat.name.to_ascii_lowercase())
                .or_default();
            for var in cat.variables() {
                let (type_name, options) = match var.name.split_once('/') {
                    Some((t, o)) => (t.trim(), o),
                    None => (var.name.trim(), ""),
                };
                let (wizard, data) = var
                    .value
                    .split_once(',')
                    .unwrap_or((var.value.as_str(), ""));
                if type_name.is_empty() || wizard.trim().is_empty() {
                    problems.push(Diagnostic::error_at(
                        &var.location,
                        &var.name,
                        "expected <type>[/cache] = <wizard>[,<data>]",
                    ));
                    continue;
                }
                mappings.push(MappingSpec {
                    type_name: type_name.to_owned(),
                    cache: options.contains("cache"),
                    wizard: wizard.trim().to_owned(),
                    data: data.trim().to_owned(),
                    location: Some(var.location.clone()),
                });
            }
        }
        (out, problems)
    }

    /// The mappings of `type_name` in `module`'s section, if the section names it.
    pub fn mappings_for(&self, module: &str, type_name: &str) -> Option<Vec<MappingSpec>> {
        let section = self.modules.get(&module.to_ascii_lowercase())?;
        let found: Vec<MappingSpec> = section
            .iter()
            .filter(|m| m.type_name == type_name)
            .cloned()
            .collect();
        (!found.is_empty()).then_some(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_sections_in_file_order() {
        let text = "[general]\nupdate_or_create_on_update_miss = yes\n\n[res_pjsip]\nendpoint/cache = memory_cache,object_lifetime_stale=600\nendpoint = realtime,ps_endpoints\nauth = realtime,ps_auths\n[res_pjsip_endpoint_identifier_ip]\nidentify = realtime,ps_endpoint_id_ips\n";
        let config = obelus_conf::parse_str("sorcery.conf", text).unwrap();
        let (conf, problems) = SorceryConf::from_config(&config);
        assert!(problems.is_empty(), "{problems:?}");
        assert!(conf.update_or_create_on_update_miss);
        let eps = conf.mappings_for("res_pjsip", "endpoint").unwrap();
        assert_eq!(eps.len(), 2);
        assert!(
            eps[0].cache
                && eps[0].wizard == "memory_cache"
                && eps[0].data == "object_lifetime_stale=600"
        );
        assert!(!eps[1].cache && eps[1].data == "ps_endpoints");
        assert_eq!(eps[1].location.as_ref().unwrap().line, 6);
        assert!(
            conf.mappings_for("res_pjsip", "aor").is_none(),
            "not named: defaults stay"
        );
        assert!(
            conf.mappings_for("RES_PJSIP_ENDPOINT_IDENTIFIER_IP", "identify")
                .is_some()
        );
    }

    #[test]
    fn default_text_splits_at_first_comma() {
        let m = MappingSpec::default_for("endpoint", "config,pjsip.conf,criteria=type=endpoint");
        assert_eq!(
            (m.wizard.as_str(), m.data.as_str()),
            ("config", "pjsip.conf,criteria=type=endpoint")
        );
    }
}
