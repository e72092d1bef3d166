//! The control socket remote consoles attach to (`obelus -r`, `obelus -rx`).

pub mod client;
pub mod protocol;
pub mod server;
