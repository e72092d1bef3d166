//! `Parkinglots`, `ParkedCalls` and `Park` (`res_parking`): the lots, the
//! calls parked in them, and parking a channel.

use obelus_apps::parking::{PARK_AMI, Parking};

use super::Req;
use crate::message::ListEvent;
use crate::render::parked_call_block;
use crate::session::Outbound;

fn parking(req: &Req) -> Result<std::sync::Arc<Parking>, Outbound> {
    req.ami
        .core
        .service::<Parking>()
        .ok_or_else(|| req.error("Parking is not available"))
}

/// `Action: Parkinglots`: one `Parkinglot` event per lot.
pub async fn parkinglots(req: Req) -> Outbound {
    let parking = match parking(&req) {
        Ok(p) => p,
        Err(e) => return e,
    };
    let mut text = req
        .success()
        .header("EventList", "start")
        .header("Message", "Parking lots will follow")
        .finish();
    let lots = parking.lots();
    for lot in &lots {
        text.push_str(
            &ListEvent::new("Parkinglot", req.id())
                .header("Name", &lot.name)
                .header("StartSpace", &lot.start.to_string())
                .header("StopSpace", &lot.stop.to_string())
                .header("Timeout", &lot.parking_time.as_secs().to_string())
                .finish(),
        );
    }
    text.push_str(
        &ListEvent::new("ParkinglotsComplete", req.id())
            .header("EventList", "Complete")
            .header("ListItems", &lots.len().to_string())
            .finish(),
    );
    Outbound::Text(text)
}

/// `Action: ParkedCalls` (optional `ParkingLot`): one `ParkedCall` event
/// per parked call, as the event of its parking.
pub async fn parked_calls(req: Req) -> Outbound {
    let parking = match parking(&req) {
        Ok(p) => p,
        Err(e) => return e,
    };
    let lot = req.msg.value("ParkingLot").trim().to_owned();
    if !lot.is_empty() && !parking.lots().iter().any(|l| l.name == lot) {
        return req.error("Requested parking lot could not be found.");
    }
    let mut text = req
        .success()
        .header("EventList", "start")
        .header("Message", "Parked calls will follow")
        .finish();
    let calls = parking.parked((!lot.is_empty()).then_some(lot.as_str()));
    for call in &calls {
        let mut event = ListEvent::new("ParkedCall", req.id());
        for (k, v) in parked_call_block(call) {
            event = event.header(&k, &v);
        }
        text.push_str(&event.finish());
    }
    text.push_str(
        &ListEvent::new("ParkedCallsComplete", req.id())
            .header("EventList", "Complete")
            .header("ListItems", &calls.len().to_string())
            .finish(),
    );
    Outbound::Text(text)
}

/// `Action: Park` (`Channel`; optional `TimeoutChannel`, whose device a
/// timeout rings, `Timeout` in ms, `Parkinglot`, `ParkingSpace`): the
/// channel leaves what it is doing (as with `Redirect`) and parks.
pub async fn park(req: Req) -> Outbound {
    let parking = match parking(&req) {
        Ok(p) => p,
        Err(e) => return e,
    };
    let name = req.msg.value("Channel").trim().to_owned();
    if name.is_empty() {
        return req.error("Channel not specified");
    }
    let Some(channel) = req.ami.core.channels.find(&name) else {
        return req.error("Channel does not exist");
    };
    let lot = req.msg.value("Parkinglot").trim().to_owned();
    if !lot.is_empty() && !parking.lots().iter().any(|l| l.name == lot) {
        return req.error("Requested parking lot could not be found.");
    }
    let mut options = String::new();
    let timeout = req.msg.value("Timeout").trim().to_owned();
    if !timeout.is_empty() {
        match timeout.parse::<u64>() {
            Ok(ms) => options = format!("t({})", ms.div_ceil(1000)),
            Err(_) => return req.error("Invalid Timeout value."),
        }
    }
    let space = req.msg.value("ParkingSpace").trim().to_owned();
    if !space.is_empty() && space.parse::<u32>().is_err() {
        return req.error("Invalid ParkingSpace value.");
    }
    let timeout_channel = req.msg.value("TimeoutChannel").trim().to_owned();
    if !timeout_channel.is_empty() {
        match req.ami.core.channels.find(&timeout_channel) {
            Some(parker) => channel.set_var("BLINDTRANSFER", parker.name()),
            None => return req.error("TimeoutChannel does not exist"),
        }
    }
    channel.set_var("PARKINGLOT", &lot);
    channel.set_var("PARKINGEXTEN", &space);
    channel.set_var("PARK_AMI_OPTIONS", &options);
    channel.redirect(PARK_AMI, "s", 1);
    Outbound::Text(req.success().header("Message", "Park successful").finish())
}
