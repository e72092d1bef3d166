//! `obelus`: the Obelus daemon, its consoles and its maintenance commands.
//!
//! One binary, as Asterisk's: `obelus` starts the daemon in the background,
//! `obelus -f` / `-c` in the foreground (with a console for `-c`), `obelus -r`
//! attaches a console to a running daemon and `obelus -rx "command"` runs one
//! command there. `obelus config check` validates the configuration.

mod background;
mod check;
mod console;
mod control;
mod daemon;
mod db;
mod location;
mod logger;
mod privileges;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicU8;

use clap::{Parser, Subcommand};
use obelus_core::settings::Settings;

use control::client;
use daemon::ConsoleMode;
use logger::{ConsoleSink, Logger};

const AFTER_HELP: &str = "\
Examples:
  obelus                          start the daemon in the background
  obelus -c -vvv                  run in the foreground with an interactive console
  obelus -f                       run in the foreground, logging to the terminal (for systemd)
  obelus -r                       attach a console to the running daemon
  obelus -rx \"core show version\"  run one console command and print its output
  obelus -C /etc/asterisk         use an existing Asterisk configuration directory
  obelus config check             report every configuration problem (file:line) and exit
  obelus db upgrade               create/upgrade the realtime tables in the configured databases

Configuration is read from -C, else /etc/obelus, else the samples bundled with the
source tree. asterisk.conf [directories] says where the control socket, logs and
databases live, exactly as for Asterisk.";

/// Obelus: a communications server in the mould of Asterisk.
#[derive(Debug, Parser)]
#[command(name = "obelus", version, about, after_help = AFTER_HELP)]
struct Cli {
    /// Run in the foreground (do not detach); log to the terminal.
    #[arg(short = 'f')]
    foreground: bool,
    /// Run in the foreground with an interactive console (implies -f).
    #[arg(short = 'c')]
    console: bool,
    /// Attach a console to the running daemon.
    #[arg(short = 'r')]
    remote: bool,
    /// Run one console command on the running daemon and print its output (implies -r).
    #[arg(short = 'x', value_name = "COMMAND")]
    execute: Option<String>,
    /// Configuration directory, or the path of its asterisk.conf.
    #[arg(short = 'C', value_name = "PATH", global = true)]
    config: Option<PathBuf>,
    /// More verbose console output; repeat for more (-vvv).
    #[arg(short = 'v', action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    /// Internal: the detached child of a background start.
    #[arg(long, hide = true)]
    detached: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Work with the configuration files.
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
    /// Create, upgrade or inspect the realtime schema (ps_endpoints, ps_auths,
    /// ps_aors, ps_contacts, extensions, ...) in the databases extconfig.conf uses.
    Db {
        #[command(subcommand)]
        action: DbAction,
        /// Only this connection (`sqlite3/obelus`, `pgsql/general`, or the
        /// database field of extconfig.conf).
        #[arg(long, value_name = "NAME", global = true)]
        db: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum DbAction {
    /// Create missing tables and columns; record the version (idempotent).
    Upgrade,
    /// Show the schema version of each database.
    Current,
    /// List the migrations applied to each database.
    History,
}

#[derive(Debug, Subcommand)]
enum ConfigAction {
    /// Read every configuration file of every enabled module and report every
    /// problem as file:line; exit 1 if any is an error.
    Check,
}

/// jemalloc instead of glibc's malloc: a call allocates in many small
/// pieces on several threads, and glibc's allocator (with its arena locks
/// and consolidation) was about a quarter of the daemon's CPU at 1,000
/// calls/s (`docs/benchmarks.md`). Its options are built in
/// (`JEMALLOC_SYS_WITH_MALLOC_CONF` in `.cargo/config.toml`);
/// `_RJEM_MALLOC_CONF` overrides them at run time.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() {
    let cli = Cli::parse();
    std::process::exit(run(cli));
}

fn run(cli: Cli) -> i32 {
    let master_file = match location::master_file(cli.config.as_deref()) {
        Ok(path) => path,
        Err(e) => {
            eprintln!("obelus: {e}");
            return 1;
        }
    };
    let (settings, problems) = Settings::load(&master_file);

    if let Some(Command::Config {
        action: ConfigAction::Check,
    }) = cli.command
    {
        let logger = Logger::install(Arc::new(AtomicU8::new(0)), 0, false, ConsoleSink::Off);
        return check::run(&settings, problems, &daemon::modules(&logger));
    }
    if let Some(Command::Db { action, db }) = &cli.command {
        let action = match action {
            DbAction::Upgrade => db::Action::Upgrade,
            DbAction::Current => db::Action::Current,
            DbAction::History => db::Action::History,
        };
        return db::run(&settings, action, db.as_deref());
    }
    let socket = settings.control_socket_path();
    if let Some(command) = cli.execute {
        return match client::execute_once(&socket, &command) {
            Ok(output) => {
                print!("{output}");
                0
            }
            Err(e) => {
                eprintln!("{e}");
                1
            }
        };
    }
    if cli.remote {
        return remote_console(&socket);
    }
    let mode = if cli.console {
        ConsoleMode::Interactive
    } else if cli.foreground {
        ConsoleMode::Stderr
    } else if cli.detached {
        ConsoleMode::Off
    } else {
        return background::start(&master_file, cli.verbose, &socket);
    };
    daemon::run(settings, problems, mode, cli.verbose)
}

fn remote_console(socket: &std::path::Path) -> i32 {
    let printer = Arc::new(console::Printer::default());
    let (backend, greeting) = match client::RemoteBackend::start(socket, Arc::clone(&printer)) {
        Ok(started) => started,
        Err(e) => {
            eprintln!("{e}");
            return 1;
        }
    };
    println!(
        "Connected to Obelus {} currently running on {} (pid = {})",
        greeting.version, greeting.hostname, greeting.pid
    );
    match console::run(&backend, &format!("{}*CLI> ", greeting.hostname), &printer) {
        console::Ended::Quit => 0,
        console::Ended::Disconnected => {
            eprintln!("Disconnected from Obelus server");
            1
        }
    }
}
