//! One CSV row per step:
//! `target_rps,achieved_rps,<series>_p95_ms,<series>_p99_ms,…,error_rate,loss_rate,
//! attempted,failed,lost,saturation,emit_underrun,worst_durable,worst_pending_delta,verdict,reasons`.

use std::io::Write;

use super::RunReport;

pub fn write_csv<W: Write>(w: W, report: &RunReport) -> csv::Result<()> {
    // Every series any step measured, in first-seen order: a step may lack
    // one (no samples, a series not in use), and every row has every column.
    let mut series: Vec<String> = Vec::new();
    for name in report
        .steps
        .iter()
        .flat_map(|s| s.series.iter().map(|x| &x.name))
    {
        if !series.contains(name) {
            series.push(name.clone());
        }
    }
    let mut out = csv::Writer::from_writer(w);
    let mut header = vec![
        "probe".to_string(),
        "target_rps".into(),
        "achieved_rps".into(),
    ];
    for s in &series {
        header.push(format!("{s}_p95_ms"));
        header.push(format!("{s}_p99_ms"));
    }
    header.extend(
        [
            "error_rate",
            "loss_rate",
            "attempted",
            "failed",
            "lost",
            "saturation",
            "emit_underrun",
            "worst_durable",
            "worst_pending_delta",
            "verdict",
            "reasons",
        ]
        .map(String::from),
    );
    out.write_record(&header)?;
    for step in &report.steps {
        let mut row = vec![
            step.probe.to_string(),
            step.target_rps.to_string(),
            format!("{:.1}", step.achieved_rps),
        ];
        for name in &series {
            match step.series.iter().find(|s| &s.name == name) {
                Some(s) => {
                    row.push(s.p95_ms.to_string());
                    row.push(s.p99_ms.to_string());
                }
                None => row.extend([String::new(), String::new()]),
            }
        }
        row.extend([
            format!("{:.6}", step.error_rate),
            format!("{:.6}", step.loss_rate),
            step.attempted.to_string(),
            step.failed.to_string(),
            step.lost.to_string(),
            step.saturation.to_string(),
            step.emit_underrun.to_string(),
            step.worst_durable.clone().unwrap_or_default(),
            step.worst_backlog_delta
                .map(|d| d.to_string())
                .unwrap_or_default(),
            step.verdict.label().to_string(),
            step.reasons().join("; "),
        ]);
        out.write_record(&row)?;
    }
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::report;
    use super::*;

    #[test]
    fn one_row_per_step_with_series_columns() {
        let mut out = Vec::new();
        write_csv(&mut out, &report(&[(1000, "PASS"), (4000, "TRIP")])).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "probe,target_rps,achieved_rps,op_p95_ms,op_p99_ms,error_rate,loss_rate,attempted,failed,lost,saturation,emit_underrun,worst_durable,worst_pending_delta,verdict,reasons"
        );
        assert_eq!(lines.len(), 3);
        assert!(
            lines[2].starts_with("1,4000,3996.0,143,180,"),
            "{}",
            lines[2]
        );
        assert!(
            lines[2].ends_with(",queue,1500,TRIP,op p95=143ms > 100ms"),
            "{}",
            lines[2]
        );
    }

    #[test]
    fn the_header_is_the_union_of_every_steps_series() {
        let mut r = report(&[(1000, "INCONCLUSIVE"), (2000, "PASS"), (4000, "PASS")]);
        r.steps[0].series.clear();
        r.steps[2].series[0].name = "E2".into();
        let mut out = Vec::new();
        write_csv(&mut out, &r).unwrap();
        let text = String::from_utf8(out).unwrap();
        let rows: Vec<Vec<&str>> = text.lines().map(|l| l.split(',').collect()).collect();
        assert_eq!(
            rows[0][3..7],
            ["op_p95_ms", "op_p99_ms", "E2_p95_ms", "E2_p99_ms"]
        );
        assert!(rows.iter().all(|r| r.len() == rows[0].len()), "{text}");
        assert_eq!(rows[1][3..7], ["", "", "", ""]);
        assert_eq!(rows[2][3..7], ["2.5", "3.25", "", ""]);
        assert_eq!(rows[3][3..7], ["", "", "2.5", "3.25"]);
    }
}
