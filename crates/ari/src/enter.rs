//! Channels ARI makes itself (snoop channels, external media channels)
//! enter their Stasis application on a task of their own, as Asterisk
//! starts a PBX thread running `Stasis(app,args)` on them.

use std::sync::Arc;

use obelus_apps::pbx::{Executor, Pbx};
use obelus_apps::registry::{AppError, Application};
use obelus_core::channel::{Cause, Channel};

use crate::apps::SourceKind;
use crate::stasis::Stasis;
use crate::state::Ari;

/// Runs `Stasis(app[,args])` on `channel` until it leaves: a `continue`
/// to a dialplan location runs the dialplan there, anything else hangs
/// the channel up. The application follows the channel from now on, so
/// it sees its state changes before `StasisStart`.
pub(crate) async fn run_in_stasis(
    ari: Arc<Ari>,
    channel: Arc<Channel>,
    app: String,
    args: Option<String>,
) {
    ari.apps
        .subscribe(&app, SourceKind::Channel, channel.uniqueid());
    let Some(executor) = ari.core.service::<Executor>() else {
        tracing::warn!("{}: no dialplan executor to run Stasis on", channel.name());
        channel.hangup(Cause::FAILURE).await;
        return;
    };
    let Some(mut pbx) = Pbx::new(executor, Arc::clone(&channel)) else {
        channel.hangup(Cause::FAILURE).await;
        return;
    };
    let data = match args {
        Some(args) if !args.is_empty() => format!("{app},{args}"),
        _ => app,
    };
    let before = channel.location();
    channel.set_application("Stasis", &data);
    let channels = Arc::clone(&ari.core.channels);
    channels.call_started();
    let result = Stasis::new(&ari).exec(&mut pbx, &data).await;
    channels.call_ended();
    match result {
        Ok(()) if channel.location() != before => obelus_apps::pbx::run(pbx).await,
        Ok(()) | Err(AppError::Detached) => channel.hangup(Cause::NORMAL_CLEARING).await,
        Err(AppError::Hangup(cause) | AppError::HungUp(cause)) => channel.hangup(cause).await,
    }
}
