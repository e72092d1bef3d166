//! The console command registry (Asterisk's `ast_cli_register`).
//!
//! Every module registers its commands here with their words, a summary and a
//! usage text; the foreground console, remote consoles and AMI's `Command`
//! action execute lines through it. See [`CliRegistry`].

mod command;
mod registry;
mod words;

pub use command::{ArgCompleter, CliArgs, CliCommand, CliError, CliFuture, CliHandler, CliResult};
pub use registry::{CliRegistry, RegisterError};
pub use words::split_words;
