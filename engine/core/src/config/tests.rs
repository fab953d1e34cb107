//! RunConfig: its shapes (TOML, JSON), resolution against a plugin, the host config.

use super::*;

fn plugin() -> PluginDescription {
    PluginDescription {
        name: "synthetic".into(),
        version: "0.1.0".into(),
        description: String::new(),
        series: vec!["op".into()],
        error_reasons: Vec::new(),
        options: vec![crate::plugin::OptionDescription {
            name: "capacity".into(),
            default: "5000".into(),
            help: String::new(),
        }],
        default_steps: "500,1k".into(),
        durables: Vec::new(),
        counters: Vec::new(),
    }
}

#[test]
fn a_resolved_config_round_trips_through_toml_and_json() {
    let mut c = RunConfig::new("synthetic");
    c.options.insert("capacity".into(), "3000".into());
    c.slo_counter = vec!["rejected_total{svc=\"a,b}\"} <= 3".parse().unwrap()];
    c.scrape = vec!["http://127.0.0.1:9/metrics".into()];
    let c = c.resolve(&plugin()).unwrap();
    assert_eq!(c.rates.steps, Some(StepList(vec![500, 1000])));
    let text = c.to_toml();
    assert!(text.contains("hold = \"30s\""), "{text}");
    assert!(text.contains("steps = \"500,1000\""), "{text}");
    assert!(text.contains("[options]\ncapacity = \"3000\""), "{text}");
    let back: RunConfig = toml::from_str(&text).unwrap();
    assert_eq!(back, c);
    let json = serde_json::to_string(&c).unwrap();
    assert_eq!(serde_json::from_str::<RunConfig>(&json).unwrap(), c);
}

#[test]
fn every_serialized_key_is_a_valid_key() {
    let mut c = RunConfig::new("synthetic");
    c.preset = Some("small".into());
    c.rates.search = SearchKind::Adaptive;
    c.rates.max_rps = Some(10_000);
    c.scrape = vec!["http://x".into()];
    c.slo_counter = vec!["a <= 1".parse().unwrap()];
    c.outputs = Outputs {
        csv: Some("a".into()),
        json: Some("b".into()),
        report: Some("c".into()),
        journal: Some("d".into()),
        metrics_addr: Some("127.0.0.1:9464".parse().unwrap()),
        quiet: true,
    };
    let mut p = plugin();
    p.options.push(crate::plugin::OptionDescription {
        name: "preset".into(),
        default: "small".into(),
        help: String::new(),
    });
    let c = c.resolve(&p).unwrap();
    for key in c.to_table().keys() {
        assert!(RunConfig::keys().contains(&key.as_str()), "{key}");
    }
    assert_eq!(
        c.to_table().len(),
        RunConfig::keys().len() - 1,
        "all but steps"
    );
}

#[test]
fn resolve_refuses_what_does_not_fit_the_plugin() {
    let mut c = RunConfig::new("synthetic");
    c.options.insert("nope".into(), "1".into());
    assert_eq!(
        c.resolve(&plugin()).unwrap_err(),
        "unknown option 'nope' for plugin synthetic (valid: capacity)"
    );
    let mut c = RunConfig::new("synthetic");
    c.rates.search = SearchKind::Adaptive;
    c.rates.max_rps = Some(100);
    assert!(c
        .resolve(&plugin())
        .unwrap_err()
        .contains("--start-rps 500 is above --max-rps 100"));
}
