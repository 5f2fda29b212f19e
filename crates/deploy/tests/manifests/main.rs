//! The rendered manifests, checked from the outside: rendered into temporary folders
//! with several option sets, then read back as plain YAML values (never through the
//! structs that wrote them).
//!
//! Contents:
//! - `util`: the option sets, rendering them, and reading a folder back as objects.
//! - `validate`: every file passes `kubernetes-validate --strict` for Kubernetes 1.30
//!   and 1.37 (a missing tool fails under CI, else skips saying so).
//! - `wiring`: what a schema cannot see: Service selectors reach the pods they should,
//!   the Job's subdomain is the headless Service, the controller's `--agents` are the
//!   Job's pods, referenced Secrets keys, claims and ConfigMaps exist, requests equal
//!   limits, anti-affinity keeps agents and servers apart.
//! - `compose`: deploy/compose.yaml runs the manifests' commands on a private network.
//! - `options`: refusals that name the flag, the token kept across renders and never
//!   readable by others, case names that YAML 1.1 reads as booleans.

mod compose;
mod options;
mod util;
mod validate;
mod wiring;
