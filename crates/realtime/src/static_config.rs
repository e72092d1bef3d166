//! Static realtime as the configuration loaders see it: a `.conf` file kept
//! in a table (`extensions.conf => sqlite3,obelus,ast_config`) is turned into
//! the same [`Config`] the file would give, so every module reads it unchanged.

use std::sync::Arc;

use obelus_conf::{Category, ConfErrors, Config, Location, Variable};
use obelus_core::Core;

use crate::RealtimeService;
use crate::row::StaticRow;

/// Builds a configuration from rows in Asterisk's order: a new category
/// starts whenever the category name or its `cat_metric` changes.
pub fn config_from_rows(file: &str, rows: &[StaticRow]) -> Config {
    let source: Arc<str> = format!("{file} (realtime)").into();
    let mut config = Config::new();
    let mut current: Option<(String, i64, Category)> = None;
    for (i, row) in rows.iter().enumerate() {
        let location = Location::new(
            Arc::clone(&source),
            u32::try_from(i + 1).unwrap_or(u32::MAX),
            0,
        );
        let same = current
            .as_ref()
            .is_some_and(|(name, metric, _)| *name == row.category && *metric == row.cat_metric);
        if !same {
            if let Some((_, _, category)) = current.take() {
                config.push(category);
            }
            current = Some((
                row.category.clone(),
                row.cat_metric,
                Category::new(row.category.clone(), location.clone()),
            ));
        }
        if let Some((_, _, category)) = current.as_mut() {
            category.push(Variable {
                name: row.var_name.clone(),
                value: row.var_val.clone(),
                object: row.var_name.eq_ignore_ascii_case("exten")
                    || row.var_name.eq_ignore_ascii_case("same"),
                inherited: false,
                location,
            });
        }
    }
    if let Some((_, _, category)) = current {
        config.push(category);
    }
    config
}

/// Loads a configuration file the way Asterisk does: from its static realtime
/// table when `extconfig.conf` maps the file (or `global`), else from disk.
pub async fn load(core: &Core, file: &str) -> Result<Config, LoadError> {
    if let Some(realtime) = core.service::<RealtimeService>().and_then(|s| s.get()) {
        match realtime.load_static(file).await {
            Ok(Some(rows)) => return Ok(config_from_rows(file, &rows)),
            Ok(None) => {}
            Err(e) => return Err(LoadError::Realtime(e.to_string())),
        }
    }
    core.settings.load_conf(file).map_err(LoadError::File)
}

/// Why a configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file (or one it includes) is missing or has syntax errors.
    #[error("{0}")]
    File(ConfErrors),
    /// The file is mapped to a database that could not be read.
    #[error("static realtime: {0}")]
    Realtime(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(metric: i64, category: &str, name: &str, value: &str) -> StaticRow {
        StaticRow {
            cat_metric: metric,
            category: category.into(),
            var_name: name.into(),
            var_val: value.into(),
        }
    }

    #[test]
    fn categories_split_on_name_or_metric() {
        let config = config_from_rows(
            "extensions.conf",
            &[
                row(0, "testing", "exten", "_1XX,1,NoOp()"),
                row(0, "testing", "same", "n,Dial(PJSIP/${EXTEN})"),
                row(1, "testing", "exten", "600,1,Answer()"),
                row(1, "other", "x", "y"),
            ],
        );
        let names: Vec<&str> = config.categories().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["testing", "testing", "other"]);
        let first = config.categories().next().unwrap();
        assert_eq!(first.get("same"), Some("n,Dial(PJSIP/${EXTEN})"));
        assert!(first.variables()[0].object);
    }
}
