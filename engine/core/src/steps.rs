//! [`StepList`]: the ramp's target rates, parsed from `500,1k,2k`.

use std::fmt;
use std::str::FromStr;

/// Strictly ascending, positive target rates in ops/s.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepList(pub Vec<u64>);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StepListError {
    #[error("empty step list (expected e.g. 500,1k,2k)")]
    Empty,
    #[error("step '{0}' is not a rate (expected a whole number, optionally with a k suffix: 500, 2k, 1.5k)")]
    NotARate(String),
    #[error("step '{0}' must be > 0")]
    NotPositive(String),
    #[error("step '{0}' is above the highest rate loadgen paces, {MAX_RATE} ops/s (100M)")]
    TooHigh(String),
    #[error("steps must be strictly ascending: {prev} then {next}")]
    NotAscending { prev: u64, next: u64 },
}

/// The highest rate a step may ask for: far above what one load box can
/// drive, low enough that a typo (`1e30`) is refused instead of sizing
/// batches and buffers for it.
pub const MAX_RATE: u64 = 100_000_000;

/// Parse one rate: `500`, `2k`, `1.5k` (k = ×1000). The result must be whole.
pub fn parse_rate(raw: &str) -> Result<u64, StepListError> {
    let s = raw.trim();
    let not_a_rate = || StepListError::NotARate(s.to_string());
    let (number, scale) = match s.strip_suffix(['k', 'K']) {
        Some(n) => (n, 1000.0),
        None => (s, 1.0),
    };
    let value: f64 = number.parse().map_err(|_| not_a_rate())?;
    let rate = value * scale;
    if !rate.is_finite() || rate.fract() != 0.0 {
        return Err(not_a_rate());
    }
    if rate <= 0.0 {
        return Err(StepListError::NotPositive(s.to_string()));
    }
    if rate > MAX_RATE as f64 {
        return Err(StepListError::TooHigh(s.to_string()));
    }
    Ok(rate as u64)
}

impl FromStr for StepList {
    type Err = StepListError;

    fn from_str(s: &str) -> Result<StepList, StepListError> {
        if s.trim().is_empty() {
            return Err(StepListError::Empty);
        }
        let rates = s
            .split(',')
            .map(parse_rate)
            .collect::<Result<Vec<_>, _>>()?;
        for pair in rates.windows(2) {
            if pair[1] <= pair[0] {
                return Err(StepListError::NotAscending {
                    prev: pair[0],
                    next: pair[1],
                });
            }
        }
        Ok(StepList(rates))
    }
}

/// As a user writes it: `"500,1000"` (a TOML array of rates works too).
impl serde::Serialize for StepList {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for StepList {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<StepList, D::Error> {
        #[derive(serde::Deserialize)]
        #[serde(untagged)]
        enum Written {
            Text(String),
            Rates(Vec<u64>),
        }
        let text = match Written::deserialize(d)? {
            Written::Text(text) => text,
            Written::Rates(rates) => StepList(rates).to_string(),
        };
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for StepList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|r| r.to_string()).collect();
        f.write_str(&parts.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_valid_lists() {
        let table: &[(&str, &[u64])] = &[
            ("500", &[500]),
            ("500,1k,2k,5k,10k", &[500, 1000, 2000, 5000, 10000]),
            (" 1k , 1.5k ,2K", &[1000, 1500, 2000]),
            ("100000k", &[100_000_000]),
        ];
        for (input, want) in table {
            assert_eq!(
                input.parse::<StepList>(),
                Ok(StepList(want.to_vec())),
                "{input}"
            );
        }
    }

    #[test]
    fn rejects_bad_lists_with_the_reason() {
        let table: &[(&str, &str)] = &[
            ("", "empty step list (expected e.g. 500,1k,2k)"),
            ("  ", "empty step list (expected e.g. 500,1k,2k)"),
            ("2k,1k", "steps must be strictly ascending: 2000 then 1000"),
            ("1k,1k", "steps must be strictly ascending: 1000 then 1000"),
            ("0", "step '0' must be > 0"),
            ("-5", "step '-5' must be > 0"),
            ("abc", "step 'abc' is not a rate (expected a whole number, optionally with a k suffix: 500, 2k, 1.5k)"),
            ("1k,,2k", "step '' is not a rate (expected a whole number, optionally with a k suffix: 500, 2k, 1.5k)"),
            ("1.5", "step '1.5' is not a rate (expected a whole number, optionally with a k suffix: 500, 2k, 1.5k)"),
            ("1e30", "step '1e30' is above the highest rate loadgen paces, 100000000 ops/s (100M)"),
            ("1k,100000001", "step '100000001' is above the highest rate loadgen paces, 100000000 ops/s (100M)"),
            ("inf", "step 'inf' is not a rate (expected a whole number, optionally with a k suffix: 500, 2k, 1.5k)"),
        ];
        for (input, want) in table {
            let err = input.parse::<StepList>().unwrap_err();
            assert_eq!(err.to_string(), *want, "{input:?}");
        }
    }
}
