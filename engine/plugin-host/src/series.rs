//! The host's side of the series a started workload declares
//! (`Workload::series_at_start`): read from the FFI form, checked.

use std::time::Duration;

use loadgen_core::plugin::DeclaredSeries;
use loadgen_core::verdict::SeriesSlo;
use loadgen_plugin_api::abi::SeriesDecl;

/// The run's series from a plugin's declaration, checked (see
/// [`DeclaredSeries::check`]).
pub fn declared_series(declared: &[SeriesDecl]) -> Result<Vec<DeclaredSeries>, String> {
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
    DeclaredSeries::check(&series)?;
    Ok(series)
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
        let read = declared_series(&[decl(3, "item", None), decl(1, "order", Some(5))]).unwrap();
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
            assert_eq!(declared_series(declared).unwrap_err(), *want);
        }
    }
}
