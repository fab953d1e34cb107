//! One figure in both runs, how it moved, and whether the move is real.

use serde::{Deserialize, Serialize};

use crate::stats::{self, ALPHA};

/// A figure of the base run against the same figure of the new run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub base: f64,
    pub new: f64,
    /// `new − base`, in the figure's unit.
    pub delta: f64,
    /// `(new − base) / base`; `None` when `base` is 0.
    pub relative: Option<f64>,
    /// The test's two-sided p-value; `None` when it could not run (no
    /// points on a side) or the figure is judged otherwise (capacity).
    pub p_value: Option<f64>,
    /// Whether the change is told apart from noise; `~` when not.
    pub significant: bool,
}

impl Change {
    /// A change whose significance is `p_value < ALPHA`.
    pub fn tested(base: f64, new: f64, p_value: Option<f64>) -> Change {
        Change {
            significant: p_value.is_some_and(|p| p < ALPHA) && base != new,
            ..Change::judged(base, new, false, p_value)
        }
    }

    /// A change whose significance was decided by the caller.
    pub fn judged(base: f64, new: f64, significant: bool, p_value: Option<f64>) -> Change {
        Change {
            base,
            new,
            delta: new - base,
            relative: (base != 0.0).then(|| (new - base) / base),
            p_value,
            significant,
        }
    }

    /// Per-second samples of both runs, tested with Mann–Whitney U.
    pub fn of_samples(base: f64, new: f64, base_points: &[f64], new_points: &[f64]) -> Change {
        Change::tested(base, new, stats::mann_whitney_u(base_points, new_points))
    }

    /// `+12.5%`, `-3.0%`, or the absolute delta when there is no base.
    pub fn percent_text(&self) -> String {
        match self.relative {
            Some(r) => format!("{:+.1}%", r * 100.0),
            None if self.delta == 0.0 => "0".into(),
            None => format!("{:+}", round_sig(self.delta)),
        }
    }

    /// `-14.3% (p=0.008)` for a significant change, `~ (p=0.310)` otherwise.
    pub fn verdict_text(&self) -> String {
        let p = self
            .p_value
            .map(|p| format!(" (p={p:.3})"))
            .unwrap_or_default();
        if self.significant {
            format!("{}{p}", self.percent_text())
        } else {
            format!("~{p}")
        }
    }
}

/// `v` to about 4 significant digits, for text.
pub fn round_sig(v: f64) -> f64 {
    if v == 0.0 || !v.is_finite() {
        return v;
    }
    let digits = 3 - v.abs().log10().floor() as i32;
    let scale = 10f64.powi(digits);
    (v * scale).round() / scale
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn significance_needs_a_small_p_and_a_difference() {
        assert!(Change::tested(1.0, 2.0, Some(0.01)).significant);
        assert!(!Change::tested(1.0, 2.0, Some(0.2)).significant);
        assert!(
            !Change::tested(1.0, 2.0, None).significant,
            "no test, no claim"
        );
        assert!(!Change::tested(1.0, 1.0, Some(0.01)).significant);
    }

    #[test]
    fn texts() {
        let c = Change::tested(2.0, 2.5, Some(0.008));
        assert_eq!(c.percent_text(), "+25.0%");
        assert_eq!(c.verdict_text(), "+25.0% (p=0.008)");
        assert_eq!(
            Change::tested(2.0, 2.1, Some(0.5)).verdict_text(),
            "~ (p=0.500)"
        );
        let from_zero = Change::tested(0.0, 0.0123456, Some(0.001));
        assert_eq!(from_zero.relative, None);
        assert_eq!(from_zero.percent_text(), "+0.01235");
        assert_eq!(round_sig(1234.5678), 1235.0);
    }
}
