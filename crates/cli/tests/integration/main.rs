//! Integration tests of the `wsgibench` binary, run as a user runs it.
//!
//! Contents:
//! - `util`: a keep-alive `Pong!` server on 127.0.0.1:0 that counts what it receives,
//!   Tsung XML generation, running real Tsung, and running the binary with a time bound.
//! - `tsung`: `wsgibench tsung`: exact request totals, the Tsung log's layout, a run
//!   killed with SIGKILL, positioned errors for bad files.
//! - `real_tsung`: the same small file through real Tsung (`/usr/bin/tsung`) and
//!   through wsgibench, compared per user and by log structure.
//! - `real_tsung_dynamic`: Tsung's dynamic sessions (dyn_variable, `%%_var%%`, cookies,
//!   setdynvars, match) through real Tsung and wsgibench against a Python app that
//!   logs what it answered (tests/data/dynamic_app); Tsung's digest and OAuth examples.
//! - `agents`: `wsgibench agent` processes on 127.0.0.2-4 and `load --agents`: exact
//!   counts, a true merge, lost agents (SIGKILL, SIGSTOP), a wrong token, clock offsets.
//! - `bad_input`: the bad-input table: every numeric flag (walked from clap's definition),
//!   Tsung attribute and suite key, with nan, inf, -1, 0 and 1e300: exit 2, one line.
//! - `k8s_render`: `wsgibench k8s render` writes its files, never prints the token,
//!   works outside a checkout, and refuses bad values naming the flag.
//! - `load_args`: `wsgibench load` refuses bad flags with exit 2, naming the flag.
//! - `load_outputs`: what `wsgibench load` writes: the `.hgrm` distribution.
//! - `connections`: the open-files limit raised or the run refused; connections
//!   spread over 127.0.0.x in a network namespace with 50 ports; `localhost` → ::1.
//! - `remote`: a target off loopback (a veth pair in a namespace the test creates) is
//!   refused before any connect without `--allow-remote`, here and on an agent.
//! - `https`: `wsgibench load https://...` against a rustls server with certificates
//!   the test makes: --cacert, --insecure, each refusal counted and named once on
//!   stderr and in --json, a bad --cacert file refused naming it; `tsung` with ssl.
//! - `io_paths`: `--io uring` runs on a ring (its fd in /proc, no `sendto` under
//!   strace), `--io epoll` sends with `sendto`; under a seccomp filter denying
//!   `io_uring_setup`, `auto` falls back in one line and `uring` refuses.
//! - `misbehaving`: `wsgibench load`, on both I/O paths, against each misbehaving path
//!   of the test server (crates/testserver): the outcome in its table, no hang, every request counted,
//!   other connections carry on, the child's peak memory under a bound.
//!
//! Every run is bounded in requests and in time; load goes to 127.0.0.1 only.

mod agents;
mod bad_input;
mod connections;
mod https;
mod io_paths;
mod k8s_render;
mod load_args;
mod load_outputs;
mod misbehaving;
mod real_tsung;
mod real_tsung_dynamic;
mod remote;
mod several_servers;
mod tsung;
mod tsung_examples;
mod util;
