//! From the options, the cases and the suite to the objects of a run in a cluster,
//! grouped into the files `kubectl apply -f DIR` reads.
//!
//! One file per concern, numbered so `kubectl apply -f DIR` (which reads a folder in
//! name order) makes the Namespace first:
//!
//! | file | concern | objects |
//! |---|---|---|
//! | `00-namespace.yaml` | where it all lives | Namespace (Pod Security `restricted`) |
//! | `01-secret.yaml` | the agents' token | Secret `wsgibench-token` (key `token`) |
//! | `02-results.yaml` | results and history | PVC `wsgibench-results`, Deployment + Service `wsgibench-viewer` |
//! | `03-servers.yaml` | the servers under test | per case: Deployment + Service named after the case |
//! | `04-run.yaml` | one run | ConfigMap `wsgibench-run` (suite, script), headless Service `wsgibench-load`, Job or CronJob `wsgibench-run` |
//!
//! Labels: every object has `app.kubernetes.io/name: wsgibench` and
//! `app.kubernetes.io/managed-by: wsgibench-k8s-render`; pods also have
//! `app.kubernetes.io/component` (`server`, `load` or `viewer`), and servers
//! `wsgibench/case`. Selectors use the name, the component and the case.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::objects::*;
use crate::options::Options;
use crate::script;

pub const SECRET: &str = "wsgibench-token";
pub const SECRET_KEY: &str = "token";
pub const RESULTS_PVC: &str = "wsgibench-results";
pub const VIEWER: &str = "wsgibench-viewer";
pub const RUN_CONFIG: &str = "wsgibench-run";
pub const RUN: &str = "wsgibench-run";
/// The headless Service that is the Job's subdomain.
pub const LOAD_SERVICE: &str = "wsgibench-load";
/// Names a case may not take: its Service and Deployment would clash with these.
pub const RESERVED: &[&str] = &[VIEWER, LOAD_SERVICE, RESULTS_PVC, RUN];

pub const SERVER_PORT: u16 = 8000;
/// Where each server's sampler sidecar serves its CPU and memory (`wsgibench sample`).
pub const SAMPLER_PORT: u16 = 7702;
pub const AGENT_PORT: u16 = 7701;
pub const VIEWER_PORT: u16 = 8080;

/// Where the image keeps the checkout's python/ and suites/ (and the venv under
/// venv/): wsgibench finds its data files in its working directory.
pub const IMAGE_HOME: &str = "/opt/wsgibench";
/// Where the run's ConfigMap is mounted: `suite.toml` and `load.sh`.
pub const CONFIG_DIR: &str = "/etc/wsgibench";
pub const RESULTS_DIR: &str = "/results";
/// The image's user (deploy/Dockerfile makes it): not root, and owner of the results.
pub const UID: u32 = 10001;

/// How long the controller waits for agents and servers to be ready.
pub const READY_WAIT: Duration = Duration::from_secs(600);
/// Room in the Job's deadline past the cases: image pulls, the trend site.
const DEADLINE_SLACK: Duration = Duration::from_secs(900);

/// The results volume's size. Runs are small (a few MB each: intervals, summaries,
/// charts); this keeps years of nightly runs.
pub const RESULTS_SIZE: &str = "5Gi";

/// One file of the render.
#[derive(Debug, Clone)]
pub struct File {
    pub name: &'static str,
    /// What the file is for, written as its first line.
    pub about: &'static str,
    pub manifests: Vec<Manifest>,
}

/// What the objects are built from: the options, checked, and what was read.
pub struct Inputs<'a> {
    pub options: &'a Options,
    /// The cases, in the order asked; each name is a Service name.
    pub cases: Vec<&'a suite::Case>,
    pub suite: &'a suite::SuiteFile,
    /// The suite file's text, as it goes into the ConfigMap.
    pub suite_text: String,
    pub token: String,
}

pub fn build(inputs: &Inputs) -> Vec<File> {
    let o = inputs.options;
    vec![
        File {
            name: "00-namespace.yaml",
            about: "The namespace every object below lives in",
            manifests: vec![namespace(o)],
        },
        File {
            name: "01-secret.yaml",
            about: "The token agents and controller share: keep this file private (mode 0600)",
            manifests: vec![secret(o, &inputs.token)],
        },
        File {
            name: "02-results.yaml",
            about: "Results and history on a volume, and the viewer that serves them",
            manifests: vec![results_volume(o), viewer(o), viewer_service(o)],
        },
        File {
            name: "03-servers.yaml",
            about: "The servers under test: per case a Deployment and a Service, all up at once",
            manifests: inputs
                .cases
                .iter()
                .flat_map(|c| [server(o, c), server_service(o, c)])
                .collect(),
        },
        File {
            name: "04-run.yaml",
            about: "One run: the controller (index 0) and agents as one Indexed Job",
            manifests: vec![
                run_config(inputs),
                load_service(o),
                if o.schedule.is_some() {
                    cron_job(inputs)
                } else {
                    job(inputs)
                },
            ],
        },
    ]
}

fn meta(o: &Options, name: &str, component: Option<&str>, case: Option<&str>) -> ObjectMeta {
    let mut labels = pod_labels(component, case);
    labels.insert(
        "app.kubernetes.io/managed-by".into(),
        "wsgibench-k8s-render".into(),
    );
    ObjectMeta {
        name: name.to_string(),
        namespace: Some(o.namespace.clone()),
        labels,
        annotations: BTreeMap::new(),
    }
}

/// The labels a pod carries, which are also its selectors.
fn pod_labels(component: Option<&str>, case: Option<&str>) -> Labels {
    let mut l = Labels::new();
    l.insert("app.kubernetes.io/name".into(), "wsgibench".into());
    if let Some(c) = component {
        l.insert("app.kubernetes.io/component".into(), c.into());
    }
    if let Some(c) = case {
        l.insert("wsgibench/case".into(), c.into());
    }
    l
}

fn namespace(o: &Options) -> Manifest {
    let mut m = meta(o, &o.namespace, None, None);
    m.namespace = None;
    // Every pod here meets the "restricted" Pod Security level; enforcing it keeps
    // a hand edit from quietly loosening that.
    m.labels.insert(
        "pod-security.kubernetes.io/enforce".into(),
        "restricted".into(),
    );
    Manifest::Namespace(Object {
        api_version: "v1",
        kind: "Namespace",
        metadata: m,
        body: NamespaceBody {},
    })
}

fn secret(o: &Options, token: &str) -> Manifest {
    Manifest::Secret(Object {
        api_version: "v1",
        kind: "Secret",
        metadata: meta(o, SECRET, None, None),
        body: SecretBody {
            kind: "Opaque",
            string_data: BTreeMap::from([(SECRET_KEY.to_string(), token.to_string())]),
        },
    })
}

fn results_volume(o: &Options) -> Manifest {
    Manifest::PersistentVolumeClaim(Object {
        api_version: "v1",
        kind: "PersistentVolumeClaim",
        metadata: meta(o, RESULTS_PVC, None, None),
        body: Spec {
            spec: PvcSpec {
                access_modes: vec![o.results_access.api_name()],
                storage_class_name: o.storage_class.clone(),
                resources: StorageRequest {
                    requests: BTreeMap::from([("storage", RESULTS_SIZE.to_string())]),
                },
            },
        },
    })
}

/// Non-root, seccomp `RuntimeDefault`; `fs_group` for pods that write the volume.
fn pod_security(fs_group: bool) -> PodSecurityContext {
    PodSecurityContext {
        run_as_non_root: true,
        run_as_user: UID,
        run_as_group: UID,
        fs_group: fs_group.then_some(UID),
        fs_group_change_policy: fs_group.then_some("OnRootMismatch"),
        seccomp_profile: SeccompProfile {
            kind: "RuntimeDefault",
        },
    }
}

/// A pod spec with the defaults every pod here shares: no API token (nothing here
/// talks to the API server), no service links (a Service named `uwsgi` would set
/// `UWSGI_*` variables, which uWSGI reads as options).
fn pod(containers: Vec<Container>, fs_group: bool) -> PodSpec {
    PodSpec {
        restart_policy: None,
        subdomain: None,
        automount_service_account_token: false,
        enable_service_links: false,
        share_process_namespace: false,
        termination_grace_period_seconds: 30,
        security_context: pod_security(fs_group),
        affinity: None,
        topology_spread_constraints: Vec::new(),
        containers,
        volumes: Vec::new(),
    }
}

fn container(
    o: &Options,
    name: &'static str,
    command: Vec<String>,
    resources: Resources,
) -> Container {
    Container {
        name,
        image: o.image.clone(),
        image_pull_policy: "IfNotPresent",
        command,
        working_dir: IMAGE_HOME,
        env: Vec::new(),
        ports: Vec::new(),
        readiness_probe: None,
        resources,
        volume_mounts: Vec::new(),
        security_context: ContainerSecurityContext::restricted(),
    }
}

/// The measured pods' resources: whole CPUs, requests equal to limits.
fn measured(o: &Options) -> Resources {
    Resources::guaranteed(o.cpus.to_string(), o.memory.to_string())
}

/// Never on a node that runs a pod of `component`.
fn away_from(component: &str) -> Affinity {
    Affinity {
        pod_anti_affinity: PodAntiAffinity {
            required_during_scheduling_ignored_during_execution: vec![PodAffinityTerm {
                label_selector: LabelSelector {
                    match_labels: pod_labels(Some(component), None),
                },
                topology_key: "kubernetes.io/hostname",
            }],
        },
    }
}

fn ready_http(port: u16) -> Probe {
    Probe {
        check: ProbeCheck::HttpGet { path: "/", port },
        period_seconds: 2,
        timeout_seconds: 2,
        failure_threshold: 3,
    }
}

fn server(o: &Options, case: &suite::Case) -> Manifest {
    let labels = pod_labels(Some("server"), Some(&case.name));
    let mut c = container(
        o,
        "server",
        vec![
            "wsgibench".into(),
            "serve-case".into(),
            case.name.clone(),
            "--port".into(),
            SERVER_PORT.to_string(),
        ],
        measured(o),
    );
    c.ports = vec![ContainerPort {
        name: "http",
        container_port: SERVER_PORT,
        protocol: "TCP",
    }];
    c.readiness_probe = Some(ready_http(SERVER_PORT));
    // The server's CPU and memory, read from beside it: `/proc` of the shared process
    // namespace, served to the controller (`run --samplers-at`).
    let mut sampler = container(
        o,
        "sampler",
        vec![
            "wsgibench".into(),
            "sample".into(),
            "--listen".into(),
            format!("0.0.0.0:{SAMPLER_PORT}"),
        ],
        Resources::guaranteed("100m".into(), "64Mi".into()),
    );
    sampler.ports = vec![ContainerPort {
        name: "sampler",
        container_port: SAMPLER_PORT,
        protocol: "TCP",
    }];
    sampler.readiness_probe = Some(Probe {
        check: ProbeCheck::HttpGet {
            path: "/samples",
            port: SAMPLER_PORT,
        },
        ..ready_http(SAMPLER_PORT)
    });
    let mut spec = pod(vec![c, sampler], false);
    spec.share_process_namespace = true;
    spec.affinity = Some(away_from("load"));
    let mut m = meta(o, &case.name, Some("server"), Some(&case.name));
    if !case.description.is_empty() {
        m.annotations
            .insert("kubernetes.io/description".into(), case.description.clone());
    }
    // One server per case at a time: a rolling update would run two.
    single_deployment(m, labels, spec)
}

/// A Deployment of one pod, replaced rather than rolled: never two at once.
fn single_deployment(metadata: ObjectMeta, labels: Labels, spec: PodSpec) -> Manifest {
    Manifest::Deployment(Object {
        api_version: "apps/v1",
        kind: "Deployment",
        metadata,
        body: Spec {
            spec: DeploymentSpec {
                replicas: 1,
                selector: LabelSelector {
                    match_labels: labels.clone(),
                },
                strategy: Strategy { kind: "Recreate" },
                template: PodTemplateSpec {
                    metadata: TemplateMeta {
                        labels,
                        annotations: BTreeMap::new(),
                    },
                    spec,
                },
            },
        },
    })
}

fn service(
    o: &Options,
    name: &str,
    meta_labels: (Option<&str>, Option<&str>),
    selector: Labels,
    headless: bool,
    ports: &[(&'static str, u16)],
) -> Manifest {
    Manifest::Service(Object {
        api_version: "v1",
        kind: "Service",
        metadata: meta(o, name, meta_labels.0, meta_labels.1),
        body: Spec {
            spec: ServiceSpec {
                cluster_ip: headless.then_some("None"),
                selector,
                ports: ports
                    .iter()
                    .map(|&(name, port)| ServicePort {
                        name,
                        port,
                        target_port: port,
                        protocol: "TCP",
                    })
                    .collect(),
            },
        },
    })
}

/// The case's Service, named after the case: the controller reaches it as
/// `<case>.<namespace>.svc.cluster.local:8000` (`--servers-at`).
fn server_service(o: &Options, case: &suite::Case) -> Manifest {
    service(
        o,
        &case.name,
        (Some("server"), Some(&case.name)),
        pod_labels(Some("server"), Some(&case.name)),
        false,
        &[("http", SERVER_PORT), ("sampler", SAMPLER_PORT)],
    )
}

fn viewer(o: &Options) -> Manifest {
    let labels = pod_labels(Some("viewer"), None);
    let mut c = container(
        o,
        "viewer",
        [
            "python3",
            "-m",
            "http.server",
            &VIEWER_PORT.to_string(),
            "--directory",
            RESULTS_DIR,
        ]
        .map(String::from)
        .to_vec(),
        // Small and Guaranteed too: it shares no CPU budget with the measured pods.
        Resources::guaranteed("250m".into(), "128Mi".into()),
    );
    c.ports = vec![ContainerPort {
        name: "http",
        container_port: VIEWER_PORT,
        protocol: "TCP",
    }];
    c.readiness_probe = Some(ready_http(VIEWER_PORT));
    c.volume_mounts = vec![VolumeMount {
        name: "results",
        mount_path: RESULTS_DIR,
        read_only: true,
    }];
    let mut spec = pod(vec![c], false);
    spec.volumes = vec![results_volume_ref(true)];
    // A ReadWriteOnce volume cannot follow a second pod to another node.
    single_deployment(meta(o, VIEWER, Some("viewer"), None), labels, spec)
}

fn viewer_service(o: &Options) -> Manifest {
    service(
        o,
        VIEWER,
        (Some("viewer"), None),
        pod_labels(Some("viewer"), None),
        false,
        &[("http", VIEWER_PORT)],
    )
}

fn results_volume_ref(read_only: bool) -> Volume {
    Volume {
        name: "results",
        source: VolumeSource::PersistentVolumeClaim {
            claim_name: RESULTS_PVC.into(),
            read_only,
        },
    }
}

fn run_config(inputs: &Inputs) -> Manifest {
    let o = inputs.options;
    Manifest::ConfigMap(Object {
        api_version: "v1",
        kind: "ConfigMap",
        metadata: meta(o, RUN_CONFIG, None, None),
        body: ConfigMapBody {
            data: BTreeMap::from([
                ("suite.toml".to_string(), inputs.suite_text.clone()),
                ("load.sh".to_string(), script::load_script(inputs)),
            ]),
        },
    })
}

/// The headless Service whose name is the Job's `subdomain`: it gives each ready pod
/// of the run the DNS name `<job>-<index>.wsgibench-load.<namespace>.svc.cluster.local`.
fn load_service(o: &Options) -> Manifest {
    service(
        o,
        LOAD_SERVICE,
        (Some("load"), None),
        pod_labels(Some("load"), None),
        true,
        &[("agent", AGENT_PORT)],
    )
}

/// The Job's spec, shared by the bare Job and the CronJob's template.
fn job_spec(inputs: &Inputs) -> JobSpec {
    let o = inputs.options;
    let mut c = container(
        o,
        "wsgibench",
        vec!["/bin/sh".into(), format!("{CONFIG_DIR}/load.sh")],
        measured(o),
    );
    c.env = vec![
        EnvVar {
            name: "JOB_NAME",
            value: None,
            value_from: Some(EnvVarSource::FieldRef(FieldSelector {
                field_path: "metadata.labels['batch.kubernetes.io/job-name']".into(),
            })),
        },
        EnvVar {
            name: "WSGIBENCH_TOKEN",
            value: None,
            value_from: Some(EnvVarSource::SecretKeyRef(KeySelector {
                name: SECRET.into(),
                key: SECRET_KEY,
            })),
        },
    ];
    c.ports = vec![ContainerPort {
        name: "agent",
        container_port: AGENT_PORT,
        protocol: "TCP",
    }];
    c.readiness_probe = Some(Probe {
        check: ProbeCheck::Exec {
            command: vec!["/bin/sh".into(), "-c".into(), script::agent_ready_check()],
        },
        period_seconds: 2,
        timeout_seconds: 2,
        failure_threshold: 3,
    });
    c.volume_mounts = vec![
        VolumeMount {
            name: "run",
            mount_path: CONFIG_DIR,
            read_only: true,
        },
        VolumeMount {
            name: "results",
            mount_path: RESULTS_DIR,
            read_only: false,
        },
    ];
    let mut spec = pod(vec![c], true);
    // Any failure ends the run: a controller started again would find its agents
    // gone (each serves one controller), and agents waiting for a dead controller
    // would hold the Job open until its deadline.
    spec.restart_policy = Some("Never");
    spec.subdomain = Some(LOAD_SERVICE.into());
    spec.affinity = Some(away_from("server"));
    spec.topology_spread_constraints = vec![TopologySpreadConstraint {
        max_skew: 1,
        topology_key: "kubernetes.io/hostname",
        // Spread when the nodes allow; more agents than nodes still run.
        when_unsatisfiable: "ScheduleAnyway",
        label_selector: LabelSelector {
            match_labels: pod_labels(Some("load"), None),
        },
    }];
    spec.volumes = vec![
        Volume {
            name: "run",
            source: VolumeSource::ConfigMap {
                name: RUN_CONFIG.into(),
            },
        },
        results_volume_ref(false),
    ];
    JobSpec {
        completion_mode: "Indexed",
        completions: o.agents + 1,
        parallelism: o.agents + 1,
        backoff_limit: 0,
        active_deadline_seconds: deadline(inputs).as_secs(),
        template: PodTemplateSpec {
            metadata: TemplateMeta {
                labels: pod_labels(Some("load"), None),
                annotations: BTreeMap::new(),
            },
            spec,
        },
    }
}

/// The whole run's limit: the wait for readiness, then for each case the server's
/// readiness timeout, the protocol's length and its cool-down (with a minute's room),
/// then slack for image pulls and the trend site. Past it, Kubernetes ends the Job.
pub fn deadline(inputs: &Inputs) -> Duration {
    let s = inputs.suite;
    let per_case = s.ready_timeout + s.duration + s.cool_down + Duration::from_secs(60);
    READY_WAIT + per_case * inputs.cases.len() as u32 + DEADLINE_SLACK
}

fn job(inputs: &Inputs) -> Manifest {
    let o = inputs.options;
    Manifest::Job(Object {
        api_version: "batch/v1",
        kind: "Job",
        metadata: meta(o, RUN, Some("load"), None),
        body: Spec {
            spec: job_spec(inputs),
        },
    })
}

fn cron_job(inputs: &Inputs) -> Manifest {
    let o = inputs.options;
    Manifest::CronJob(Object {
        api_version: "batch/v1",
        kind: "CronJob",
        metadata: meta(o, RUN, Some("load"), None),
        body: Spec {
            spec: CronJobSpec {
                schedule: o.schedule.clone().unwrap_or_default(),
                time_zone: "Etc/UTC",
                // A run still going when the next is due: skip the next, never overlap
                // two runs on the same servers.
                concurrency_policy: "Forbid",
                starting_deadline_seconds: 3600,
                successful_jobs_history_limit: 3,
                failed_jobs_history_limit: 3,
                job_template: JobTemplateSpec {
                    metadata: TemplateMeta {
                        labels: pod_labels(Some("load"), None),
                        annotations: BTreeMap::new(),
                    },
                    spec: job_spec(inputs),
                },
            },
        },
    })
}
