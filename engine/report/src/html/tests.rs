use super::super::fixtures::{adaptive_report, outcome, report};
use super::super::per_second::{SecondPoint, SeriesSecond};
use super::*;
use crate::search::Stop;

fn page(r: &RunReport) -> String {
    let mut out = Vec::new();
    write_html(&mut out, r).unwrap();
    String::from_utf8(out).unwrap()
}

/// The element with this id, up to its closing tag.
fn element<'a>(page: &'a str, tag: &str, id: &str) -> &'a str {
    let open = format!("<{tag} id=\"{id}\"");
    let start = page
        .find(&open)
        .unwrap_or_else(|| panic!("no <{tag} id={id}>"));
    let end = page[start..].find(&format!("</{tag}>")).expect("closed");
    &page[start..start + end]
}

/// The text of every `<text>` element in `svg`.
fn texts(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .filter_map(|t| {
            let body = &t[t.find('>')? + 1..];
            Some(body[..body.find("</text>")?].trim().to_string())
        })
        .collect()
}

/// A 4-step ladder whose hold each has three per-second points.
fn four_steps() -> RunReport {
    let mut r = report(&[
        (1000, "PASS"),
        (2000, "PASS"),
        (3000, "PASS"),
        (4000, "TRIP"),
    ]);
    for step in &mut r.steps {
        step.per_second = (1..=3)
            .map(|t| SecondPoint {
                t_s: t as f64,
                achieved_rps: step.target_rps as f64,
                failures: 0,
                series: vec![SeriesSecond {
                    name: "op".into(),
                    count: step.target_rps,
                    p50_ms: 1.0,
                    p99_ms: 3.0 * t as f64,
                    service_p50_ms: 0.5,
                    service_p99_ms: 1.0,
                }],
                backlog: [("queue".to_string(), 10 * t)].into(),
            })
            .collect();
    }
    r
}

#[test]
fn a_four_step_run_shows_every_chart_the_slo_the_markers_and_the_answer() {
    let r = four_steps();
    let page = page(&r);
    assert!(page.starts_with("<!doctype html>"));

    for id in [
        "chart-latency",
        "chart-achieved",
        "chart-backlog",
        "chart-co-gap",
    ] {
        assert!(
            element(&page, "figure", id).contains("<svg"),
            "{id} has its chart"
        );
    }
    for probe in 0..4 {
        let multiple = element(&page, "figure", &format!("seconds-{probe}"));
        assert!(multiple.contains("<svg"), "step {probe}'s per-second chart");
    }
    assert!(
        !page.contains("chart-probes"),
        "no probe chart for a ladder"
    );

    let latency = element(&page, "figure", "chart-latency");
    let labels = texts(latency);
    for label in ["SLO p95 100ms", "SLO p99 250ms", "answer 3000/s", "op p99"] {
        assert!(labels.iter().any(|l| l == label), "{label:?} in {labels:?}");
    }
    assert_eq!(latency.matches("<circle").count(), 4, "one marker per step");

    let answer = element(&page, "section", "answer");
    assert!(answer.contains("<strong>3000 ops/s</strong>"), "{answer}");
    assert!(answer.contains("Next limit at <strong>4000 ops/s</strong>"));
    assert!(answer.contains("<li>op p95=143ms &gt; 100ms</li>"));
    assert!(
        page.find("id=\"answer\"") < page.find("id=\"chart-latency\""),
        "the answer comes first"
    );

    let table = element(&page, "table", "step-table");
    let body = &table[table.find("<tbody>").unwrap()..];
    assert_eq!(body.matches("<tr").count(), 4, "one row per step");
    assert_eq!(body.matches("<tr class=\"pass answer\">").count(), 1);
    let answer_row = &body[body.find("<tr class=\"pass answer\">").unwrap()..];
    assert!(answer_row.contains("data-v=\"3000\">3000</td>"));
    assert!(body.contains("<tr class=\"trip\">"));

    let settings = element(&page, "table", "settings");
    assert!(
        settings.contains("<th>options.capacity</th><td>3000</td>"),
        "{settings}"
    );
}

#[test]
fn the_page_fetches_nothing() {
    let page = page(&four_steps());
    assert!(!page.contains("<link"), "no stylesheet links");
    assert!(!page.contains("<script src"), "no external scripts");
    for (at, _) in page.match_indices("http") {
        let rest = &page[at..];
        if !(rest.starts_with("http://") || rest.starts_with("https://")) {
            continue;
        }
        let url: String = rest
            .chars()
            .take_while(|c| !c.is_whitespace() && !"\"'<>)".contains(*c))
            .collect();
        assert!(
            !url.ends_with(".js") && !url.ends_with(".css"),
            "fetches {url}"
        );
    }
    assert!(page.contains("<script>"), "sorting is inline");
}

#[test]
fn an_adaptive_search_shows_its_probes() {
    let r = adaptive_report(
        &[
            (500, "PASS"),
            (1000, "PASS"),
            (2000, "TRIP"),
            (1500, "PASS"),
        ],
        outcome(Some(1500), Some(2000), Stop::Converged),
    );
    let page = page(&r);
    let probes = element(&page, "figure", "chart-probes");
    assert_eq!(probes.matches("<circle").count(), 4, "one marker per probe");
    let labels = texts(probes);
    assert!(
        labels.iter().any(|l| l == "highest PASS 1500/s"),
        "{labels:?}"
    );
    assert!(
        labels.iter().any(|l| l == "lowest TRIP 2000/s"),
        "{labels:?}"
    );
}

#[test]
fn no_answer_says_so_and_an_interrupted_run_is_marked() {
    let mut r = report(&[(1000, "TRIP")]);
    r.interrupted = true;
    let page = page(&r);
    let answer = element(&page, "section", "answer");
    assert!(answer.contains("No step passed"));
    assert!(answer.contains("Interrupted"));
    let labels = texts(element(&page, "figure", "chart-latency"));
    assert!(
        !labels.iter().any(|l| l.starts_with("answer")),
        "{labels:?}"
    );
}

#[test]
fn a_series_with_its_own_slo_gets_its_own_line() {
    let mut r = four_steps();
    r.settings.slo.series.insert(
        "op".into(),
        loadgen_core::verdict::SeriesSlo {
            p95: None,
            p99: Some(std::time::Duration::from_millis(40)),
        },
    );
    // A limit for a series this run did not measure draws nothing.
    r.settings.slo.series.insert(
        "gone".into(),
        loadgen_core::verdict::SeriesSlo {
            p95: Some(std::time::Duration::from_millis(7)),
            p99: None,
        },
    );
    let labels = texts(element(&page(&r), "figure", "chart-latency"));
    for label in ["SLO p99 250ms", "SLO op p99 40ms"] {
        assert!(labels.iter().any(|l| l == label), "{label:?} in {labels:?}");
    }
    assert!(!labels.iter().any(|l| l.contains("gone")), "{labels:?}");
}
