//! The wiring between objects, which no schema checks: each option set is rendered,
//! read back as plain values, and every reference followed.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::util::*;

/// Everything below, for one option set; failures name the set and the object.
fn check(set: &Set) {
    let r = render(&set.options);
    let objs = read_objects(r.dir.path());
    let o = &set.options;
    let what = set.name;
    namespaces(&objs, o, what);
    services_reach_their_pods(&objs, o, what);
    the_job_is_indexed_behind_its_headless_service(&objs, o, what);
    references_exist(&objs, what);
    the_controller_is_given_the_jobs_pods_and_the_servers(&objs, o, &r.out.cases, what);
    samplers_are_wired(&objs, what);
    resources_are_guaranteed(&objs, o, what);
    agents_and_servers_never_share_a_node(&objs, what);
    pods_are_locked_down(&objs, what);
}

#[test]
fn every_option_set_is_wired() {
    for set in sets() {
        check(&set);
    }
}

fn namespaces(objs: &[Obj], o: &deploy::Options, what: &str) {
    let ns: Vec<&Obj> = objs.iter().filter(|x| x.kind() == "Namespace").collect();
    assert_eq!(ns.len(), 1, "{what}: one Namespace");
    assert_eq!(ns[0].name(), o.namespace, "{what}");
    assert_eq!(
        objs.first().map(|x| x.kind()),
        Some("Namespace"),
        "{what}: the Namespace comes first, so `kubectl apply -f DIR` makes it before the rest"
    );
    for x in objs.iter().filter(|x| x.kind() != "Namespace") {
        assert_eq!(
            x.value["metadata"]["namespace"].as_str(),
            Some(o.namespace.as_str()),
            "{what}: {}",
            x.id()
        );
    }
}

fn workloads(objs: &[Obj]) -> Vec<&Obj> {
    objs.iter().filter(|x| pod_template(x).is_some()).collect()
}

fn services(objs: &[Obj]) -> Vec<&Obj> {
    objs.iter().filter(|x| x.kind() == "Service").collect()
}

/// Each Service selects the pods of exactly one workload, the one it is for, and its
/// target port is a port those pods declare. Each Deployment's selector matches its
/// own template.
fn services_reach_their_pods(objs: &[Obj], o: &deploy::Options, what: &str) {
    for w in workloads(objs).iter().filter(|w| w.kind() == "Deployment") {
        assert!(
            selects(
                &w.value["spec"]["selector"]["matchLabels"],
                &pod_template(w).unwrap()["metadata"]["labels"]
            ),
            "{what}: {}'s selector does not match its own pods",
            w.id()
        );
    }
    let run_kind = if o.schedule.is_some() {
        "CronJob"
    } else {
        "Job"
    };
    for svc in services(objs) {
        let selector = &svc.value["spec"]["selector"];
        let reached: Vec<&Obj> = workloads(objs)
            .into_iter()
            .filter(|w| selects(selector, &pod_template(w).unwrap()["metadata"]["labels"]))
            .collect();
        let expected = match svc.name() {
            "wsgibench-load" => (run_kind, "wsgibench-run"),
            "wsgibench-viewer" => ("Deployment", "wsgibench-viewer"),
            case => ("Deployment", case),
        };
        let ids: Vec<String> = reached.iter().map(|w| w.id()).collect();
        assert!(
            reached.len() == 1 && (reached[0].kind(), reached[0].name()) == expected,
            "{what}: {} should reach the pods of {}/{} only; it reaches {ids:?}",
            svc.id(),
            expected.0,
            expected.1
        );
        let declared: BTreeSet<u64> = pod_template(reached[0]).unwrap()["spec"]["containers"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|c| c["ports"].as_array().cloned().unwrap_or_default())
            .filter_map(|p| p["containerPort"].as_u64())
            .collect();
        for port in svc.value["spec"]["ports"].as_array().unwrap() {
            let target = port["targetPort"].as_u64().unwrap();
            assert!(
                declared.contains(&target),
                "{what}: {} targets port {target}, which its pods do not declare ({declared:?})",
                svc.id()
            );
        }
    }
}

/// One Job (or CronJob), Indexed, controller plus agents, bounded in time and
/// retries, whose pods' subdomain is a headless Service selecting them.
fn the_job_is_indexed_behind_its_headless_service(objs: &[Obj], o: &deploy::Options, what: &str) {
    let runs: Vec<&Obj> = objs.iter().filter(|x| job_spec(x).is_some()).collect();
    assert_eq!(runs.len(), 1, "{what}: one Job or CronJob");
    let run = runs[0];
    match &o.schedule {
        Some(schedule) => {
            assert_eq!(run.kind(), "CronJob", "{what}");
            assert_eq!(
                run.value["spec"]["schedule"].as_str(),
                Some(schedule.as_str())
            );
            assert_eq!(run.value["spec"]["concurrencyPolicy"], "Forbid", "{what}");
        }
        None => assert_eq!(run.kind(), "Job", "{what}"),
    }
    let job = job_spec(run).unwrap();
    assert_eq!(job["completionMode"], "Indexed", "{what}");
    let pods = u64::from(o.agents) + 1;
    assert_eq!(
        job["completions"].as_u64(),
        Some(pods),
        "{what}: completions"
    );
    assert_eq!(
        job["parallelism"].as_u64(),
        Some(pods),
        "{what}: parallelism"
    );
    assert!(
        job["backoffLimit"].as_u64().is_some(),
        "{what}: backoffLimit set"
    );
    assert!(
        job["activeDeadlineSeconds"].as_u64().is_some_and(|s| s > 0),
        "{what}: activeDeadlineSeconds set, so the run cannot hang forever"
    );
    let pod = &pod_template(run).unwrap()["spec"];
    assert_eq!(pod["restartPolicy"], "Never", "{what}");
    let subdomain = pod["subdomain"]
        .as_str()
        .expect("the Job's pods have a subdomain");
    let headless = services(objs)
        .into_iter()
        .find(|s| s.name() == subdomain)
        .unwrap_or_else(|| panic!("{what}: no Service named after the subdomain {subdomain}"));
    assert_eq!(
        headless.value["spec"]["clusterIP"], "None",
        "{what}: the subdomain's Service is headless"
    );
    assert!(
        selects(
            &headless.value["spec"]["selector"],
            &pod_template(run).unwrap()["metadata"]["labels"]
        ),
        "{what}: the headless Service selects the Job's pods"
    );
}

/// Every Secret key, PVC and ConfigMap a pod names exists, and every volume mount
/// names a volume of its pod.
fn references_exist(objs: &[Obj], what: &str) {
    let named = |kind: &str, name: &str| {
        objs.iter()
            .find(|x| x.kind() == kind && x.name() == name)
            .map(|x| &x.value)
    };
    for w in workloads(objs) {
        let pod = &pod_template(w).unwrap()["spec"];
        let volumes = pod["volumes"].as_array().cloned().unwrap_or_default();
        for v in &volumes {
            if let Some(claim) = v["persistentVolumeClaim"]["claimName"].as_str() {
                assert!(
                    named("PersistentVolumeClaim", claim).is_some(),
                    "{what}: {} claims {claim}, which is not rendered",
                    w.id()
                );
            }
            if let Some(cm) = v["configMap"]["name"].as_str() {
                assert!(
                    named("ConfigMap", cm).is_some(),
                    "{what}: {} mounts ConfigMap {cm}, which is not rendered",
                    w.id()
                );
            }
        }
        let volume_names: BTreeSet<&str> =
            volumes.iter().filter_map(|v| v["name"].as_str()).collect();
        for c in pod["containers"].as_array().unwrap() {
            for m in c["volumeMounts"].as_array().cloned().unwrap_or_default() {
                let name = m["name"].as_str().unwrap().to_string();
                assert!(
                    volume_names.contains(name.as_str()),
                    "{what}: {} mounts {name}, not a volume of its pod",
                    w.id()
                );
            }
            for e in c["env"].as_array().cloned().unwrap_or_default() {
                let r = &e["valueFrom"]["secretKeyRef"];
                if r.is_null() {
                    continue;
                }
                let (name, key) = (r["name"].as_str().unwrap(), r["key"].as_str().unwrap());
                let secret = named("Secret", name)
                    .unwrap_or_else(|| panic!("{what}: {} needs Secret {name}", w.id()));
                let has = ["data", "stringData"]
                    .iter()
                    .any(|field| secret[field].get(key).is_some());
                assert!(
                    has,
                    "{what}: Secret {name} has no key {key}, which {} reads",
                    w.id()
                );
            }
        }
    }
}

/// The run script's controller command: `--agents` names exactly the Job's pods 1..N
/// under the headless Service, `--cases` the rendered cases, and `--servers-at` with
/// each case filled in reaches that case's Service and port.
fn the_controller_is_given_the_jobs_pods_and_the_servers(
    objs: &[Obj],
    o: &deploy::Options,
    cases: &[String],
    what: &str,
) {
    let run = objs.iter().find(|x| job_spec(x).is_some()).unwrap();
    let pod = &pod_template(run).unwrap()["spec"];
    let container = &pod["containers"][0];
    let command = strings(&container["command"]);
    let script_path = command.last().expect("a command").clone();

    // The script comes from the ConfigMap mounted where the command runs it.
    let mount = container["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| script_path.starts_with(m["mountPath"].as_str().unwrap()))
        .unwrap_or_else(|| panic!("{what}: {script_path} is on no mounted volume"));
    let volume = pod["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == mount["name"])
        .unwrap();
    let cm_name = volume["configMap"]["name"]
        .as_str()
        .expect("a ConfigMap volume");
    let cm = objs
        .iter()
        .find(|x| x.kind() == "ConfigMap" && x.name() == cm_name)
        .unwrap();
    let key = script_path
        .strip_prefix(mount["mountPath"].as_str().unwrap())
        .unwrap()
        .trim_start_matches('/');
    let script = cm.value["data"][key]
        .as_str()
        .unwrap_or_else(|| panic!("{what}: ConfigMap {cm_name} has no {key}"));
    assert!(
        cm.value["data"]["suite.toml"].is_string()
            && script.contains("--suite /etc/wsgibench/suite.toml"),
        "{what}: the suite file is in the ConfigMap, and the controller reads it"
    );

    // JOB_NAME is the pod's Job, from its label.
    let job_name_env = container["env"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "JOB_NAME")
        .expect("JOB_NAME in the env");
    assert_eq!(
        job_name_env["valueFrom"]["fieldRef"]["fieldPath"],
        "metadata.labels['batch.kubernetes.io/job-name']",
        "{what}"
    );
    // A Job keeps its name; a CronJob's Jobs are named <cronjob>-<minutes>.
    let job_name = match run.kind() {
        "Job" => run.name().to_string(),
        _ => format!("{}-29000000", run.name()),
    };

    let agents_line = script
        .lines()
        .find_map(|l| l.strip_prefix("agents=\""))
        .and_then(|l| l.strip_suffix('"'))
        .expect("an agents= line in the script");
    let start = script
        .find("\nwsgibench run ")
        .expect("the controller's `wsgibench run` line");
    let run_cmd = script[start + 1..].replace("\\\n", " ");
    let run_args: Vec<&str> = run_cmd.lines().next().unwrap().split_whitespace().collect();
    let flag = |name: &str| {
        run_args
            .iter()
            .position(|a| *a == name)
            .map(|i| run_args[i + 1].trim_matches(|c| c == '"' || c == '\''))
            .unwrap_or_else(|| panic!("{what}: the controller has no {name}: {run_args:?}"))
    };
    assert_eq!(flag("--agents"), "$agents", "{what}");
    for needed in ["--allow-remote", "--out", "--db"] {
        assert!(
            run_args.contains(&needed),
            "{what}: the controller needs {needed}"
        );
    }

    let subdomain = pod["subdomain"].as_str().unwrap();
    let agent_port = container["ports"][0]["containerPort"].as_u64().unwrap();
    let agents: Vec<String> = agents_line
        .replace("${JOB_NAME}", &job_name)
        .split(',')
        .map(String::from)
        .collect();
    let expected: Vec<String> = (1..=o.agents)
        .map(|i| {
            format!(
                "{job_name}-{i}.{subdomain}.{}.svc.cluster.local:{agent_port}",
                o.namespace
            )
        })
        .collect();
    assert_eq!(
        agents, expected,
        "{what}: --agents must be the Job's pods 1..={} (<job>-<index>.<subdomain>)",
        o.agents
    );

    assert_eq!(flag("--cases"), cases.join(","), "{what}");
    let template = flag("--servers-at");
    for case in cases {
        let address = template.replace("{case}", case);
        let (host, port) = address.rsplit_once(':').unwrap();
        let svc_name = host
            .strip_suffix(&format!(".{}.svc.cluster.local", o.namespace))
            .unwrap_or_else(|| panic!("{what}: {address} is not a Service of {}", o.namespace));
        let svc = services(objs)
            .into_iter()
            .find(|s| s.name() == svc_name)
            .unwrap_or_else(|| panic!("{what}: no Service {svc_name} for case {case}"));
        assert!(
            svc.value["spec"]["ports"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["port"].as_u64().map(|p| p.to_string()) == Some(port.to_string())),
            "{what}: Service {svc_name} has no port {port}"
        );
        let server = objs
            .iter()
            .find(|x| x.kind() == "Deployment" && x.name() == case)
            .unwrap_or_else(|| panic!("{what}: no Deployment for case {case}"));
        assert!(
            selects(
                &svc.value["spec"]["selector"],
                &pod_template(server).unwrap()["metadata"]["labels"]
            ),
            "{what}: {address} does not reach case {case}'s pods"
        );
        assert_eq!(
            strings(&pod_template(server).unwrap()["spec"]["containers"][0]["command"]),
            ["wsgibench", "serve-case", case, "--port", port],
            "{what}: case {case}'s server"
        );
    }
}

/// A server pod shares its process namespace with its sampler, whose port the case's
/// Service exposes, and the controller is told where the samplers are.
fn samplers_are_wired(objs: &[Obj], what: &str) {
    for w in workloads(objs) {
        let pod = &pod_template(w).unwrap()["spec"];
        let names: Vec<&str> = pod["containers"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|c| c["name"].as_str())
            .collect();
        if names.contains(&"server") {
            assert_eq!(names, ["server", "sampler"], "{what}: {}", w.id());
            assert_eq!(pod["shareProcessNamespace"], true, "{what}: {}", w.id());
        }
    }
}

/// Every container's requests equal its limits, CPU and memory (Guaranteed QoS); the
/// measured containers (servers and the run's) get `--cpus` whole CPUs and `--memory`;
/// a server's sampler sidecar has a small fixed share.
fn resources_are_guaranteed(objs: &[Obj], o: &deploy::Options, what: &str) {
    for w in workloads(objs) {
        let pod = &pod_template(w).unwrap()["spec"];
        let measured = w.name() != "wsgibench-viewer";
        for c in pod["containers"].as_array().unwrap() {
            let measured = measured && c["name"] != "sampler";
            let res = &c["resources"];
            for q in ["cpu", "memory"] {
                assert!(
                    res["requests"][q].is_string(),
                    "{what}: {} requests no {q}",
                    w.id()
                );
                assert_eq!(
                    res["requests"][q],
                    res["limits"][q],
                    "{what}: {}: {q} requests must equal limits",
                    w.id()
                );
            }
            if measured {
                assert_eq!(
                    res["limits"]["cpu"],
                    Value::from(o.cpus.to_string()),
                    "{what}: {}",
                    w.id()
                );
                assert_eq!(
                    res["limits"]["memory"],
                    Value::from(o.memory.to_string()),
                    "{what}: {}",
                    w.id()
                );
            }
            assert!(
                c["readinessProbe"].is_object(),
                "{what}: {} has no readiness probe",
                w.id()
            );
        }
    }
}

/// Servers keep away from load pods and load pods from servers, per node (required),
/// and the load pods spread over nodes.
fn agents_and_servers_never_share_a_node(objs: &[Obj], what: &str) {
    let run = objs.iter().find(|x| job_spec(x).is_some()).unwrap();
    let run_labels = &pod_template(run).unwrap()["metadata"]["labels"];
    let servers: Vec<&Obj> = workloads(objs)
        .into_iter()
        .filter(|w| w.kind() == "Deployment" && w.name() != "wsgibench-viewer")
        .collect();
    assert!(!servers.is_empty(), "{what}: no server");
    let away = |w: &Obj| -> Vec<Value> {
        pod_template(w).unwrap()["spec"]["affinity"]["podAntiAffinity"]
            ["requiredDuringSchedulingIgnoredDuringExecution"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    };
    for s in &servers {
        let labels = &pod_template(s).unwrap()["metadata"]["labels"];
        let keeps_off = |from: &Obj, to: &Value| {
            away(from).iter().any(|t| {
                t["topologyKey"] == "kubernetes.io/hostname"
                    && selects(&t["labelSelector"]["matchLabels"], to)
            })
        };
        assert!(
            keeps_off(s, run_labels),
            "{what}: {} may share a node with the load",
            s.id()
        );
        assert!(
            keeps_off(run, labels),
            "{what}: the load may share a node with {}",
            s.id()
        );
        assert!(
            !keeps_off(s, labels),
            "{what}: {} must not repel itself",
            s.id()
        );
    }
    let spread = &pod_template(run).unwrap()["spec"]["topologySpreadConstraints"][0];
    assert_eq!(spread["topologyKey"], "kubernetes.io/hostname", "{what}");
    assert!(
        selects(&spread["labelSelector"]["matchLabels"], run_labels),
        "{what}: the spread counts the load pods"
    );
}

/// Every pod: non-root, seccomp RuntimeDefault, no API token, no privilege escalation.
fn pods_are_locked_down(objs: &[Obj], what: &str) {
    for w in workloads(objs) {
        let pod = &pod_template(w).unwrap()["spec"];
        let sc = &pod["securityContext"];
        assert_eq!(
            sc["seccompProfile"]["type"],
            "RuntimeDefault",
            "{what}: {}",
            w.id()
        );
        assert_eq!(sc["runAsNonRoot"], true, "{what}: {}", w.id());
        assert_eq!(
            pod["automountServiceAccountToken"],
            false,
            "{what}: {}",
            w.id()
        );
        assert_eq!(pod["enableServiceLinks"], false, "{what}: {}", w.id());
        for c in pod["containers"].as_array().unwrap() {
            assert_eq!(
                c["securityContext"]["allowPrivilegeEscalation"],
                false,
                "{what}: {}",
                w.id()
            );
        }
    }
}
