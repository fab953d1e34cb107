//! The JSON report validates against `docs/report.schema.json` (like oha's
//! `test_json_schema`): real output of a ladder and of an adaptive search
//! with a confirmation, and the schema is strict enough to catch drift.

mod common;

use std::path::Path;
use std::time::Duration;

use common::{loadgen, run_bounded, text};
use serde_json::Value;

fn validator() -> jsonschema::Validator {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/report.schema.json");
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    jsonschema::validator_for(&schema).expect("the schema is a valid JSON Schema")
}

/// A quick synthetic run with `--json`, its output parsed.
fn run_json(extra: &[&str]) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("run.json");
    let mut args = vec![
        "max-rps",
        "--plugin",
        "synthetic",
        "-o",
        "capacity=3000",
        "--warmup",
        "200ms",
        "--hold",
        "1200ms",
        "--drain",
        "300ms",
        "--cooldown",
        "0s",
        "--quiet",
        "--json",
        json.to_str().unwrap(),
    ];
    args.extend(extra);
    let out = run_bounded(loadgen(&args), Duration::from_secs(120));
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        text(&out.stderr)
    );
    serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap()
}

fn errors(validator: &jsonschema::Validator, report: &Value) -> Vec<String> {
    validator
        .iter_errors(report)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

#[test]
fn real_reports_validate_against_the_schema() {
    let validator = validator();
    let ladder = run_json(&["--steps", "1k,4k"]);
    let adaptive = run_json(&[
        "--search",
        "adaptive",
        "--start-rps",
        "1500",
        "--max-steps",
        "3",
        "--confirm",
        "1",
    ]);
    for report in [&ladder, &adaptive] {
        assert_eq!(errors(&validator, report), Vec::<String>::new());
    }
    let step = &ladder["steps"][0];
    assert!(
        !step["per_second"].as_array().unwrap().is_empty(),
        "per-second points are kept"
    );
    assert_eq!(ladder["schema_version"], 3);
    assert_eq!(adaptive["search"]["plan"]["kind"], "adaptive");
    assert!(adaptive["search"]["outcome"]["confirm"].is_object());

    // Drift is caught: a verdict the schema does not know, a missing field,
    // an unknown one.
    let mut bad = ladder.clone();
    bad["steps"][0]["verdict"] = "MAYBE".into();
    assert!(!validator.is_valid(&bad));
    let mut bad = ladder.clone();
    bad.as_object_mut().unwrap().remove("schema_version");
    assert!(!validator.is_valid(&bad));
    let mut bad = ladder;
    bad["steps"][0]["surprise"] = 1.into();
    assert!(!validator.is_valid(&bad));
    // A hold stopped early records how long it held, as seconds.
    let mut stopped = adaptive.clone();
    stopped["steps"][0]["search"]["stopped_early_s"] = 1.01.into();
    assert_eq!(errors(&validator, &stopped), Vec::<String>::new());
    stopped["steps"][0]["search"]["stopped_early_s"] = "soon".into();
    assert!(!validator.is_valid(&stopped));
}
