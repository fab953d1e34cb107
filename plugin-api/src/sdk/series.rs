//! [`Series`] and [`Reason`]: small typed handles for a plugin's latency series
//! and error reasons, declared once as constants and listed in [`Info`](super::Info);
//! [`SeriesSpec`]: a series as a started workload declares it (a name known
//! only at run time, its own SLO).

use std::collections::HashSet;
use std::time::Duration;

use abi_stable::std_types::ROption;

use crate::abi::SeriesDecl;

/// A latency series (`E1`, `http`…): its position in [`Info::series`](super::Info::series)
/// and its name. Declare each as a constant:
///
/// ```
/// use loadgen_plugin_api::sdk::Series;
/// pub const E1: Series = Series::new(0, "E1");
/// pub const E2: Series = Series::new(1, "E2");
/// ```
/// `Info::series(&[E1, E2])` refuses (at load time, with a one-line error) a
/// list whose positions do not match the indices.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Series {
    index: u16,
    name: &'static str,
}

impl Series {
    pub const fn new(index: u16, name: &'static str) -> Series {
        Series { index, name }
    }

    pub const fn index(self) -> u16 {
        self.index
    }

    pub const fn name(self) -> &'static str {
        self.name
    }
}

/// A latency series as a started workload declares it
/// ([`Plugin::series_specs`](super::Plugin::series_specs)): the id its samples
/// carry in `Sample::series`, its name in every output, and optionally its own
/// SLO, which replaces the run's `--slo-p95`/`--slo-p99` for this series (the
/// user's `--slo-series NAME:p99=…` still wins).
///
/// ```
/// use std::time::Duration;
/// use loadgen_plugin_api::sdk::SeriesSpec;
/// // A scenario's requests, each its own series:
/// let specs = vec![
///     SeriesSpec::new(0, "item"),
///     SeriesSpec::new(1, "order")
///         .slo_p95(Duration::from_millis(300))
///         .slo_p99(Duration::from_millis(500)),
/// ];
/// assert_eq!(specs[1].name(), "order");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SeriesSpec {
    id: u16,
    name: String,
    slo_p95: Option<Duration>,
    slo_p99: Option<Duration>,
}

impl SeriesSpec {
    pub fn new(id: u16, name: impl Into<String>) -> SeriesSpec {
        SeriesSpec {
            id,
            name: name.into(),
            slo_p95: None,
            slo_p99: None,
        }
    }

    /// This series' own p95 latency SLO.
    pub fn slo_p95(mut self, limit: Duration) -> SeriesSpec {
        self.slo_p95 = Some(limit);
        self
    }

    /// This series' own p99 latency SLO.
    pub fn slo_p99(mut self, limit: Duration) -> SeriesSpec {
        self.slo_p99 = Some(limit);
        self
    }

    pub fn id(&self) -> u16 {
        self.id
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn p95(&self) -> Option<Duration> {
        self.slo_p95
    }

    pub fn p99(&self) -> Option<Duration> {
        self.slo_p99
    }

    /// The handle this series' samples are built with (`Sent::ok`, an
    /// [`InFlight`](super::InFlight) table): it carries the id; the name, known
    /// only at run time, stays in this spec (the handle's is empty).
    pub fn handle(&self) -> Series {
        Series::new(self.id, "")
    }

    /// The FFI form.
    pub fn to_abi(&self) -> SeriesDecl {
        let ns = |d: Option<Duration>| match d {
            Some(d) => ROption::RSome(d.as_nanos().min(u64::MAX as u128) as u64),
            None => ROption::RNone,
        };
        SeriesDecl {
            id: self.id,
            name: self.name.as_str().into(),
            slo_p95_ns: ns(self.slo_p95),
            slo_p99_ns: ns(self.slo_p99),
        }
    }
}

impl From<Series> for SeriesSpec {
    fn from(series: Series) -> SeriesSpec {
        SeriesSpec::new(series.index(), series.name())
    }
}

/// Check a started workload's declaration: at least one series, ids and
/// names unique, names non-empty, SLOs > 0. The message is the run's one
/// line of configuration error.
pub(crate) fn check_specs(specs: &[SeriesSpec]) -> Result<(), String> {
    if specs.is_empty() {
        return Err("the workload declares no latency series".into());
    }
    let (mut ids, mut names) = (HashSet::new(), HashSet::new());
    for spec in specs {
        if spec.name.trim().is_empty() {
            return Err(format!("series {} has an empty name", spec.id));
        }
        if !ids.insert(spec.id) {
            return Err(format!(
                "series '{}' reuses id {} (each series needs its own)",
                spec.name, spec.id
            ));
        }
        if !names.insert(spec.name.as_str()) {
            return Err(format!("two series are named '{}'", spec.name));
        }
        for (which, limit) in [("p95", spec.slo_p95), ("p99", spec.slo_p99)] {
            if limit == Some(Duration::ZERO) {
                return Err(format!("series '{}': slo_{which} must be > 0", spec.name));
            }
        }
    }
    Ok(())
}

/// An error reason (`gatekeeper`, `http_5xx`…) an `Error` sample carries:
/// its position in [`Info::error_reasons`](super::Info::error_reasons) and its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reason {
    index: u16,
    name: &'static str,
}

impl Reason {
    pub const fn new(index: u16, name: &'static str) -> Reason {
        Reason { index, name }
    }

    pub const fn index(self) -> u16 {
        self.index
    }

    pub const fn name(self) -> &'static str {
        self.name
    }
}

/// Check that `declared[i]` has index `i`, so a sample's index names the
/// series or reason the author meant.
pub(crate) fn check_positions<'a>(
    what: &str,
    declared: impl Iterator<Item = (u16, &'a str)>,
) -> Result<(), String> {
    for (position, (index, name)) in declared.enumerate() {
        if usize::from(index) != position {
            return Err(format!(
                "{what} '{name}' has index {index} but is listed at position {position}"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declarations_are_checked() {
        let ms = Duration::from_millis;
        let ok = [SeriesSpec::new(0, "item"), SeriesSpec::new(3, "order")];
        assert_eq!(check_specs(&ok), Ok(()));
        let table: &[(&[SeriesSpec], &str)] = &[
            (&[], "the workload declares no latency series"),
            (&[SeriesSpec::new(0, " ")], "series 0 has an empty name"),
            (
                &[SeriesSpec::new(0, "a"), SeriesSpec::new(0, "b")],
                "series 'b' reuses id 0 (each series needs its own)",
            ),
            (
                &[SeriesSpec::new(0, "a"), SeriesSpec::new(1, "a")],
                "two series are named 'a'",
            ),
            (
                &[SeriesSpec::new(0, "a").slo_p99(ms(0))],
                "series 'a': slo_p99 must be > 0",
            ),
        ];
        for (specs, want) in table {
            assert_eq!(check_specs(specs).unwrap_err(), *want);
        }
    }

    #[test]
    fn the_ffi_form_carries_the_slo_in_nanoseconds() {
        let decl = SeriesSpec::new(2, "order")
            .slo_p99(Duration::from_millis(500))
            .to_abi();
        assert_eq!(decl.id, 2);
        assert_eq!(decl.name.as_str(), "order");
        assert_eq!(decl.slo_p95_ns, ROption::RNone);
        assert_eq!(decl.slo_p99_ns, ROption::RSome(500_000_000));
    }
}
