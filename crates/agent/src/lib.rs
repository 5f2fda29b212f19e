//! Load from several machines. An agent (`wsgibench agent`) runs the share of a run it
//! is sent; a controller (`wsgibench load --agents ...`) splits the run, starts every
//! share at one instant, and merges what the agents stream back.
//!
//! - The split is exact: each agent runs a [`engine::Segment`] of the plan one machine
//!   with all the agents' threads would make, so connections, rate, users, their
//!   arrival instants and `-n` add up to the asked run, whatever the split.
//! - The merge is lossless: intervals carry the engine's [`engine::Stats`] with their
//!   HdrHistograms (1 µs to 60 s, 3 significant digits) serialized as V2 and deflated,
//!   and the controller merges them with the engine's own collector ([`engine::merge`]):
//!   the merged percentiles are those of one histogram holding every sample.
//! - Clocks are measured over the connection, NTP-style ([`clock`]); the common start
//!   instant is sent on each agent's own clock.
//! - The token is proved with HMAC challenges, never sent ([`auth`]); every read has a
//!   timeout ([`protocol`]); an agent refuses a second controller and, unless started
//!   with `allow_remote`, any target outside loopback ([`mod@serve`]).
//!
//! Layout: [`protocol`] (frames and messages), [`auth`], [`clock`], [`mod@serve`] (the
//! agent), [`controller`] (split, start, merge; lost agents).

pub mod auth;
pub mod clock;
pub mod controller;
pub mod protocol;
pub mod serve;

pub use auth::Token;
pub use controller::{Agents, ControllerError, SpreadRun};
pub use serve::{serve, AgentError, AgentOptions};
