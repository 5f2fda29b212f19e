//! Option sets, rendering them into temporary folders, and reading the YAML back.

use std::path::{Path, PathBuf};

use serde_json::Value;

pub const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

pub fn repo(path: &str) -> PathBuf {
    Path::new(ROOT).join(path)
}

/// The options every set starts from: the checkout's catalog and original suite.
pub fn base() -> deploy::Options {
    deploy::Options {
        catalog: Some(repo("suites/servers.toml")),
        suite: Some(repo("suites/original.toml")),
        ..deploy::Options::default()
    }
}

/// A render's options with a name for messages.
pub struct Set {
    pub name: &'static str,
    pub options: deploy::Options,
}

/// Option sets that between them take every branch: every case and the defaults; one
/// case, one agent, another suite, namespace, storage class and access mode; a
/// CronJob with 64 agents and bigger pods.
pub fn sets() -> Vec<Set> {
    vec![
        Set {
            name: "defaults, every case",
            options: base(),
        },
        Set {
            name: "one case, one agent, quick suite, rwo storage",
            options: deploy::Options {
                cases: vec!["bjoern".into()],
                agents: 1,
                suite: Some(repo("suites/quick.toml")),
                namespace: "bench-a".into(),
                storage_class: Some("local-path".into()),
                results_access: deploy::ResultsAccess::ReadWriteOnce,
                ..base()
            },
        },
        Set {
            name: "CronJob, 64 agents, 4 CPUs and 8Gi per pod",
            options: deploy::Options {
                cases: vec![
                    "gevent".into(),
                    "uwsgi-gevent".into(),
                    "gunicorn-sync".into(),
                ],
                agents: 64,
                schedule: Some("0 3 * * *".into()),
                cpus: 4,
                memory: deploy::options::parse_memory("8Gi").unwrap(),
                image: "registry.example:5000/team/wsgibench:1.2.3".into(),
                namespace: "nightly".into(),
                ..base()
            },
        },
    ]
}

/// A set rendered: its folder (kept while this lives) and the result.
pub struct Rendered {
    pub dir: tempfile::TempDir,
    pub out: deploy::Rendered,
}

pub fn render(options: &deploy::Options) -> Rendered {
    let dir = tempfile::tempdir().unwrap();
    let out = deploy::render(dir.path(), options).expect("renders");
    Rendered { dir, out }
}

/// One object read back, with the file it came from.
#[derive(Debug, Clone)]
pub struct Obj {
    pub file: String,
    pub value: Value,
}

impl Obj {
    pub fn kind(&self) -> &str {
        self.value["kind"].as_str().unwrap_or("")
    }
    pub fn name(&self) -> &str {
        self.value["metadata"]["name"].as_str().unwrap_or("")
    }
    pub fn id(&self) -> String {
        format!("{}/{} ({})", self.kind(), self.name(), self.file)
    }
}

/// Every YAML document of every file in `dir`, in file order.
pub fn read_objects(dir: &Path) -> Vec<Obj> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    let mut objects = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let docs: Vec<Value> = serde_saphyr::from_multiple(&text)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for value in docs.into_iter().filter(|v| !v.is_null()) {
            objects.push(Obj {
                file: path.file_name().unwrap().to_string_lossy().into_owned(),
                value,
            });
        }
    }
    objects
}

/// A workload's pod template: Deployment and Job `spec.template`, CronJob
/// `spec.jobTemplate.spec.template`.
pub fn pod_template(o: &Obj) -> Option<&Value> {
    match o.kind() {
        "Deployment" | "Job" => Some(&o.value["spec"]["template"]),
        "CronJob" => Some(&o.value["spec"]["jobTemplate"]["spec"]["template"]),
        _ => None,
    }
}

/// A Job's spec, bare or in a CronJob.
pub fn job_spec(o: &Obj) -> Option<&Value> {
    match o.kind() {
        "Job" => Some(&o.value["spec"]),
        "CronJob" => Some(&o.value["spec"]["jobTemplate"]["spec"]),
        _ => None,
    }
}

/// Whether `labels` has every key and value of `selector`.
pub fn selects(selector: &Value, labels: &Value) -> bool {
    let (Some(sel), Some(labels)) = (selector.as_object(), labels.as_object()) else {
        return false;
    };
    !sel.is_empty() && sel.iter().all(|(k, v)| labels.get(k) == Some(v))
}

pub fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}
