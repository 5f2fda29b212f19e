//! The Kubernetes API objects wsgibench renders, as typed structs: only the fields it
//! sets, named as the API names them (camelCase, `clusterIP`), so serde writes exactly
//! what `kubectl apply` reads and nothing is built by hand as text.
//!
//! Each kind is an [`Object`]: `apiVersion`, `kind` and `metadata`, then the kind's
//! own fields (flattened from its body struct). An empty list or an unset option is
//! left out, as `kubectl get -o yaml` leaves out defaults. The structs cover
//! `core/v1`, `apps/v1` and `batch/v1` as of Kubernetes 1.30, which is also the oldest
//! version the tests validate against (`kubernetes-validate --strict`).

use std::collections::BTreeMap;

use serde::Serialize;

/// Labels or a selector's `matchLabels`: sorted, so the output is stable.
pub type Labels = BTreeMap<String, String>;

/// One API object: `apiVersion`, `kind`, `metadata`, then the kind's fields.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Object<B> {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub metadata: ObjectMeta,
    #[serde(flatten)]
    pub body: B,
}

/// Any object the render writes, so one file can hold several kinds.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Manifest {
    Namespace(Object<NamespaceBody>),
    Secret(Object<SecretBody>),
    ConfigMap(Object<ConfigMapBody>),
    PersistentVolumeClaim(Object<Spec<PvcSpec>>),
    Service(Object<Spec<ServiceSpec>>),
    Deployment(Object<Spec<DeploymentSpec>>),
    Job(Object<Spec<JobSpec>>),
    CronJob(Object<Spec<CronJobSpec>>),
}

impl Manifest {
    pub fn kind(&self) -> &'static str {
        match self {
            Manifest::Namespace(o) => o.kind,
            Manifest::Secret(o) => o.kind,
            Manifest::ConfigMap(o) => o.kind,
            Manifest::PersistentVolumeClaim(o) => o.kind,
            Manifest::Service(o) => o.kind,
            Manifest::Deployment(o) => o.kind,
            Manifest::Job(o) => o.kind,
            Manifest::CronJob(o) => o.kind,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectMeta {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: Labels,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// Metadata of a template (pod or job): labels and annotations, no name.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TemplateMeta {
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: Labels,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// A body that is only `spec`.
#[derive(Debug, Clone, Serialize)]
pub struct Spec<S> {
    pub spec: S,
}

#[derive(Debug, Clone, Serialize)]
pub struct NamespaceBody {}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretBody {
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Written as text; the API server stores it base64-encoded under `data`.
    pub string_data: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ConfigMapBody {
    pub data: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PvcSpec {
    pub access_modes: Vec<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage_class_name: Option<String>,
    pub resources: StorageRequest,
}

#[derive(Debug, Clone, Serialize)]
pub struct StorageRequest {
    pub requests: BTreeMap<&'static str, String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceSpec {
    /// `Some("None")` makes the Service headless: DNS names for pods, no virtual IP.
    #[serde(rename = "clusterIP", skip_serializing_if = "Option::is_none")]
    pub cluster_ip: Option<&'static str>,
    pub selector: Labels,
    pub ports: Vec<ServicePort>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServicePort {
    pub name: &'static str,
    pub port: u16,
    pub target_port: u16,
    pub protocol: &'static str,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentSpec {
    pub replicas: u32,
    pub selector: LabelSelector,
    pub strategy: Strategy,
    pub template: PodTemplateSpec,
}

#[derive(Debug, Clone, Serialize)]
pub struct Strategy {
    #[serde(rename = "type")]
    pub kind: &'static str,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LabelSelector {
    pub match_labels: Labels,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JobSpec {
    pub completion_mode: &'static str,
    pub completions: u32,
    pub parallelism: u32,
    pub backoff_limit: u32,
    pub active_deadline_seconds: u64,
    pub template: PodTemplateSpec,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CronJobSpec {
    pub schedule: String,
    pub time_zone: &'static str,
    pub concurrency_policy: &'static str,
    pub starting_deadline_seconds: u64,
    pub successful_jobs_history_limit: u32,
    pub failed_jobs_history_limit: u32,
    pub job_template: JobTemplateSpec,
}

#[derive(Debug, Clone, Serialize)]
pub struct JobTemplateSpec {
    pub metadata: TemplateMeta,
    pub spec: JobSpec,
}

#[derive(Debug, Clone, Serialize)]
pub struct PodTemplateSpec {
    pub metadata: TemplateMeta,
    pub spec: PodSpec,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodSpec {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restart_policy: Option<&'static str>,
    /// With a headless Service of this name, each pod is `<hostname>.<subdomain>`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subdomain: Option<String>,
    pub automount_service_account_token: bool,
    pub enable_service_links: bool,
    /// One process namespace for the pod's containers: the sampler sidecar sees the
    /// server's processes.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub share_process_namespace: bool,
    pub termination_grace_period_seconds: u32,
    pub security_context: PodSecurityContext,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub affinity: Option<Affinity>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub topology_spread_constraints: Vec<TopologySpreadConstraint>,
    pub containers: Vec<Container>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<Volume>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodSecurityContext {
    pub run_as_non_root: bool,
    pub run_as_user: u32,
    pub run_as_group: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fs_group: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fs_group_change_policy: Option<&'static str>,
    pub seccomp_profile: SeccompProfile,
}

#[derive(Debug, Clone, Serialize)]
pub struct SeccompProfile {
    #[serde(rename = "type")]
    pub kind: &'static str,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Affinity {
    pub pod_anti_affinity: PodAntiAffinity,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodAntiAffinity {
    pub required_during_scheduling_ignored_during_execution: Vec<PodAffinityTerm>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodAffinityTerm {
    pub label_selector: LabelSelector,
    pub topology_key: &'static str,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TopologySpreadConstraint {
    pub max_skew: u32,
    pub topology_key: &'static str,
    pub when_unsatisfiable: &'static str,
    pub label_selector: LabelSelector,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Container {
    pub name: &'static str,
    pub image: String,
    pub image_pull_policy: &'static str,
    pub command: Vec<String>,
    pub working_dir: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<EnvVar>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<ContainerPort>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub readiness_probe: Option<Probe>,
    pub resources: Resources,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub volume_mounts: Vec<VolumeMount>,
    pub security_context: ContainerSecurityContext,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvVar {
    pub name: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_from: Option<EnvVarSource>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum EnvVarSource {
    SecretKeyRef(KeySelector),
    FieldRef(FieldSelector),
}

#[derive(Debug, Clone, Serialize)]
pub struct KeySelector {
    pub name: String,
    pub key: &'static str,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldSelector {
    pub field_path: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerPort {
    pub name: &'static str,
    pub container_port: u16,
    pub protocol: &'static str,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Probe {
    #[serde(flatten)]
    pub check: ProbeCheck,
    pub period_seconds: u32,
    pub timeout_seconds: u32,
    pub failure_threshold: u32,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ProbeCheck {
    HttpGet { path: &'static str, port: u16 },
    Exec { command: Vec<String> },
}

/// Requests and limits. The render sets both to the same values in every container:
/// that is the Guaranteed QoS class, the only one the kubelet's static CPU manager
/// gives exclusive cores to (and only for whole CPUs).
#[derive(Debug, Clone, Serialize)]
pub struct Resources {
    pub requests: Quantities,
    pub limits: Quantities,
}

impl Resources {
    pub fn guaranteed(cpu: String, memory: String) -> Resources {
        let q = Quantities { cpu, memory };
        Resources {
            requests: q.clone(),
            limits: q,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Quantities {
    pub cpu: String,
    pub memory: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VolumeMount {
    pub name: &'static str,
    pub mount_path: &'static str,
    pub read_only: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Volume {
    pub name: &'static str,
    #[serde(flatten)]
    pub source: VolumeSource,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum VolumeSource {
    #[serde(rename_all = "camelCase")]
    PersistentVolumeClaim {
        claim_name: String,
        read_only: bool,
    },
    ConfigMap {
        name: String,
    },
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerSecurityContext {
    pub allow_privilege_escalation: bool,
    pub capabilities: Capabilities,
}

impl ContainerSecurityContext {
    /// No capabilities and no way to gain any: Pod Security's "restricted" level.
    pub fn restricted() -> ContainerSecurityContext {
        ContainerSecurityContext {
            allow_privilege_escalation: false,
            capabilities: Capabilities { drop: vec!["ALL"] },
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Capabilities {
    pub drop: Vec<&'static str>,
}
