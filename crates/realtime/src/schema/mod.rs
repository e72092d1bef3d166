//! Asterisk's realtime schema and the migrations that create it.

pub mod asterisk;
pub mod ddl;
pub mod migrate;
pub mod model;
pub mod static_config;

pub use asterisk::{ALEMBIC_HEAD, ENUMS, TABLES};
