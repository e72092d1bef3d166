//! The daemon: start modules, serve consoles, wait for the stop.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicU8;

use obelus_core::Core;
use obelus_core::diagnostic::Diagnostic;
use obelus_core::module::Module;
use obelus_core::settings::Settings;
use obelus_core::shutdown::ShutdownMode;

use crate::check::read_modules_conf;
use crate::console::{self, Backend, Printer};
use crate::control::{client, server};
use crate::logger::{ConsoleSink, Logger, LoggerModule};
use crate::privileges;

/// Where the console output of the daemon goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsoleMode {
    /// `--detached` (background): nowhere, logs go to files only.
    Off,
    /// `-f`: log lines on standard error.
    Stderr,
    /// `-c`: an interactive console on this terminal.
    Interactive,
}

/// Every module the binary has, in load order. The one place that wires
/// modules into the daemon.
pub fn modules(logger: &Arc<Logger>) -> Vec<Arc<dyn Module>> {
    vec![
        Arc::new(LoggerModule::new(Arc::clone(logger))),
        Arc::new(obelus_realtime::RealtimeModule::default()),
        Arc::new(obelus_sorcery::AstdbModule),
        Arc::new(obelus_dialplan::module::PbxConfigModule::default()),
        Arc::new(obelus_apps::PbxModule),
        Arc::new(obelus_apps::moh::MusicOnHoldModule),
        Arc::new(obelus_apps::parking::ParkingModule),
        Arc::new(obelus_core::rtp::RtpModule::default()),
        Arc::new(obelus_core::features::FeaturesModule),
        Arc::new(obelus_http::HttpModule::default()),
        Arc::new(obelus_ari::AriModule::default()),
        Arc::new(obelus_pjsip::PjsipModule::default()),
        Arc::new(obelus_pjsip::OutboundRegistrationModule),
        Arc::new(obelus_ami::ManagerModule::default()),
    ]
}

/// Runs the daemon until it is stopped; returns the process exit code.
pub fn run(
    settings: Settings,
    problems: Vec<Diagnostic>,
    mode: ConsoleMode,
    verbose_flags: u8,
) -> i32 {
    if problems.iter().any(Diagnostic::is_error) {
        for problem in &problems {
            eprintln!("{problem}");
        }
        eprintln!(
            "Obelus cannot start: fix {} (see 'obelus config check').",
            settings.master_file.display()
        );
        return 1;
    }
    if let Err(e) = prepare_directories(&settings) {
        eprintln!("{e}");
        return 1;
    }
    let socket = settings.control_socket_path();
    if let Ok((_, greeting)) = client::connect(&socket) {
        eprintln!(
            "Obelus is already running (pid {}) with control socket {}. Attach with 'obelus -r'.",
            greeting.pid,
            socket.display()
        );
        return 1;
    }
    let listener = match bind_control(&settings) {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("{e}");
            return 1;
        }
    };
    if let Err(e) = privileges::drop_to(
        settings.options.run_user.as_deref(),
        settings.options.run_group.as_deref(),
        &[
            &settings.dirs.run,
            &settings.dirs.log,
            &settings.dirs.varlib,
            &settings.dirs.spool,
        ],
    ) {
        eprintln!("Obelus cannot switch to the run user: {e}");
        return 1;
    }

    let verbosity = Arc::new(AtomicU8::new(verbose_flags.max(settings.options.verbose)));
    let sink = match mode {
        ConsoleMode::Off => ConsoleSink::Off,
        ConsoleMode::Stderr | ConsoleMode::Interactive => ConsoleSink::Stderr,
    };
    let logger = Logger::install(
        Arc::clone(&verbosity),
        settings.options.debug,
        settings.options.timestamp,
        sink,
    );
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("Obelus cannot start its runtime: {e}");
            return 1;
        }
    };
    let code = runtime.block_on(serve(
        settings,
        verbosity,
        Arc::clone(&logger),
        listener,
        mode,
    ));
    logger.flush();
    // Console threads may still sit in a blocking read; do not wait for them.
    runtime.shutdown_background();
    code
}

fn prepare_directories(settings: &Settings) -> Result<(), String> {
    for dir in [
        &settings.dirs.run,
        &settings.dirs.log,
        &settings.dirs.varlib,
        &settings.dirs.db,
        &settings.dirs.spool,
    ] {
        std::fs::create_dir_all(dir).map_err(|e| {
            format!(
                "Obelus cannot create {}: {e}. Set the directory in the [directories] section of {} or run as a user that may create it.",
                dir.display(),
                settings.master_file.display()
            )
        })?;
    }
    Ok(())
}

/// Binds the control socket before the runtime starts (a tokio listener needs
/// a runtime, so this only prepares the std listener).
fn bind_control(settings: &Settings) -> Result<std::os::unix::net::UnixListener, String> {
    let path = settings.control_socket_path();
    if path.exists() {
        std::fs::remove_file(&path).map_err(|e| {
            format!(
                "cannot remove the stale control socket {}: {e}",
                path.display()
            )
        })?;
    }
    let listener = std::os::unix::net::UnixListener::bind(&path)
        .map_err(|e| format!("cannot create the control socket {}: {e}", path.display()))?;
    if let Some(mode) = settings.control.permissions {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode))
            .map_err(|e| format!("cannot set the mode of {}: {e}", path.display()))?;
    }
    listener
        .set_nonblocking(true)
        .map_err(|e| format!("control socket: {e}"))?;
    Ok(listener)
}

async fn serve(
    settings: Settings,
    verbosity: Arc<AtomicU8>,
    logger: Arc<Logger>,
    listener: std::os::unix::net::UnixListener,
    mode: ConsoleMode,
) -> i32 {
    let socket = settings.control_socket_path();
    let pid_file = settings.pid_file();
    let core = Arc::new(Core::new(settings, verbosity));
    if let Err(e) = obelus_core::builtin::register(&core) {
        tracing::error!("cannot register the core console commands: {e}");
        return 1;
    }
    for module in modules(&logger) {
        core.modules.register(module);
    }
    let (modules_conf, problems) = read_modules_conf(&core.settings);
    for problem in &problems {
        if problem.is_error() {
            tracing::error!("{problem}");
        } else {
            tracing::warn!("{problem}");
        }
    }
    if problems.iter().any(Diagnostic::is_error) {
        cleanup(&socket, &pid_file);
        return 1;
    }
    if let Err(e) = core.modules.load_all(&core, &modules_conf).await {
        tracing::error!("{e}");
        cleanup(&socket, &pid_file);
        return 1;
    }
    let listener = match tokio::net::UnixListener::from_std(listener) {
        Ok(listener) => listener,
        Err(e) => {
            tracing::error!("control socket {}: {e}", socket.display());
            cleanup(&socket, &pid_file);
            return 1;
        }
    };
    // The pid file first: a console that gets an answer may rely on it.
    if let Err(e) = std::fs::write(&pid_file, format!("{}\n", std::process::id())) {
        tracing::warn!("cannot write the pid file {}: {e}", pid_file.display());
    }
    tokio::spawn(server::serve(
        listener,
        Arc::clone(&core),
        Arc::clone(&logger),
        socket.clone(),
    ));
    spawn_signal_handlers(&core);
    tracing::info!(verbose = 0, "Obelus Ready.");
    core.events
        .publish(obelus_core::events::Event::FullyBooted {
            uptime: 0,
            last_reload: 0,
        });

    if mode == ConsoleMode::Interactive {
        // Start-up lines first, then the prompt.
        logger.flush();
        start_local_console(&core, &logger);
    }
    let stop = core.shutdown.wait().await;
    tracing::info!(verbose = 0, "Obelus is stopping ({}).", describe(stop));
    core.events.publish(obelus_core::events::Event::Shutdown {
        clean: stop != ShutdownMode::Now || core.shutdown.active_calls() == 0,
    });
    // Trunks remove their contacts from the servers they registered to.
    if let Some(registrations) =
        core.service::<obelus_pjsip::outbound_registration::OutboundRegistrations>()
    {
        registrations
            .stop_all(std::time::Duration::from_secs(3))
            .await;
    }
    // Let interfaces deliver the Shutdown event before the sockets close,
    // and the astdb write its last batch.
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    if let Some(astdb) = core.service::<obelus_sorcery::astdb::Astdb>() {
        astdb.flush().await;
    }
    cleanup(&socket, &pid_file);
    0
}

fn describe(mode: ShutdownMode) -> &'static str {
    match mode {
        ShutdownMode::Now => "now",
        ShutdownMode::Gracefully => "gracefully, no calls left",
        ShutdownMode::WhenConvenient => "when convenient, no calls left",
    }
}

fn cleanup(socket: &Path, pid_file: &Path) {
    let _ = std::fs::remove_file(socket);
    let _ = std::fs::remove_file(pid_file);
}

/// SIGTERM and SIGINT stop at once; SIGHUP reloads every module (as in Asterisk).
fn spawn_signal_handlers(core: &Arc<Core>) {
    use tokio::signal::unix::{SignalKind, signal};
    let core = Arc::clone(core);
    tokio::spawn(async move {
        let (Ok(mut term), Ok(mut int), Ok(mut hup)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
            signal(SignalKind::hangup()),
        ) else {
            tracing::error!("cannot install signal handlers; stop Obelus with 'core stop now'");
            return;
        };
        loop {
            tokio::select! {
                _ = term.recv() => core.shutdown.request(ShutdownMode::Now),
                _ = int.recv() => core.shutdown.request(ShutdownMode::Now),
                _ = hup.recv() => {
                    tracing::info!("SIGHUP received: reloading configuration");
                    core.modules.reload_all(&core).await;
                    core.mark_reloaded();
                }
            }
        }
    });
}

/// The console of `obelus -c`, on a blocking thread; leaving it stops the daemon.
fn start_local_console(core: &Arc<Core>, logger: &Arc<Logger>) {
    let printer = Arc::new(Printer::default());
    let sink_printer = Arc::clone(&printer);
    logger.set_console(ConsoleSink::Printer(Box::new(move |line| {
        sink_printer.print(&line)
    })));
    let backend = LocalBackend {
        core: Arc::clone(core),
        runtime: tokio::runtime::Handle::current(),
    };
    let core = Arc::clone(core);
    tokio::task::spawn_blocking(move || {
        let prompt = format!("{}*CLI> ", core.settings.options.system_name);
        console::run(&backend, prompt.trim_start(), &printer);
        core.shutdown.request(ShutdownMode::Now);
    });
}

struct LocalBackend {
    core: Arc<Core>,
    runtime: tokio::runtime::Handle,
}

impl Backend for LocalBackend {
    fn execute(&self, line: &str) -> Option<String> {
        Some(self.runtime.block_on(self.core.cli.execute(line)))
    }

    fn complete(&self, line: &str) -> Vec<String> {
        self.core.cli.complete(line)
    }
}
