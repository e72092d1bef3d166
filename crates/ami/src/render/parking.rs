//! Parked call events (`res_parking`): `ParkedCall`, `ParkedCallTimeOut`,
//! `ParkedCallGiveUp` and `UnParkedCall`, laid out as Asterisk's
//! `manager_build_parked_call_string`: the parked channel (`Parkee...`),
//! the parker (`Parker...`) and the retriever (`Retriever...`) where there
//! is one, then the lot, the space and the times.

use obelus_core::events::{ParkingEvent, ParkingEventKind};

use super::call::channel_block;
use super::{AmiEvent, Builder, RenderOptions};
use crate::classes;

/// The fields of a parked call after `Event:` (and `Privilege:`), shared
/// with the `ParkedCalls` action's list items.
pub(crate) fn parked_call_block(e: &ParkingEvent) -> Vec<(String, String)> {
    let mut fields = channel_block("Parkee", &e.parkee);
    if let Some(parker) = &e.parker {
        fields.extend(channel_block("Parker", parker));
    }
    if let ParkingEventKind::Unparked { retriever } = &e.kind {
        fields.extend(channel_block("Retriever", retriever));
    }
    fields.extend([
        ("ParkerDialString".to_owned(), e.parker_dial_string.clone()),
        ("Parkinglot".to_owned(), e.lot.clone()),
        ("ParkingSpace".to_owned(), e.space.to_string()),
        ("ParkingTimeout".to_owned(), e.timeout.to_string()),
        ("ParkingDuration".to_owned(), e.duration.to_string()),
    ]);
    fields
}

/// Renders a parked call event.
pub(super) fn parking(e: &ParkingEvent, options: &RenderOptions) -> AmiEvent {
    let name = match e.kind {
        ParkingEventKind::Parked => "ParkedCall",
        ParkingEventKind::TimeOut => "ParkedCallTimeOut",
        ParkingEventKind::GiveUp => "ParkedCallGiveUp",
        ParkingEventKind::Unparked { .. } => "UnParkedCall",
    };
    let mut b = Builder::new(name, classes::CALL, options);
    for (k, v) in parked_call_block(e) {
        b = b.field(&k, &v);
    }
    AmiEvent {
        class: classes::CALL,
        name,
        text: b.finish(),
    }
}
