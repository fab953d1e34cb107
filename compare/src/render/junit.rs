//! JUnit XML for CI test reports: a comparison is one test case per
//! criterion and one per compared rate; a single run is one test case per
//! step (TRIP a failure, INCONCLUSIVE skipped with its reason).

use std::io::Write;

use loadgen_core::report::RunReport;
use loadgen_core::verdict::Verdict;
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::{capacity_change_text, capacity_text, rows_of};
use crate::Comparison;

fn failure(message: String) -> TestCaseStatus {
    let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
    status.set_message(message).set_type("regression");
    status
}

/// Write these suites as one JUnit report.
pub fn write_suites<W: Write>(w: W, suites: Vec<TestSuite>) -> std::io::Result<()> {
    let mut report = Report::new("loadgen");
    report.add_test_suites(suites);
    report.serialize(w).map_err(std::io::Error::other)
}

pub fn write<W: Write>(w: W, c: &Comparison) -> std::io::Result<()> {
    write_suites(w, vec![comparison_suite(c)])
}

/// One run (`max-rps --junit`): each step a test case.
pub fn write_run<W: Write>(w: W, r: &RunReport) -> std::io::Result<()> {
    write_suites(w, vec![run_suite(r)])
}

/// A comparison as a suite: one case per criterion, one per compared rate.
pub fn comparison_suite(c: &Comparison) -> TestSuite {
    let mut suite = TestSuite::new("loadgen compare");
    let cap = &c.capacity;
    suite.set_system_out(format!(
        "base {}: capacity {}\nnew {}: capacity {}\nchange: {}\n",
        c.base.source,
        capacity_text(&cap.base),
        c.new.source,
        capacity_text(&cap.new),
        capacity_change_text(cap)
    ));
    for r in &c.criteria {
        let status = if r.passed() {
            TestCaseStatus::success()
        } else {
            let what: Vec<String> = r
                .broken_at
                .iter()
                .map(|b| b.text(r.criterion.metric))
                .collect();
            failure(what.join("; "))
        };
        let mut case = TestCase::new(format!("fail-on {}", r.text), status);
        case.set_classname("loadgen.compare.criteria");
        suite.add_test_case(case);
    }
    for rate in &c.rates {
        let broken: Vec<String> = c
            .criteria
            .iter()
            .flat_map(|r| {
                r.broken_at
                    .iter()
                    .filter(|b| b.base_rps == Some(rate.base_rps))
                    .map(|b| format!("{}: {}", r.text, b.text(r.criterion.metric)))
            })
            .collect();
        let status = if broken.is_empty() {
            TestCaseStatus::success()
        } else {
            failure(broken.join("; "))
        };
        let mut case = TestCase::new(super::rate_text(rate), status);
        case.set_classname("loadgen.compare.rates");
        let lines: Vec<String> = rows_of(rate)
            .iter()
            .map(|r| r[1..].join(" ").trim().to_string())
            .collect();
        case.set_system_out(lines.join("\n"));
        suite.add_test_case(case);
    }
    suite
}

/// A run as a suite: each step a case (TRIP a failure, INCONCLUSIVE skipped).
pub fn run_suite(r: &RunReport) -> TestSuite {
    let mut suite = TestSuite::new(format!("loadgen max-rps {}", r.settings.plugin));
    let answer = match r.answer.max_rps {
        Some(rps) => format!("ANSWER: max RPS = {rps}"),
        None => "ANSWER: no step passed".to_string(),
    };
    suite.set_system_out(answer);
    for s in &r.steps {
        let status = match &s.verdict {
            Verdict::Pass => TestCaseStatus::success(),
            Verdict::Trip(_) => {
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                status.set_message(s.reasons().join("; ")).set_type("TRIP");
                status
            }
            Verdict::Inconclusive(doubt) => {
                let mut status = TestCaseStatus::skipped();
                status
                    .set_message(doubt.to_string())
                    .set_type("INCONCLUSIVE");
                status
            }
        };
        let mut case = TestCase::new(
            format!("probe {} at {} ops/s", s.probe, s.target_rps),
            status,
        );
        case.set_classname(format!("loadgen.max_rps.{}", r.settings.plugin));
        case.set_time(r.settings.phases.hold);
        let series: Vec<String> = s
            .series
            .iter()
            .map(|x| format!("{} p95={:.3}ms p99={:.3}ms", x.name, x.p95_ms, x.p99_ms))
            .collect();
        case.set_system_out(format!(
            "achieved {:.1} ops/s; {}; error rate {:.3}%",
            s.achieved_rps,
            series.join("; "),
            s.error_rate * 100.0
        ));
        suite.add_test_case(case);
    }
    suite
}
