//! Are two runs of the same workload under the same SLO? Capacities of two
//! different plugins, option sets or SLOs are not comparable, so `compare`
//! refuses them unless forced. Where the rates came from (steps, search,
//! phases), the seed and the outputs may differ.

use loadgen_core::config::RunConfig;
use serde::{Deserialize, Serialize};

/// Settings that make the workload or the verdict (flag names, as in `--config`).
const SAME_WORKLOAD: &[&str] = &[
    "plugin",
    "preset",
    "slo-p95",
    "slo-p99",
    "slo-error-rate",
    "slo-loss-rate",
    "slo-pending-growth",
    "rate-tolerance",
    "scrape",
    "slo-counter",
];

/// One setting whose values differ.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Difference {
    /// `plugin`, `slo-p99`, `-o capacity`.
    pub setting: String,
    pub base: String,
    pub new: String,
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} vs {}", self.setting, self.base, self.new)
    }
}

/// Every workload setting that differs, plugin options by key; values of
/// options that may hold a secret are not shown.
pub fn differences(base: &RunConfig, new: &RunConfig) -> Vec<Difference> {
    let (a, b) = (base.to_table(), new.to_table());
    let shown = |v: Option<&toml::Value>| match v {
        None => "(unset)".to_string(),
        Some(toml::Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
    };
    let mut out: Vec<Difference> = SAME_WORKLOAD
        .iter()
        .filter(|k| a.get(**k) != b.get(**k))
        .map(|k| Difference {
            setting: k.to_string(),
            base: shown(a.get(*k)),
            new: shown(b.get(*k)),
        })
        .collect();
    let mut keys: Vec<&String> = base.options.keys().chain(new.options.keys()).collect();
    keys.sort();
    keys.dedup();
    for key in keys {
        let (x, y) = (base.options.get(key), new.options.get(key));
        if x == y {
            continue;
        }
        let value = |v: Option<&String>| match v {
            None => "(unset)".to_string(),
            Some(_) if may_be_secret(key) => "(hidden)".to_string(),
            Some(v) => v.replace('\n', ","),
        };
        out.push(Difference {
            setting: format!("-o {key}"),
            base: value(x),
            new: value(y),
        });
    }
    out
}

/// An option whose value may carry a credential (a header, a token, a URL
/// with a password): its value is never printed.
fn may_be_secret(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    [
        "auth", "token", "secret", "password", "passwd", "cred", "key", "header", "cookie", "url",
    ]
    .iter()
    .any(|word| key.contains(word))
}

/// The refusal: one line naming every difference.
pub fn refusal(differences: &[Difference]) -> String {
    let named: Vec<String> = differences.iter().map(Difference::to_string).collect();
    format!(
        "the runs differ in {}: their capacities are not comparable (--force compares them anyway)",
        named.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn differences_name_the_setting_and_both_values() {
        let mut a = RunConfig::new("synthetic");
        a.options.insert("capacity".into(), "3000".into());
        let mut b = a.clone();
        assert_eq!(differences(&a, &b), vec![], "the same run");
        b.seed = 7;
        b.phases.hold = std::time::Duration::from_secs(5);
        b.outputs.json = Some("elsewhere.json".into());
        assert_eq!(
            differences(&a, &b),
            vec![],
            "seed, phases and outputs may differ"
        );
        b.options.insert("capacity".into(), "2600".into());
        b.slo.p99 = std::time::Duration::from_millis(100);
        b.options.insert("token".into(), "s3cr3t".into());
        let d = differences(&a, &b);
        assert_eq!(
            refusal(&d),
            "the runs differ in slo-p99 250ms vs 100ms, -o capacity 3000 vs 2600, \
             -o token (unset) vs (hidden): their capacities are not comparable (--force compares them anyway)"
        );
        b.plugin = "echo".into();
        assert_eq!(
            differences(&a, &b)[0].to_string(),
            "plugin synthetic vs echo"
        );
    }
}
