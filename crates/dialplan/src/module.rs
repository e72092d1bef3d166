//! The `pbx_config` module: loads `extensions.conf`, keeps the dialplan in
//! force, and provides `dialplan show` and `dialplan reload`. A reload builds
//! the new dialplan completely before swapping it in, so calls in progress
//! keep running on the one they started with.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use obelus_core::Core;
use obelus_core::cli::{CliCommand, CliError};
use obelus_core::diagnostic::{Diagnostic, Severity};
use obelus_core::module::{Module, ModuleError};
use obelus_core::settings::Settings;

use crate::model::Dialplan;
use crate::parse::{OwnedEntry, ParseError, ParseErrorKind};

const FILE: &str = "extensions.conf";

/// The dialplan in force, shared with the executor and AMI: the file's
/// contexts and the ones modules create (each module's set replaced whole
/// when it reloads, kept across `dialplan reload`).
#[derive(Default)]
pub struct DialplanService {
    current: RwLock<Arc<Dialplan>>,
    /// `extensions.conf` as last loaded (`None`: no file, or a service
    /// made with [`DialplanService::new`]).
    file: RwLock<Option<Arc<obelus_conf::Config>>>,
    /// Generated lines by the module that made them (its name stands as
    /// their file name in messages).
    generated: RwLock<BTreeMap<String, Vec<OwnedEntry>>>,
}

impl DialplanService {
    /// A service holding `dialplan` (for executors built without the
    /// module: tests, tools).
    pub fn new(dialplan: Dialplan) -> Self {
        Self {
            current: RwLock::new(Arc::new(dialplan)),
            ..Self::default()
        }
    }

    /// The dialplan in force now.
    pub fn get(&self) -> Arc<Dialplan> {
        Arc::clone(&self.current.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// Replaces the lines module `registrar` adds to the dialplan (as
    /// `res_parking` adds its lots' contexts) and rebuilds it; the lines'
    /// problems are returned.
    pub fn set_generated(&self, registrar: &str, lines: Vec<OwnedEntry>) -> Vec<ParseError> {
        self.generated
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(registrar.to_owned(), lines);
        let file = self.file.read().unwrap_or_else(|e| e.into_inner()).clone();
        let (dialplan, problems) = self.build(file.as_deref());
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(dialplan);
        problems
    }

    /// The dialplan of `file` and the generated lines.
    fn build(&self, file: Option<&obelus_conf::Config>) -> (Dialplan, Vec<ParseError>) {
        let generated = self.generated.read().unwrap_or_else(|e| e.into_inner());
        let extra = generated
            .iter()
            .flat_map(|(registrar, lines)| lines.iter().map(|l| l.entry(registrar)));
        Dialplan::from_config_and(file, extra)
    }

    fn set(&self, file: Option<obelus_conf::Config>) -> Vec<ParseError> {
        let file = file.map(Arc::new);
        let (dialplan, problems) = self.build(file.as_deref());
        *self.file.write().unwrap_or_else(|e| e.into_inner()) = file;
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(dialplan);
        problems
    }
}

/// `pbx_config`.
#[derive(Default)]
pub struct PbxConfigModule {
    service: Arc<DialplanService>,
}

fn diagnostic(e: &ParseError) -> Diagnostic {
    let location = obelus_conf::Location::new(Arc::clone(&e.location.file), e.location.line, 0);
    let d = Diagnostic::error_at(&location, "", e.kind.to_string());
    // Asterisk ignores unknown directives; every other problem drops a line.
    if matches!(e.kind, ParseErrorKind::UnknownDirective(_)) {
        Diagnostic {
            severity: Severity::Warning,
            ..d
        }
    } else {
        d
    }
}

/// The loaded configuration (`None`: no file, with a warning) or the
/// load's failure.
fn loaded(
    loaded: Result<obelus_conf::Config, obelus_conf::ConfErrors>,
) -> Result<(Option<obelus_conf::Config>, Vec<Diagnostic>), Vec<Diagnostic>> {
    match loaded {
        Ok(config) => Ok((Some(config), Vec::new())),
        Err(e) if e.is_not_found() => Ok((
            None,
            vec![Diagnostic::file(
                Severity::Warning,
                FILE,
                "not found; the dialplan is empty",
            )],
        )),
        Err(e) => Err(Diagnostic::from_conf_errors(&e)),
    }
}

/// Reads `extensions.conf` from disk and reports its problems.
fn read(settings: &Settings) -> Result<Vec<Diagnostic>, Vec<Diagnostic>> {
    let (config, mut problems) = loaded(settings.load_conf(FILE))?;
    if let Some(config) = config {
        let (_, errors) = Dialplan::from_config(&config);
        problems.extend(errors.iter().map(diagnostic));
    }
    Ok(problems)
}

impl PbxConfigModule {
    /// Loads the dialplan (from its static realtime table when
    /// `extconfig.conf` maps `extensions.conf`, else from the file); lines
    /// with problems are logged and skipped, as in Asterisk.
    async fn apply(&self, core: &Core) -> Result<(), ModuleError> {
        let loaded = match obelus_realtime::static_config::load(core, FILE).await {
            Ok(config) => Ok(config),
            Err(obelus_realtime::static_config::LoadError::File(e)) => Err(e),
            Err(e) => return Err(ModuleError::Failed(e.to_string())),
        };
        let (config, mut problems) = self::loaded(loaded).map_err(ModuleError::Config)?;
        problems.extend(self.service.set(config).iter().map(diagnostic));
        for problem in &problems {
            tracing::warn!("{problem}");
        }
        Ok(())
    }
}

#[async_trait]
impl Module for PbxConfigModule {
    fn name(&self) -> &'static str {
        "pbx_config.so"
    }

    fn description(&self) -> &'static str {
        "Text Extension Configuration"
    }

    fn check(&self, settings: &Settings) -> Vec<Diagnostic> {
        match read(settings) {
            Ok(problems) | Err(problems) => problems,
        }
    }

    async fn load(&self, core: &Arc<Core>) -> Result<(), ModuleError> {
        self.apply(core).await?;
        core.provide(Arc::clone(&self.service));
        let service = Arc::clone(&self.service);
        let show = CliCommand::new(
            "dialplan show",
            "Show dialplan",
            "Usage: dialplan show [[exten@]context]\n       Show dialplan",
            move |args| {
                let service = Arc::clone(&service);
                async move {
                    match args.args.as_slice() {
                        [] => Ok(service.get().show(None)),
                        [filter] => Ok(service.get().show(Some(filter))),
                        _ => Err(CliError::ShowUsage),
                    }
                }
            },
        )
        .with_args();
        let weak = Arc::downgrade(core);
        let reload = CliCommand::new(
            "dialplan reload",
            "Reload extensions and *only* extensions",
            "Usage: dialplan reload\n       Reload extensions.conf without reloading any other modules.\n       This command does not delete global variables.",
            move |_| {
                let weak = weak.clone();
                async move {
                    let core = weak
                        .upgrade()
                        .ok_or_else(|| CliError::Failed("shutting down".into()))?;
                    Ok(match core.modules.reload(&core, "pbx_config.so").await {
                        obelus_core::module::ReloadOutcome::Success => {
                            "Dialplan reloaded.\n".to_owned()
                        }
                        other => format!("Dialplan reload failed: {other:?}\n"),
                    })
                }
            },
        );
        for command in [show, reload] {
            core.cli
                .register(command)
                .map_err(|e| ModuleError::Failed(e.to_string()))?;
        }
        Ok(())
    }

    async fn reload(&self, core: &Arc<Core>) -> Result<(), ModuleError> {
        self.apply(core).await
    }
}
