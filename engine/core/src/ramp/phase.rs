//! [`Phase`]: where a step is, the one name the progress line, the live view
//! and the `loadgen_phase` gauge share.

use serde::{Deserialize, Serialize};

/// Where a step is. Serialized snake_case (`"hold"`), as the live view's
/// recorded events and the `loadgen_phase` gauge's label spell it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Warmup,
    Hold,
    Drain,
    /// Cooldown and waiting for the backlog to settle.
    BetweenSteps,
}

impl Phase {
    pub const ALL: [Phase; 4] = [
        Phase::Warmup,
        Phase::Hold,
        Phase::Drain,
        Phase::BetweenSteps,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Phase::Warmup => "warmup",
            Phase::Hold => "hold",
            Phase::Drain => "drain",
            Phase::BetweenSteps => "between_steps",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_label_is_the_serialized_name() {
        for phase in Phase::ALL {
            let json = serde_json::to_string(&phase).unwrap();
            assert_eq!(json, format!("\"{}\"", phase.label()));
        }
    }
}
