//! Obelus sorcery: the data access layer (Asterisk's `main/sorcery.c` and
//! `res_sorcery_*`).
//!
//! Modules ask sorcery for typed objects (`endpoint 101`) and never learn
//! whether they came from `pjsip.conf`, a `ps_endpoints` row, astdb or a
//! cache: `sorcery.conf` decides, exactly as in Asterisk.
//!
//! - [`object`]: [`ObjectType`] (options with [`FieldKind`]s and defaults) and
//!   [`Object`] (an id plus typed values).
//! - [`wizard`]: the [`Wizard`] trait and its five implementations
//!   (`config`, `realtime`, `memory`, `memory_cache`, `astdb`).
//! - [`conf`], `sorcery.conf`.
//! - [`Sorcery`]: types with their wizards in order, retrieval (by id,
//!   fields, regex, prefix, all), create/update/delete, observers
//!   ([`SorceryEvent`]); [`SorceryService`] is the reloadable handle.
//! - [`astdb`]: Asterisk's persistent key/value store (`astdb.sqlite3`),
//!   opened by [`AstdbModule`] with the `database` console commands.
//! - [`cli`]: `sorcery memory cache show|dump|expire|stale|populate`.
//!
//! Layer: "data", above `obelus-conf` and `obelus-realtime`, below every
//! module that owns object types (`obelus-pjsip`).

pub mod astdb;
mod astdb_module;
pub mod cli;
pub mod clock;
pub mod conf;
pub mod error;
pub mod field;
pub mod object;
mod sorcery;
pub mod wizard;

pub use astdb_module::AstdbModule;
pub use cli::cli_commands;
pub use error::{ObjectError, Origin, SorceryError};
pub use field::{FieldKind, Value};
pub use object::{Object, ObjectType, ObjectTypeBuilder, TypeError, Unknown};
pub use sorcery::{
    EVENT_QUEUE, EventKind, Mapping, Registration, Sorcery, SorceryBuilder, SorceryEvent,
    SorceryService,
};
pub use wizard::memory_cache::MemoryCache;
pub use wizard::{Query, Wizard};
