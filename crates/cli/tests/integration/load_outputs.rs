//! What `wsgibench load` writes besides its console summary.

use std::time::Duration;

use crate::util::*;

#[test]
fn hgrm_holds_every_answer_in_hdrhistograms_format() {
    let server = Pong::start();
    let dir = tempfile::tempdir().unwrap();
    let hgrm = dir.path().join("latency.hgrm");
    let json = dir.path().join("summary.json");
    let url = format!("http://127.0.0.1:{}/", server.port);
    let out = run_bounded(
        wsgibench()
            .args(["load", &url, "-n", "2000", "-c", "4", "-t", "1", "-q"])
            .arg("--hgrm")
            .arg(&hgrm)
            .arg("--json")
            .arg(&json),
        Duration::from_secs(30),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("HdrHistogram percentile distribution"));

    let file = std::fs::read_to_string(&hgrm).unwrap();
    let rows: Vec<Vec<f64>> = file
        .lines()
        .skip(2)
        .take_while(|l| !l.starts_with('#'))
        .map(|l| l.split_whitespace().map(|f| f.parse().unwrap()).collect())
        .collect();
    assert!(rows.len() >= 20, "{file}");
    // Climbing to every answer at percentile 1, whose value is the summary's max.
    assert!(rows
        .windows(2)
        .all(|w| w[0][0] <= w[1][0] && w[0][2] <= w[1][2]));
    let last = rows.last().unwrap();
    assert_eq!(last[1..], [1.0, 2000.0]);
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let max_ms = summary["latency_us"]["max"].as_f64().unwrap() / 1000.0;
    assert!((last[0] - max_ms).abs() < 0.0005, "{} vs {max_ms}", last[0]);
    assert!(file.contains("Total count    =         2000]"), "{file}");
}
