//! Disturbances: a plugin's word that the measurement environment was
//! disturbed (its client lost the connection, reconnected, …). A step with
//! one between its start (warmup) and its judgment is INCONCLUSIVE with the
//! plugin's reason and re-run: what the outage did to its figures says
//! nothing about the service. Pure functions; the Collector keeps the list.

use crate::pacer::NS_PER_SEC;

/// One report from the plugin (`SampleSink::disturbed`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Disturbance {
    /// When it happened, in `CLOCK_MONOTONIC` nanoseconds.
    pub at_ns: u64,
    pub reason: String,
}

/// The Collector keeps at most this many per step: an outage reported every
/// second must not grow without bound (a longer one still shows how it began).
pub const KEPT_PER_STEP: usize = 64;

/// The INCONCLUSIVE reason for a step that began at `step_start_ns`, if any
/// of `disturbances` happened since: the first report, the last one if it
/// differs (how an outage began and how it ended), how many there were and
/// when the first came, e.g. `connection lost: disconnected from NATS; …;
/// connection lost: disconnected from NATS for 4.1s, reconnected (6 reports
/// from 1.0s into the step)`.
pub fn step_reason(disturbances: &[Disturbance], step_start_ns: u64) -> Option<String> {
    let during: Vec<&Disturbance> = disturbances
        .iter()
        .filter(|d| d.at_ns >= step_start_ns)
        .collect();
    let (first, last) = (during.first()?, during.last()?);
    let secs = (first.at_ns - step_start_ns) as f64 / NS_PER_SEC as f64;
    Some(match during.len() {
        1 => format!("{} (at {secs:.1}s into the step)", first.reason),
        2 if first.reason != last.reason => format!(
            "{}; {} (2 reports from {secs:.1}s into the step)",
            first.reason, last.reason
        ),
        n if first.reason != last.reason => format!(
            "{}; …; {} ({n} reports from {secs:.1}s into the step)",
            first.reason, last.reason
        ),
        n => format!(
            "{} ({n} reports from {secs:.1}s into the step)",
            first.reason
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = NS_PER_SEC;

    fn d(at_ns: u64, reason: &str) -> Disturbance {
        Disturbance {
            at_ns,
            reason: reason.into(),
        }
    }

    #[test]
    fn a_step_is_disturbed_only_by_what_happened_since_it_began() {
        let lost = "connection lost: disconnected from NATS";
        let back = "connection lost: disconnected from NATS for 3.0s, reconnected";
        let table: Vec<(&str, Vec<Disturbance>, Option<String>)> = vec![
            ("none", vec![], None),
            ("before the step only", vec![d(9 * S, lost)], None),
            (
                "one, in the hold",
                vec![d(14 * S + S / 2, lost)],
                Some(format!("{lost} (at 4.5s into the step)")),
            ),
            (
                "at the very start counts",
                vec![d(10 * S, lost)],
                Some(format!("{lost} (at 0.0s into the step)")),
            ),
            (
                "the same twice",
                vec![d(11 * S, lost), d(12 * S, lost)],
                Some(format!("{lost} (2 reports from 1.0s into the step)")),
            ),
            (
                "lost and back",
                vec![d(12 * S, lost), d(15 * S, back)],
                Some(format!(
                    "{lost}; {back} (2 reports from 2.0s into the step)"
                )),
            ),
            (
                "an outage: earlier ones ignored, how it began and ended named",
                vec![
                    d(9 * S, lost),
                    d(12 * S, lost),
                    d(13 * S, "connection lost: still disconnected after 1.0s"),
                    d(15 * S, back),
                ],
                Some(format!(
                    "{lost}; …; {back} (3 reports from 2.0s into the step)"
                )),
            ),
        ];
        for (case, disturbances, want) in table {
            assert_eq!(step_reason(&disturbances, 10 * S), want, "{case}");
        }
    }
}
