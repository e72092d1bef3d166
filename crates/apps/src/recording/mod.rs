//! What every recorder shares (MixMonitor, ARI's live recordings): the
//! files, in the formats Asterisk writes ([`Output`]), and the tap that
//! takes audio off a media thread without ever making it wait ([`tap`]).
//!
//! A recorder attaches a [`Tap`] to a media stream (both directions, as a
//! `MonitorSink`) or to a mixer (the mix, as an `AudioSink`) and reads the
//! [`Frames`] on a thread of its own, where disk writes may take their
//! time.

mod files;
mod tap;

pub use files::{Format, Output, split_extension};
pub use tap::{Frames, Tap, tap};
