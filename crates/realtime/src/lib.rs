//! Obelus realtime: Asterisk's Realtime Architecture.
//!
//! - [`extconfig`]: which family (`ps_endpoints`) or file (`queues.conf`)
//!   lives in which database, with failover priorities.
//! - [`config`]: the databases (`res_config_sqlite3.conf`, `res_pgsql.conf`,
//!   `res_config_mysql.conf`, `res_odbc.conf`).
//! - [`driver`]: the realtime operations (load, multientry, update, store,
//!   destroy, static load) over SQLite, PostgreSQL, MySQL/MariaDB and ODBC,
//!   always with bound parameters, with `^3B` escaping where Asterisk applies it.
//! - [`odbc`]: res_odbc's connection classes over unixODBC, the dialect taken
//!   from the DBMS behind the DSN, and `odbc show`.
//! - [`registry`]: [`Realtime`], the families with failover, and
//!   [`RealtimeService`], the reloadable handle modules share.
//! - [`schema`]: Asterisk's realtime tables and `obelus db upgrade`.
//! - [`static_config`]: `.conf` files kept in a table, loaded as files are.
//!
//! Layer: "data", below sorcery; nothing above sorcery knows about it.

pub mod cli;
pub mod config;
pub mod criteria;
pub mod driver;
pub mod error;
pub mod escape;
pub mod extconfig;
pub mod module;
pub mod odbc;
pub mod registry;
pub mod row;
pub mod schema;
pub mod sql;
pub mod static_config;

pub use criteria::{Criterion, Op};
pub use error::RealtimeError;
pub use module::RealtimeModule;
pub use registry::{Realtime, RealtimeService};
pub use row::{Row, StaticRow};
