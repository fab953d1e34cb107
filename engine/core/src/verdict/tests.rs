//! One row per precedence rule and boundary; reason text asserted verbatim.

use super::*;
use crate::backlog::BacklogChange;

fn ms(v: u64) -> Duration {
    Duration::from_millis(v)
}

fn series(name: &str, p95: u64, p99: u64) -> SeriesLatency {
    SeriesLatency {
        name: name.into(),
        count: 1000,
        p50: ms(1),
        p95: ms(p95),
        p99: ms(p99),
        max: ms(p99),
    }
}

/// A healthy step at 1000/s over 10s: every field within the default SLO.
fn healthy() -> StepInputs {
    StepInputs {
        target_rps: 1000,
        hold: Duration::from_secs(10),
        attempted: 10_000,
        failed: 0,
        lost: 0,
        saturated: 0,
        emit_underrun: 0,
        series: vec![series("E1", 20, 40), series("E2", 30, 60)],
        backlogs: vec![BacklogChange {
            name: "broadcast-worker".into(),
            start: 10,
            end: 20,
            unacked: None,
        }],
        counter_gates: vec![],
        measurement_failure: None,
    }
}

fn judged(edit: impl FnOnce(&mut StepInputs)) -> Verdict {
    let mut step = healthy();
    edit(&mut step);
    judge(&step, &Slo::default())
}

/// A verdict as it reads: its label and its reasons in words.
type Shown = (&'static str, Vec<String>);

fn shown(v: &Verdict) -> Shown {
    (v.label(), v.reasons())
}

fn trip(reasons: &[&str]) -> Shown {
    ("TRIP", reasons.iter().map(|r| r.to_string()).collect())
}

fn unsure(reason: &str) -> Shown {
    ("INCONCLUSIVE", vec![reason.to_string()])
}

fn pass() -> Shown {
    ("PASS", Vec::new())
}

#[test]
fn precedence_and_boundaries() {
    type Edit = fn(&mut StepInputs);
    let table: &[(&str, Edit, Shown)] = &[
        ("healthy step passes", |_| {}, pass()),
        // Exactly at a threshold still passes: the SLO says "at most".
        (
            "latency, errors, loss and backlog exactly at their limits pass",
            |s| {
                s.series = vec![series("E2", 100, 250)];
                s.failed = 10; // 0.100% of 10k
                s.lost = 10;
                s.backlogs[0].end = s.backlogs[0].start + 1000;
            },
            pass(),
        ),
        (
            "achieved exactly (1 - tolerance) of target passes",
            |s| {
                s.attempted = 9_500;
                s.emit_underrun = 500;
            },
            pass(),
        ),
        (
            "p95 over",
            |s| s.series[1] = series("E2", 143, 200),
            trip(&["E2 p95=143ms > 100ms"]),
        ),
        (
            "p99 over",
            |s| s.series[0] = series("E1", 50, 251),
            trip(&["E1 p99=251ms > 250ms"]),
        ),
        (
            "error rate over",
            |s| s.failed = 15,
            trip(&["error rate 0.150% > 0.100%"]),
        ),
        (
            "loss rate over",
            |s| s.lost = 11,
            trip(&["loss rate 0.110% > 0.100%"]),
        ),
        (
            "pending growth over",
            |s| s.backlogs[0].end = 1250,
            trip(&["broadcast-worker pending +1240 > +1000"]),
        ),
        (
            "a durable's growth counts its unacked messages",
            |s| {
                s.backlogs[0].name = "MESSAGES/broadcast-worker".into();
                s.backlogs[0].end = 1250;
                s.backlogs[0].unacked = Some((0, 700));
            },
            trip(&["MESSAGES/broadcast-worker pending +1240 > +1000 (undelivered +540, unacked +700)"]),
        ),
        (
            "gated series without samples while ops were attempted",
            |s| s.series[1].count = 0,
            trip(&["E2: no Ok samples"]),
        ),
        (
            "counter gate failed",
            |s| {
                s.counter_gates.push(CounterGate {
                    expr: "rejected{svc=\"gatekeeper\"} <= 0".into(),
                    delta: 3.0,
                    passed: false,
                })
            },
            trip(&["rejected{svc=\"gatekeeper\"} <= 0 (delta 3)"]),
        ),
        (
            "every breach is listed, in order",
            |s| {
                s.series[1] = series("E2", 143, 300);
                s.failed = 15;
            },
            trip(&[
                "E2 p95=143ms > 100ms",
                "E2 p99=300ms > 250ms",
                "error rate 0.150% > 0.100%",
            ]),
        ),
        (
            "TRIP beats shortfall",
            |s| {
                s.attempted = 5_000;
                s.saturated = 5_000;
                s.series[0] = series("E1", 500, 900);
            },
            trip(&["E1 p95=500ms > 100ms", "E1 p99=900ms > 250ms"]),
        ),
        (
            "shortfall from saturation is inconclusive and says so",
            |s| {
                s.attempted = 9_000;
                s.saturated = 1_000;
            },
            unsure("achieved 900/s < 95% of 1000/s: saturation 1000 ops (in-flight bound full: raise max_in_flight)"),
        ),
        (
            "shortfall from emit underrun is inconclusive and says so",
            |s| {
                s.attempted = 9_000;
                s.emit_underrun = 1_000;
            },
            unsure("achieved 900/s < 95% of 1000/s: emit underrun 1000 ops (the load box could not keep schedule: more CPU or shards)"),
        ),
        (
            "zero attempted is inconclusive",
            |s| s.attempted = 0,
            unsure("no ops attempted"),
        ),
        (
            "measurement failure beats everything",
            |s| {
                s.measurement_failure = Some(Doubt::Unavailable {
                    signal: Signal::Backlog,
                    error: "timeout".into(),
                });
                s.failed = 5_000;
            },
            unsure("backlog signal unavailable: timeout"),
        ),
    ];
    for (name, edit, want) in table {
        assert_eq!(&shown(&judged(*edit)), want, "{name}");
    }
}

#[test]
fn an_empty_step_never_passes() {
    let empty = StepInputs {
        attempted: 0,
        series: vec![],
        backlogs: vec![],
        ..healthy()
    };
    assert!(!judge(&empty, &Slo::default()).is_pass());
}

#[test]
fn millisecond_formatting() {
    let table = [
        (Duration::from_millis(143), "143ms"),
        (Duration::from_micros(3_140), "3.1ms"),
        (Duration::from_micros(250), "0.25ms"),
        (Duration::from_millis(100), "100ms"),
    ];
    for (d, want) in table {
        assert_eq!(fmt_ms(d), want);
    }
}

#[test]
fn verdicts_serialize_with_reasons_in_words_and_as_data_and_refuse_unknown_labels() {
    let latency = Breach::Latency {
        series: "op".into(),
        percentile: Percentile::P99,
        measured: Duration::from_micros(143_250),
        limit: ms(100),
    };
    let backlog = Breach::Backlog {
        name: "S/d".into(),
        growth: 1240,
        limit: 1000,
        unacked_growth: Some(700),
    };
    let table = [
        (Verdict::Pass, r#"{"verdict":"PASS","reasons":[]}"#),
        (
            Verdict::Trip(vec![latency, backlog]),
            concat!(
                r#"{"verdict":"TRIP","reasons":["op p99=143ms > 100ms","#,
                r#""S/d pending +1240 > +1000 (undelivered +540, unacked +700)"],"#,
                r#""breaches":[{"kind":"latency","series":"op","percentile":"p99","#,
                r#""measured_ms":143.25,"limit_ms":100.0},"#,
                r#"{"kind":"backlog","name":"S/d","growth":1240,"limit":1000,"unacked_growth":700}]}"#
            ),
        ),
        (
            Verdict::Inconclusive(Doubt::Shortfall {
                achieved_rps: 900.0,
                target_rps: 1000,
                floor_share: 0.95,
                cause: Shortfall::Saturation { ops: 100 },
            }),
            concat!(
                r#"{"verdict":"INCONCLUSIVE","reasons":["achieved 900/s < 95% of 1000/s: "#,
                r#"saturation 100 ops (in-flight bound full: raise max_in_flight)"],"#,
                r#""doubt":{"kind":"shortfall","achieved_rps":900.0,"target_rps":1000,"#,
                r#""floor_share":0.95,"cause":"saturation","ops":100}}"#
            ),
        ),
        (
            Verdict::Inconclusive(Doubt::Restarted {
                child: Child::CounterScraper,
                reason: "boom".into(),
            }),
            concat!(
                r#"{"verdict":"INCONCLUSIVE","reasons":["counter-scraper restarted during the step: boom"],"#,
                r#""doubt":{"kind":"restarted","child":"counter-scraper","reason":"boom"}}"#
            ),
        ),
    ];
    for (verdict, json) in table {
        assert_eq!(serde_json::to_string(&verdict).unwrap(), json);
        assert_eq!(serde_json::from_str::<Verdict>(json).unwrap(), verdict);
    }
    let err = serde_json::from_str::<Verdict>(r#"{"verdict":"MAYBE"}"#).unwrap_err();
    assert!(
        err.to_string().contains("'MAYBE' is not a verdict"),
        "{err}"
    );
}

#[test]
fn a_verdict_written_before_reasons_were_data_reads_back_in_the_same_words() {
    let old = [
        (
            r#"{"verdict":"TRIP","reasons":["a","b"]}"#,
            Verdict::Trip(vec![
                Breach::Text { text: "a".into() },
                Breach::Text { text: "b".into() },
            ]),
        ),
        (
            r#"{"verdict":"INCONCLUSIVE","reasons":["why"]}"#,
            Verdict::Inconclusive(Doubt::Text { text: "why".into() }),
        ),
    ];
    for (json, want) in old {
        let read: Verdict = serde_json::from_str(json).unwrap();
        assert_eq!(read, want);
        let again = serde_json::to_value(&read).unwrap();
        let before: serde_json::Value = serde_json::from_str(json).unwrap();
        assert_eq!(again["reasons"], before["reasons"], "{json}");
    }
}

#[test]
fn each_series_is_judged_against_its_own_limits() {
    let ms_opt = |v| Some(ms(v));
    let mut slo = Slo::default();
    slo.series.insert(
        "order".into(),
        SeriesSlo {
            p95: ms_opt(300),
            p99: ms_opt(500),
        },
    );
    slo.series.insert(
        "item".into(),
        SeriesSlo {
            p95: None,
            p99: ms_opt(50),
        },
    );
    type Row<'a> = (&'a str, Vec<SeriesLatency>, Shown);
    let table: Vec<Row> = vec![
        (
            "each within its own limits (order above the global ones)",
            vec![series("item", 40, 50), series("order", 300, 500)],
            pass(),
        ),
        (
            "order over its own p99; item passes its own",
            vec![series("item", 40, 45), series("order", 200, 612)],
            trip(&["order p99=612ms > 500ms"]),
        ),
        (
            "item over its own p99, its p95 held to the global limit",
            vec![series("item", 101, 60), series("order", 20, 40)],
            trip(&["item p95=101ms > 100ms", "item p99=60ms > 50ms"]),
        ),
        (
            "a series without limits of its own is held to the global ones",
            vec![series("login", 90, 260)],
            trip(&["login p99=260ms > 250ms"]),
        ),
    ];
    for (name, measured, want) in table {
        let mut step = healthy();
        step.series = measured;
        assert_eq!(shown(&judge(&step, &slo)), want, "{name}");
    }
}
