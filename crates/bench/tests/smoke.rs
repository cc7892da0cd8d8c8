//! The benchmark runs end to end (in its short form) and prints every
//! figure `cargo xtask bench` promises, so it cannot rot between releases.
//! The figures of a debug build mean nothing; only their presence is checked.

#![allow(clippy::unwrap_used)]

use std::process::Command;

#[test]
fn a_quick_run_prints_every_figure() {
    let out = Command::new(env!("CARGO_BIN_EXE_graphsync-bench"))
        .args(["run", "--quick"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let pipeline: Vec<_> = lines
        .iter()
        .filter(|l| l.get("backend").is_some())
        .collect();
    assert_eq!(
        pipeline.len(),
        8,
        "start and get, two back-ends, concurrency 1 and 32"
    );
    for l in &pipeline {
        for key in [
            "rps",
            "p50_us",
            "p99_us",
            "cpu_us_per_req",
            "baseline_rps",
            "baseline_cpu_us_per_req",
            "ratio",
            "cpu_ratio",
        ] {
            assert!(l[key].is_number(), "{key} in {l}");
        }
    }
    let bench = |name: &str| {
        lines
            .iter()
            .find(|l| l["bench"] == name)
            .unwrap_or_else(|| panic!("no {name} line"))
    };
    assert_eq!(bench("token_single_flight")["token_requests"], 1);
    assert_eq!(
        bench("batch")["http_requests"],
        10,
        "200 jobs in batches of 20"
    );
    assert_eq!(bench("bulk_rss")["succeeded"], bench("bulk_rss")["jobs"]);
}
