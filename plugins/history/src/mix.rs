//! [`Mix`]: weighted choices written `key:weight,…` (`history:80,thread:20`).
//!
//! Keys come from a fixed list; a key left out is never chosen. Weights are
//! whole numbers > 0 and need not add up to 100.

use chat_fixtures::Rng;

/// Weights for the `N` known keys, in the order the keys were declared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mix<const N: usize> {
    weights: [u32; N],
    total: u64,
}

impl<const N: usize> Mix<N> {
    /// Parse option `name`'s value `raw` over `keys`; errors name the option.
    pub fn parse(name: &str, raw: &str, keys: [&str; N]) -> Result<Mix<N>, String> {
        let bad =
            |why: String| format!("option '{name}': {why} (expected e.g. {})", example(&keys));
        let mut weights = [0u32; N];
        let mut given = [false; N];
        for part in raw.split(',').map(str::trim) {
            let Some((key, weight)) = part.split_once(':') else {
                return Err(bad(format!("'{part}' is not key:weight")));
            };
            let key = key.trim();
            let Some(i) = keys.iter().position(|k| *k == key) else {
                return Err(bad(format!(
                    "unknown key '{key}' (valid: {})",
                    keys.join(", ")
                )));
            };
            if given[i] {
                return Err(bad(format!("'{key}' is given twice")));
            }
            let weight = weight.trim();
            weights[i] = match weight.parse::<u32>() {
                Ok(w) if w > 0 => w,
                _ => {
                    return Err(bad(format!(
                    "the weight of '{key}' must be a whole number > 0 (leave a key out to never \
                         choose it), got '{weight}'"
                )))
                }
            };
            given[i] = true;
        }
        Ok(Mix {
            weights,
            total: weights.iter().map(|&w| u64::from(w)).sum(),
        })
    }

    /// Whether key `i` is ever chosen.
    pub fn includes(&self, i: usize) -> bool {
        self.weights[i] > 0
    }

    /// Key `i` with probability `weight[i] / total`. Always draws exactly
    /// once, so later draws from `rng` do not depend on the weights.
    pub fn pick(&self, rng: &mut Rng) -> usize {
        let mut x = rng.below(self.total);
        for (i, &w) in self.weights.iter().enumerate() {
            if x < u64::from(w) {
                return i;
            }
            x -= u64::from(w);
        }
        unreachable!("a draw below the total falls within some weight")
    }
}

fn example(keys: &[&str]) -> String {
    let share = 100 / keys.len().max(1);
    keys.iter()
        .map(|k| format!("{k}:{share}"))
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEYS: [&str; 2] = ["history", "thread"];

    #[test]
    fn well_formed_mixes() {
        let table: &[(&str, [u32; 2])] = &[
            ("history:80,thread:20", [80, 20]),
            (" thread : 1 , history : 3 ", [3, 1]),
            ("history:100", [100, 0]),
            ("thread:5", [0, 5]),
        ];
        for (raw, want) in table {
            let mix = Mix::parse("mix", raw, KEYS).unwrap();
            assert_eq!(mix.weights, *want, "{raw}");
            assert_eq!(mix.includes(1), want[1] > 0, "{raw}");
        }
    }

    #[test]
    fn malformed_mixes_name_the_option_and_the_fault() {
        let table: &[(&str, &str)] = &[
            ("", "option 'mix': '' is not key:weight"),
            ("history", "option 'mix': 'history' is not key:weight"),
            ("history:80,", "option 'mix': '' is not key:weight"),
            (
                "hist:80",
                "option 'mix': unknown key 'hist' (valid: history, thread)",
            ),
            (
                "history:0",
                "option 'mix': the weight of 'history' must be a whole number > 0",
            ),
            (
                "history:-5",
                "option 'mix': the weight of 'history' must be a whole number > 0",
            ),
            (
                "history:2.5",
                "option 'mix': the weight of 'history' must be a whole number > 0",
            ),
            (
                "history:",
                "option 'mix': the weight of 'history' must be a whole number > 0",
            ),
            (
                "history:1,history:2",
                "option 'mix': 'history' is given twice",
            ),
        ];
        for (raw, want) in table {
            let err = Mix::parse("mix", raw, KEYS).unwrap_err();
            assert!(err.starts_with(want), "{raw:?}: {err}");
            assert!(
                err.ends_with("(expected e.g. history:50,thread:50)"),
                "{err}"
            );
            assert!(!err.contains('\n'), "one line: {err}");
        }
    }

    #[test]
    fn picks_follow_the_weights() {
        let mix = Mix::parse("mix", "history:80,thread:20", KEYS).unwrap();
        let mut rng = Rng::new(1);
        let threads = (0..10_000).filter(|_| mix.pick(&mut rng) == 1).count();
        assert!((1_800..2_200).contains(&threads), "{threads}");
        let only = Mix::parse("mix", "thread:3", KEYS).unwrap();
        assert!((0..1_000).all(|_| only.pick(&mut rng) == 1));
    }
}
