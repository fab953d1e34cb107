//! [`DeclaredSeries`]: the latency series a run measures, as the started
//! workload declared them (`Workload::series_at_start`), and [`Slots`], which
//! finds a sample's series by the id it carries.

use std::collections::HashSet;
use std::time::Duration;

use loadgen_plugin_api::abi::SeriesDecl;
use serde::{Deserialize, Serialize};

use crate::verdict::SeriesSlo;

/// One latency series of the run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeclaredSeries {
    /// What its samples carry in `Sample::series`.
    pub id: u16,
    pub name: String,
    /// The limits the plugin declared for it (the user's `--slo-series` win).
    #[serde(default)]
    pub slo: SeriesSlo,
}

impl DeclaredSeries {
    pub fn new(id: u16, name: &str) -> DeclaredSeries {
        DeclaredSeries {
            id,
            name: name.to_string(),
            slo: SeriesSlo::default(),
        }
    }

    /// The host's side of a plugin's declaration, checked: at least one
    /// series, ids and names unique, names non-empty, limits > 0.
    pub fn from_abi(declared: &[SeriesDecl]) -> Result<Vec<DeclaredSeries>, String> {
        let limit = |ns: Option<u64>| ns.map(Duration::from_nanos);
        let series: Vec<DeclaredSeries> = declared
            .iter()
            .map(|d| DeclaredSeries {
                id: d.id,
                name: d.name.to_string(),
                slo: SeriesSlo {
                    p95: limit(d.slo_p95_ns.into_option()),
                    p99: limit(d.slo_p99_ns.into_option()),
                },
            })
            .collect();
        check(&series)?;
        Ok(series)
    }

    /// Names in declaration order.
    pub fn names(series: &[DeclaredSeries]) -> Vec<String> {
        series.iter().map(|s| s.name.clone()).collect()
    }
}

fn check(series: &[DeclaredSeries]) -> Result<(), String> {
    if series.is_empty() {
        return Err("the workload declares no latency series".into());
    }
    let (mut ids, mut names) = (HashSet::new(), HashSet::new());
    for s in series {
        if s.name.trim().is_empty() {
            return Err(format!(
                "the workload declares series {} without a name",
                s.id
            ));
        }
        if !ids.insert(s.id) || !names.insert(s.name.as_str()) {
            return Err(format!(
                "the workload declares series '{}' (id {}) twice",
                s.name, s.id
            ));
        }
        if s.slo.p95 == Some(Duration::ZERO) || s.slo.p99 == Some(Duration::ZERO) {
            return Err(format!(
                "the workload declares series '{}' with a 0 SLO",
                s.name
            ));
        }
    }
    Ok(())
}

/// A sample's series id → the series' position in the declared list.
#[derive(Clone, Debug, Default)]
pub struct Slots(Vec<Option<usize>>);

impl Slots {
    pub fn new(series: &[DeclaredSeries]) -> Slots {
        let len = series.iter().map(|s| s.id as usize + 1).max().unwrap_or(0);
        let mut slots = vec![None; len];
        for (position, s) in series.iter().enumerate() {
            slots[s.id as usize] = Some(position);
        }
        Slots(slots)
    }

    /// `None` for an id the workload did not declare.
    pub fn get(&self, id: u16) -> Option<usize> {
        self.0.get(id as usize).copied().flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use abi_stable::std_types::ROption;

    fn decl(id: u16, name: &str, p99_ns: Option<u64>) -> SeriesDecl {
        SeriesDecl {
            id,
            name: name.into(),
            slo_p95_ns: ROption::RNone,
            slo_p99_ns: p99_ns.into(),
        }
    }

    #[test]
    fn a_declaration_is_read_and_checked() {
        let read =
            DeclaredSeries::from_abi(&[decl(3, "item", None), decl(1, "order", Some(5))]).unwrap();
        assert_eq!(read[1].slo.p99, Some(Duration::from_nanos(5)));
        let table: &[(&[SeriesDecl], &str)] = &[
            (&[], "the workload declares no latency series"),
            (
                &[decl(0, "", None)],
                "the workload declares series 0 without a name",
            ),
            (
                &[decl(0, "a", None), decl(0, "b", None)],
                "the workload declares series 'b' (id 0) twice",
            ),
            (
                &[decl(0, "a", None), decl(1, "a", None)],
                "the workload declares series 'a' (id 1) twice",
            ),
            (
                &[decl(0, "a", Some(0))],
                "the workload declares series 'a' with a 0 SLO",
            ),
        ];
        for (declared, want) in table {
            assert_eq!(DeclaredSeries::from_abi(declared).unwrap_err(), *want);
        }
    }

    #[test]
    fn slots_find_a_series_by_its_id() {
        let series = [
            DeclaredSeries::new(3, "item"),
            DeclaredSeries::new(1, "order"),
        ];
        let slots = Slots::new(&series);
        let found: Vec<Option<usize>> = (0..5).map(|id| slots.get(id)).collect();
        assert_eq!(found, [None, Some(1), None, Some(0), None]);
        assert_eq!(Slots::default().get(0), None);
    }
}
