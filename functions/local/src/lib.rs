//! The local runner behind the `handoff` binary: every function on one localhost
//! server over the embedded store, function invocation with event files, answer
//! quality evaluation and agent tokens.

pub mod attachments;
pub mod delivery;
pub mod eval;
pub mod gateway;
pub mod insights;
pub mod invoke;
pub mod learn;
pub mod secrets;
pub mod server;

pub use server::{build_app, serve, serve_with, App, Limits, ScratchDir, ServeOptions};
