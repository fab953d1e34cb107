//! [`Options`]: the user's `-o KEY=VALUE` pairs merged over declared defaults,
//! with typed getters whose errors name the option and the bad value.

use std::collections::BTreeMap;
use std::fmt::Display;
use std::str::FromStr;
use std::time::Duration;

use super::info::Info;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Options {
    values: BTreeMap<String, String>,
}

impl Options {
    /// Merge `given` over the defaults `info` declares; an undeclared key is an
    /// error that lists the valid ones.
    pub fn resolve(info: &Info, given: BTreeMap<String, String>) -> Result<Options, String> {
        let mut values: BTreeMap<String, String> = info
            .options
            .iter()
            .map(|o| (o.name.clone(), o.default.clone()))
            .collect();
        for (key, value) in given {
            if !values.contains_key(&key) {
                let valid: Vec<&str> = info.options.iter().map(|o| o.name.as_str()).collect();
                return Err(format!(
                    "unknown option '{key}' for plugin {} (valid: {})",
                    info.name,
                    valid.join(", ")
                ));
            }
            values.insert(key, value);
        }
        Ok(Options { values })
    }

    /// [`Options::resolve`] from `(key, value)` pairs (tests, tools).
    pub fn resolve_pairs(info: &Info, given: &[(&str, &str)]) -> Result<Options, String> {
        let given = given
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Options::resolve(info, given)
    }

    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Options {
        Options {
            values: pairs
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    pub fn str(&self, name: &str) -> Result<&str, String> {
        self.values
            .get(name)
            .map(String::as_str)
            .ok_or_else(|| format!("option '{name}' is not declared"))
    }

    /// Parse with `FromStr`; `what` describes the expected form for the error.
    pub fn parse<T>(&self, name: &str, what: &str) -> Result<T, String>
    where
        T: FromStr,
        T::Err: Display,
    {
        let raw = self.str(name)?;
        raw.trim()
            .parse()
            .map_err(|e| format!("option '{name}': '{raw}' is not {what} ({e})"))
    }

    /// A number that must be > 0.
    pub fn positive<T>(&self, name: &str) -> Result<T, String>
    where
        T: FromStr + PartialOrd + Default,
        T::Err: Display,
    {
        let v: T = self.parse(name, "a number")?;
        if v > T::default() {
            Ok(v)
        } else {
            Err(format!("option '{name}' must be > 0"))
        }
    }

    /// A fraction in [0, 1].
    pub fn fraction(&self, name: &str) -> Result<f64, String> {
        let v: f64 = self.parse(name, "a number")?;
        if (0.0..=1.0).contains(&v) {
            Ok(v)
        } else {
            Err(format!("option '{name}' must be between 0 and 1, got {v}"))
        }
    }

    /// A human duration such as `5s`, `250ms`, `0s`.
    pub fn duration(&self, name: &str) -> Result<Duration, String> {
        let raw = self.str(name)?;
        humantime::parse_duration(raw.trim()).map_err(|e| {
            format!("option '{name}': '{raw}' is not a duration like 250ms or 5s ({e})")
        })
    }

    /// One of a fixed set of words.
    pub fn choice<'a>(&self, name: &str, choices: &[&'a str]) -> Result<&'a str, String> {
        let raw = self.str(name)?;
        choices
            .iter()
            .find(|c| **c == raw.trim())
            .copied()
            .ok_or_else(|| {
                format!(
                    "option '{name}': '{raw}' is not one of {}",
                    choices.join("|")
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info() -> Info {
        Info::new("t", "0", "")
            .option("capacity", "1000", "")
            .option("delay", "5ms", "")
            .option("mode", "fast", "")
    }

    fn given(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_fill_what_the_user_did_not_give() {
        let o = Options::resolve(&info(), given(&[("capacity", "7")])).unwrap();
        assert_eq!(o.positive::<u64>("capacity").unwrap(), 7);
        assert_eq!(o.duration("delay").unwrap(), Duration::from_millis(5));
    }

    #[test]
    fn unknown_key_lists_valid_keys() {
        let err = Options::resolve(&info(), given(&[("capcity", "7")])).unwrap_err();
        assert_eq!(
            err,
            "unknown option 'capcity' for plugin t (valid: capacity, delay, mode)"
        );
    }

    #[test]
    fn bad_values_name_option_and_value() {
        let table: &[(&str, &str, &str)] = &[
            (
                "capacity",
                "abc",
                "option 'capacity': 'abc' is not a number",
            ),
            ("capacity", "0", "option 'capacity' must be > 0"),
            ("delay", "soon", "option 'delay': 'soon' is not a duration"),
            (
                "mode",
                "slow",
                "option 'mode': 'slow' is not one of fast|safe",
            ),
        ];
        for (key, value, want) in table {
            let o = Options::resolve(&info(), given(&[(key, value)])).unwrap();
            let err = match *key {
                "capacity" => o.positive::<u64>(key).map(|_| ()).unwrap_err(),
                "delay" => o.duration(key).map(|_| ()).unwrap_err(),
                _ => o.choice(key, &["fast", "safe"]).map(|_| ()).unwrap_err(),
            };
            assert!(err.starts_with(want), "{err:?} should start with {want:?}");
        }
    }
}
