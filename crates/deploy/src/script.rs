//! The shell the run's pods execute: `load.sh` (in the run's ConfigMap) and the
//! agents' readiness check.
//!
//! An Indexed Job has one pod template for every index, so one script decides by
//! `JOB_COMPLETION_INDEX` (which Kubernetes sets) whether its pod is the controller
//! (index 0) or an agent. Every value in it comes from the render's options and was
//! checked there: case names, the namespace and the Service names are DNS labels,
//! so they need no shell quoting.

use std::fmt::Write;

use crate::manifests::{
    Inputs, AGENT_PORT, CONFIG_DIR, LOAD_SERVICE, READY_WAIT, RESULTS_DIR, SAMPLER_PORT,
    SERVER_PORT,
};

/// The DNS suffix of Services: the cluster domain is assumed to be `cluster.local`,
/// the default of kubeadm, kind, k3s and the managed clouds.
pub const CLUSTER_DOMAIN: &str = "svc.cluster.local";

/// `--servers-at`'s template: `{case}` is the controller's to fill in.
pub fn servers_at(namespace: &str) -> String {
    format!("{{case}}.{namespace}.{CLUSTER_DOMAIN}:{SERVER_PORT}")
}

/// `--samplers-at`'s template: each server's sampler sidecar, on the same Service.
pub fn samplers_at(namespace: &str) -> String {
    format!("{{case}}.{namespace}.{CLUSTER_DOMAIN}:{SAMPLER_PORT}")
}

/// The agents' addresses as the controller is given them: `${JOB_NAME}` is left for
/// the shell, since a CronJob names each Job it starts.
pub fn agents_list(namespace: &str, agents: u32) -> String {
    (1..=agents)
        .map(|i| {
            format!("${{JOB_NAME}}-{i}.{LOAD_SERVICE}.{namespace}.{CLUSTER_DOMAIN}:{AGENT_PORT}")
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// The readiness check of the run's pods. The controller is ready at once. An agent is
/// ready once something listens on its port, read from `/proc/net/tcp{,6}` (state 0A
/// is LISTEN) rather than by connecting: a connection would use up the one controller
/// an agent serves (`--once`).
pub fn agent_ready_check() -> String {
    format!(
        "[ \"$JOB_COMPLETION_INDEX\" = 0 ] || grep -qs ':{AGENT_PORT:04X} [0-9A-F]*:0000 0A ' /proc/net/tcp /proc/net/tcp6"
    )
}

pub fn load_script(inputs: &Inputs) -> String {
    let o = inputs.options;
    let ns = &o.namespace;
    let cases: Vec<&str> = inputs.cases.iter().map(|c| c.name.as_str()).collect();
    let servers: Vec<String> = cases
        .iter()
        .map(|c| format!("{c}.{ns}.{CLUSTER_DOMAIN}:{SERVER_PORT}"))
        .collect();
    let wait_s = READY_WAIT.as_secs();
    let wait_min = wait_s / 60;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"#!/bin/sh
# One pod of a wsgibench run, as `wsgibench k8s render` wrote it: render again
# rather than edit, since the flags below come from its options.
#
# The run is an Indexed Job, so Kubernetes sets JOB_COMPLETION_INDEX: index 0 is the
# controller, every other index an agent. The Job's subdomain (the headless Service
# {LOAD_SERVICE}) gives each pod the name <job>-<index>.{LOAD_SERVICE}.{ns}.{CLUSTER_DOMAIN}.
# JOB_NAME comes from the pod's job-name label, so one script serves a Job and the
# Jobs a CronJob starts. WSGIBENCH_TOKEN comes from the Secret.
set -u

if [ "$JOB_COMPLETION_INDEX" != 0 ]; then
    # An agent: it runs the share of load the controller sends, serves that one
    # controller (--once) and exits, so the Job completes and the next run can start.
    exec wsgibench agent --listen 0.0.0.0:{AGENT_PORT} --allow-remote --once
fi

agents="{agents}"

# No fixed sleep: wait (at most {wait_min} minutes) until every agent and server is ready.
# An agent's name is in DNS once its readiness probe passes (a headless Service
# publishes ready pods only); resolving it is the test that leaves the agent alone,
# where a connection would use up its one controller. A server is ready when it
# answers GET / with 200. What is still not ready then, the run reports per case.
python3 - "$agents" {servers} <<'EOF'
import socket, sys, time, urllib.request

deadline = time.monotonic() + {wait_s}
agents = [a.rsplit(":", 1)[0] for a in sys.argv[1].split(",")]

def resolves(host):
    try:
        return bool(socket.getaddrinfo(host, None))
    except OSError:
        return False

def answers(address):
    try:
        with urllib.request.urlopen("http://%s/" % address, timeout=2) as r:
            return r.status == 200
    except Exception:
        return False

waiting = [("agent", a, resolves) for a in agents]
waiting += [("server", s, answers) for s in sys.argv[2:]]
while waiting and time.monotonic() < deadline:
    waiting = [w for w in waiting if not w[2](w[1])]
    if waiting:
        time.sleep(2)
for kind, name, _ in waiting:
    print("not ready after {wait_min} minutes: %s %s" % (kind, name), file=sys.stderr)
EOF

out="{RESULTS_DIR}/runs/$(date -u +%Y-%m-%dT%H-%M-%SZ)"
wsgibench run --suite {CONFIG_DIR}/suite.toml --cases {cases} \
    --agents "$agents" \
    --servers-at '{servers_at}' \
    --samplers-at '{samplers_at}' \
    --allow-remote --out "$out" --db {RESULTS_DIR}/history.sqlite3
status=$?

# The trend across runs, rebuilt after every run (a failed one too: the earlier
# runs still deserve their page). The viewer serves it at /site/.
wsgibench history --db {RESULTS_DIR}/history.sqlite3 --html {RESULTS_DIR}/site \
    || echo "wsgibench history --html failed; the run's own folder is $out" >&2
exit "$status"
"#,
        agents = agents_list(ns, o.agents),
        servers = servers.join(" "),
        cases = cases.join(","),
        servers_at = servers_at(ns),
        samplers_at = samplers_at(ns),
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_agent_port_is_written_as_proc_net_tcp_writes_it() {
        // /proc/net/tcp: "   0: 00000000:1E15 00000000:0000 0A ..." for 0.0.0.0:7701.
        assert!(agent_ready_check().contains(":1E15 [0-9A-F]*:0000 0A "));
    }

    #[test]
    fn agents_are_the_job_pods_from_index_one() {
        assert_eq!(
            agents_list("ns", 2),
            "${JOB_NAME}-1.wsgibench-load.ns.svc.cluster.local:7701,${JOB_NAME}-2.wsgibench-load.ns.svc.cluster.local:7701"
        );
        assert_eq!(servers_at("ns"), "{case}.ns.svc.cluster.local:8000");
    }
}
