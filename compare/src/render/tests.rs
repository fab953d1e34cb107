//! The renderings of one fixture comparison (a capacity drop, one rate
//! slower) and one run: Markdown parsed back, JUnit validated against the
//! JUnit XSD with xmllint.

use std::path::Path;
use std::process::Command;

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

use crate::criteria::Criterion;
use crate::fixtures::{measured, report_of};
use crate::Comparison;

fn comparison() -> Comparison {
    let five = |ms: f64| [ms, ms * 1.05, ms * 0.95, ms * 1.02, ms * 0.98];
    let base = report_of(vec![
        measured(1000, "PASS", &five(1.0), 0),
        measured(2000, "PASS", &five(1.2), 0),
        measured(2800, "PASS", &five(2.0), 0),
        measured(3200, "TRIP", &five(300.0), 0),
    ]);
    let new = report_of(vec![
        measured(1000, "PASS", &five(1.0), 0),
        measured(2000, "PASS", &five(1.6), 0),
        measured(2800, "TRIP", &five(250.0), 0),
    ]);
    let criteria: Vec<(String, Criterion)> =
        ["capacity < -5%", "p99 > +10%", "error_rate > +0.001"]
            .iter()
            .map(|t| (t.to_string(), t.parse().unwrap()))
            .collect();
    Comparison::new(("base.json", &base), ("new | pr.json", &new), &criteria)
}

/// Every table of a Markdown text, as rows of cell texts (header first).
fn tables(markdown: &str) -> Vec<Vec<Vec<String>>> {
    let mut tables = Vec::new();
    let mut table: Vec<Vec<String>> = Vec::new();
    let mut row: Vec<String> = Vec::new();
    let mut cell: Option<String> = None;
    for event in Parser::new_ext(markdown, Options::ENABLE_TABLES) {
        match event {
            Event::Start(Tag::TableCell) => cell = Some(String::new()),
            Event::End(TagEnd::TableCell) => row.push(cell.take().unwrap_or_default()),
            Event::End(TagEnd::TableHead) | Event::End(TagEnd::TableRow) => {
                table.push(std::mem::take(&mut row))
            }
            Event::End(TagEnd::Table) => tables.push(std::mem::take(&mut table)),
            Event::Text(t) | Event::Code(t) => {
                if let Some(c) = &mut cell {
                    c.push_str(&t);
                }
            }
            _ => {}
        }
    }
    tables
}

#[test]
fn markdown_renders_a_capacity_table_and_a_rate_table() {
    let mut out = Vec::new();
    super::markdown::write(&mut out, &comparison()).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.starts_with("### loadgen compare: ❌ 2 of 3 criteria failed\n"),
        "{text}"
    );
    let tables = tables(&text);
    assert_eq!(tables.len(), 2, "{text}");
    assert_eq!(tables[0][0], ["", "base", "new", "change"]);
    assert_eq!(
        tables[0][1],
        [
            "capacity (ops/s)",
            "2800 [2800, 3200), 1/1 trials held",
            "2000 [2000, 2800), 1/1 trials held",
            "-28.6% [-37.5%, +0.0%)"
        ]
    );
    let rates = &tables[1];
    assert_eq!(
        rates[0],
        ["rate", "series", "figure", "base", "new", "change"]
    );
    assert_eq!(rates.len(), 1 + 3 * 6, "three common rates, six rows each");
    assert!(
        rates.iter().all(|r| r.len() == 6),
        "no cell broke out: {rates:?}"
    );
    let p99_at_2000 = rates
        .iter()
        .skip_while(|r| !r[0].starts_with("2000 ops/s"))
        .find(|r| r[2] == "p99")
        .unwrap();
    assert!(p99_at_2000[5].starts_with("+33."), "{p99_at_2000:?}");
    assert!(
        text.contains("- ❌ `capacity < -5%`: capacity: 2800 → 2000 ops/s (-28.6%)"),
        "{text}"
    );
    assert!(text.contains("- ✅ `error_rate > +0.001`"), "{text}");
}

/// Validate JUnit XML against the vendored XSD with xmllint.
pub(crate) fn assert_valid_junit(xml: &[u8]) {
    let xsd = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/junit.xsd");
    let dir = std::env::temp_dir().join(format!("loadgen-junit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!(
        "{:x}.xml",
        xml.len() ^ (xml.iter().map(|&b| b as usize).sum::<usize>())
    ));
    std::fs::write(&file, xml).unwrap();
    let out = Command::new("xmllint")
        .args(["--noout", "--schema"])
        .arg(&xsd)
        .arg(&file)
        .output()
        .expect("xmllint runs (Debian libxml2-utils; scripts/install-deps installs it)");
    let _ = std::fs::remove_file(&file);
    assert!(
        out.status.success(),
        "JUnit XML does not validate:\n{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(xml)
    );
}

#[test]
fn junit_has_a_case_per_criterion_and_per_rate_and_validates() {
    let mut out = Vec::new();
    super::junit::write(&mut out, &comparison()).unwrap();
    assert_valid_junit(&out);
    let xml = String::from_utf8(out).unwrap();
    assert_eq!(xml.matches("<testcase ").count(), 3 + 3, "{xml}");
    assert!(
        xml.contains(r#"<testsuite name="loadgen compare" tests="6""#),
        "{xml}"
    );
    assert!(
        xml.contains(
            r#"<failure message="capacity: 2800 → 2000 ops/s (-28.6%)" type="regression"/>"#
        ),
        "{xml}"
    );
    // 1000 ops/s broke nothing; 2000 and 2800 broke p99.
    assert_eq!(xml.matches("<failure ").count(), 2 + 2, "{xml}");
}

#[test]
fn a_run_is_a_case_per_step_trip_failing_inconclusive_skipped() {
    let run = report_of(vec![
        measured(1000, "PASS", &[1.0; 3], 0),
        measured(2000, "INCONCLUSIVE", &[1.0; 3], 0),
        measured(4000, "TRIP", &[1.0; 3], 0),
    ]);
    let mut out = Vec::new();
    super::junit::write_run(&mut out, &run).unwrap();
    assert_valid_junit(&out);
    let xml = String::from_utf8(out).unwrap();
    assert!(
        xml.contains(r#"tests="3""#) && xml.contains(r#"failures="1""#),
        "{xml}"
    );
    assert!(
        xml.contains(r#"<skipped message="no ops attempted" type="INCONCLUSIVE"/>"#),
        "{xml}"
    );
    assert!(
        xml.contains(r#"<failure message="op p99=300ms &gt; 250ms" type="TRIP"/>"#),
        "{xml}"
    );
    assert!(
        xml.contains(r#"name="probe 2 at 4000 ops/s" classname="loadgen.max_rps.synthetic""#),
        "{xml}"
    );

    let mut md = Vec::new();
    super::markdown::write_run(&mut md, &run).unwrap();
    let md = String::from_utf8(md).unwrap();
    let t = tables(&md);
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].len(), 4, "a header and three steps");
    assert_eq!(t[0][3][6], "TRIP");
    assert_eq!(t[0][3][7], "op p99=300ms > 250ms");
    assert!(
        md.starts_with("### loadgen max-rps synthetic: max RPS = 1000\n"),
        "{md}"
    );
}

#[test]
fn text_puts_capacity_first_and_criteria_last() {
    let mut out = Vec::new();
    super::text::write(&mut out, &comparison()).unwrap();
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[3],
        "capacity: 2800 [2800, 3200), 1/1 trials held -> 2000 [2000, 2800), 1/1 trials held: -28.6% [-37.5%, +0.0%)"
    );
    assert!(text.ends_with("  ok    error_rate > +0.001\n"), "{text}");
    assert!(
        text.contains("  FAIL  capacity < -5%\n          capacity: 2800 → 2000 ops/s (-28.6%)\n"),
        "{text}"
    );
}
