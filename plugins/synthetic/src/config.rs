//! The plugin's options, declared once ([`SyntheticOptions`]: name, default,
//! help and type), and their validation into the model's [`Config`].

use std::time::Duration;

use loadgen_plugin_api::options;
use loadgen_plugin_api::sdk::{Fraction, Positive};

use crate::mix::Mix;

options! {
    pub struct SyntheticOptions {
        /// ops/s the server completes while busy (whole number > 0): one FIFO server, service time 1/capacity
        capacity: Positive<u64> = "1000",
        /// added to every op after its service (time outside the queue), e.g. 500us, 2ms
        base_latency: Duration = "1ms",
        /// fraction 0..1 of ops answered with error 'synthetic' (the same ops for the same --seed)
        error_rate: Fraction = "0",
        /// the server stops serving every this long, from workload start (0s = never)
        stall_every: Duration = "0s",
        /// length of each stall (0s = no stalls); must be shorter than stall_every
        stall_for: Duration = "0s",
        /// ops in the system (queued, in service or in base latency) beyond which new ops are refused as saturation (0 = unlimited)
        max_in_flight: u64 = "0",
        /// fraction 0..1 (below 1): each second from workload start the capacity is capacity × (1 ± up to this), drawn from --seed
        capacity_jitter: Fraction = "0",
        /// a weighted mix of request kinds on the one FIFO queue, each its own series: name:weight:cost[:p95=D][:p99=D],… (cost in service times of 1/capacity; e.g. read:9:1,write:1:5:p99=30ms; empty = one series 'op')
        mix: Mix = "",
    }
}

/// What the server model needs, validated. All times in ns.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// Ops per second the server completes while busy; service time is 1/capacity.
    pub capacity: u64,
    /// Added to every op after its service: time spent outside the queue.
    pub base_latency_ns: u64,
    /// Fraction of ops answered with an error.
    pub error_rate: f64,
    /// Stall period; 0 (or `stall_for_ns` 0) means no stalls.
    pub stall_every_ns: u64,
    pub stall_for_ns: u64,
    /// Ops in the system beyond which arrivals are refused; 0 = unlimited.
    pub max_in_flight: u64,
    /// Each second's capacity is `capacity × (1 ± up to this)` (seeded); 0 = exact.
    pub capacity_jitter: f64,
    /// Request kinds sharing the queue, each its own series; empty = one `op` series.
    pub mix: Mix,
    /// Ops answered later than this after their intended time are Lost (the
    /// engine's drain window); 0 = never (unit tests of the model).
    pub loss_timeout_ns: u64,
}

/// The declared defaults, so tests name only what differs from them.
impl Default for Config {
    fn default() -> Config {
        Config::from_options(&SyntheticOptions::default(), Duration::ZERO)
            .expect("the declared defaults are valid")
    }
}

impl Config {
    pub fn from_options(o: &SyntheticOptions, loss_timeout: Duration) -> Result<Config, String> {
        let config = Config {
            capacity: o.capacity.get(),
            base_latency_ns: nanos("base_latency", o.base_latency)?,
            error_rate: o.error_rate.get(),
            stall_every_ns: nanos("stall_every", o.stall_every)?,
            stall_for_ns: nanos("stall_for", o.stall_for)?,
            max_in_flight: o.max_in_flight,
            capacity_jitter: o.capacity_jitter.get(),
            mix: o.mix.clone(),
            loss_timeout_ns: nanos("loss timeout", loss_timeout)?,
        };
        if config.capacity_jitter >= 1.0 {
            return Err("option 'capacity_jitter' must be below 1: the server would stop".into());
        }
        if config.stall_for_ns > 0 {
            if config.stall_every_ns == 0 {
                return Err("option 'stall_for' needs a stall_every > 0 to repeat at".into());
            }
            if config.stall_for_ns >= config.stall_every_ns {
                return Err(format!(
                    "option 'stall_for' ({:?}) must be shorter than stall_every ({:?}): the server would never serve",
                    o.stall_for, o.stall_every
                ));
            }
        }
        Ok(config)
    }
}

fn nanos(name: &str, d: Duration) -> Result<u64, String> {
    u64::try_from(d.as_nanos()).map_err(|_| format!("option '{name}': {d:?} is too long"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use loadgen_plugin_api::sdk::PluginOptions;

    fn parse(given: &[(&str, &str)]) -> Result<Config, String> {
        Config::from_options(&SyntheticOptions::from_pairs(given)?, Duration::ZERO)
    }

    #[test]
    fn declared_defaults_parse_to_the_default_config() {
        let c = parse(&[]).unwrap();
        assert_eq!(
            (c.capacity, c.base_latency_ns, c.max_in_flight),
            (1000, 1_000_000, 0)
        );
        assert_eq!(c, Config::default());
    }

    #[test]
    fn good_values_are_read() {
        let c = parse(&[
            ("capacity", "3000"),
            ("base_latency", "250us"),
            ("error_rate", "0.25"),
            ("stall_every", "10s"),
            ("stall_for", "1s"),
            ("max_in_flight", "64"),
        ])
        .unwrap();
        let want = Config {
            capacity: 3000,
            base_latency_ns: 250_000,
            error_rate: 0.25,
            stall_every_ns: 10_000_000_000,
            stall_for_ns: 1_000_000_000,
            max_in_flight: 64,
            capacity_jitter: 0.0,
            mix: Mix::default(),
            loss_timeout_ns: 0,
        };
        assert_eq!(c, want);
    }

    #[test]
    fn bad_values_are_refused_naming_the_option() {
        let table: &[(&[(&str, &str)], &str)] = &[
            (
                &[("capacity", "abc")],
                "option 'capacity': 'abc' is not a whole number",
            ),
            (&[("capacity", "0")], "option 'capacity' must be > 0"),
            (
                &[("capacity", "-5")],
                "option 'capacity': '-5' is not a whole number",
            ),
            (
                &[("base_latency", "soon")],
                "option 'base_latency': 'soon' is not a duration",
            ),
            (
                &[("error_rate", "1.5")],
                "option 'error_rate' must be between 0 and 1",
            ),
            (
                &[("error_rate", "x")],
                "option 'error_rate': 'x' is not a number",
            ),
            (
                &[("stall_every", "often")],
                "option 'stall_every': 'often' is not a duration",
            ),
            (
                &[("stall_for", "2")],
                "option 'stall_for': '2' is not a duration",
            ),
            (
                &[("stall_for", "1s")],
                "option 'stall_for' needs a stall_every > 0",
            ),
            (
                &[("stall_every", "1s"), ("stall_for", "1s")],
                "option 'stall_for' (1s) must be shorter than stall_every (1s)",
            ),
            (
                &[("max_in_flight", "-1")],
                "option 'max_in_flight': '-1' is not a whole number",
            ),
        ];
        for (given, want) in table {
            let err = parse(given).unwrap_err();
            assert!(
                err.starts_with(want),
                "{given:?}: {err:?} should start with {want:?}"
            );
        }
    }
}
