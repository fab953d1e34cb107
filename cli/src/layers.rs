//! Where `max-rps` settings come from, lowest first: the journal of a
//! resumed run, a `--config run.toml` file, the command line.
//!
//! A layer is a TOML table keyed by flag names (a [`RunConfig`] serializes to
//! one). It becomes command-line arguments placed before the user's own, so
//! every value goes through the flags' own parsers — a file accepts exactly
//! what the command line accepts (`hold = "30s"`, `steps = "1k,2k"`, typed
//! TOML values too) and is refused with the same words — and a key given in a
//! higher layer replaces the lower one's.

use std::ffi::OsString;
use std::path::Path;

use clap::parser::ValueSource;
use clap::{ArgAction, ArgMatches, CommandFactory, FromArgMatches};
use loadgen_core::config::RunConfig;

use crate::args::{Cli, Command, MaxRpsArgs};

/// One layer: where it came from (for messages) and its keys.
#[derive(Debug)]
pub struct Layer {
    pub source: String,
    pub table: toml::Table,
}

impl Layer {
    /// A `--config` file; an unknown key is refused naming the valid ones.
    pub fn read(path: &Path) -> Result<Layer, String> {
        let shown = path.display();
        let text =
            std::fs::read_to_string(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
        let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
            format!("{shown} is not valid TOML: {}", one_line(e.message()))
        })?;
        let table: toml::Table = table
            .into_iter()
            .map(|(k, v)| (k.replace('_', "-"), v))
            .collect();
        if let Some(key) = table
            .keys()
            .find(|k| !RunConfig::keys().contains(&k.as_str()))
        {
            return Err(format!(
                "unknown key '{key}' in {shown} (valid: {})",
                RunConfig::keys().join(", ")
            ));
        }
        Ok(Layer {
            source: shown.to_string(),
            table,
        })
    }

    /// A resumed run's configuration; its `journal` is the one resumed.
    pub fn journal(path: &Path, config: &RunConfig) -> Layer {
        let mut table = config.to_table();
        table.remove("journal");
        Layer {
            source: path.display().to_string(),
            table,
        }
    }

    /// The `-o` keys this layer sets.
    fn option_keys(&self) -> Vec<&str> {
        self.table
            .get("options")
            .and_then(toml::Value::as_table)
            .map(|t| t.keys().map(String::as_str).collect())
            .unwrap_or_default()
    }

    /// The command-line arguments this layer stands for, leaving out `skip`ped
    /// keys and `skip_option`ed `-o` keys.
    fn args(
        &self,
        skip: &dyn Fn(&str) -> bool,
        skip_option: &dyn Fn(&str) -> bool,
    ) -> Result<Vec<OsString>, String> {
        let command = Cli::command();
        let max_rps = command.find_subcommand("max-rps").expect("max-rps exists");
        let mut out = Vec::new();
        for (key, value) in &self.table {
            if skip(key) {
                continue;
            }
            if key == "options" {
                let options = value
                    .as_table()
                    .ok_or_else(|| format!("{}: options must be a table", self.source))?;
                for (k, v) in options.iter().filter(|(k, _)| !skip_option(k)) {
                    out.push(format!("--option={k}={}", scalar(v, &self.source, k)?).into());
                }
                continue;
            }
            if key == SLO_SERIES {
                for arg in slo_series_args(value, &self.source)? {
                    out.push(format!("--{SLO_SERIES}={arg}").into());
                }
                continue;
            }
            let arg = max_rps
                .get_arguments()
                .find(|a| a.get_long() == Some(key.as_str()))
                .expect("every config key is a flag");
            match (arg.get_action(), value) {
                (ArgAction::SetTrue, toml::Value::Boolean(true)) => {
                    out.push(format!("--{key}").into())
                }
                (ArgAction::SetTrue, toml::Value::Boolean(false)) => {}
                (ArgAction::SetTrue, _) => {
                    return Err(format!("{}: {key} must be true or false", self.source))
                }
                (ArgAction::Append, toml::Value::Array(items)) => {
                    for item in items {
                        out.push(format!("--{key}={}", scalar(item, &self.source, key)?).into());
                    }
                }
                (_, toml::Value::Array(items)) => {
                    let parts: Result<Vec<String>, String> =
                        items.iter().map(|v| scalar(v, &self.source, key)).collect();
                    out.push(format!("--{key}={}", parts?.join(",")).into());
                }
                (_, v) => out.push(format!("--{key}={}", scalar(v, &self.source, key)?).into()),
            }
        }
        Ok(out)
    }
}

/// `[slo-series.NAME]` tables (`p95 = "…"`, `p99 = "…"`), one flag value each.
const SLO_SERIES: &str = "slo-series";

/// `slo-series`' tables as `--slo-series` values (`order:p99=500ms`).
fn slo_series_args(value: &toml::Value, source: &str) -> Result<Vec<String>, String> {
    let shape =
        || format!("{source}: slo-series must be tables like [slo-series.order] p99 = \"500ms\"");
    let series = value.as_table().ok_or_else(shape)?;
    let mut args = Vec::new();
    for (name, limits) in series {
        let limits = limits.as_table().ok_or_else(shape)?;
        let given: Result<Vec<String>, String> = limits
            .iter()
            .map(|(which, v)| Ok(format!("{which}={}", scalar(v, source, which)?)))
            .collect();
        args.push(format!("{name}:{}", given?.join(",")));
    }
    Ok(args)
}

/// A value as it would be typed on the command line.
fn scalar(v: &toml::Value, source: &str, key: &str) -> Result<String, String> {
    match v {
        toml::Value::String(s) => Ok(s.clone()),
        toml::Value::Integer(i) => Ok(i.to_string()),
        toml::Value::Float(f) => Ok(f.to_string()),
        toml::Value::Boolean(b) => Ok(b.to_string()),
        _ => Err(format!(
            "{source}: {key} must be a string, number or boolean"
        )),
    }
}

/// Keys whose layers merge entry by entry rather than replace each other.
fn merges(key: &str) -> bool {
    key == "options" || key == SLO_SERIES
}

/// The flag's id for a config key.
fn arg_id(key: &str) -> String {
    match key {
        "options" => "options".into(),
        other => other.replace('-', "_"),
    }
}

/// Was this key given on the command line?
fn on_command_line(matches: &ArgMatches, key: &str) -> bool {
    // Options and series limits merge key by key (later wins), so they are
    // never skipped.
    !merges(key)
        && matches
            .try_get_raw(&arg_id(key))
            .is_ok_and(|raw| raw.is_some())
        && matches.value_source(&arg_id(key)) == Some(ValueSource::CommandLine)
}

/// The `max-rps` flags from `layers` (lowest first) under the command line
/// `user` (the arguments after `max-rps`, already parsed into `matches`).
pub fn parse(
    user: &[OsString],
    matches: &ArgMatches,
    layers: &[Layer],
) -> Result<MaxRpsArgs, String> {
    let user_options: Vec<&str> = matches
        .try_get_many::<(String, String)>(&arg_id("options"))
        .ok()
        .flatten()
        .map(|pairs| pairs.map(|(k, _)| k.as_str()).collect())
        .unwrap_or_default();
    let mut argv: Vec<OsString> = vec!["loadgen".into(), "max-rps".into()];
    for (i, layer) in layers.iter().enumerate() {
        let higher = &layers[i + 1..];
        let skip = |key: &str| {
            on_command_line(matches, key)
                || (!merges(key) && higher.iter().any(|l| l.table.contains_key(key)))
        };
        // Each layer alone must parse, overridden keys included: a bad
        // value is blamed on its file even where a flag replaces it.
        // An option a higher layer (or the command line) sets replaces this
        // layer's: repeated `-o` keys would otherwise join, one per line.
        let skip_option = |key: &str| {
            user_options.contains(&key) || higher.iter().any(|l| l.option_keys().contains(&key))
        };
        let mut alone: Vec<OsString> = vec!["loadgen".into(), "max-rps".into()];
        alone.extend(layer.args(&|_| false, &|_| false)?);
        Cli::try_parse_from_checked(&alone)
            .map_err(|e| format!("{}: {}", layer.source, clap_line(&e)))?;
        argv.extend(layer.args(&skip, &skip_option)?);
    }
    argv.extend(user.iter().cloned());
    Cli::try_parse_from_checked(&argv).map_err(|e| clap_line(&e))
}

impl Cli {
    fn try_parse_from_checked(argv: &[OsString]) -> Result<MaxRpsArgs, clap::Error> {
        let matches = Cli::command().try_get_matches_from(argv)?;
        match Cli::from_arg_matches(&matches)?.command {
            Command::MaxRps(args) => Ok(*args),
            _ => unreachable!("argv starts with max-rps"),
        }
    }
}

/// clap's message on one line, without its `error: ` prefix.
fn clap_line(e: &clap::Error) -> String {
    crate::failure::clap_line(e)
        .trim_start_matches("error: ")
        .to_string()
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(args: &[&str]) -> (Vec<OsString>, ArgMatches) {
        let mut argv = vec!["loadgen", "max-rps"];
        argv.extend_from_slice(args);
        let matches = Cli::command().get_matches_from(&argv);
        let sub = matches.subcommand_matches("max-rps").unwrap().clone();
        (args.iter().map(OsString::from).collect(), sub)
    }

    fn layer(text: &str) -> Result<Layer, String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.toml");
        std::fs::write(&path, text).unwrap();
        Layer::read(&path).map(|mut l| {
            l.source = "run.toml".into();
            l
        })
    }

    #[test]
    fn a_file_sets_flags_the_command_line_overrides() {
        let file = layer(
            r#"
            plugin = "synthetic"
            steps = "1k,2k"
            hold = "3s"
            stop-on-trip = false
            slo_error_rate = 0.01
            scrape = ["http://127.0.0.1:1/metrics", "http://127.0.0.1:2/metrics"]
            quiet = true
            [options]
            capacity = 3000
            "#,
        )
        .unwrap();
        let (args, matches) = user(&["--hold", "5s", "-o", "base-latency=2ms"]);
        let a = parse(&args, &matches, &[file]).unwrap();
        let c = a.config().unwrap();
        assert_eq!(c.plugin, "synthetic");
        assert_eq!(c.rates.steps.unwrap().0, vec![1000, 2000]);
        assert_eq!(c.phases.hold, std::time::Duration::from_secs(5));
        assert!(!c.rates.stop_on_trip && c.outputs.quiet);
        assert_eq!(c.slo.error_rate, 0.01);
        assert_eq!(c.scrape.len(), 2);
        assert_eq!(c.options.get("capacity").map(String::as_str), Some("3000"));
        assert_eq!(
            c.options.get("base-latency").map(String::as_str),
            Some("2ms")
        );
    }

    #[test]
    fn an_option_given_again_replaces_the_lower_layers_value() {
        let journal =
            layer("plugin = 'http'\n[options]\nheader = 'Authorization: ***'\nmethod = 'GET'")
                .unwrap();
        let file = layer("[options]\nmethod = 'PUT'").unwrap();
        let (args, matches) = user(&[
            "-o",
            "header=Authorization: Bearer T",
            "-o",
            "header=Accept: x",
        ]);
        let c = parse(&args, &matches, &[journal, file])
            .unwrap()
            .config()
            .unwrap();
        assert_eq!(
            c.options.get("header").map(String::as_str),
            Some("Authorization: Bearer T\nAccept: x"),
            "the command line's (repeated) header replaces the journal's"
        );
        assert_eq!(c.options.get("method").map(String::as_str), Some("PUT"));
    }

    #[test]
    fn a_steps_array_is_a_ladder() {
        let file = layer("plugin = 'synthetic'\nsteps = [500, 1000]").unwrap();
        let (args, matches) = user(&[]);
        let c = parse(&args, &matches, &[file]).unwrap().config().unwrap();
        assert_eq!(c.rates.steps.unwrap().0, vec![500, 1000]);
    }

    #[test]
    fn bad_files_are_refused_with_one_line_naming_the_file() {
        let table: &[(&str, &str)] = &[
            ("holdd = '1s'", "unknown key 'holdd' in "),
            (
                "hold = 'soon'",
                "run.toml: invalid value 'soon' for '--hold <HOLD>'",
            ),
            ("steps = '1e30'", "above the highest rate"),
            (
                "slo-error-rate = 0",
                "run.toml: invalid value '0' for '--slo-error-rate",
            ),
            ("quiet = 'yes'", "run.toml: quiet must be true or false"),
            ("hold = [", "is not valid TOML"),
        ];
        for (text, want) in table {
            let err = match layer(text) {
                Err(e) => e,
                Ok(file) => {
                    let (args, matches) = user(&[]);
                    parse(&args, &matches, &[file]).unwrap_err()
                }
            };
            assert!(err.contains(want), "{text}: {err}");
            assert!(!err.contains('\n'), "{text}: {err}");
        }
        let err = layer("bogus = 1").unwrap_err();
        assert!(err.contains("(valid: plugin, preset, seed, steps"), "{err}");
    }

    #[test]
    fn a_config_prints_as_a_file_that_reads_back_the_same() {
        let mut c = RunConfig::new("synthetic");
        c.rates.steps = Some("1k,2k".parse().unwrap());
        c.options.insert("capacity".into(), "3000".into());
        c.scrape = vec!["http://127.0.0.1:1/m".into()];
        c.slo_counter = vec![r#"x{a="1,}"} <= 2"#.parse().unwrap()];
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.toml");
        std::fs::write(&path, c.to_toml()).unwrap();
        let (args, matches) = user(&[]);
        let back = parse(&args, &matches, &[Layer::read(&path).unwrap()])
            .unwrap()
            .config()
            .unwrap();
        assert_eq!(back, c);
    }
}
