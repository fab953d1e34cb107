//! [`RunConfig`]: everything that shapes a run, in one serde type.
//!
//! The command line's flag groups convert into it, `--config run.toml` is it
//! written by hand (same names as the flags), the journal's header records it
//! so `--resume` can continue the run, and the JSON report carries it as
//! `settings`. Its serde shape is therefore flat, keyed by flag names, with
//! values as a user types them (`hold = "30s"`, `steps = "1k,2k"`).
//!
//! A config fresh from the user may leave the rates to the plugin
//! ([`RunConfig::resolve`] fills them in); a resolved one names every rate, so
//! a journal replays the same run whichever plugin defaults change later.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::duration_text;
use crate::gates::GateSpec;
use crate::plugin::{DeclaredSeries, PluginDescription};
use crate::redact;
use crate::search::{Adaptive, Plan, Search};
use crate::steps::StepList;
use crate::verdict::{SeriesSlo, Slo};

/// One run's settings (see the module doc for the shapes it takes).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct RunConfig {
    /// A plugin name (`synthetic`) or the path of a plugin library.
    pub plugin: String,
    /// Sets the plugin's `preset` option.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preset: Option<String>,
    pub seed: u64,
    #[serde(flatten)]
    pub rates: Rates,
    #[serde(flatten)]
    pub phases: Phases,
    #[serde(flatten)]
    pub slo: Slo,
    /// Prometheus text endpoints scraped at hold start and end.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scrape: Vec<String>,
    /// Bounds on scraped counters' growth over the hold.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub slo_counter: Vec<GateSpec>,
    #[serde(flatten)]
    pub outputs: Outputs,
    /// The plugin's `-o KEY=VALUE` options (a TOML table: it comes last).
    #[serde(default)]
    pub options: BTreeMap<String, String>,
}

/// How the rates are chosen (`--search`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SearchKind {
    /// Run `steps` in order.
    Fixed,
    /// Grow from `start-rps` until the first TRIP, then bisect to `precision`.
    Adaptive,
}

/// The rates/search group.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Rates {
    /// Fixed ladder; `None` until resolved = the plugin's default steps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steps: Option<StepList>,
    pub search: SearchKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_rps: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_rps: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub growth: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub precision: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_steps: Option<u32>,
    /// Re-runs of the answer once the search has stopped; `None` until
    /// resolved = 1 for the adaptive search, 0 for the ladder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirm: Option<u32>,
    pub stop_on_trip: bool,
    /// Re-runs of an INCONCLUSIVE step.
    pub retry_inconclusive: u32,
}

/// The phases of every step.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Phases {
    #[serde(with = "duration_text")]
    pub warmup: Duration,
    #[serde(with = "duration_text")]
    pub hold: Duration,
    #[serde(with = "duration_text")]
    pub drain: Duration,
    #[serde(with = "duration_text")]
    pub cooldown: Duration,
}

/// Where the results go.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Outputs {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csv: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json: Option<PathBuf>,
    /// The HTML page with the latency-vs-load chart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report: Option<PathBuf>,
    /// Every finished step is appended here (JSON lines, fsynced).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub journal: Option<PathBuf>,
    /// loadgen's own Prometheus endpoint while the run lasts.
    #[serde(
        default,
        rename = "metrics-addr",
        skip_serializing_if = "Option::is_none"
    )]
    pub metrics_addr: Option<std::net::SocketAddr>,
    /// No live progress on stderr.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub quiet: bool,
}

impl Default for Phases {
    fn default() -> Phases {
        Phases {
            warmup: Duration::from_secs(10),
            hold: Duration::from_secs(30),
            drain: Duration::from_secs(2),
            cooldown: Duration::from_secs(5),
        }
    }
}

impl Default for Rates {
    fn default() -> Rates {
        Rates {
            steps: None,
            search: SearchKind::Fixed,
            start_rps: None,
            max_rps: None,
            growth: None,
            precision: None,
            max_steps: None,
            confirm: None,
            stop_on_trip: true,
            retry_inconclusive: 1,
        }
    }
}

impl RunConfig {
    /// A config with every default, for `plugin`.
    pub fn new(plugin: impl Into<String>) -> RunConfig {
        RunConfig {
            plugin: plugin.into(),
            preset: None,
            seed: 42,
            rates: Rates::default(),
            phases: Phases::default(),
            slo: Slo::default(),
            scrape: Vec::new(),
            slo_counter: Vec::new(),
            outputs: Outputs::default(),
            options: BTreeMap::new(),
        }
    }

    /// Check what no single value shows: search knobs that belong to the
    /// other search, gates without a scrape, options the plugin lacks; then
    /// fill in the rates the plugin chooses by default.
    pub fn resolve(mut self, plugin: &PluginDescription) -> Result<RunConfig, String> {
        self.rates.check()?;
        if !self.slo_counter.is_empty() && self.scrape.is_empty() {
            return Err(
                "--slo-counter needs --scrape URL (the endpoint its counter is read from)".into(),
            );
        }
        if self.preset.is_some() && plugin.option("preset").is_none() {
            return Err(format!("plugin {} has no presets (--preset)", plugin.name));
        }
        if let Some(key) = self.options.keys().find(|k| plugin.option(k).is_none()) {
            let valid = match plugin.option_names() {
                names if names.is_empty() => "it has none".to_string(),
                names => format!("valid: {}", names.join(", ")),
            };
            return Err(format!(
                "unknown option '{key}' for plugin {} ({valid})",
                plugin.name
            ));
        }
        let default_steps = || {
            plugin
                .default_steps
                .parse::<StepList>()
                .map_err(|e| format!("plugin {} declares bad default steps: {e}", plugin.name))
        };
        let r = &mut self.rates;
        match r.search {
            SearchKind::Fixed if r.steps.is_none() => r.steps = Some(default_steps()?),
            SearchKind::Fixed => {}
            SearchKind::Adaptive => {
                let given = r.start_rps.is_some();
                // A parsed StepList is never empty.
                let start = match r.start_rps {
                    Some(rps) => rps,
                    None => default_steps()?.0[0],
                };
                if let Some(max) = r.max_rps.filter(|&max| start > max) {
                    let why = if given {
                        String::new()
                    } else {
                        format!(
                            " (the start rate defaults to plugin {}'s first step)",
                            plugin.name
                        )
                    };
                    return Err(format!("--start-rps {start} is above --max-rps {max}{why}"));
                }
                r.start_rps = Some(start);
                r.growth.get_or_insert(Adaptive::DEFAULT_GROWTH);
                r.precision.get_or_insert(Adaptive::DEFAULT_PRECISION);
                r.max_steps.get_or_insert(Adaptive::DEFAULT_MAX_STEPS);
                r.confirm.get_or_insert(Adaptive::DEFAULT_CONFIRM);
            }
        }
        r.confirm.get_or_insert(0);
        Ok(self)
    }

    /// Check `--slo-series` against the series the started workload
    /// declared (a name it did not declare is refused, listing those it
    /// did), and put the limits the plugin declared under the user's.
    pub fn with_series(mut self, declared: &[DeclaredSeries]) -> Result<RunConfig, String> {
        let known = |name: &str| declared.iter().any(|d| d.name == name);
        if let Some(name) = self.slo.series.keys().find(|n| !known(n)) {
            let names: Vec<&str> = declared.iter().map(|d| d.name.as_str()).collect();
            return Err(format!(
                "--slo-series: no series '{name}' in this run (its series: {})",
                names.join(", ")
            ));
        }
        for d in declared {
            let user = self.slo.series.get(&d.name).copied().unwrap_or_default();
            let merged = user.over(d.slo);
            if merged != SeriesSlo::default() {
                self.slo.series.insert(d.name.clone(), merged);
            }
        }
        Ok(self)
    }

    /// The search's plan. Call on a resolved config.
    pub fn plan(&self) -> Plan {
        let r = &self.rates;
        match r.search {
            SearchKind::Fixed => Plan::Fixed {
                rates: r.steps.clone().map(|s| s.0).unwrap_or_default(),
                stop_on_trip: r.stop_on_trip,
            },
            SearchKind::Adaptive => {
                let defaults = Adaptive::new(r.start_rps.unwrap_or(1));
                Plan::Adaptive(Adaptive {
                    max_rps: r.max_rps,
                    growth: r.growth.unwrap_or(defaults.growth),
                    precision: r.precision.unwrap_or(defaults.precision),
                    max_steps: r.max_steps.unwrap_or(defaults.max_steps),
                    ..defaults
                })
            }
        }
    }

    /// A fresh search for this run: its plan, retries and confirmations.
    /// Call on a resolved config.
    pub fn search(&self) -> Search {
        Search::new(self.plan())
            .retry_inconclusive(self.rates.retry_inconclusive)
            .confirm(self.rates.confirm.unwrap_or(0))
    }

    /// The plugin's options, `preset` included.
    pub fn plugin_options(&self) -> BTreeMap<String, String> {
        let mut options = self.options.clone();
        if let Some(preset) = &self.preset {
            options.insert("preset".into(), preset.clone());
        }
        options
    }

    /// How far apart the pacer's wake-ups may be: finer than the SLO can
    /// see, no finer (each wake-up costs CPU).
    pub fn pacer_window(&self) -> std::time::Duration {
        let (p95, p99) = self.slo.tightest();
        crate::pacer::slo_window(p95, p99)
    }

    /// This config as it may be shown and written (settings, journal,
    /// reports): credentials in options and `--scrape` URLs as `***` (see
    /// [`crate::redact`]); `plugin` says which options are declared secret.
    pub fn redacted(&self, plugin: &PluginDescription) -> RunConfig {
        let mut shown = self.clone();
        shown.options = self
            .options
            .iter()
            .map(|(k, v)| (k.clone(), redact::redact_option(k, v, plugin.is_secret(k))))
            .collect();
        shown.scrape = self.scrape.iter().map(|u| redact::redact_url(u)).collect();
        shown
    }

    /// What hides this config's credentials in free text (plugin errors, logs).
    pub fn redactor(&self, plugin: &PluginDescription) -> redact::Redactor {
        let mut r = redact::Redactor::for_options(
            self.options
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str(), plugin.is_secret(k))),
        );
        for url in &self.scrape {
            r.add(redact::secrets_in_option("scrape", url, false));
        }
        r
    }

    /// The options whose values are still hidden ones (`***` where a
    /// credential was, as a journal or a printed config keeps them): the run
    /// needs them given again.
    pub fn hidden_options(&self, plugin: &PluginDescription) -> Vec<&str> {
        self.options
            .iter()
            .filter(|(k, v)| redact::is_redacted(k, v, plugin.is_secret(k)))
            .map(|(k, _)| k.as_str())
            .collect()
    }

    /// This config as a TOML document (`--print-config`).
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("a run config is valid TOML")
    }

    /// The top-level keys of this config's TOML, `(key, value)` in order.
    pub fn to_table(&self) -> toml::Table {
        toml::Table::try_from(self).expect("a run config is a TOML table")
    }

    /// Every key a config file may use.
    pub fn keys() -> &'static [&'static str] {
        &[
            "plugin",
            "preset",
            "seed",
            "steps",
            "search",
            "start-rps",
            "max-rps",
            "growth",
            "precision",
            "max-steps",
            "confirm",
            "stop-on-trip",
            "retry-inconclusive",
            "warmup",
            "hold",
            "drain",
            "cooldown",
            "slo-p95",
            "slo-p99",
            "slo-error-rate",
            "slo-loss-rate",
            "slo-pending-growth",
            "rate-tolerance",
            "slo-series",
            "scrape",
            "slo-counter",
            "csv",
            "json",
            "report",
            "journal",
            "metrics-addr",
            "quiet",
            "options",
        ]
    }
}

impl Rates {
    /// `--steps` belongs to the fixed ladder, the search knobs to
    /// `--search adaptive`: no flag is silently ignored.
    pub fn check(&self) -> Result<(), String> {
        match self.search {
            SearchKind::Adaptive if self.steps.is_some() => Err(
                "--steps and --search adaptive conflict: the adaptive search chooses its own \
                 rates (bound it with --start-rps and --max-rps)"
                    .into(),
            ),
            SearchKind::Adaptive => Ok(()),
            SearchKind::Fixed => {
                let adaptive_only = [
                    ("--start-rps", self.start_rps.is_some()),
                    ("--max-rps", self.max_rps.is_some()),
                    ("--growth", self.growth.is_some()),
                    ("--precision", self.precision.is_some()),
                    ("--max-steps", self.max_steps.is_some()),
                ];
                match adaptive_only.iter().find(|(_, given)| *given) {
                    Some((flag, _)) => Err(format!(
                        "{flag} only applies to --search adaptive (the fixed search runs --steps)"
                    )),
                    None => Ok(()),
                }
            }
        }
    }
}

impl FromStr for SearchKind {
    type Err = String;

    fn from_str(s: &str) -> Result<SearchKind, String> {
        match s {
            "fixed" => Ok(SearchKind::Fixed),
            "adaptive" => Ok(SearchKind::Adaptive),
            _ => Err(format!("'{s}' is not a search (fixed, adaptive)")),
        }
    }
}

/// `--slo-series 'order:p99=500ms,p95=300ms'`: one series' own limits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeriesSloArg {
    pub series: String,
    pub slo: SeriesSlo,
}

impl FromStr for SeriesSloArg {
    type Err = String;

    fn from_str(text: &str) -> Result<SeriesSloArg, String> {
        let shape = "NAME:p95=DURATION,p99=DURATION (e.g. order:p99=500ms,p95=300ms)";
        let (series, limits) = text
            .split_once(':')
            .ok_or_else(|| format!("'{text}' is not {shape}"))?;
        let series = series.trim();
        if series.is_empty() {
            return Err(format!("'{text}' names no series: {shape}"));
        }
        let mut slo = SeriesSlo::default();
        for limit in limits.split(',').map(str::trim) {
            let (which, value) = limit
                .split_once('=')
                .ok_or_else(|| format!("'{limit}' is not p95=DURATION or p99=DURATION"))?;
            let value = value.trim();
            let limit = humantime::parse_duration(value)
                .map_err(|e| format!("{series}: '{value}' is not a duration ({e})"))?;
            if limit.is_zero() {
                return Err(format!("{series}: {} must be > 0", which.trim()));
            }
            let slot = match which.trim() {
                "p95" => &mut slo.p95,
                "p99" => &mut slo.p99,
                other => return Err(format!("{series}: '{other}' is not p95 or p99")),
            };
            if slot.replace(limit).is_some() {
                return Err(format!("{series}: {} is given twice", which.trim()));
            }
        }
        Ok(SeriesSloArg {
            series: series.to_string(),
            slo,
        })
    }
}

impl SeriesSloArg {
    /// `order:p99=500ms,p95=300ms`, as parsed.
    pub fn text(series: &str, slo: &SeriesSlo) -> String {
        let limits: Vec<String> = [("p95", slo.p95), ("p99", slo.p99)]
            .into_iter()
            .filter_map(|(which, d)| {
                d.map(|d| format!("{which}={}", humantime::format_duration(d)))
            })
            .collect();
        format!("{series}:{}", limits.join(","))
    }

    /// Many given in order into one table: a later limit of a series
    /// replaces an earlier one, the others stay.
    pub fn merge(args: &[SeriesSloArg]) -> BTreeMap<String, SeriesSlo> {
        let mut merged: BTreeMap<String, SeriesSlo> = BTreeMap::new();
        for arg in args {
            let into = merged.entry(arg.series.clone()).or_default();
            *into = arg.slo.over(*into);
        }
        merged
    }
}

#[cfg(test)]
mod tests;
