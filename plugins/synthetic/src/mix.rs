//! [`Mix`]: `-o mix=read:9:1,write:1:5` — a weighted mix of request kinds on
//! the server's one FIFO queue, each kind its own latency series.
//!
//! Each kind is `name:weight:cost`, optionally followed by `:p95=DURATION`
//! and/or `:p99=DURATION`, its own SLO. An op of cost `c` holds the server
//! for `c / capacity` seconds, so kind `i` alone is served at
//! `Cᵢ = capacity / costᵢ` and the mix at exactly `1 / Σ(fᵢ / Cᵢ)` ops/s
//! (`fᵢ` = weightᵢ / Σ weights) — the ground truth of per-series tests.
//!
//! Kinds are dealt in a smooth weighted round-robin over admitted ops (9:1 is
//! `read` nine times in ten, spread out, never a burst of `write`s), so any
//! `Σ weights` consecutive admissions hold each kind exactly its weight.

use std::collections::HashSet;
use std::time::Duration;

use loadgen_plugin_api::sdk::{OptionValue, SeriesSpec};

use crate::server::timeline::SERVICE_TICKS;

/// Σ weights at most this: the dealing order is kept as one slot per unit of weight.
const MAX_TOTAL_WEIGHT: u32 = 10_000;

/// One request kind of the mix.
#[derive(Clone, Debug, PartialEq)]
pub struct Kind {
    /// Its series' name (letters, digits, `_`, `-`, `.`: it names CSV columns).
    pub name: String,
    pub weight: u32,
    /// Service time in units of 1/capacity (> 0; 5 = five times a unit op).
    pub cost: f64,
    pub slo_p95: Option<Duration>,
    pub slo_p99: Option<Duration>,
}

/// The request kinds, in the order given (kind `i` is series id `i`); empty
/// = no mix: one series `op` of unit cost.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Mix {
    pub kinds: Vec<Kind>,
}

impl OptionValue for Mix {
    fn parse_option(name: &str, raw: &str) -> Result<Mix, String> {
        Mix::parse(raw).map_err(|e| format!("option '{name}': {e}"))
    }
}

impl Mix {
    /// `read:9:1,write:1:5:p99=30ms`; empty text = no mix.
    pub fn parse(text: &str) -> Result<Mix, String> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(Mix::default());
        }
        let kinds = text
            .split(',')
            .map(|k| parse_kind(k.trim()))
            .collect::<Result<Vec<_>, _>>()?;
        let mut names = HashSet::new();
        if let Some(k) = kinds.iter().find(|k| !names.insert(k.name.as_str())) {
            return Err(format!("kind '{}' is given twice", k.name));
        }
        let total: u64 = kinds.iter().map(|k| k.weight as u64).sum();
        if total > MAX_TOTAL_WEIGHT as u64 {
            return Err(format!(
                "the weights add up to {total}, more than {MAX_TOTAL_WEIGHT}"
            ));
        }
        if kinds.len() > u16::MAX as usize {
            return Err("too many kinds".into());
        }
        Ok(Mix { kinds })
    }

    pub fn is_empty(&self) -> bool {
        self.kinds.is_empty()
    }

    /// The series the workload declares: one per kind, id = position.
    pub fn series(&self) -> Vec<SeriesSpec> {
        self.kinds
            .iter()
            .enumerate()
            .map(|(i, k)| {
                let mut spec = SeriesSpec::new(i as u16, k.name.clone());
                if let Some(limit) = k.slo_p95 {
                    spec = spec.slo_p95(limit);
                }
                if let Some(limit) = k.slo_p99 {
                    spec = spec.slo_p99(limit);
                }
                spec
            })
            .collect()
    }

    /// The mix's capacity at `capacity` unit ops/s: `1 / Σ(fᵢ / Cᵢ)`.
    pub fn capacity(&self, capacity: u64) -> f64 {
        let total: f64 = self.kinds.iter().map(|k| k.weight as f64).sum();
        let seconds_per_op: f64 = self
            .kinds
            .iter()
            .map(|k| (k.weight as f64 / total) * k.cost / capacity as f64)
            .sum();
        1.0 / seconds_per_op
    }

    /// The kinds in dealing order, one slot per unit of weight (smooth
    /// weighted round-robin: each slot goes to the kind most behind its share).
    pub fn dealing_order(&self) -> Vec<u16> {
        let total: i64 = self.kinds.iter().map(|k| k.weight as i64).sum();
        let mut current = vec![0i64; self.kinds.len()];
        (0..total)
            .map(|_| {
                for (c, k) in current.iter_mut().zip(&self.kinds) {
                    *c += k.weight as i64;
                }
                // The first of the largest: ties go to the kind listed first.
                let pick = (0..current.len())
                    .rev()
                    .max_by_key(|&i| current[i])
                    .expect("a mix has kinds");
                current[pick] -= total;
                pick as u16
            })
            .collect()
    }

    /// Each kind's service time in the model's ticks ([`SERVICE_TICKS`] per unit).
    pub fn service_ticks(&self) -> Vec<u128> {
        self.kinds
            .iter()
            .map(|k| (SERVICE_TICKS as f64 * k.cost).round().max(1.0) as u128)
            .collect()
    }
}

fn parse_kind(text: &str) -> Result<Kind, String> {
    let shape = "name:weight:cost[:p95=DURATION][:p99=DURATION], e.g. write:1:5:p99=30ms";
    let fields: Vec<&str> = text.split(':').map(str::trim).collect();
    let [name, weight, cost, slos @ ..] = fields.as_slice() else {
        return Err(format!("'{text}' is not {shape}"));
    };
    let valid_name = |c: char| c.is_ascii_alphanumeric() || "_-.".contains(c);
    if name.is_empty() || !name.chars().all(valid_name) {
        return Err(format!(
            "kind name '{name}' must be letters, digits, '_', '-' or '.'"
        ));
    }
    let weight = match weight.parse::<u32>() {
        Ok(w) if w > 0 => w,
        _ => {
            return Err(format!(
                "kind '{name}': weight '{weight}' is not a whole number > 0"
            ))
        }
    };
    let cost = match cost.parse::<f64>() {
        Ok(c) if c > 0.0 && c.is_finite() && c <= 1e6 => c,
        _ => {
            return Err(format!(
                "kind '{name}': cost '{cost}' is not a number > 0 (at most 1e6)"
            ))
        }
    };
    let mut kind = Kind {
        name: name.to_string(),
        weight,
        cost,
        slo_p95: None,
        slo_p99: None,
    };
    for slo in slos {
        let (which, value) = slo
            .split_once('=')
            .ok_or_else(|| format!("kind '{name}': '{slo}' is not p95=DURATION or p99=DURATION"))?;
        let limit = Duration::parse_option(which, value)
            .ok()
            .filter(|d| !d.is_zero())
            .ok_or_else(|| {
                format!("kind '{name}': {which} '{value}' is not a duration > 0 like 30ms")
            })?;
        match which.trim() {
            "p95" => kind.slo_p95 = Some(limit),
            "p99" => kind.slo_p99 = Some(limit),
            other => return Err(format!("kind '{name}': '{other}' is not an SLO (p95, p99)")),
        }
    }
    Ok(kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(name: &str, weight: u32, cost: f64) -> Kind {
        Kind {
            name: name.into(),
            weight,
            cost,
            slo_p95: None,
            slo_p99: None,
        }
    }

    #[test]
    fn kinds_are_read_with_their_slos() {
        let mix = Mix::parse("read:9:1, write:1:5:p99=30ms:p95=20ms").unwrap();
        let mut write = kind("write", 1, 5.0);
        write.slo_p95 = Some(Duration::from_millis(20));
        write.slo_p99 = Some(Duration::from_millis(30));
        assert_eq!(mix.kinds, [kind("read", 9, 1.0), write]);
        let series = mix.series();
        assert_eq!((series[1].id(), series[1].name()), (1, "write"));
        assert_eq!(series[1].p99(), Some(Duration::from_millis(30)));
        assert_eq!(series[0].p99(), None);
        assert_eq!(Mix::parse(" ").unwrap(), Mix::default());
    }

    #[test]
    fn bad_mixes_are_refused_in_one_line() {
        let table = [
            ("read:9", "'read:9' is not name:weight:cost"),
            (
                "r d:1:1",
                "kind name 'r d' must be letters, digits, '_', '-' or '.'",
            ),
            (
                "read:0:1",
                "kind 'read': weight '0' is not a whole number > 0",
            ),
            (
                "read:1:0",
                "kind 'read': cost '0' is not a number > 0 (at most 1e6)",
            ),
            (
                "read:1:x",
                "kind 'read': cost 'x' is not a number > 0 (at most 1e6)",
            ),
            ("read:1:1,read:2:1", "kind 'read' is given twice"),
            (
                "read:1:1:p90=1ms",
                "kind 'read': 'p90' is not an SLO (p95, p99)",
            ),
            (
                "read:1:1:p99=soon",
                "kind 'read': p99 'soon' is not a duration > 0 like 30ms",
            ),
            (
                "read:1:1:p99",
                "kind 'read': 'p99' is not p95=DURATION or p99=DURATION",
            ),
            (
                "a:6000:1,b:6000:1",
                "the weights add up to 12000, more than 10000",
            ),
        ];
        for (given, want) in table {
            let err = Mix::parse_option("mix", given).unwrap_err();
            assert!(
                err.starts_with(&format!("option 'mix': {want}")),
                "{given}: {err}"
            );
            assert_eq!(err.lines().count(), 1);
        }
    }

    #[test]
    fn the_dealing_order_spreads_each_kind_by_its_weight() {
        let mix = Mix {
            kinds: vec![kind("a", 9, 1.0), kind("b", 1, 1.0)],
        };
        let order = mix.dealing_order();
        assert_eq!(order.len(), 10);
        assert_eq!(order.iter().filter(|&&k| k == 1).count(), 1);
        let mix = Mix {
            kinds: vec![kind("a", 2, 1.0), kind("b", 1, 1.0), kind("c", 1, 1.0)],
        };
        // Never two of the same in a row when it can be helped.
        assert_eq!(mix.dealing_order(), [0, 1, 2, 0]);
    }

    #[test]
    fn the_mix_capacity_is_the_harmonic_mean_of_the_kinds() {
        // 0.9·1 + 0.1·5 = 1.4 unit ops per op: 1000 / 1.4.
        let mix = Mix::parse("read:9:1,write:1:5").unwrap();
        assert!((mix.capacity(1000) - 1000.0 / 1.4).abs() < 1e-9);
        assert_eq!(mix.service_ticks(), [SERVICE_TICKS, 5 * SERVICE_TICKS]);
    }
}
