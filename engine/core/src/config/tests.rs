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
            secret: false,
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
    c.slo.series = SeriesSloArg::merge(&["op:p99=1s".parse().unwrap()]);
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
        secret: false,
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
fn ms(v: u64) -> Option<Duration> {
    Some(Duration::from_millis(v))
}

#[test]
fn slo_series_flags_parse_or_say_what_is_wrong() {
    let order = "order:p99=500ms, p95=300ms"
        .parse::<SeriesSloArg>()
        .unwrap();
    assert_eq!(order.series, "order");
    assert_eq!(
        order.slo,
        SeriesSlo {
            p95: ms(300),
            p99: ms(500)
        }
    );
    assert_eq!(
        SeriesSloArg::text("order", &order.slo),
        "order:p95=300ms,p99=500ms"
    );
    let one = "item:p95=1s".parse::<SeriesSloArg>().unwrap();
    assert_eq!(
        one.slo,
        SeriesSlo {
            p95: ms(1000),
            p99: None
        }
    );
    let table = [
        ("order", "'order' is not NAME:p95=DURATION,p99=DURATION"),
        (":p99=1s", "':p99=1s' names no series"),
        ("order:p99", "'p99' is not p95=DURATION or p99=DURATION"),
        ("order:p90=1s", "order: 'p90' is not p95 or p99"),
        ("order:p99=soon", "order: 'soon' is not a duration"),
        ("order:p99=0ms", "order: p99 must be > 0"),
        ("order:p99=1s,p99=2s", "order: p99 is given twice"),
        ("order:", "'' is not p95=DURATION or p99=DURATION"),
    ];
    for (given, want) in table {
        let err = given.parse::<SeriesSloArg>().unwrap_err();
        assert!(err.starts_with(want), "{given}: {err}");
    }
}

#[test]
fn later_slo_series_replace_only_the_limits_they_give() {
    let args: Vec<SeriesSloArg> = [
        "order:p99=500ms,p95=300ms",
        "item:p95=20ms",
        "order:p99=450ms",
    ]
    .iter()
    .map(|a| a.parse().unwrap())
    .collect();
    let merged = SeriesSloArg::merge(&args);
    assert_eq!(
        merged["order"],
        SeriesSlo {
            p95: ms(300),
            p99: ms(450)
        }
    );
    assert_eq!(
        merged["item"],
        SeriesSlo {
            p95: ms(20),
            p99: None
        }
    );
}

#[test]
fn slo_series_is_a_table_per_series_in_toml() {
    let mut c = RunConfig::new("synthetic");
    c.slo.series = SeriesSloArg::merge(&["order:p99=500ms".parse().unwrap()]);
    let text = c.to_toml();
    assert!(
        text.contains("[slo-series.order]\np99 = \"500ms\""),
        "{text}"
    );
    assert_eq!(toml::from_str::<RunConfig>(&text).unwrap(), c);
    let typo = text.replace("p99 = ", "p90 = ");
    let err = toml::from_str::<RunConfig>(&typo).unwrap_err().to_string();
    assert!(err.contains("unknown field `p90`"), "{err}");
}

#[test]
fn with_series_checks_names_and_puts_the_plugin_s_limits_under_the_user_s() {
    use crate::plugin::DeclaredSeries;
    let mut order = DeclaredSeries::new(1, "order");
    order.slo = SeriesSlo {
        p95: ms(300),
        p99: ms(500),
    };
    let mut item = DeclaredSeries::new(0, "item");
    item.slo.p99 = ms(80);
    let declared = [item, order, DeclaredSeries::new(2, "login")];

    let mut c = RunConfig::new("synthetic");
    c.slo.series = SeriesSloArg::merge(&["order:p99=450ms".parse().unwrap()]);
    let c = c.with_series(&declared).unwrap();
    assert_eq!(
        c.slo.series,
        [
            (
                "item".to_string(),
                SeriesSlo {
                    p95: None,
                    p99: ms(80)
                }
            ),
            (
                "order".to_string(),
                SeriesSlo {
                    p95: ms(300),
                    p99: ms(450)
                }
            ),
        ]
        .into(),
        "the user's p99 wins; the plugin's p95 fills in; login keeps the run's"
    );
    assert_eq!(c.slo.limits("login"), (c.slo.p95, c.slo.p99));

    let mut c = RunConfig::new("synthetic");
    c.slo.series = SeriesSloArg::merge(&["ordr:p99=1s".parse().unwrap()]);
    assert_eq!(
        c.with_series(&declared).unwrap_err(),
        "--slo-series: no series 'ordr' in this run (its series: item, order, login)"
    );
}

#[test]
fn the_pacer_sees_as_fine_as_the_tightest_series_slo() {
    let mut c = RunConfig::new("synthetic");
    let wide = c.pacer_window();
    c.slo.series = SeriesSloArg::merge(&["fast:p99=20ms,p95=10ms".parse().unwrap()]);
    assert!(
        c.pacer_window() < wide,
        "{:?} vs {wide:?}",
        c.pacer_window()
    );
    assert_eq!(
        c.slo.tightest(),
        (Duration::from_millis(10), Duration::from_millis(20))
    );
    c.slo.series = SeriesSloArg::merge(&["slow:p99=2s".parse().unwrap()]);
    assert_eq!(c.slo.loosest_p99(), Duration::from_secs(2));
}

#[test]
fn credentials_are_hidden_in_the_shown_config_and_known_when_read_back() {
    let mut p = plugin();
    p.options = ["url", "header", "tenant_key", "capacity"]
        .iter()
        .map(|name| crate::plugin::OptionDescription {
            name: name.to_string(),
            default: String::new(),
            help: String::new(),
            secret: *name == "tenant_key",
        })
        .collect();
    let mut c = RunConfig::new("p");
    for (k, v) in [
        ("url", "http://u:pw-1@127.0.0.1:9/"),
        ("header", "Accept: */*\nAuthorization: Bearer T0KEN"),
        ("tenant_key", "acme-42"),
        ("capacity", "10"),
    ] {
        c.options.insert(k.into(), v.into());
    }
    c.scrape = vec!["http://m:scrape-pw@127.0.0.1:9/metrics".into()];
    let shown = c.redacted(&p);
    let text = shown.to_toml();
    for secret in ["pw-1", "T0KEN", "acme-42", "scrape-pw"] {
        assert!(!text.contains(secret), "{secret} in {text}");
        assert!(!c
            .redactor(&p)
            .scrub(&format!("x {secret} y"))
            .contains(secret));
    }
    assert_eq!(shown.options["url"], "http://u:***@127.0.0.1:9/");
    assert_eq!(shown.options["header"], "Accept: */*\nAuthorization: ***");
    assert_eq!(shown.options["tenant_key"], "***");
    assert_eq!(shown.options["capacity"], "10");
    assert_eq!(shown.scrape, ["http://m:***@127.0.0.1:9/metrics"]);
    assert!(c.hidden_options(&p).is_empty());
    assert_eq!(shown.hidden_options(&p), ["header", "tenant_key", "url"]);
}
