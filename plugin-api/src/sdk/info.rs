//! [`Info`]: a plugin's self-description, written as plain Rust.

use abi_stable::std_types::RString;

use super::counter_set::CounterDecl;
use super::options::OptionDecl;
use super::series::{check_positions, Reason, Series};
use crate::abi::{CounterSpec, OptionSpec, PendingTarget, PluginInfo};

/// Builder for [`PluginInfo`]. Options are not listed here: they come from
/// the plugin's [`PluginOptions`](super::PluginOptions) type.
#[derive(Clone, Debug)]
pub struct Info {
    pub name: String,
    pub version: String,
    pub description: String,
    pub series: Vec<Series>,
    pub error_reasons: Vec<Reason>,
    pub default_steps: String,
    pub durables: Vec<PendingTarget>,
    pub counters: Vec<CounterDecl>,
}

impl Info {
    pub fn new(name: &str, version: &str, description: &str) -> Info {
        Info {
            name: name.into(),
            version: version.into(),
            description: description.into(),
            series: Vec::new(),
            error_reasons: Vec::new(),
            default_steps: "1k,2k,5k,10k".into(),
            durables: Vec::new(),
            counters: Vec::new(),
        }
    }

    /// The latency series, each at the position its index names.
    pub fn series(mut self, series: &[Series]) -> Info {
        self.series = series.to_vec();
        self
    }

    /// The error reasons, each at the position its index names.
    pub fn error_reasons(mut self, reasons: &[Reason]) -> Info {
        self.error_reasons = reasons.to_vec();
        self
    }

    pub fn default_steps(mut self, steps: &str) -> Info {
        self.default_steps = steps.into();
        self
    }

    pub fn durable(mut self, stream: &str, durable: &str) -> Info {
        self.durables.push(PendingTarget::new(stream, durable));
        self
    }

    /// Append counters (e.g. `Tally::declare()` of a [`counter_set!`](crate::counter_set)).
    pub fn counters(mut self, counters: impl IntoIterator<Item = CounterDecl>) -> Info {
        self.counters.extend(counters);
        self
    }

    /// The FFI description, with `options` (the plugin's and the SDK's).
    /// Refuses series or reasons listed out of their index order.
    pub fn to_abi(&self, options: &[OptionDecl]) -> Result<PluginInfo, String> {
        check_positions("series", self.series.iter().map(|s| (s.index(), s.name())))?;
        check_positions(
            "error reason",
            self.error_reasons.iter().map(|r| (r.index(), r.name())),
        )?;
        let rstr = |s: &str| RString::from(s);
        Ok(PluginInfo {
            name: rstr(&self.name),
            version: rstr(&self.version),
            description: rstr(&self.description),
            series: self.series.iter().map(|s| rstr(s.name())).collect(),
            error_reasons: self.error_reasons.iter().map(|r| rstr(r.name())).collect(),
            options: options
                .iter()
                .map(|o| OptionSpec {
                    name: rstr(&o.name),
                    default: rstr(&o.default),
                    help: rstr(&o.help),
                })
                .collect(),
            default_steps: rstr(&self.default_steps),
            durables: self.durables.iter().cloned().collect(),
            counters: self
                .counters
                .iter()
                .map(|c| CounterSpec {
                    name: rstr(&c.name),
                    help: rstr(&c.help),
                })
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_out_of_index_order_are_refused() {
        const E1: Series = Series::new(0, "E1");
        const E2: Series = Series::new(1, "E2");
        let info = Info::new("t", "0", "").series(&[E1, E2]);
        assert_eq!(info.to_abi(&[]).unwrap().series, ["E1", "E2"]);
        let err = Info::new("t", "0", "")
            .series(&[E2, E1])
            .to_abi(&[])
            .unwrap_err();
        assert_eq!(err, "series 'E2' has index 1 but is listed at position 0");
    }
}
