//! ODBC: Asterisk's res_odbc (connection classes from `res_odbc.conf`) under
//! the realtime driver, as res_config_odbc uses it.
//!
//! A class connects through unixODBC to the DSN it names, learns which DBMS
//! answers (SQLGetInfo `SQL_DBMS_NAME`) and from then on gets that dialect's
//! SQL from the shared builders, with `?` placeholders, always as prepared
//! statements with bound parameters. ODBC calls block, so they run on
//! tokio's blocking threads, at most `max_connections` at a time.

#[cfg(feature = "odbc")]
mod conn;
#[cfg(feature = "odbc")]
mod error;
#[cfg(feature = "odbc")]
mod pool;
pub mod settings;
#[cfg(feature = "odbc")]
mod show;

#[cfg(feature = "odbc")]
pub use error::OdbcError;
#[cfg(feature = "odbc")]
pub use pool::{OdbcPool, OdbcStatus, QueryLog};
pub use settings::{CacheType, OdbcSettings};
#[cfg(feature = "odbc")]
pub use show::render;

/// Why an `odbc` mapping cannot work in a build without the `odbc` feature.
pub const NOT_BUILT: &str = "this Obelus was built without ODBC; install unixODBC's development files \
     (Debian: apt-get install unixodbc-dev) and build with `cargo build --release -p obelus --features odbc`";
