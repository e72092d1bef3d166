//! Call features (Asterisk's `features.conf`): DTMF codes a bridged party
//! keys to transfer the call or hang up, and the timeouts around them.
//!
//! - [`FeaturesConfig`] reads `features.conf` (`[general]`, `[featuremap]`).
//! - [`Features`] is the service bridges read the current configuration
//!   from; `module reload features` swaps it without touching live calls
//!   (a bridge takes the configuration once, when it starts).
//! - [`Matcher`] is the sans-IO digit matcher a bridge runs per side.
//! - [`Permissions`] say which features one side of a bridge may use
//!   (Dial's `t`/`T`, `h`/`H`, `k`/`K`).
//! - [`FeaturesModule`] is the `features` module with `features show`.

mod matcher;

use std::sync::{Arc, RwLock};
use std::time::Duration;

use async_trait::async_trait;

pub use matcher::{Matcher, Outcome};

use crate::Core;
use crate::cli::CliCommand;
use crate::diagnostic::Diagnostic;
use crate::module::{Module, ModuleError};
use crate::settings::Settings;

const FILE: &str = "features.conf";

/// A built-in feature a DTMF code can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Feature {
    /// `blindxfer`: the other party is sent to an extension the presser
    /// keys next.
    BlindTransfer,
    /// `disconnect`: the presser ends the bridge.
    Disconnect,
    /// `atxfer`: the presser keys an extension and talks to it while the
    /// other party waits on hold, then hands the other party over.
    AttendedTransfer,
    /// `parkcall`: the other party is parked in a parking lot.
    ParkCall,
    /// `atxferabort` (during an attended transfer): back to the
    /// transferee, the target is hung up.
    AtxferAbort,
    /// `atxfercomplete`: the transferee and the target are joined.
    AtxferComplete,
    /// `atxferthreeway`: all three talk together.
    AtxferThreeway,
    /// `atxferswap`: the transferer talks to the party on hold, and holds
    /// the other.
    AtxferSwap,
}

/// Which features one side of a bridge may use.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Permissions {
    /// Dial `t` (callee) / `T` (caller): blind transfer.
    pub transfer: bool,
    /// Dial `h` (callee) / `H` (caller): the disconnect code.
    pub disconnect: bool,
    /// Dial `k` (callee) / `K` (caller): the parkcall code.
    pub park: bool,
}

impl Permissions {
    /// Whether no feature is allowed (the side's digits then pass
    /// untouched, straight through the media relay).
    pub fn is_none(&self) -> bool {
        !self.transfer && !self.disconnect && !self.park
    }
}

/// `features.conf` as Obelus reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeaturesConfig {
    /// `featuredigittimeout` (ms): how long a partial code is held.
    pub feature_digit_timeout: Duration,
    /// `transferdigittimeout` (seconds in the file): the wait for each
    /// digit of a blind transfer's extension.
    pub transfer_digit_timeout: Duration,
    /// `atxfernoanswertimeout` (seconds in the file): how long the target
    /// of an attended transfer rings.
    pub atxfer_noanswer_timeout: Duration,
    /// `atxferabort`: during an attended transfer, back to the transferee.
    pub atxfer_abort: String,
    /// `atxfercomplete`: during an attended transfer, join the parties.
    pub atxfer_complete: String,
    /// `atxferthreeway`: during an attended transfer, talk all three.
    pub atxfer_threeway: String,
    /// `atxferswap`: during an attended transfer, switch parties.
    pub atxfer_swap: String,
    /// `pickupexten` (shown by `features show`; call pickup is not
    /// implemented).
    pub pickupexten: String,
    /// `[featuremap]` `blindxfer`.
    pub blindxfer: String,
    /// `[featuremap]` `disconnect`.
    pub disconnect: String,
    /// `[featuremap]` `atxfer`.
    pub atxfer: String,
    /// `[featuremap]` `automon` (shown only).
    pub automon: String,
    /// `[featuremap]` `parkcall`.
    pub parkcall: String,
    /// `[featuremap]` `automixmon` (shown only).
    pub automixmon: String,
}

/// Asterisk's built-in defaults (`features_config.c`), which apply when
/// the file or an option is missing.
impl Default for FeaturesConfig {
    fn default() -> Self {
        Self {
            feature_digit_timeout: Duration::from_millis(1000),
            transfer_digit_timeout: Duration::from_secs(3),
            atxfer_noanswer_timeout: Duration::from_secs(15),
            atxfer_abort: "*1".to_owned(),
            atxfer_complete: "*2".to_owned(),
            atxfer_threeway: "*3".to_owned(),
            atxfer_swap: "*4".to_owned(),
            pickupexten: "*8".to_owned(),
            blindxfer: "#".to_owned(),
            disconnect: "*".to_owned(),
            atxfer: String::new(),
            automon: String::new(),
            parkcall: String::new(),
            automixmon: String::new(),
        }
    }
}

/// The longest code Asterisk accepts (`AST_FEATURE_MAX_LEN` - 1).
const MAX_CODE: usize = 10;

impl FeaturesConfig {
    /// Reads `features.conf`; a missing file gives the defaults. Problems
    /// name the file and line; a bad value keeps its default.
    pub fn load(settings: &Settings) -> (FeaturesConfig, Vec<Diagnostic>) {
        match settings.load_conf(FILE) {
            Ok(config) => Self::from_config(&config),
            Err(e) if e.is_not_found() => (FeaturesConfig::default(), Vec::new()),
            Err(e) => (FeaturesConfig::default(), Diagnostic::from_conf_errors(&e)),
        }
    }

    /// Reads a parsed `features.conf`.
    pub fn from_config(config: &obelus_conf::Config) -> (FeaturesConfig, Vec<Diagnostic>) {
        let mut out = FeaturesConfig::default();
        let mut problems = Vec::new();
        if let Some(general) = config.category("general") {
            for var in general.variables() {
                let key = var.name.to_ascii_lowercase();
                let value = var.value.trim();
                let number = |problems: &mut Vec<Diagnostic>, min: u64| match value.parse::<u64>() {
                    Ok(n) if n >= min => Some(n),
                    _ => {
                        problems.push(Diagnostic::error_at(
                            &var.location,
                            &key,
                            format!("expected a whole number of at least {min}, got '{value}'"),
                        ));
                        None
                    }
                };
                match key.as_str() {
                    "featuredigittimeout" => {
                        if let Some(ms) = number(&mut problems, 1) {
                            out.feature_digit_timeout = Duration::from_millis(ms);
                        }
                    }
                    "transferdigittimeout" => {
                        if let Some(s) = number(&mut problems, 1) {
                            out.transfer_digit_timeout = Duration::from_secs(s);
                        }
                    }
                    "atxfernoanswertimeout" => {
                        if let Some(s) = number(&mut problems, 5) {
                            out.atxfer_noanswer_timeout = Duration::from_secs(s);
                        }
                    }
                    "pickupexten" => out.pickupexten = value.to_owned(),
                    "atxferabort" | "atxfercomplete" | "atxferthreeway" | "atxferswap" => {
                        let slot = match key.as_str() {
                            "atxferabort" => &mut out.atxfer_abort,
                            "atxfercomplete" => &mut out.atxfer_complete,
                            "atxferthreeway" => &mut out.atxfer_threeway,
                            _ => &mut out.atxfer_swap,
                        };
                        match dtmf_code(value) {
                            Some(code) => *slot = code,
                            None => problems.push(not_a_code(&var.location, &key, value)),
                        }
                    }
                    _ => {}
                }
            }
        }
        if let Some(map) = config.category("featuremap") {
            for var in map.variables() {
                let key = var.name.to_ascii_lowercase();
                let code = var.value.trim();
                let slot = match key.as_str() {
                    "blindxfer" => &mut out.blindxfer,
                    "disconnect" => &mut out.disconnect,
                    "atxfer" => &mut out.atxfer,
                    "automon" => &mut out.automon,
                    "parkcall" => &mut out.parkcall,
                    "automixmon" => &mut out.automixmon,
                    _ => {
                        problems.push(Diagnostic::warning_at(
                            &var.location,
                            &key,
                            "unknown feature in [featuremap]; ignored",
                        ));
                        continue;
                    }
                };
                match dtmf_code(code) {
                    Some(code) => *slot = code,
                    None => problems.push(not_a_code(&var.location, &key, code)),
                }
            }
        }
        (out, problems)
    }

    /// The codes a side with `permissions` may key, for a [`Matcher`].
    pub fn codes(&self, permissions: Permissions) -> Vec<(Feature, String)> {
        let mut codes = Vec::new();
        if permissions.transfer {
            codes.push((Feature::BlindTransfer, self.blindxfer.clone()));
            codes.push((Feature::AttendedTransfer, self.atxfer.clone()));
        }
        if permissions.disconnect {
            codes.push((Feature::Disconnect, self.disconnect.clone()));
        }
        if permissions.park {
            codes.push((Feature::ParkCall, self.parkcall.clone()));
        }
        codes.retain(|(_, c)| !c.is_empty());
        codes
    }

    /// A matcher for one side of a bridge.
    pub fn matcher(&self, permissions: Permissions) -> Matcher {
        Matcher::new(self.codes(permissions), self.feature_digit_timeout)
    }

    /// The matcher for the transferer while it consults the target of an
    /// attended transfer: abort, complete, three-way and swap.
    pub fn consultation_matcher(&self) -> Matcher {
        Matcher::new(
            vec![
                (Feature::AtxferAbort, self.atxfer_abort.clone()),
                (Feature::AtxferComplete, self.atxfer_complete.clone()),
                (Feature::AtxferThreeway, self.atxfer_threeway.clone()),
                (Feature::AtxferSwap, self.atxfer_swap.clone()),
            ],
            self.feature_digit_timeout,
        )
    }

    /// `features show`, laid out as Asterisk does.
    pub fn show(&self) -> String {
        let row = |a: &str, b: &str, c: &str| format!("{a:<25} {b:<7} {c:<7}\n");
        let defaults = FeaturesConfig::default();
        let mut out = String::new();
        out += &row("Builtin Feature", "Default", "Current");
        out += &row("---------------", "-------", "-------");
        for (name, default, current) in [
            ("Pickup", &defaults.pickupexten, &self.pickupexten),
            ("Blind Transfer", &defaults.blindxfer, &self.blindxfer),
            ("Attended Transfer", &defaults.atxfer, &self.atxfer),
            ("One Touch Monitor", &defaults.automon, &self.automon),
            ("Disconnect Call", &defaults.disconnect, &self.disconnect),
            ("Park Call", &defaults.parkcall, &self.parkcall),
            (
                "One Touch MixMonitor",
                &defaults.automixmon,
                &self.automixmon,
            ),
        ] {
            out += &row(name, default, current);
        }
        out += "\n";
        out += &row("Dynamic Feature", "Default", "Current");
        out += &row("---------------", "-------", "-------");
        out += "(none)\n";
        out += "\nFeature Groups:\n---------------\n(none)\n\n";
        out
    }
}

/// `code` as a feature code (upper case), if it is one: at most
/// [`MAX_CODE`] DTMF keys; empty turns the feature off.
fn dtmf_code(code: &str) -> Option<String> {
    (code.len() <= MAX_CODE && code.chars().all(is_dtmf)).then(|| code.to_ascii_uppercase())
}

fn not_a_code(location: &obelus_conf::Location, key: &str, code: &str) -> Diagnostic {
    Diagnostic::error_at(
        location,
        key,
        format!("'{code}' is not a DTMF code (0-9 * # A-D, at most {MAX_CODE})"),
    )
}

/// A DTMF key (`0-9 * # A-D`).
pub fn is_dtmf(c: char) -> bool {
    c.is_ascii_digit() || matches!(c.to_ascii_uppercase(), '*' | '#' | 'A'..='D')
}

/// The service: the configuration in force.
#[derive(Debug, Default)]
pub struct Features {
    config: RwLock<Arc<FeaturesConfig>>,
}

impl Features {
    /// The configuration now (a bridge keeps it for its lifetime).
    pub fn config(&self) -> Arc<FeaturesConfig> {
        Arc::clone(&self.config.read().unwrap_or_else(|e| e.into_inner()))
    }

    pub(crate) fn set(&self, config: FeaturesConfig) {
        *self.config.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(config);
    }
}

/// The configuration in force for `core`: the module's, or Asterisk's
/// defaults when the module is not loaded.
pub fn config(core: &Core) -> Arc<FeaturesConfig> {
    core.service::<Features>()
        .map_or_else(|| Arc::new(FeaturesConfig::default()), |f| f.config())
}

/// The `features` module (Asterisk's built-in `features`, reloaded with
/// `module reload features`).
#[derive(Default)]
pub struct FeaturesModule;

#[async_trait]
impl Module for FeaturesModule {
    fn name(&self) -> &'static str {
        "features"
    }

    fn description(&self) -> &'static str {
        "Call Features Resource"
    }

    fn check(&self, settings: &Settings) -> Vec<Diagnostic> {
        FeaturesConfig::load(settings).1
    }

    async fn load(&self, core: &Arc<Core>) -> Result<(), ModuleError> {
        let (config, problems) = FeaturesConfig::load(&core.settings);
        ModuleError::check(problems)?;
        let features = Arc::new(Features::default());
        features.set(config);
        core.provide(Arc::clone(&features));
        let show = CliCommand::new(
            "features show",
            "Lists configured features",
            "Usage: features show\n       Lists configured features",
            move |_| {
                let features = Arc::clone(&features);
                async move { Ok(features.config().show()) }
            },
        );
        core.cli
            .register(show)
            .map_err(|e| ModuleError::Failed(e.to_string()))?;
        Ok(())
    }

    async fn reload(&self, core: &Arc<Core>) -> Result<(), ModuleError> {
        let (config, problems) = FeaturesConfig::load(&core.settings);
        ModuleError::check(problems)?;
        match core.service::<Features>() {
            Some(features) => {
                features.set(config);
                Ok(())
            }
            None => Err(ModuleError::Failed("features is not loaded".to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> (FeaturesConfig, Vec<Diagnostic>) {
        let config = obelus_conf::parse_str("features.conf", text).expect("parses");
        FeaturesConfig::from_config(&config)
    }

    #[test]
    fn defaults_are_asterisks() {
        let (c, problems) = parse("");
        assert!(problems.is_empty());
        assert_eq!(c, FeaturesConfig::default());
        assert_eq!(c.blindxfer, "#");
        assert_eq!(c.disconnect, "*");
        assert_eq!(c.atxfer, "");
        assert_eq!(c.feature_digit_timeout, Duration::from_millis(1000));
        assert_eq!(c.transfer_digit_timeout, Duration::from_secs(3));
    }

    #[test]
    fn general_and_featuremap_are_read() {
        let (c, problems) = parse(
            "[general]\nfeaturedigittimeout = 1500\ntransferdigittimeout => 5\n\
             atxfernoanswertimeout=20\n[featuremap]\nblindxfer => #1\ndisconnect => *0\natxfer => *2\n",
        );
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(c.feature_digit_timeout, Duration::from_millis(1500));
        assert_eq!(c.transfer_digit_timeout, Duration::from_secs(5));
        assert_eq!(c.atxfer_noanswer_timeout, Duration::from_secs(20));
        assert_eq!(c.blindxfer, "#1");
        assert_eq!(c.disconnect, "*0");
        assert_eq!(c.atxfer, "*2");
    }

    #[test]
    fn bad_values_are_reported_with_their_line_and_keep_defaults() {
        let (c, problems) = parse(
            "[general]\nfeaturedigittimeout = soon\n[featuremap]\nblindxfer => #x\nwarp => 9\n",
        );
        assert_eq!(c.feature_digit_timeout, Duration::from_millis(1000));
        assert_eq!(c.blindxfer, "#");
        let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(
            problems.iter().filter(|p| p.is_error()).count(),
            2,
            "{text:?}"
        );
        assert!(text[0].contains(":2"), "{text:?}");
        assert!(text[1].contains(":4"), "{text:?}");
        assert!(text[2].contains("warp"), "{text:?}");
    }

    #[test]
    fn permissions_choose_the_codes() {
        let (c, _) = parse("[featuremap]\natxfer => *2\n");
        assert!(c.codes(Permissions::default()).is_empty());
        assert_eq!(
            c.codes(Permissions {
                transfer: true,
                ..Permissions::default()
            }),
            vec![
                (Feature::BlindTransfer, "#".to_owned()),
                (Feature::AttendedTransfer, "*2".to_owned())
            ]
        );
        assert_eq!(
            c.codes(Permissions {
                disconnect: true,
                ..Permissions::default()
            }),
            vec![(Feature::Disconnect, "*".to_owned())]
        );
        assert!(
            c.codes(Permissions {
                park: true,
                ..Permissions::default()
            })
            .is_empty(),
            "parkcall has no default code"
        );
        let (c, _) = parse("[featuremap]\nparkcall => #72\n");
        assert_eq!(
            c.codes(Permissions {
                park: true,
                ..Permissions::default()
            }),
            vec![(Feature::ParkCall, "#72".to_owned())]
        );
    }

    #[test]
    fn attended_transfer_codes_default_to_asterisks_and_can_be_changed() {
        let (c, problems) = parse("");
        assert!(problems.is_empty());
        assert_eq!(
            (
                c.atxfer_abort.as_str(),
                c.atxfer_complete.as_str(),
                c.atxfer_threeway.as_str(),
                c.atxfer_swap.as_str()
            ),
            ("*1", "*2", "*3", "*4")
        );
        let (c, problems) =
            parse("[general]\natxferabort => #0\natxfercomplete = ##\natxferswap => x\n");
        assert_eq!(c.atxfer_abort, "#0");
        assert_eq!(c.atxfer_complete, "##");
        assert_eq!(c.atxfer_swap, "*4", "a bad code keeps the default");
        assert_eq!(problems.len(), 1, "{problems:?}");
        let mut m = c.consultation_matcher();
        let t = std::time::Instant::now();
        assert_eq!(m.handle_digit('#', t), Outcome::Held);
        assert_eq!(
            m.handle_digit('#', t),
            Outcome::Matched(Feature::AtxferComplete)
        );
    }

    #[test]
    fn features_show_lays_out_the_table_as_asterisk() {
        let (c, _) = parse("[featuremap]\nblindxfer => #1\n");
        let text = c.show();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "Builtin Feature           Default Current");
        assert_eq!(lines[1], "---------------           ------- -------");
        assert_eq!(lines[3], "Blind Transfer            #       #1     ");
        assert_eq!(lines[6], "Disconnect Call           *       *      ");
        assert!(text.contains("Dynamic Feature"));
    }
}
