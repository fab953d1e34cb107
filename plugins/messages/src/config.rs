//! The plugin's options, checked once at start.

use chat_fixtures::MessagePreset;
use loadgen_plugin_api::sdk::{Info, Options};

/// How messages enter the system.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Inject {
    /// The client path: SendMessageRequest to the gatekeeper; E1 and E2.
    Frontdoor,
    /// JetStream publish of the canonical MessageEvent (bypasses the gatekeeper); E2 only.
    Canonical,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    pub preset: MessagePreset,
    pub inject: Inject,
    pub max_in_flight: usize,
    pub site: String,
}

pub fn declare(info: Info) -> Info {
    info.option(
        "preset",
        "medium",
        "fixtures: small | medium | large | realistic (must match the server's)",
    )
    .option(
        "inject",
        "frontdoor",
        "frontdoor (gatekeeper; E1+E2) | canonical (JetStream publish; E2 only)",
    )
    .option(
        "max_in_flight",
        "100000",
        "ops awaiting their answers beyond which new ops are refused (saturation)",
    )
    .option(
        "site",
        "",
        "site id in subjects and stream names (default: $SITE_ID, else site-local)",
    )
}

impl Config {
    pub fn from_options(o: &Options, env_site: Option<String>) -> Result<Config, String> {
        let preset_name = o.str("preset")?;
        let preset = preset_name
            .parse::<MessagePreset>()
            .map_err(|e| format!("option 'preset': {e}"))?;
        let inject = match o.choice("inject", &["frontdoor", "canonical"])? {
            "frontdoor" => Inject::Frontdoor,
            _ => Inject::Canonical,
        };
        let site = chat_fixtures::site_id(o.str("site")?, env_site)
            .map_err(|e| format!("option 'site': {e}"))?;
        Ok(Config {
            preset,
            inject,
            max_in_flight: o.positive("max_in_flight")?,
            site,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(pairs: &[(&str, &str)]) -> Result<Options, String> {
        Options::resolve_pairs(&declare(Info::new("messages", "0", "")), pairs)
    }

    #[test]
    fn defaults() {
        let c = Config::from_options(&options(&[]).unwrap(), None).unwrap();
        assert_eq!(
            c,
            Config {
                preset: MessagePreset::Medium,
                inject: Inject::Frontdoor,
                max_in_flight: 100_000,
                site: "site-local".into()
            }
        );
        let c = Config::from_options(&options(&[]).unwrap(), Some("eu-1".into())).unwrap();
        assert_eq!(c.site, "eu-1");
    }

    #[test]
    fn bad_values_are_named() {
        let table: &[(&str, &str, &str)] = &[
            ("preset", "huge", "option 'preset': "),
            (
                "inject",
                "side",
                "option 'inject': 'side' is not one of frontdoor|canonical",
            ),
            ("max_in_flight", "0", "option 'max_in_flight' must be > 0"),
            (
                "site",
                "a.b",
                "option 'site': 'a.b' cannot be a NATS subject token",
            ),
        ];
        for (key, value, want) in table {
            let err = Config::from_options(&options(&[(key, value)]).unwrap(), None).unwrap_err();
            assert!(err.starts_with(want), "{key}={value}: {err}");
        }
    }
}
