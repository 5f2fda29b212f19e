//! The engine against real sockets on 127.0.0.1. Every run is bounded by a request
//! count or a duration of a few seconds.
//!
//! - load models: exact counts (closed), planned rate and honest latency (open),
//!   sessions (users × loops)
//! - misbehaving servers: each lands in its own error kind and the run finishes
//! - segments: a run split into parts (as over several machines) adds up to the plan
//! - tls: https with certificates made by the test, each refusal counted by kind
//!
//! The engine against real Python servers is tested in crates/suite/tests/servers.rs,
//! which provisions them.

mod util;

mod load_models;
mod misbehaviour;
mod segments;
mod tls;
