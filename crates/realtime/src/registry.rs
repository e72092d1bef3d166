//! [`Realtime`]: families mapped to databases, with failover by priority.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use obelus_core::diagnostic::Diagnostic;
use obelus_core::settings::Settings;

use crate::config::{ConnectionSpec, Target, read_connections};
use crate::criteria::Criterion;
use crate::driver::{ConnectionStatus, Driver, SqlDriver};
use crate::error::RealtimeError;
use crate::extconfig::{ExtConfig, Mapping};
#[cfg(feature = "odbc")]
use crate::odbc::OdbcStatus;
use crate::row::{Row, StaticRow};
#[cfg(feature = "odbc")]
use crate::sql::Pool;

/// The Realtime Architecture as configured now: `extconfig.conf` mappings and
/// a driver per database connection.
///
/// Failover: each operation walks a family's priorities in order and moves on
/// only when a database is *unavailable*. A database that answers "no such
/// row" is believed: Obelus does not serve a row missing from the primary out
/// of a stale backup (a known Asterisk pitfall).
pub struct Realtime {
    extconfig: ExtConfig,
    drivers: BTreeMap<String, Arc<SqlDriver>>,
}

impl Realtime {
    /// Reads `extconfig.conf` and the drivers' files without connecting
    /// (for `obelus config check`): the mappings, the connections, the problems.
    pub fn read_config(settings: &Settings) -> (ExtConfig, Vec<ConnectionSpec>, Vec<Diagnostic>) {
        let (extconfig, mut problems) = match settings.load_conf("extconfig.conf") {
            Ok(config) => ExtConfig::from_config(&config),
            Err(e) if e.is_not_found() => (ExtConfig::default(), Vec::new()),
            Err(e) => (ExtConfig::default(), Diagnostic::from_conf_errors(&e)),
        };
        let (specs, more) = read_connections(settings);
        problems.extend(more);
        for mapping in extconfig.mappings() {
            if !specs.iter().any(|s| s.name == mapping.connection()) {
                problems.push(Diagnostic::error_at(
                    &mapping.location,
                    &mapping.key,
                    format!(
                        "database '{}' is not defined in {}",
                        mapping.database,
                        mapping.driver.config_file()
                    ),
                ));
            }
        }
        (extconfig, specs, problems)
    }

    /// Reads the configuration and prepares a pool per connection; pools
    /// connect lazily, so a database that is down does not delay the start.
    /// ODBC classes with `pre-connect = yes` start connecting in the
    /// background. Must run inside the tokio runtime.
    pub fn configure(settings: &Settings) -> (Self, Vec<Diagnostic>) {
        let (extconfig, specs, mut problems) = Self::read_config(settings);
        let mut drivers = BTreeMap::new();
        for spec in specs {
            let pre_connect = matches!(&spec.target, Target::Odbc(odbc) if odbc.pre_connect);
            match SqlDriver::new(spec) {
                Ok(driver) => {
                    let driver = Arc::new(driver);
                    if pre_connect && let Ok(runtime) = tokio::runtime::Handle::try_current() {
                        let driver = Arc::clone(&driver);
                        runtime.spawn(async move { driver.connect().await });
                    }
                    drivers.insert(driver.spec().name.clone(), driver);
                }
                Err(e) => problems.push(Diagnostic::file(
                    obelus_core::diagnostic::Severity::Error,
                    "realtime",
                    e.to_string(),
                )),
            }
        }
        (Self { extconfig, drivers }, problems)
    }

    /// Whether a family (or file) is mapped to a database.
    pub fn is_mapped(&self, family: &str) -> bool {
        !self.extconfig.chain(family).is_empty()
    }

    /// The mappings, for `core show config mappings`.
    pub fn extconfig(&self) -> &ExtConfig {
        &self.extconfig
    }

    /// Every connection, by name.
    pub fn drivers(&self) -> impl Iterator<Item = &Arc<SqlDriver>> {
        self.drivers.values()
    }

    /// Every connection's health.
    pub fn status(&self) -> Vec<ConnectionStatus> {
        self.drivers.values().map(|d| d.status()).collect()
    }

    /// The ODBC classes of `res_odbc.conf`, for `odbc show`, in name order.
    #[cfg(feature = "odbc")]
    pub fn odbc_status(&self) -> Vec<OdbcStatus> {
        self.drivers
            .values()
            .filter_map(|d| match d.pool() {
                Pool::Odbc(pool) => Some(pool.status()),
                _ => None,
            })
            .collect()
    }

    /// Runs `op` on each priority of the family until one is available.
    async fn failover<'a, T, F, Fut>(&'a self, family: &str, op: F) -> Result<T, RealtimeError>
    where
        F: Fn(&'a SqlDriver, &'a Mapping) -> Fut,
        Fut: std::future::Future<Output = Result<T, RealtimeError>>,
    {
        let chain = self.extconfig.chain(family);
        if chain.is_empty() {
            return Err(RealtimeError::NotMapped(family.to_owned()));
        }
        let mut last = None;
        for mapping in chain {
            let Some(driver) = self.drivers.get(&mapping.connection()) else {
                continue;
            };
            match op(driver, mapping).await {
                Err(e @ RealtimeError::Unavailable { .. }) => last = Some(e),
                other => return other,
            }
        }
        Err(last.unwrap_or_else(|| RealtimeError::NotMapped(family.to_owned())))
    }

    /// `ast_load_realtime`: one row, with Asterisk's post-processing (empty
    /// values dropped, a single space meaning empty).
    pub async fn load(
        &self,
        family: &str,
        criteria: &[Criterion],
    ) -> Result<Option<Row>, RealtimeError> {
        let row = self
            .failover(family, |d, m| d.load(&m.table, criteria))
            .await?;
        Ok(row.map(Row::single_row_semantics))
    }

    /// `ast_load_realtime_all`: one row, empty values kept.
    pub async fn load_all(
        &self,
        family: &str,
        criteria: &[Criterion],
    ) -> Result<Option<Row>, RealtimeError> {
        self.failover(family, |d, m| d.load(&m.table, criteria))
            .await
    }

    /// `ast_load_realtime_multientry`: every matching row, ordered by the first
    /// criterion's column.
    pub async fn load_multi(
        &self,
        family: &str,
        criteria: &[Criterion],
    ) -> Result<Vec<Row>, RealtimeError> {
        self.failover(family, |d, m| d.load_multi(&m.table, criteria))
            .await
    }

    /// `ast_update_realtime` / `ast_update2_realtime`: rows changed.
    pub async fn update(
        &self,
        family: &str,
        criteria: &[Criterion],
        fields: &[(String, String)],
    ) -> Result<u64, RealtimeError> {
        self.failover(family, |d, m| d.update(&m.table, criteria, fields))
            .await
    }

    /// `ast_store_realtime`: rows inserted.
    pub async fn store(
        &self,
        family: &str,
        fields: &[(String, String)],
    ) -> Result<u64, RealtimeError> {
        self.failover(family, |d, m| d.store(&m.table, fields))
            .await
    }

    /// `ast_destroy_realtime`: rows deleted.
    pub async fn destroy(
        &self,
        family: &str,
        criteria: &[Criterion],
    ) -> Result<u64, RealtimeError> {
        self.failover(family, |d, m| d.destroy(&m.table, criteria))
            .await
    }

    /// Static realtime: the lines of `file` from its mapped table, if `file`
    /// (or `global`) is mapped.
    pub async fn load_static(&self, file: &str) -> Result<Option<Vec<StaticRow>>, RealtimeError> {
        let key = if self.is_mapped(file) {
            file
        } else if self.is_mapped("global") {
            "global"
        } else {
            return Ok(None);
        };
        self.failover(key, |d, m| d.load_static(&m.table, file))
            .await
            .map(Some)
    }
}

/// The current [`Realtime`], swapped whole on reload: operations in flight
/// finish on the configuration they started with.
#[derive(Default)]
pub struct RealtimeService {
    current: RwLock<Option<Arc<Realtime>>>,
}

impl RealtimeService {
    /// The configuration in force (`None` before the module loaded).
    pub fn get(&self) -> Option<Arc<Realtime>> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Puts a new configuration in force.
    pub fn set(&self, realtime: Realtime) {
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(realtime));
    }
}
