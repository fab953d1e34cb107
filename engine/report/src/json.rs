//! The whole run as JSON: settings, steps, answer (the [`RunReport`] serde shape).

use std::io::Write;

use super::RunReport;

pub fn write_json<W: Write>(mut w: W, report: &RunReport) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut w, report)?;
    writeln!(w)
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::report;
    use super::*;

    #[test]
    fn round_trips() {
        let r = report(&[(1000, "PASS"), (4000, "TRIP")]);
        let mut out = Vec::new();
        write_json(&mut out, &r).unwrap();
        let back: RunReport = serde_json::from_slice(&out).unwrap();
        assert_eq!(back, r);
    }
}
