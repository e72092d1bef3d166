//! The `res_parking.so` module: loads `res_parking.conf` at start and on
//! `module reload res_parking.so` (parked calls stay where they are),
//! creates the lots' extensions and provides `parking show [lot]`.

use std::fmt::Write as _;
use std::sync::Arc;

use async_trait::async_trait;
use obelus_core::Core;
use obelus_core::cli::{CliCommand, CliError};
use obelus_core::diagnostic::Diagnostic;
use obelus_core::module::{Module, ModuleError};
use obelus_core::settings::Settings;

use super::config::{LotConfig, ParkingConfig};
use super::{ParkedInfo, Parking};

/// `res_parking.so`.
#[derive(Default)]
pub struct ParkingModule;

/// One lot's block of `parking show`, as `display_parking_lot` prints it.
fn show_lot(out: &mut String, lot: &LotConfig) {
    let comeback_note = if lot.comeback_to_origin {
        " (comebacktoorigin=yes, not used)"
    } else {
        ""
    };
    let yes_no = |b: bool| if b { "yes" } else { "no" };
    let _ = write!(
        out,
        "Parking Lot: {}\n\
         --------------------------------------------------------------------------\n\
         Parking Extension           :  {}\n\
         Parking Context             :  {}\n\
         Parking Spaces              :  {}-{}\n\
         Parking Time                :  {} sec\n\
         Comeback to Origin          :  {}\n\
         Comeback Context            :  {}{comeback_note}\n\
         Comeback Dial Time          :  {} sec\n\
         MusicOnHold Class           :  {}\n\
         Enabled                     :  yes\n\
         Dynamic                     :  no\n\n",
        lot.name,
        lot.parkext,
        lot.context,
        lot.start,
        lot.stop,
        lot.parking_time.as_secs(),
        yes_no(lot.comeback_to_origin),
        lot.comeback_context,
        lot.comeback_dial_time,
        lot.music_class,
    );
}

/// `parking show`: the general options and every lot; with a lot's name,
/// that lot and its parked calls.
pub fn show(parking: &Parking, lot: Option<&str>) -> Result<String, CliError> {
    let mut out = String::new();
    let Some(name) = lot else {
        let _ = write!(
            out,
            "Parking General Options\n-----------------------\nDynamic Parking             :  {}\n\n",
            if parking.config().dynamic {
                "yes"
            } else {
                "no"
            }
        );
        for lot in parking.lots() {
            show_lot(&mut out, &lot);
        }
        return Ok(out);
    };
    let Some(lot) = parking.lots().into_iter().find(|l| l.name == name) else {
        return Err(CliError::Failed(format!(
            "Could not find parking lot '{name}'"
        )));
    };
    show_lot(&mut out, &lot);
    out.push_str("Parked Calls\n------------\n");
    let calls: Vec<ParkedInfo> = parking.parked(Some(name));
    if calls.is_empty() {
        out.push_str("  (none)\n\n\n");
        return Ok(out);
    }
    for call in calls {
        let _ = write!(
            out,
            "  Space               : {}\n  Channel             : {}\n  Parker Dial String  : {}\n\n",
            call.space, call.parkee.name, call.parker_dial_string
        );
    }
    out.push('\n');
    Ok(out)
}

fn load(settings: &Settings) -> Result<ParkingConfig, ModuleError> {
    let (config, problems) = ParkingConfig::load(settings);
    ModuleError::check(problems)?;
    Ok(config)
}

#[async_trait]
impl Module for ParkingModule {
    fn name(&self) -> &'static str {
        "res_parking.so"
    }

    fn description(&self) -> &'static str {
        "Call Parking Resource"
    }

    fn check(&self, settings: &Settings) -> Vec<Diagnostic> {
        ParkingConfig::load(settings).1
    }

    async fn load(&self, core: &Arc<Core>) -> Result<(), ModuleError> {
        let parking = Parking::new(core, load(&core.settings)?);
        parking.publish_dialplan(core);
        let for_cli = Arc::clone(&parking);
        let command = CliCommand::new(
            "parking show",
            "Show a parking lot or parking lots.",
            "Usage: parking show [name]\n       Shows a list of parking lots or details of a specific parking lot.",
            move |args| {
                let parking = Arc::clone(&for_cli);
                async move {
                    match args.args.as_slice() {
                        [] => show(&parking, None),
                        [name] => show(&parking, Some(name)),
                        _ => Err(CliError::ShowUsage),
                    }
                }
            },
        )
        .with_args();
        core.cli
            .register(command)
            .map_err(|e| ModuleError::Failed(e.to_string()))?;
        core.provide(parking);
        Ok(())
    }

    async fn reload(&self, core: &Arc<Core>) -> Result<(), ModuleError> {
        let parking = core
            .service::<Parking>()
            .ok_or_else(|| ModuleError::Failed("res_parking.so is not loaded".into()))?;
        parking.configure(load(&core.settings)?);
        parking.publish_dialplan(core);
        Ok(())
    }
}
