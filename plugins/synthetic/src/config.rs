//! The plugin's options: their names, defaults and help (declared once, here)
//! and their validation into a [`Config`].

use std::time::Duration;

use loadgen_plugin_api::sdk::{Info, Options};

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
    /// Ops answered later than this after their intended time are Lost (the
    /// engine's drain window); 0 = never (a host that sets no deadline would
    /// otherwise see every op lost).
    pub loss_timeout_ns: u64,
}

/// The declared defaults, so tests name only what differs from them.
impl Default for Config {
    fn default() -> Config {
        Config {
            capacity: 1000,
            base_latency_ns: 1_000_000,
            error_rate: 0.0,
            stall_every_ns: 0,
            stall_for_ns: 0,
            max_in_flight: 0,
            loss_timeout_ns: 0,
        }
    }
}

/// Add the options to the plugin's description.
pub fn declare(info: Info) -> Info {
    info.option(
        "capacity",
        "1000",
        "ops/s the server completes while busy (whole number > 0): one FIFO server, service time 1/capacity",
    )
    .option(
        "base_latency",
        "1ms",
        "added to every op after its service (time outside the queue), e.g. 500us, 2ms",
    )
    .option(
        "error_rate",
        "0",
        "fraction 0..1 of ops answered with error 'synthetic' (the same ops for the same --seed)",
    )
    .option(
        "stall_every",
        "0s",
        "the server stops serving every this long, from workload start (0s = never)",
    )
    .option(
        "stall_for",
        "0s",
        "length of each stall (0s = no stalls); must be shorter than stall_every",
    )
    .option(
        "max_in_flight",
        "0",
        "ops in the system (queued, in service or in base latency) beyond which new ops are refused as saturation (0 = unlimited)",
    )
}

impl Config {
    pub fn from_options(o: &Options, loss_timeout: Duration) -> Result<Config, String> {
        let config = Config {
            capacity: o.positive("capacity")?,
            base_latency_ns: nanos("base_latency", o.duration("base_latency")?)?,
            error_rate: o.fraction("error_rate")?,
            stall_every_ns: nanos("stall_every", o.duration("stall_every")?)?,
            stall_for_ns: nanos("stall_for", o.duration("stall_for")?)?,
            max_in_flight: o.parse("max_in_flight", "a whole number (0 = unlimited)")?,
            loss_timeout_ns: nanos("loss timeout", loss_timeout)?,
        };
        if config.stall_for_ns > 0 {
            if config.stall_every_ns == 0 {
                return Err("option 'stall_for' needs a stall_every > 0 to repeat at".into());
            }
            if config.stall_for_ns >= config.stall_every_ns {
                return Err(format!(
                    "option 'stall_for' ({}) must be shorter than stall_every ({}): the server would never serve",
                    o.str("stall_for")?.trim(),
                    o.str("stall_every")?.trim()
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
    use std::collections::BTreeMap;

    fn parse(given: &[(&str, &str)]) -> Result<Config, String> {
        let info = declare(Info::new("synthetic", "0", ""));
        let given: BTreeMap<String, String> = given
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let options = Options::resolve(&info, given)?;
        Config::from_options(&options, Duration::ZERO)
    }

    #[test]
    fn declared_defaults_parse_to_the_default_config() {
        assert_eq!(parse(&[]).unwrap(), Config::default());
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
            loss_timeout_ns: 0,
        };
        assert_eq!(c, want);
    }

    #[test]
    fn bad_values_are_refused_naming_the_option() {
        let table: &[(&[(&str, &str)], &str)] = &[
            (
                &[("capacity", "abc")],
                "option 'capacity': 'abc' is not a number",
            ),
            (&[("capacity", "0")], "option 'capacity' must be > 0"),
            (
                &[("capacity", "-5")],
                "option 'capacity': '-5' is not a number",
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
