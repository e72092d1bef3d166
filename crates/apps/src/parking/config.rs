//! `res_parking.conf` as Obelus reads it: `[general]` and one section per
//! parking lot.
//!
//! ```text
//! [general]
//! parkeddynamic = no
//!
//! [default]
//! parkext => 700          ; dialling it parks the caller
//! parkpos => 701-720      ; the slots; dialling one retrieves its call
//! context => parkedcalls  ; where both are created
//! parkingtime => 45       ; seconds before a parked call comes back
//! comebacktoorigin = yes  ; back to the parker's device (park-dial)
//! comebackcontext = parkedcallstimeout
//! comebackdialtime = 30
//! findslot => first       ; first | next
//! parkedmusicclass = default
//! ```
//!
//! The `default` lot always exists, with Asterisk's built-in values when
//! the file does not configure it. Every problem names the file and line;
//! a bad value keeps its default.

use std::time::Duration;

use obelus_conf::{Config, Location};
use obelus_core::diagnostic::Diagnostic;
use obelus_core::settings::{Settings, parse_bool};

/// The configuration file.
pub const FILE: &str = "res_parking.conf";

/// The lot used when none is asked for.
pub const DEFAULT_LOT: &str = "default";

/// How a lot picks a free slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FindSlot {
    /// The lowest free slot.
    #[default]
    First,
    /// The free slot after the one used last, wrapping around.
    Next,
}

/// Who hears the courtesy tone when a parked call is picked up
/// (`parkedplay`); kept and shown, the tone itself is not played.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ParkedPlay {
    /// Nobody.
    No,
    /// The retriever.
    #[default]
    Caller,
    /// The parked call.
    Callee,
    /// Both.
    Both,
}

impl ParkedPlay {
    /// The name `parking show` prints.
    pub fn name(self) -> &'static str {
        match self {
            ParkedPlay::No => "no",
            ParkedPlay::Caller => "caller",
            ParkedPlay::Callee => "callee",
            ParkedPlay::Both => "both",
        }
    }
}

/// One parking lot as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LotConfig {
    /// The section name.
    pub name: String,
    /// `parkext`: the extension that parks (empty: none).
    pub parkext: String,
    /// `parkext_exclusive`: the parking extension parks only in this lot.
    pub parkext_exclusive: bool,
    /// `parkpos`: the first slot...
    pub start: u32,
    /// ...and the last.
    pub stop: u32,
    /// `context`: where the extensions are created.
    pub context: String,
    /// `parkingtime`: how long a call stays parked (zero: for ever).
    pub parking_time: Duration,
    /// `comebacktoorigin`.
    pub comeback_to_origin: bool,
    /// `comebackcontext`.
    pub comeback_context: String,
    /// `comebackdialtime`: seconds the parker's device rings on a comeback.
    pub comeback_dial_time: u32,
    /// `parkedplay`.
    pub parked_play: ParkedPlay,
    /// `findslot`.
    pub find_slot: FindSlot,
    /// `parkedmusicclass` (empty: the channel's class).
    pub music_class: String,
}

impl LotConfig {
    /// A lot named `name` with Asterisk's built-in values.
    pub fn new(name: &str) -> LotConfig {
        LotConfig {
            name: name.to_owned(),
            parkext: String::new(),
            parkext_exclusive: false,
            start: 701,
            stop: 750,
            context: "parkedcalls".to_owned(),
            parking_time: Duration::from_secs(45),
            comeback_to_origin: true,
            comeback_context: "parkedcallstimeout".to_owned(),
            comeback_dial_time: 30,
            parked_play: ParkedPlay::Caller,
            find_slot: FindSlot::First,
            music_class: String::new(),
        }
    }

    /// Whether `slot` is one of this lot's.
    pub fn holds(&self, slot: u32) -> bool {
        (self.start..=self.stop).contains(&slot)
    }
}

/// `res_parking.conf`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParkingConfig {
    /// `parkeddynamic`: `PARKINGDYNAMIC` may create lots (kept and shown;
    /// dynamic lots are not created).
    pub dynamic: bool,
    /// The lots, `default` first.
    pub lots: Vec<LotConfig>,
}

impl Default for ParkingConfig {
    fn default() -> Self {
        ParkingConfig {
            dynamic: false,
            lots: vec![LotConfig::new(DEFAULT_LOT)],
        }
    }
}

fn whole(
    location: &Location,
    key: &str,
    value: &str,
    problems: &mut Vec<Diagnostic>,
) -> Option<u32> {
    match value.parse::<u32>() {
        Ok(n) => Some(n),
        Err(_) => {
            problems.push(Diagnostic::error_at(
                location,
                key,
                format!("expected a whole number, got '{value}'"),
            ));
            None
        }
    }
}

fn boolean(
    location: &Location,
    key: &str,
    value: &str,
    problems: &mut Vec<Diagnostic>,
) -> Option<bool> {
    let b = parse_bool(value);
    if b.is_none() {
        problems.push(Diagnostic::error_at(
            location,
            key,
            format!("expected yes or no, got '{value}'"),
        ));
    }
    b
}

/// `parkpos`'s `start-stop`, both at least 1, start not after stop.
pub fn parse_range(value: &str) -> Option<(u32, u32)> {
    let (a, b) = value.split_once('-')?;
    let (a, b) = (a.trim().parse::<u32>().ok()?, b.trim().parse::<u32>().ok()?);
    (a >= 1 && a <= b).then_some((a, b))
}

impl ParkingConfig {
    /// Reads `res_parking.conf`; a missing file gives the `default` lot.
    pub fn load(settings: &Settings) -> (ParkingConfig, Vec<Diagnostic>) {
        match settings.load_conf(FILE) {
            Ok(config) => Self::from_config(&config),
            Err(e) if e.is_not_found() => (ParkingConfig::default(), Vec::new()),
            Err(e) => (ParkingConfig::default(), Diagnostic::from_conf_errors(&e)),
        }
    }

    /// Reads a parsed `res_parking.conf`.
    pub fn from_config(config: &Config) -> (ParkingConfig, Vec<Diagnostic>) {
        let mut out = ParkingConfig {
            dynamic: false,
            lots: Vec::new(),
        };
        let mut problems = Vec::new();
        for category in config.categories() {
            if category.name.eq_ignore_ascii_case("general") {
                for var in category.variables() {
                    let key = var.name.to_ascii_lowercase();
                    if key == "parkeddynamic" {
                        if let Some(b) =
                            boolean(&var.location, &key, var.value.trim(), &mut problems)
                        {
                            out.dynamic = b;
                        }
                    } else {
                        problems.push(Diagnostic::warning_at(
                            &var.location,
                            &key,
                            "unknown option in [general]; ignored",
                        ));
                    }
                }
                continue;
            }
            let mut lot = LotConfig::new(&category.name);
            for var in category.variables() {
                let key = var.name.to_ascii_lowercase();
                let value = var.value.trim();
                let at = &var.location;
                match key.as_str() {
                    "parkext" => lot.parkext = value.to_owned(),
                    "parkext_exclusive" => {
                        if let Some(b) = boolean(at, &key, value, &mut problems) {
                            lot.parkext_exclusive = b;
                        }
                    }
                    "parkpos" => match parse_range(value) {
                        Some((start, stop)) => (lot.start, lot.stop) = (start, stop),
                        None => problems.push(Diagnostic::error_at(
                            at,
                            &key,
                            format!("expected a range like 701-750, got '{value}'"),
                        )),
                    },
                    "context" if !value.is_empty() => lot.context = value.to_owned(),
                    "parkingtime" => {
                        if let Some(n) = whole(at, &key, value, &mut problems) {
                            lot.parking_time = Duration::from_secs(u64::from(n));
                        }
                    }
                    "comebacktoorigin" => {
                        if let Some(b) = boolean(at, &key, value, &mut problems) {
                            lot.comeback_to_origin = b;
                        }
                    }
                    "comebackcontext" if !value.is_empty() => {
                        lot.comeback_context = value.to_owned();
                    }
                    "comebackdialtime" => {
                        if let Some(n) = whole(at, &key, value, &mut problems) {
                            lot.comeback_dial_time = n;
                        }
                    }
                    "parkedplay" => match value.to_ascii_lowercase().as_str() {
                        "no" => lot.parked_play = ParkedPlay::No,
                        "caller" => lot.parked_play = ParkedPlay::Caller,
                        "callee" => lot.parked_play = ParkedPlay::Callee,
                        "both" => lot.parked_play = ParkedPlay::Both,
                        _ => problems.push(Diagnostic::error_at(
                            at,
                            &key,
                            format!("expected no, caller, callee or both, got '{value}'"),
                        )),
                    },
                    "findslot" => match value.to_ascii_lowercase().as_str() {
                        "first" => lot.find_slot = FindSlot::First,
                        "next" => lot.find_slot = FindSlot::Next,
                        _ => problems.push(Diagnostic::error_at(
                            at,
                            &key,
                            format!("expected first or next, got '{value}'"),
                        )),
                    },
                    "parkedmusicclass" => lot.music_class = value.to_owned(),
                    // Courtesy tones, feature permissions of the retrieved
                    // call and hints are accepted as Asterisk's options.
                    "courtesytone"
                    | "parkedcalltransfers"
                    | "parkedcallreparking"
                    | "parkedcallhangup"
                    | "parkedcallrecording"
                    | "parkinghints" => {}
                    _ => problems.push(Diagnostic::warning_at(
                        at,
                        &key,
                        "unknown parking lot option; ignored",
                    )),
                }
            }
            out.lots.push(lot);
        }
        match out.lots.iter().position(|l| l.name == DEFAULT_LOT) {
            Some(0) => {}
            Some(i) => {
                let lot = out.lots.remove(i);
                out.lots.insert(0, lot);
            }
            None => out.lots.insert(0, LotConfig::new(DEFAULT_LOT)),
        }
        (out, problems)
    }

    /// The lot named `name`.
    pub fn lot(&self, name: &str) -> Option<&LotConfig> {
        self.lots.iter().find(|l| l.name == name)
    }

    /// The dialplan lines of the lots (`extensions.conf` syntax by
    /// context): the parking extension runs `Park(lot)`, each slot
    /// `ParkedCall(lot,slot)`.
    pub fn dialplan(&self) -> Vec<obelus_dialplan::OwnedEntry> {
        let mut lines = Vec::new();
        let mut line = 0u32;
        let mut push = |context: &str, value: String| {
            line += 1;
            lines.push(obelus_dialplan::OwnedEntry {
                category: context.to_owned(),
                name: "exten".to_owned(),
                value,
                line,
            });
        };
        for lot in &self.lots {
            if !lot.parkext.is_empty() {
                push(
                    &lot.context,
                    format!("{},1,Park({})", lot.parkext, lot.name),
                );
            }
            for slot in lot.start..=lot.stop {
                push(
                    &lot.context,
                    format!("{slot},1,ParkedCall({},{slot})", lot.name),
                );
            }
        }
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> (ParkingConfig, Vec<Diagnostic>) {
        let config = obelus_conf::parse_str(FILE, text).expect("parses");
        ParkingConfig::from_config(&config)
    }

    #[test]
    fn without_a_file_there_is_asterisks_default_lot() {
        let (c, problems) = parse("");
        assert!(problems.is_empty());
        assert_eq!(c, ParkingConfig::default());
        let lot = &c.lots[0];
        assert_eq!((lot.start, lot.stop), (701, 750));
        assert_eq!(lot.context, "parkedcalls");
        assert_eq!(lot.parking_time, Duration::from_secs(45));
        assert!(lot.comeback_to_origin);
        assert_eq!(lot.comeback_context, "parkedcallstimeout");
        assert_eq!(lot.parkext, "");
    }

    #[test]
    fn lots_are_read_with_their_options() {
        let (c, problems) = parse(
            "[general]\nparkeddynamic = yes\n\
             [sales]\nparkext => 800\nparkpos => 801-803\ncontext => salesparking\n\
             parkingtime => 10\nfindslot => next\ncomebacktoorigin = no\n\
             comebackcontext = back\nparkedplay = both\nparkedmusicclass = jazz\n\
             [default]\nparkext => 700\nparkpos => 701-720\n",
        );
        assert!(problems.is_empty(), "{problems:?}");
        assert!(c.dynamic);
        assert_eq!(c.lots[0].name, "default", "default comes first");
        assert_eq!(c.lots[0].parkext, "700");
        assert_eq!(c.lots[0].stop, 720);
        let sales = c.lot("sales").unwrap();
        assert_eq!((sales.start, sales.stop), (801, 803));
        assert_eq!(sales.context, "salesparking");
        assert_eq!(sales.parking_time, Duration::from_secs(10));
        assert_eq!(sales.find_slot, FindSlot::Next);
        assert!(!sales.comeback_to_origin);
        assert_eq!(sales.comeback_context, "back");
        assert_eq!(sales.parked_play, ParkedPlay::Both);
        assert_eq!(sales.music_class, "jazz");
        assert!(sales.holds(802) && !sales.holds(804));
    }

    #[test]
    fn bad_values_name_their_line_and_keep_defaults() {
        let (c, problems) = parse(
            "[default]\nparkpos => 720-701\nparkingtime => soon\nfindslot => last\nwarp => 9\n",
        );
        let lot = &c.lots[0];
        assert_eq!((lot.start, lot.stop), (701, 750));
        assert_eq!(lot.parking_time, Duration::from_secs(45));
        let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(
            problems.iter().filter(|p| p.is_error()).count(),
            3,
            "{text:?}"
        );
        assert!(text[0].contains(":2"), "{text:?}");
        assert!(text[3].contains("warp"), "{text:?}");
    }

    #[test]
    fn ranges() {
        assert_eq!(parse_range("701-720"), Some((701, 720)));
        assert_eq!(parse_range(" 5 - 5 "), Some((5, 5)));
        assert_eq!(parse_range("720-701"), None);
        assert_eq!(parse_range("0-3"), None);
        assert_eq!(parse_range("701"), None);
    }

    #[test]
    fn the_lots_extensions_are_generated_in_their_context() {
        let (c, _) = parse("[default]\nparkext => 700\nparkpos => 701-702\n");
        let lines: Vec<(String, String)> = c
            .dialplan()
            .into_iter()
            .map(|l| (l.category, l.value))
            .collect();
        assert_eq!(
            lines,
            [
                ("parkedcalls".into(), "700,1,Park(default)".into()),
                ("parkedcalls".into(), "701,1,ParkedCall(default,701)".into()),
                ("parkedcalls".into(), "702,1,ParkedCall(default,702)".into()),
            ]
        );
    }
}
