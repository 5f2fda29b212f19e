//! deploy/compose.yaml, the one-machine twin of the manifests, runs the same commands:
//! checked against a render, so the two cannot drift apart unseen.

use serde_json::Value;

use crate::util::*;

fn compose() -> Value {
    let text = std::fs::read_to_string(repo("deploy/compose.yaml")).unwrap();
    serde_saphyr::from_str(&text).expect("deploy/compose.yaml parses")
}

fn command(service: &Value) -> Vec<String> {
    strings(&service["command"])
}

#[test]
fn compose_runs_the_manifests_commands_on_a_private_network() {
    let c = compose();
    let services = c["services"].as_object().expect("services");
    let r = render(&base());
    let script = read_objects(r.dir.path())
        .into_iter()
        .find(|o| o.kind() == "ConfigMap")
        .unwrap()
        .value["data"]["load.sh"]
        .as_str()
        .unwrap()
        .to_string();

    let agents: Vec<&String> = services.keys().filter(|k| k.starts_with("agent")).collect();
    assert_eq!(agents.len(), 3, "three agents: {agents:?}");
    for a in &agents {
        let cmd = command(&services[a.as_str()]).join(" ");
        assert!(
            script.contains(&format!("exec {cmd}\n")),
            "{a} runs `{cmd}`, the manifests' agents do not"
        );
    }

    let server = command(&services["server"]);
    assert_eq!(&server[..2], ["wsgibench", "serve-case"]);
    assert_eq!(&server[3..], ["--port", "8000"]);

    let controller = command(&services["controller"]).join(" ");
    let expected_agents: Vec<String> = agents.iter().map(|a| format!("{a}:7701")).collect();
    for needed in [
        format!("--agents {}", expected_agents.join(",")),
        "--servers-at '{case}:8000'".to_string(),
        "--allow-remote".to_string(),
        "--db /results/history.sqlite3".to_string(),
        "wsgibench history --db /results/history.sqlite3 --html /results/site".to_string(),
    ] {
        assert!(
            controller.contains(&needed),
            "the controller lacks `{needed}`:\n{controller}"
        );
    }
    for shared in [
        "--allow-remote --out",
        "--db /results/history.sqlite3",
        "--html /results/site",
    ] {
        assert!(
            script.contains(shared),
            "the manifests' controller lacks `{shared}`"
        );
    }

    assert_eq!(
        c["networks"]["bench"]["internal"], true,
        "the load network has no way out"
    );
    for name in ["server", "controller", "agent1", "agent2", "agent3"] {
        let nets = &services[name]["networks"];
        let names: Vec<String> = match nets {
            Value::Array(a) => a
                .iter()
                .filter_map(|n| n.as_str().map(String::from))
                .collect(),
            Value::Object(o) => o.keys().cloned().collect(),
            _ => Vec::new(),
        };
        assert_eq!(names, ["bench"], "{name} is on the private network only");
    }
}
