//! Disturbances: a plugin's word that the measurement environment was
//! disturbed (its client lost the connection, reconnected, …). A step with
//! one between its start (warmup) and its judgment is INCONCLUSIVE with the
//! plugin's reason and re-run: what the outage did to its figures says
//! nothing about the service. Pure functions; the Collector keeps the list.

/// One report from the plugin (`SampleSink::disturbed`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Disturbance {
    /// When it happened, in `CLOCK_MONOTONIC` nanoseconds.
    pub at_ns: u64,
    pub reason: String,
}

/// The Collector keeps at most this many per step: an outage reported every
/// second must not grow without bound, and the verdict needs only the first few.
pub const KEPT_PER_STEP: usize = 64;

/// Distinct reasons named in a step's INCONCLUSIVE reason; the rest are counted.
const NAMED: usize = 3;

/// The INCONCLUSIVE reason for a step that began at `step_start_ns`, if any
/// of `disturbances` happened since: the distinct reasons in order (at most
/// three, then how many more) and when the first came, e.g. `connection lost:
/// disconnected from NATS; connection lost: disconnected from NATS for 3.0s,
/// reconnected (from 4.2s into the step)`.
pub fn step_reason(disturbances: &[Disturbance], step_start_ns: u64) -> Option<String> {
    let during: Vec<&Disturbance> = disturbances
        .iter()
        .filter(|d| d.at_ns >= step_start_ns)
        .collect();
    let first = during.first()?;
    let mut distinct: Vec<&str> = Vec::new();
    for d in &during {
        if !distinct.contains(&d.reason.as_str()) {
            distinct.push(&d.reason);
        }
    }
    let mut text = distinct[..distinct.len().min(NAMED)].join("; ");
    if distinct.len() > NAMED {
        text.push_str(&format!("; +{} more", distinct.len() - NAMED));
    }
    let secs = (first.at_ns - step_start_ns) as f64 / 1e9;
    Some(format!("{text} (from {secs:.1}s into the step)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;

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
                Some(format!("{lost} (from 4.5s into the step)")),
            ),
            (
                "at the very start counts",
                vec![d(10 * S, lost)],
                Some(format!("{lost} (from 0.0s into the step)")),
            ),
            (
                "an outage: earlier ones ignored, repeats named once",
                vec![
                    d(9 * S, lost),
                    d(12 * S, lost),
                    d(13 * S, lost),
                    d(15 * S, back),
                ],
                Some(format!("{lost}; {back} (from 2.0s into the step)")),
            ),
            (
                "many distinct reasons: three named, the rest counted",
                (0..5).map(|i| d(11 * S + i, &format!("r{i}"))).collect(),
                Some("r0; r1; r2; +2 more (from 1.0s into the step)".into()),
            ),
        ];
        for (case, disturbances, want) in table {
            assert_eq!(step_reason(&disturbances, 10 * S), want, "{case}");
        }
    }
}
