//! The same small Tsung file through real Tsung and through wsgibench.
//!
//! Tsung 1.7 (Debian package `tsung`) runs as `tsung -f FILE -l DIR start` with its
//! client on this machine's controller VM, so no ssh is involved. The test is skipped,
//! saying so, when `tsung` is not installed; CI installs it.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

use crate::util::*;

/// Name → sorted field names and whether each value is an integer, for HTTP samples.
fn shapes(log: &Value) -> BTreeMap<String, Vec<(String, bool)>> {
    let mut out = BTreeMap::new();
    for s in entries(log)
        .iter()
        .flat_map(|e| e["samples"].as_array().unwrap())
    {
        if s.get("hostname").is_some() {
            continue;
        }
        let obj = s.as_object().unwrap();
        let name = obj["name"].as_str().unwrap().to_string();
        let fields = obj
            .iter()
            .filter(|(k, _)| k.as_str() != "name")
            // Tsung prints 0 for an empty mean; only the count fields are always integers.
            .map(|(k, v)| {
                (
                    k.clone(),
                    matches!(k.as_str(), "value" | "total" | "global_count")
                        && (v.is_u64() || v.is_i64()),
                )
            })
            .collect();
        out.insert(name, fields);
    }
    out
}

/// Requests per finished user in a Tsung log (from the final `http_200` total).
fn per_user(log: &Value) -> f64 {
    let requests = last(log, "http_200", "total").expect("http_200");
    let users = last(log, "finish_users_count", "total").expect("finish_users_count");
    requests as f64 / users as f64
}

#[test]
fn same_file_same_totals_per_user_and_same_log_structure_as_tsung() {
    let Some(tsung) = tsung() else {
        return;
    };
    let server = Pong::start();
    let dir = tempfile::tempdir().unwrap();
    let xml = dir.path().join("small.xml");
    // 5 users, reached after 1 s on average; the phase's 4 s leave Tsung's random
    // arrivals a chance of about 2e-5 to start fewer.
    let file = tsung_xml_capped(server.port, 5, 4, Some(5), 30, &get_loop(200));
    std::fs::write(&xml, file).unwrap();

    let run = run_tsung(&tsung, &xml, dir.path(), Duration::from_secs(90));
    let tsung_requests = server.requests();
    let theirs = read_json(&run.join("tsung.log"));

    let ours_path = dir.path().join("small.tsung.json");
    let out = run_bounded(
        wsgibench()
            .arg("tsung")
            .arg(&xml)
            // Random arrivals like Tsung's; the phase's cap makes both start 5 users.
            .args(["-q", "-t", "2", "--arrival", "poisson"])
            .arg("--tsung-log")
            .arg(&ours_path),
        Duration::from_secs(30),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let ours = read_json(&ours_path);

    // Totals, user for user and in all.
    assert_eq!(per_user(&theirs), 200.0, "Tsung");
    assert_eq!(per_user(&ours), 200.0, "wsgibench");
    let tsung_users = last(&theirs, "finish_users_count", "total").unwrap();
    assert_eq!(tsung_users, 5, "users Tsung finished");
    assert_eq!(tsung_requests, 1000, "what the server received from Tsung");
    assert_eq!(
        server.requests() - tsung_requests,
        1000,
        "what it received from wsgibench"
    );

    // Structure: same HTTP sample names with the same fields and count types ...
    assert_eq!(shapes(&ours), shapes(&theirs));
    // ... and the same time steps: an empty opening entry, then one entry per dump,
    // never more than the dump interval (10 s) apart.
    for log in [&theirs, &ours] {
        let e = entries(log);
        assert_eq!(e[0]["samples"], serde_json::json!([]));
        assert!(e.len() >= 2);
        let t = timestamps(log);
        assert!(
            t.windows(2).all(|w| w[1] >= w[0] && w[1] - w[0] <= 10),
            "{t:?}"
        );
    }
}
